"""Speakers and roles in the database: written with the transcript, read back, and swapped
without re-running speech recognition. A real DuckDB file and real sample audio; the last test
reads the calls the real model transcribed (fixture ``processed_db``)."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from conftest import SAMPLES

from lydlogg.batch import CallResult, PendingCall, _speakers, _write_transcript
from lydlogg.db import connect, transaction
from lydlogg.store import load_speakers, load_transcript, swap_roles
from transcription.asr import AsrResult
from transcription.audio import decode_audio
from transcription.diarization import DiarizationSettings
from transcription.types import Segment, Word


def reference_result(call_id: str) -> AsrResult:
    """The reference transcript as an ASR result, its words spread evenly over each turn."""
    doc = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
    segments = []
    for s in doc["segments"]:
        tokens = s["text"].split()
        edges = np.linspace(s["start"], s["end"], len(tokens) + 1)
        words = tuple(
            Word(float(a), float(b), t, 0.9, s["channel"])
            for a, b, t in zip(edges, edges[1:], tokens, strict=False)
        )
        segments.append(Segment(s["start"], s["end"], s["text"], s["channel"], words=words))
    return AsrResult(tuple(segments), "no", 0.0, 0.0, 2 if doc["channels"] == 2 else 1)


def store(db, call_id: str, settings: DiarizationSettings | None = None, audio=None) -> str:
    doc = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
    audio = audio if audio is not None else decode_audio(SAMPLES / doc["audio_file"])
    result = reference_result(call_id)
    stage = _speakers(audio, result, settings or DiarizationSettings(), "lvs")
    call = PendingCall(call_id, f"sha-{call_id}", doc["audio_file"], audio.duration_s, "lvs")
    with connect(db) as con:
        done = CallResult(call_id, audio.duration_s, audio.layout, result, stage)
        _write_transcript(con, call, done, "run-1", "model", "opts")
        return con.execute("SELECT transcript_id FROM transcripts WHERE call_id = ?", [call_id]).fetchone()[0]


def test_a_stereo_call_is_stored_with_speakers_roles_and_strategy(tmp_path):
    db = tmp_path / "lydlogg.duckdb"
    transcript_id = store(db, "lvs-003-brystsmerter")
    with connect(db) as con:
        summary = load_speakers(con, transcript_id)
        transcript = load_transcript(con, "lvs-003-brystsmerter")
        turns = con.execute(
            "SELECT count(*) FROM speaker_turns WHERE transcript_id = ?", [transcript_id]
        ).fetchone()
    assert summary.strategy == "channels" and summary.error is None
    assert [(s.speaker, s.role) for s in summary.speakers] == [("S1", "operator"), ("S2", "caller")]
    assert all(s.confidence > 0.9 and s.source == "words" for s in summary.speakers)
    assert any(e.cue.startswith("staff:") for e in summary.speakers[0].evidence)
    assert turns[0] >= len(transcript.segments) // 2
    assert {(s.channel, s.speaker, s.role) for s in transcript.segments} == {
        (0, "S1", "operator"),
        (1, "S2", "caller"),
    }


def test_a_mono_call_is_split_into_speakers_by_the_builtin_method(tmp_path):
    db = tmp_path / "lydlogg.duckdb"
    transcript_id = store(db, "lvs-004-kuttskade", DiarizationSettings(strategy="builtin"))
    with connect(db) as con:
        summary = load_speakers(con, transcript_id)
        transcript = load_transcript(con, "lvs-004-kuttskade")
    assert summary.strategy == "builtin"
    assert sorted(s.role for s in summary.speakers) == ["caller", "operator"]
    reference = json.loads((SAMPLES / "reference" / "lvs-004-kuttskade.json").read_text())["segments"]
    assert transcript.segments[0].role == "operator"  # "Legevakten, hva kan jeg hjelpe med?"
    words = [(w, s.role) for s in transcript.segments for w in s.words]
    truth = [
        next(r["role"] for r in reference if r["start"] <= (w.start + w.end) / 2 <= r["end"])
        for w, _ in words
    ]
    accuracy = np.mean([role == t for (_w, role), t in zip(words, truth, strict=True)])
    assert accuracy > 0.8


def test_swapping_two_speakers_roles_relabels_without_asr_and_keeps_the_original(tmp_path):
    db = tmp_path / "lydlogg.duckdb"
    transcript_id = store(db, "lvs-003-brystsmerter", DiarizationSettings(channel_roles="caller,operator"))
    with connect(db) as con:
        before = load_speakers(con, transcript_id)
        assert [(s.speaker, s.role, s.source) for s in before.speakers] == [
            ("S1", "caller", "channel_setting"),
            ("S2", "operator", "channel_setting"),
        ]
        segments = con.execute(
            "SELECT count(*) FROM segments WHERE transcript_id = ?", [transcript_id]
        ).fetchone()
        with transaction(con):
            changed = swap_roles(con, transcript_id, "S1", "S2", corrected_by="veileder1")
        after = load_speakers(con, transcript_id)
        transcript = load_transcript(con, "lvs-003-brystsmerter")
        original = con.execute(
            "SELECT DISTINCT speaker, role FROM segments WHERE transcript_id = ? ORDER BY speaker",
            [transcript_id],
        ).fetchall()
        who = con.execute("SELECT DISTINCT updated_by FROM transcript_speakers").fetchall()
    assert changed == segments[0]
    assert [(s.speaker, s.role, s.source) for s in after.speakers] == [
        ("S1", "operator", "corrected"),
        ("S2", "caller", "corrected"),
    ]
    assert {(s.speaker, s.role) for s in transcript.segments} == {("S1", "operator"), ("S2", "caller")}
    assert original == [("S1", "caller"), ("S2", "operator")]  # the automatic labels stay
    assert who == [("veileder1",)]


@pytest.mark.parametrize(("a", "b"), [("S1", "S1"), ("S1", "S9")])
def test_swapping_needs_two_known_speakers(tmp_path, a, b):
    db = tmp_path / "lydlogg.duckdb"
    transcript_id = store(db, "lvs-003-brystsmerter")
    with (
        connect(db) as con,
        pytest.raises(ValueError, match=r"expected two different speakers of \['S1', 'S2'\]"),
    ):
        swap_roles(con, transcript_id, a, b, corrected_by="veileder1")


def test_a_failed_diarization_keeps_the_transcript_and_records_why(tmp_path):
    from dataclasses import replace

    db = tmp_path / "lydlogg.duckdb"
    audio = decode_audio(SAMPLES / "audio" / "lvs-003-brystsmerter.flac")
    broken = replace(audio, samples=np.zeros((6, 100), dtype=np.float32))  # no longer a readable layout
    transcript_id = store(db, "lvs-003-brystsmerter", audio=broken)
    with connect(db) as con:
        summary = load_speakers(con, transcript_id)
        transcript = load_transcript(con, "lvs-003-brystsmerter")
    assert summary.strategy is None and summary.speakers == ()
    assert summary.error.startswith("DiarizationError: audio of shape 6x100")
    assert transcript.segments and {s.speaker for s in transcript.segments} == {None}


def test_a_transcript_never_diarized_reads_as_empty(tmp_path):
    with connect(tmp_path / "lydlogg.duckdb") as con:
        assert load_speakers(con, "nope").strategy is None


@pytest.mark.model
def test_the_batch_labels_speakers_and_roles_after_asr(processed_db):
    with duckdb.connect(str(processed_db), read_only=True) as con:
        rows = con.execute(
            "SELECT t.call_id, t.layout, d.strategy, d.error FROM transcripts t"
            " JOIN diarizations d USING (transcript_id) ORDER BY t.call_id"
        ).fetchall()
        roles = con.execute(
            "SELECT t.call_id, list(s.role ORDER BY s.speaker) FROM transcripts t"
            " JOIN transcript_speakers s USING (transcript_id) GROUP BY t.call_id ORDER BY t.call_id"
        ).fetchall()
        unlabelled = con.execute(
            "SELECT count(*) FROM segments WHERE speaker IS NULL OR role IS NULL"
        ).fetchone()
    assert len(rows) == 2 and all(error is None for *_r, error in rows)
    mono = ("embeddings", "builtin")  # embeddings when that optional extra is installed
    assert all(
        strategy in (("channels",) if layout == "stereo" else mono) for _c, layout, strategy, _e in rows
    )
    assert all(sorted(r) in (["caller", "operator"], ["caller", "doctor"]) for _c, r in roles)
    assert unlabelled == (0,)


def test_schema_v23_keeps_stored_diarizations_and_accepts_the_embeddings_strategy(tmp_path):
    """A database from before v23 is upgraded in place: rows kept, `embeddings` accepted, rubbish refused."""
    from lydlogg.db import migrate

    insert = (
        "INSERT INTO diarizations (transcript_id, strategy, options_json, speakers) VALUES (?, ?, '{}', 2)"
    )
    with duckdb.connect(str(tmp_path / "v22.duckdb")) as con:
        assert migrate(con, up_to=22) == 22
        con.execute(insert, ["t1", "builtin"])
        with pytest.raises(duckdb.ConstraintException):
            con.execute(insert, ["t2", "embeddings"])
        assert migrate(con) >= 23
        rows = con.execute("SELECT transcript_id, strategy, speakers FROM diarizations").fetchall()
        assert rows == [("t1", "builtin", 2)]
        con.execute(insert, ["t2", "embeddings"])
        with pytest.raises(duckdb.ConstraintException):
            con.execute(insert, ["t3", "ward"])
