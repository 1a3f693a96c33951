"""The batch end to end through the real CLI, the real model and a real DuckDB file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import MODELS_DIR, SAMPLES, sample_subset

from lydlogg.db import DatabaseError, connect
from transcription.evaluation import wer

pytestmark = pytest.mark.model

LYDLOGG = [sys.executable, "-m", "lydlogg.cli"]


def run(*args: str, db: Path, check: bool = True, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, LYDLOGG_ASR__MODELS_DIR=str(MODELS_DIR), LYDLOGG_KEY_FILE=str(db.parent / "key"))
    proc = subprocess.run([*LYDLOGG, *args, "--db", str(db)], capture_output=True, text=True, env=env, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"lydlogg {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def test_two_sample_calls_from_audio_to_transcript_through_the_cli(tmp_path, bundled_model):
    db = tmp_path / "lydlogg.duckdb"
    meta, rows = sample_subset(tmp_path, 2)
    out = run("ingest", "--metadata", str(meta), db=db)
    assert "added 2" in out.stdout

    out = run("process", db=db)
    assert "transcribed 2, failed 0" in out.stdout
    assert "audio min" in out.stderr  # the progress bar

    listed = json.loads(run("calls", "--format", "json", db=db).stdout)
    assert [c["call_id"] for c in listed] == [r["call_id"] for r in rows]
    assert {c["status"] for c in listed} == {"transcribed"}
    assert all(c["duration_s"] > 10 and c["channels"] in (1, 2) for c in listed)

    for row in rows:
        doc = json.loads(run("export-transcript", row["call_id"], "--format", "json", db=db).stdout)
        assert set(doc) == {"call_id", "language", "segments"} and doc["language"] == "no"
        seg = doc["segments"][0]
        assert set(seg) == {"start", "end", "channel", "speaker", "role", "text", "words"}
        assert seg["speaker"] in ("S1", "S2") and seg["role"] in ("operator", "doctor", "caller")
        assert set(seg["words"][0]) == {"start", "end", "text", "probability"}
        reference = json.loads((SAMPLES / "reference" / f"{row['call_id']}.json").read_text())
        if reference["channels"] == 2:
            assert {s["channel"] for s in doc["segments"]} == {0, 1}
        ref_text = " ".join(s["text"] for s in reference["segments"])
        hyp_text = " ".join(s["text"] for s in doc["segments"])
        assert wer(ref_text, hyp_text) < 0.8, hyp_text
        vtt = run("export-transcript", row["call_id"], "--format", "vtt", db=db).stdout
        assert vtt.startswith("WEBVTT") and "-->" in vtt
        txt = run("export-transcript", row["call_id"], "--format", "txt", db=db).stdout
        assert txt.startswith("[00:")

    again = run("process", db=db)
    assert "nothing to do" in again.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM transcripts").fetchone() == (2,)
        exports = con.execute(
            "SELECT action, object_id, detail FROM audit WHERE action = 'export'"
        ).fetchall()
        assert len(exports) == 6 and {e[2] for e in exports} == {"json", "vtt", "txt"}
        run_row = con.execute(
            "SELECT model_id, model_sha256, options_json, software_version FROM runs"
        ).fetchone()
    assert run_row[0] == "bundled-base" and len(run_row[1]) == 64
    assert json.loads(run_row[2])["language"] == "no" and "faster-whisper" in run_row[3]


def test_a_bad_file_is_recorded_and_the_batch_goes_on(tmp_path, testdata, bundled_model):
    db = tmp_path / "lydlogg.duckdb"
    good = shutil.copy(testdata / "norwegian_npsc" / "norwegian-short-3s.mp3", tmp_path / "good.mp3")
    doomed = shutil.copy(testdata / "norwegian_npsc" / "norwegian-medium-8s.mp3", tmp_path / "moved.mp3")
    run("ingest", str(good), str(doomed), db=db)
    os.rename(doomed, tmp_path / "elsewhere.mp3")  # the recording disappears before processing

    out = run("process", db=db, check=False)
    assert out.returncode == 1
    assert "transcribed 1, failed 1" in out.stdout and "moved.mp3: no such file" in out.stderr
    status = run("status", db=db).stdout
    assert "failed 1" in status and "[decode]" in status

    os.rename(tmp_path / "elsewhere.mp3", doomed)  # put back: the next run finishes the batch
    out = run("process", db=db)
    assert "transcribed 1, failed 0" in out.stdout
    assert "failures     0 open" in run("status", db=db).stdout


def _transcript_count(db: Path) -> int:
    try:
        with connect(db, read_only=True, wait_s=2) as con:
            return con.execute("SELECT count(*) FROM transcripts").fetchone()[0]
    except DatabaseError:
        return 0


def test_killed_batch_resumes_without_duplicates_or_half_writes(tmp_path, bundled_model):
    db = tmp_path / "lydlogg.duckdb"
    meta, rows = sample_subset(tmp_path, 4)
    run("ingest", "--metadata", str(meta), db=db)
    env = dict(os.environ, LYDLOGG_ASR__MODELS_DIR=str(MODELS_DIR))
    proc = subprocess.Popen(
        [*LYDLOGG, "process", "--db", str(db)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    while _transcript_count(db) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert proc.poll() is None, "the batch ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _transcript_count(db)
    assert 1 <= killed_at < len(rows)

    out = run("process", db=db)
    assert f"transcribed {len(rows) - killed_at}, failed 0" in out.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        per_call = con.execute("SELECT call_id, count(*) FROM transcripts GROUP BY call_id").fetchall()
        assert sorted(c for c, _ in per_call) == sorted(r["call_id"] for r in rows)
        assert all(n == 1 for _, n in per_call)
        orphans = con.execute(
            "SELECT count(*) FROM segments s WHERE NOT EXISTS"
            " (SELECT 1 FROM transcripts t WHERE t.transcript_id = s.transcript_id)"
        ).fetchone()[0]
        empty = con.execute(
            "SELECT count(*) FROM transcripts t WHERE NOT EXISTS"
            " (SELECT 1 FROM segments s WHERE s.transcript_id = t.transcript_id)"
        ).fetchone()[0]
        runs = con.execute("SELECT finished_at IS NULL FROM runs ORDER BY started_at").fetchall()
    assert orphans == 0 and empty == 0
    assert runs == [(True,), (False,)]  # the killed run stays on record as unfinished


def test_missing_model_fails_fast_and_touches_nothing(tmp_path):
    db = tmp_path / "lydlogg.duckdb"
    env_model = {"LYDLOGG_ASR__MODEL": "large-v3"}
    t0 = time.monotonic()
    proc = subprocess.run(
        [*LYDLOGG, "process", "--db", str(db)],
        capture_output=True,
        text=True,
        env=dict(os.environ, **env_model),
        timeout=60,
    )
    assert proc.returncode == 2 and time.monotonic() - t0 < 20
    assert "not in the local Hugging Face cache" in proc.stderr and "bundled-model" in proc.stderr
    assert not db.exists()
