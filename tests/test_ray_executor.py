"""The Ray executor on a real local Ray instance (2 CPUs, 2 worker actors), the real model, real
sample calls and a real DuckDB file; faults are real process kills."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import MODELS_DIR, REPO, SAMPLES, make_settings, sample_subset

from lydlogg.batch import process
from lydlogg.db import DatabaseError, connect
from lydlogg.ingest import ingest
from lydlogg.settings import ExecutorSettings, Settings

ray = pytest.importorskip("ray", reason="the Ray executor's tests need the `ray` extra (`make ray`)")

pytestmark = pytest.mark.model

LYDLOGG = [sys.executable, "-m", "lydlogg.cli"]


@pytest.fixture(scope="module")
def ray_cluster() -> str:
    """A local Ray instance for this module, as CI has it: 2 CPUs, no dashboard. Its address."""
    if ray.is_initialized():
        pytest.fail("Ray was already initialised by another test")
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        namespace="lydlogg-tests",
        runtime_env={"env_vars": {"PYTHONPATH": pythonpath, "HF_HUB_OFFLINE": "1"}},
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _settings(folder: Path, executor: str, **more: object) -> Settings:
    """Settings for ``folder``'s database; one CTranslate2 thread in every executor so that the
    local and Ray runs decode exactly alike."""
    base = make_settings(folder, cpu_threads=1)
    section = ExecutorSettings(kind=executor, workers=2, cpus_per_worker=1, **more)
    return base.model_copy(update={"executor": section})


# A call where Whisper base's beam search fails its quality checks on one window, so faster-whisper
# decodes it again by temperature sampling: unseeded, its text differed from run to run.
FALLBACK_CALL = "lege-001-magesmerter"


def _ingested(folder: Path, count: int, *, with_call: str | None = None) -> tuple[Path, list[dict[str, str]]]:
    folder.mkdir(parents=True, exist_ok=True)
    meta, rows = sample_subset(folder, count)
    if with_call is not None:
        meta, rows = _with_call(folder, meta, rows, with_call)
    report = ingest(make_settings(folder), [], metadata=meta)
    assert len(report.added) == len(rows) and not report.failures
    return folder, rows


def _with_call(
    folder: Path, meta: Path, rows: list[dict[str, str]], call_id: str
) -> tuple[Path, list[dict[str, str]]]:
    """Add one more sample call, by id, to a subset made by ``sample_subset``."""
    with open(SAMPLES / "metadata.csv", newline="") as fh:
        extra = next(r for r in csv.DictReader(fh) if r["call_id"] == call_id)
    shutil.copy(SAMPLES / extra["audio_file"], folder / extra["audio_file"])
    rows = [*rows, extra]
    with open(meta, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return meta, rows


def _stored(db: Path) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        transcripts = con.execute(
            "SELECT call_id, model_id, options_hash, language, layout, channels_transcribed, duration_s,"
            " round(speech_s, 3) FROM transcripts ORDER BY call_id"
        ).fetchall()
        segments = con.execute(
            "SELECT t.call_id, s.segment_index, s.channel, s.start_s, s.end_s, s.text, s.speaker, s.role"
            " FROM segments s JOIN transcripts t USING (transcript_id) ORDER BY 1, 2"
        ).fetchall()
        words = con.execute(
            "SELECT t.call_id, w.segment_index, w.word_index, w.start_s, w.end_s, w.text"
            " FROM words w JOIN transcripts t USING (transcript_id) ORDER BY 1, 2, 3"
        ).fetchall()
        runs = con.execute("SELECT model_id, model_sha256, options_json, options_hash FROM runs").fetchall()
    return transcripts, segments, words, runs


def _assert_each_call_once(db: Path, rows: list[dict[str, str]]) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        per_call = con.execute("SELECT call_id, count(*) FROM transcripts GROUP BY call_id").fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM segments s WHERE NOT EXISTS"
            " (SELECT 1 FROM transcripts t WHERE t.transcript_id = s.transcript_id)"
        ).fetchone()[0]
        empty = con.execute(
            "SELECT count(*) FROM transcripts t WHERE NOT EXISTS"
            " (SELECT 1 FROM segments s WHERE s.transcript_id = t.transcript_id)"
            " OR NOT EXISTS (SELECT 1 FROM diarizations d WHERE d.transcript_id = t.transcript_id)"
        ).fetchone()[0]
    assert sorted(c for c, _ in per_call) == sorted(r["call_id"] for r in rows)
    assert all(n == 1 for _, n in per_call), per_call
    assert orphans == 0 and empty == 0


def test_ray_stores_what_the_local_executor_stores(tmp_path, bundled_model, ray_cluster):
    local_dir, rows = _ingested(tmp_path / "local", 1, with_call=FALLBACK_CALL)
    ray_dir, _ = _ingested(tmp_path / "ray", 1, with_call=FALLBACK_CALL)

    local = process(_settings(local_dir, "local"))
    seen: list[dict] = []
    report = process(_settings(ray_dir, "ray"), progress=lambda step, **kw: seen.append(kw))

    assert len(local.done) == len(report.done) == 2 and not report.failed
    assert report.executor == "ray" and report.workers == 2
    assert seen[0]["completed"] == 0 and seen[-1]["completed"] == pytest.approx(seen[-1]["total"])
    assert seen[-1]["files_done"] == 2 and {s["workers"] for s in seen} == {2}

    want, got = _stored(local_dir / "lydlogg.duckdb"), _stored(ray_dir / "lydlogg.duckdb")
    assert got[0] == want[0]  # transcripts: same cache keys (model, options hash), layout, duration
    assert got[1] == want[1] and len(got[1]) > 4  # segments: same text, times, speakers and roles
    assert got[2] == want[2]  # words
    assert got[3] == want[3]  # provenance of the run
    _assert_each_call_once(ray_dir / "lydlogg.duckdb", rows)

    again = process(_settings(ray_dir, "ray"))
    assert again.run_id is None  # the same cache keys: nothing left to do


def _worker_busy_with_a_call() -> tuple[int, str]:
    """The pid of a pool worker that is in the middle of a call, and that call."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        for entry in ray.util.list_named_actors(all_namespaces=True):
            if entry["namespace"] != "lydlogg" or not entry["name"].startswith("lydlogg-"):
                continue
            try:
                actor = ray.get_actor(entry["name"], namespace="lydlogg")
                call_id = ray.get(actor.busy.remote(), timeout=10)
                if call_id is not None:
                    return ray.get(actor.info.remote(), timeout=10).pid, call_id
            except (ValueError, ray.exceptions.RayError):
                continue  # not started yet, or already gone
        time.sleep(0.5)
    pytest.fail("no worker took a call within 240 s")


