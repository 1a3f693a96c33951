"""The transcription batch's bulk writes (``lydlogg.db.bulk``): every stored row is the one the
result holds, value for value, NULLs as NULLs, on a real DuckDB file. The expected rows are built
here from the dataclasses, the way the per-row INSERTs wrote them before the writes went in bulk."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest
from test_diarization_store import SAMPLES, reference_result

from lydlogg.batch import CallResult, PendingCall, _speakers, _write_transcript, load_asr
from lydlogg.db import connect
from lydlogg.db.bulk import insert_columns
from transcription.asr import AsrResult
from transcription.audio import decode_audio
from transcription.diarization import DiarizationSettings
from transcription.types import Segment, Word


def _odd_segments(result: AsrResult, channel: int | None) -> AsrResult:
    """``result`` with a segment whose values test the edges: quotes, Norwegian letters, an
    emoji, a NULL log-probability and no words."""
    odd = Segment(
        start=0.125,
        end=0.3333333333333333,
        text="«Hæ?» sa han – 'ja' \"nei\" 😀",
        channel=channel,
        words=(Word(0.125, 0.2, "«Hæ?»", 0.1234567890123, channel),),
        avg_logprob=None,
        no_speech_prob=1e-12,
    )
    bare = Segment(start=0.4, end=0.5, text="øh", channel=channel, avg_logprob=-0.5)
    return replace(result, segments=(odd, bare, *result.segments))


def _store(db, call_id: str, settings: DiarizationSettings) -> tuple[str, CallResult]:
    doc = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
    audio = decode_audio(SAMPLES / doc["audio_file"])
    result = _odd_segments(reference_result(call_id), 0 if audio.layout == "stereo" else None)
    stage = _speakers(audio, result, settings, "lvs")
    call = PendingCall(call_id, f"sha-{call_id}", doc["audio_file"], audio.duration_s, "lvs")
    done = CallResult(call_id, audio.duration_s, audio.layout, result, stage)
    with connect(db) as con:
        assert _write_transcript(con, call, done, "run-1", "model", "opts")
        transcript_id = con.execute(
            "SELECT transcript_id FROM transcripts WHERE call_id = ?", [call_id]
        ).fetchone()[0]
    return transcript_id, done


@pytest.mark.parametrize(
    ("call_id", "strategy"),
    [("lvs-003-brystsmerter", "auto"), ("lvs-004-kuttskade", "builtin")],
    ids=["stereo", "mono"],
)
def test_every_stored_row_is_the_results_own(tmp_path, call_id, strategy):
    db = tmp_path / "lydlogg.duckdb"
    transcript_id, done = _store(db, call_id, DiarizationSettings(strategy=strategy))
    labelled = done.speakers.labelled
    assert labelled is not None
    segments, turns, roles = labelled.segments, labelled.diarization.turns, labelled.roles
    with connect(db) as con:
        asr_id = con.execute(
            "SELECT asr_id FROM asr_results WHERE audio_sha256 = ?", [f"sha-{call_id}"]
        ).fetchone()[0]
        rows = {
            table: con.execute(f"SELECT {columns} FROM {table} WHERE {key} = ? ORDER BY ALL", [value]).fetchall()  # noqa: S608
            for table, columns, key, value in [
                ("asr_segments", "asr_id, segment_index, channel, start_s, end_s, text, avg_logprob, no_speech_prob, words_json", "asr_id", asr_id),
                ("segments", "transcript_id, segment_index, channel, start_s, end_s, text, speaker, role, avg_logprob, no_speech_prob", "transcript_id", transcript_id),
                ("words", "transcript_id, segment_index, word_index, channel, start_s, end_s, text, probability", "transcript_id", transcript_id),
                ("speaker_turns", "transcript_id, turn_index, start_s, end_s, speaker", "transcript_id", transcript_id),
                ("transcript_speakers", "transcript_id, speaker, role, confidence, evidence_json, strategy, source", "transcript_id", transcript_id),
            ]
        }  # fmt: skip
        stored_asr = load_asr(con, f"sha-{call_id}", "model", "opts")
    expected = {
        "asr_segments": [
            (asr_id, i, s.channel, s.start, s.end, s.text, s.avg_logprob, s.no_speech_prob,
             json.dumps([[w.start, w.end, w.text, w.probability, w.channel] for w in s.words], ensure_ascii=False))
            for i, s in enumerate(done.asr.segments)
        ],
        "segments": [
            (transcript_id, i, s.channel, s.start, s.end, s.text, s.speaker, s.role, s.avg_logprob, s.no_speech_prob)
            for i, s in enumerate(segments)
        ],
        "words": [
            (transcript_id, i, j, w.channel, w.start, w.end, w.text, w.probability)
            for i, s in enumerate(segments)
            for j, w in enumerate(s.words)
        ],
        "speaker_turns": [(transcript_id, i, t.start, t.end, t.speaker) for i, t in enumerate(turns)],
        "transcript_speakers": [
            (transcript_id, r.speaker, r.role, r.confidence,
             json.dumps([asdict(e) for e in r.evidence], ensure_ascii=False), labelled.diarization.strategy, r.source)
            for r in roles
        ],
    }  # fmt: skip
    for table, want in expected.items():
        assert want, f"{table}: the case stores no rows, so it tests nothing"
        assert rows[table] == sorted(want, key=lambda r: tuple((v is None, v) for v in r)), table
    assert stored_asr == done.asr  # the recogniser's output reads back exactly, NULLs and all
    assert {s.channel for s in segments} == ({0, 1} if call_id.startswith("lvs-003") else {None})


def test_no_rows_run_nothing_and_uneven_columns_are_refused(tmp_path):
    with connect(tmp_path / "lydlogg.duckdb") as con:
        assert insert_columns(con, "speaker_turns", {"transcript_id": ("VARCHAR", [])}) == 0
        with pytest.raises(ValueError, match="speaker_turns: columns of different lengths"):
            insert_columns(
                con, "speaker_turns", {"transcript_id": ("VARCHAR", ["t"]), "turn_index": ("INTEGER", [])}
            )
        with pytest.raises(ValueError, match="'BLOB': accepted are VARCHAR, INTEGER, BIGINT, DOUBLE"):
            insert_columns(con, "speaker_turns", {"transcript_id": ("BLOB", [b"t"])})
        with pytest.raises(ValueError, match="turn index: a table or column name"):
            insert_columns(con, "speaker_turns", {"turn index": ("INTEGER", [1])})
        assert con.execute("SELECT count(*) FROM speaker_turns").fetchone()[0] == 0
