"""Read-side queries over the database, shared by the CLI and the app."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from lydlogg.access import CallScope
from transcription.diarization.types import RoleEvidence, SpeakerRole
from transcription.types import Segment, Transcript, Word

__all__ = [
    "CallNotFoundError",
    "SpeakerSummary",
    "StatusSummary",
    "list_calls",
    "load_speakers",
    "load_transcript",
    "status_summary",
    "swap_roles",
    "visible_calls",
]


class CallNotFoundError(LookupError):
    """No call with that id, or no transcript for it yet."""


_CALLS_SQL = """
WITH latest AS (
    SELECT l.call_id, t.layout FROM latest_transcripts l JOIN transcripts t USING (transcript_id)
),
open_failures AS (
    SELECT call_id, max(reason) AS reason FROM failures
    WHERE resolved_at IS NULL AND call_id IS NOT NULL GROUP BY call_id
)
SELECT c.call_id, c.started_at, c.service, c.operator_id, c.urgency, c.unit,
       a.path AS source_file, a.duration_s, a.channels, l.layout,
       CASE WHEN l.call_id IS NOT NULL THEN 'transcribed'
            WHEN c.audio_sha256 IS NULL THEN 'no_audio'
            WHEN f.call_id IS NOT NULL THEN 'failed'
            ELSE 'pending' END AS status,
       f.reason AS failure