def test_a_killed_worker_is_replaced_and_its_call_stored_once(tmp_path, bundled_model, ray_cluster):
    folder, rows = _ingested(tmp_path, 3)
    settings = _settings(folder, "ray", max_retries=1)
    outcome: dict[str, object] = {}
    runner = threading.Thread(target=lambda: outcome.update(report=process(settings)))
    runner.start()
    pid, call_id = _worker_busy_with_a_call()
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)  # a real worker process dies mid-call
    runner.join(timeout=420)
    assert not runner.is_alive(), "the run did not finish after its worker was killed"

    report = outcome["report"]
    assert sorted(report.done) == sorted(r["call_id"] for r in rows)
    shm = Path("/dev/shm")
    scratch = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    assert not (scratch / f"lydlogg-worker-{pid}").exists()  # the dead worker's copy of the recording
    assert not report.failed and call_id in report.retried
    _assert_each_call_once(settings.db_path, rows)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM failures").fetchone()[0] == 0
        assert con.execute(
            "SELECT files_done, files_failed, finished_at IS NOT NULL FROM runs"
        ).fetchall() == [(3, 0, True)]


def test_a_call_whose_worker_dies_past_max_retries_is_recorded_as_failed_and_the_next_run_stores_it(
    tmp_path, bundled_model, ray_cluster
):
    """``max_retries = 0``: the first death is the last. Recordings go by path (every worker here
    sees the audio folder), so this run also covers ``executor.ship = "path"``."""
    from lydlogg.distributed import FAILED_STAGE

    folder, rows = _ingested(tmp_path, 3)
    settings = _settings(folder, "ray", max_retries=0, ship="path")
    outcome: dict[str, object] = {}
    runner = threading.Thread(target=lambda: outcome.update(report=process(settings)))
    runner.start()
    pid, call_id = _worker_busy_with_a_call()
    os.kill(pid, signal.SIGKILL)
    runner.join(timeout=420)
    assert not runner.is_alive(), "the run did not finish after its worker was killed"

    report = outcome["report"]
    assert [c for c, _ in report.failed] == [call_id] and call_id not in report.retried
    assert report.failed[0][1].startswith("Ray worker died 1 time(s) on this call: ")
    assert sorted(report.done) == sorted(r["call_id"] for r in rows if r["call_id"] != call_id)
    path = str(folder / next(r["audio_file"] for r in rows if r["call_id"] == call_id))
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        failures = con.execute("SELECT call_id, path, stage, reason FROM failures").fetchall()
        run = con.execute("SELECT files_done, files_failed, finished_at IS NOT NULL FROM runs").fetchall()
    assert [f[:3] for f in failures] == [(call_id, path, FAILED_STAGE)]
    assert failures[0][3] == report.failed[0][1]
    assert run == [(2, 1, True)]

    again = process(_settings(folder, "ray", ship="path"))
    assert again.done == [call_id] and not again.failed
    _assert_each_call_once(settings.db_path, rows)


