"""Transcripts out in bulk: several calls, or every call matching a filter, into one folder.

One file per call and format, named ``<call_id>.<ext>``; every exported call gets an audit row.
A call that cannot be exported is reported and the rest carry on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from lydlogg.audit import record
from lydlogg.store import CallNotFoundError, load_transcript
from transcription.diarization.types import SpeakerTurn
from transcription.formats import TRANSCRIPT_FORMATS, render

__all__ = ["TranscriptExport", "TranscriptSelection", "export_transcripts", "select_calls", "stored_turns"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TranscriptSelection:
    """Which calls: named ids, or all transcribed calls narrowed by start date and service."""

    call_ids: tuple[str, ...] = ()
    all_calls: bool = False
    since: date | None = None
    service: str | None = None


@dataclass
class TranscriptExport:
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def select_calls(con: duckdb.DuckDBPyConnection, selection: TranscriptSelection) -> list[str]:
    """Call ids in start-time order; named ids are kept as given (a missing one fails at export)."""
    if selection.call_ids and not (selection.since or selection.service):
        return list(dict.fromkeys(selection.call_ids))
    rows = con.execute(
        """
        SELECT c.call_id FROM calls c
        WHERE EXISTS (SELECT 1 FROM transcripts t WHERE t.call_id = c.call_id)
          AND ($since IS NULL OR c.started_at >= $since::DATE)
          AND ($service IS NULL OR c.service = $service)
          AND ($ids IS NULL OR list_contains($ids, c.call_id))
        ORDER BY c.started_at NULLS LAST, c.call_id
        """,
        {
            "since": selection.since,
            "service": selection.service,
            "ids": list(selection.call_ids) if selection.call_ids else None,
        },
    ).fetchall()
    return [r[0] for r in rows]


def stored_turns(con: duckdb.DuckDBPyConnection, call_id: str) -> list[SpeakerTurn]:
    rows = con.execute(
        """
        SELECT st.start_s, st.end_s, st.speaker FROM speaker_turns st
        WHERE st.transcript_id = (SELECT transcript_id FROM latest_transcripts WHERE call_id = ?)
        ORDER BY st.turn_index
        """,
        [call_id],
    ).fetchall()
    return [SpeakerTurn(float(a), float(b), str(s)) for a, b, s in rows]


def _file_name(call_id: str, fmt: str) -> str:
    return f"{call_id.replace(':', '_')}.{fmt}"


def export_transcripts(
    con: duckdb.DuckDBPyConnection,
    call_ids: Sequence[str],
    formats: Sequence[str],
    out_dir: Path,
    username: str,
) -> TranscriptExport:
    """Write each call's newest transcript in each of ``formats`` to ``out_dir``."""
    unknown = [f for f in formats if f not in TRANSCRIPT_FORMATS]
    if unknown:
        raise ValueError(f"format(s) {', '.join(unknown)} not one of {', '.join(TRANSCRIPT_FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = TranscriptExport()
    for call_id in call_ids:
        try:
            transcript = load_transcript(con, call_id)
        except CallNotFoundError as e:
            report.failures.append(str(e))
            continue
        turns = stored_turns(con, call_id) if "rttm" in formats else []
        for fmt in formats:
            target = out_dir / _file_name(call_id, fmt)
            try:
                target.write_text(render(transcript, fmt, turns), encoding="utf-8")
            except OSError as e:
                report.failures.append(f"{target}: {e.strerror or e}")
                continue
            report.written.append(target)
        record(con, username, "export", "call", call_id, ",".join(formats))
    log.info(
        "exported %d files for %d calls, %d failures",
        len(report.written),
        len(call_ids),
        len(report.failures),
    )
    return report