FROM calls c
LEFT JOIN audio_files a ON a.sha256 = c.audio_sha256
LEFT JOIN latest l ON l.call_id = c.call_id
LEFT JOIN open_failures f ON f.call_id = c.call_id
WHERE (?::VARCHAR IS NULL OR c.call_id = ?) AND {scope}
ORDER BY c.started_at NULLS LAST, c.call_id
"""


def list_calls(
    con: duckdb.DuckDBPyConnection, call_id: str | None = None, *, scope: CallScope | None = None
) -> pd.DataFrame:
    """One row per call (or only ``call_id``'s) within ``scope`` (None: every call): id, time,
    service, operator, unit, source file, duration, channels, status."""
    where, params = (scope or CallScope()).where("c")
    return con.execute(_CALLS_SQL.format(scope=where), [call_id, call_id, *params]).df()


def visible_calls(con: duckdb.DuckDBPyConnection, call_ids: list[str], scope: CallScope) -> set[str]:
    """The calls among ``call_ids`` that ``scope`` admits."""
    where, params = scope.where("c")
    rows = con.execute(
        f"SELECT c.call_id FROM calls c WHERE list_contains(?::VARCHAR[], c.call_id) AND {where}",  # noqa: S608 - constant clauses
        [call_ids, *params],
    ).fetchall()
    return {r[0] for r in rows}


def load_transcript(con: duckdb.DuckDBPyConnection, call_id: str) -> Transcript:
    """The newest transcript of ``call_id`` with its words."""
    head = con.execute(
        "SELECT l.transcript_id, t.language FROM latest_transcripts l JOIN transcripts t USING (transcript_id)"
        " WHERE l.call_id = ?",
        [call_id],
    ).fetchone()
    if head is None:
        exists = con.execute("SELECT 1 FROM calls WHERE call_id = ?", [call_id]).fetchone()
        raise CallNotFoundError(
            f"call {call_id!r} has no transcript yet; run `lydlogg process`"
            if exists
            else f"no call {call_id!r}"
        )
    transcript_id, language = head
    words: dict[int, list[Word]] = {}
    for seg, channel, start, end, text, prob in con.execute(
        "SELECT segment_index, channel, start_s, end_s, text, probability FROM words"
        " WHERE transcript_id = ? ORDER BY segment_index, word_index",
        [transcript_id],
    ).fetchall():
        words.setdefault(seg, []).append(Word(start, end, text, prob, channel))
    segments = tuple(
        Segment(
            start=start,
            end=end,
            text=text,
            channel=channel,
            speaker=speaker,
            role=role,
            words=()
            if corrected
            else tuple(words.get(i, ())),  # corrected text: the ASR words no longer match
            avg_logprob=lp,
            no_speech_prob=nsp,
        )
        for i, channel, start, end, text, speaker, role, lp, nsp, corrected in con.execute(
            "SELECT segment_index, channel, start_s, end_s, text, speaker, role, avg_logprob, no_speech_prob,"
            " text_corrected FROM segments_current WHERE transcript_id = ? ORDER BY segment_index",
            [transcript_id],
        ).fetchall()
    )
    return Transcript(call_id=call_id, language=language, segments=segments)


@dataclass(frozen=True)
class StatusSummary:
    schema_version: int
    calls: int
    by_status: dict[str, int]
    audio_minutes: float
    transcribed_minutes: float
    open_failures: list[tuple[str | None, str, str, str]]  # (call_id, path, stage, reason)
    last_run: dict[str, object] | None


def status_summary(con: duckdb.DuckDBPyConnection) -> StatusSummary:
    from lydlogg.db import schema_version

    calls = list_calls(con)
    by_status = calls["status"].value_counts().to_dict() if len(calls) else {}
    audio_min = float(calls["duration_s"].fillna(0).sum()) / 60
    done_min = float(calls.loc[calls["status"] == "transcribed", "duration_s"].fillna(0).sum()) / 60
    failures = con.execute(
        "SELECT call_id, coalesce(path, ''), stage, reason FROM failures WHERE resolved_at IS NULL ORDER BY failure_id"
    ).fetchall()
    run = con.execute(
        "SELECT run_id, started_at, finished_at, model_id, files_total, files_done, files_failed, software_version"
        " FROM runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    last_run = None
    if run:
        last_run = dict(
            zip(
                [
                    "run_id",
                    "started_at",
                    "finished_at",
                    "model",
                    "files_total",
                    "files_done",
                    "files_failed",
                    "software",
                ],
                run,
                strict=True,
            )
        )
    return StatusSummary(
        schema_version=schema_version(con),
        calls=len(calls),
        by_status={str(k): int(v) for k, v in by_status.items()},
        audio_minutes=audio_min,
        transcribed_minutes=done_min,
        open_failures=failures,
        last_run=last_run,
    )


@dataclass(frozen=True)
class SpeakerSummary:
    """How a transcript's speakers were found, and each speaker's role (empty when never diarized)."""

    strategy: str | None
    notes: tuple[str, ...]
    error: str | None
    speakers: tuple[SpeakerRole, ...]


def load_speakers(con: duckdb.DuckDBPyConnection, transcript_id: str) -> SpeakerSummary:
    """The diarization of ``transcript_id``: strategy, notes, and every speaker's role and evidence."""
    head = con.execute(
        "SELECT strategy, notes, error FROM diarizations WHERE transcript_id = ?", [transcript_id]
    ).fetchone()
    if head is None:
        return SpeakerSummary(None, (), None, ())
    rows = con.execute(
        "SELECT speaker, role, confidence, evidence_json, source FROM transcript_speakers"
        " WHERE transcript_id = ? ORDER BY speaker",
        [transcript_id],
    ).fetchall()
    speakers = tuple(
        SpeakerRole(
            speaker, role, confidence, tuple(RoleEvidence(**e) for e in json.loads(evidence)), source=source
        )
        for speaker, role, confidence, evidence, source in rows
    )
    notes = tuple(n for n in (head[1] or "").split("\n") if n)
    return SpeakerSummary(head[0], notes, head[2], speakers)


def swap_roles(
    con: duckdb.DuckDBPyConnection, transcript_id: str, a: str, b: str, *, corrected_by: str
) -> int:
    """Give speaker ``a`` the role of ``b`` and ``b`` that of ``a``, without re-running ASR.

    The speakers table is updated (source ``corrected``) and each segment of ``a`` or ``b`` gets a
    row in ``segment_corrections`` with its new role, so ``segments_current`` shows the swap and
    the original labels stay. Returns the number of segments re-labelled. Run it inside
    :func:`lydlogg.db.transaction` together with the audit row; the caller checks access.
    """
    roles = dict(
        con.execute(
            "SELECT speaker, role FROM transcript_speakers WHERE transcript_id = ? AND speaker IN (?, ?)",
            [transcript_id, a, b],
        ).fetchall()
    )
    missing = [s for s in (a, b) if s not in roles]
    if a == b or missing:
        known = [r[0] for r in con.execute(
            "SELECT speaker FROM transcript_speakers WHERE transcript_id = ? ORDER BY speaker", [transcript_id]
        ).fetchall()]  # fmt: skip
        raise ValueError(
            f"cannot swap {a!r} and {b!r} in transcript {transcript_id}: expected two different speakers of {known}"
        )
    new = {a: roles[b], b: roles[a]}
    con.executemany(
        "UPDATE transcript_speakers SET role = ?, source = 'corrected', updated_by = ?,"
        " updated_at = current_timestamp WHERE transcript_id = ? AND speaker = ?",
        [(new[s], corrected_by, transcript_id, s) for s in (a, b)],
    )
    segments = con.execute(
        "SELECT segment_index, speaker FROM segments WHERE transcript_id = ? AND speaker IN (?, ?)"
        " ORDER BY segment_index",
        [transcript_id, a, b],
    ).fetchall()
    con.executemany(
        "INSERT INTO segment_corrections (transcript_id, segment_index, role, corrected_by) VALUES (?, ?, ?, ?)",
        [(transcript_id, index, new[speaker], corrected_by) for index, speaker in segments],
    )
    return len(segments)