def test_the_pool_ships_bytes_or_a_path_and_names_an_unreadable_file(tmp_path):
    from lydlogg.batch import PendingCall
    from lydlogg.distributed import RayPool

    audio = tmp_path / "lvs-001.wav"
    audio.write_bytes(b"RIFF and the rest")
    call = PendingCall("lvs-001", "ab" * 32, str(audio), 60.0, "lvs")
    gone = PendingCall("lvs-002", "cd" * 32, str(tmp_path / "lvs-002.wav"), 60.0, "lvs")

    def pool(ship: str) -> RayPool:  # never started: shipping needs no actor
        return RayPool(ray, _settings(tmp_path, "ray", ship=ship), owns_ray=False, tag="test")

    assert pool("bytes")._payload(call) == (b"RIFF and the rest", None)
    assert pool("path")._payload(call) == (None, None)  # the worker reads call.path itself
    data, failed = pool("bytes")._payload(gone)
    assert data is None and failed.failed_stage == "decode"
    assert failed.reason == f"{gone.path}: no such file"


def _transcript_count(db: Path) -> int:
    try:
        with connect(db, read_only=True, wait_s=2) as con:
            return con.execute("SELECT count(*) FROM transcripts").fetchone()[0]
    except DatabaseError:
        return 0


def test_a_killed_driver_leaves_nothing_half_written_and_the_next_run_finishes(
    tmp_path, bundled_model, ray_cluster
):
    folder, rows = _ingested(tmp_path, 3)
    db = folder / "lydlogg.duckdb"
    env = dict(
        os.environ,
        LYDLOGG_ASR__MODELS_DIR=str(MODELS_DIR),
        LYDLOGG_ASR__CPU_THREADS="1",
        LYDLOGG_KEY_FILE=str(folder / "secrets" / "pseudonym.key"),
        LYDLOGG_EXECUTOR__KIND="ray",
        LYDLOGG_EXECUTOR__ADDRESS=ray_cluster,  # the cluster outlives its driver
        LYDLOGG_EXECUTOR__WORKERS="2",
    )
    driver = subprocess.Popen(
        [*LYDLOGG, "process", "--db", str(db)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        while _transcript_count(db) < 1 and time.monotonic() < deadline and driver.poll() is None:
            time.sleep(0.5)
        assert driver.poll() is None, "the run ended before its driver could be killed"
    finally:
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    killed_at = _transcript_count(db)
    assert 1 <= killed_at < len(rows)

    again = subprocess.run(
        [*LYDLOGG, "process", "--db", str(db)], env=env, capture_output=True, text=True, timeout=420
    )
    assert again.returncode == 0, again.stderr
    assert f"transcribed {len(rows) - killed_at}, failed 0" in again.stdout
    assert "on 2 Ray workers" in again.stdout
    _assert_each_call_once(db, rows)
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute("SELECT finished_at IS NULL FROM runs ORDER BY started_at").fetchall()
        assert con.execute("SELECT count(*) FROM failures").fetchone()[0] == 0
    assert runs == [(True,), (False,)]  # the killed run stays on record as unfinished


def test_a_pool_the_cluster_cannot_place_fails_with_what_it_lacks(tmp_path, bundled_model, ray_cluster):
    from lydlogg.distributed import ExecutorError

    folder, _ = _ingested(tmp_path, 1)
    settings = _settings(folder, "ray", gpus_per_worker=1, start_timeout_s=3)
    with pytest.raises(ExecutorError, match=r"did not start within 3 s.*1 GPU\(s\) per worker.*CPU 2"):
        process(settings)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
    assert not [a for a in ray.util.list_named_actors(all_namespaces=True) if a["namespace"] == "lydlogg"]
