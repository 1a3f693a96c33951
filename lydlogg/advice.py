"""Standard worsening advice on stored calls: analysis, storage, reviewer corrections, the SMS draft.

The pure logic lives in :mod:`rubrics.advice_library`; this module reads the library a site has
configured, stores each call's result keyed on (transcript, library content hash) so that a
changed library is analysed again and nothing else is, keeps a reviewer's correction of the
contact reason (audited), and writes the SMS draft through the anonymiser. Lydlogg sends nothing:
the draft is shown, printed and exported only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

import lydlogg
from anonymise import anonymise_text
from lydlogg.audit import record
from lydlogg.calltext import build_call_text
from lydlogg.settings import AdviceSettings
from lydlogg.store import load_transcript
from norsk.dates import date_text
from rubrics.advice_library import (
    ADVICE_DIR,
    AdviceCoverage,
    AdviceLibrary,
    DetectedReason,
    advice_coverage,
    detect_reasons,
    library_in_use,
    load_advice_library,
    sms_draft,
)
from rubrics.types import CallText

__all__ = [
    "AdviceSettings",
    "CallAdvice",
    "analyse_call",
    "approval_line",
    "approval_notice",
    "call_advice",
    "correct_reason",
    "corrected_reasons",
    "library_for",
    "store_results",
    "summary_lines",
    "written_advice",
]

log = logging.getLogger(__name__)


def library_for(settings: AdviceSettings) -> AdviceLibrary:
    """The configured library (errors name the file and what is accepted)."""
    return load_advice_library(settings.library_dir or ADVICE_DIR)


@dataclass(frozen=True)
class CallAdvice:
    """A call's contact reason(s) and how much of the standard advice the staff gave."""

    call_id: str
    library_sha256: str
    detected: tuple[DetectedReason, ...]
    reason_ids: tuple[str, ...]  # the reasons in use: a reviewer's correction, else the detected ones
    corrected: bool
    coverage: AdviceCoverage | None  # against the first reason in use

    @property
    def reason_id(self) -> str | None:
        return self.reason_ids[0] if self.reason_ids else None


def analyse_call(
    call: CallText, library: AdviceLibrary, correction: tuple[str, ...] | None = None
) -> CallAdvice:
    """Detect the reason (unless a reviewer's ``correction`` says which; () = none) and its coverage."""
    detected = detect_reasons(call, library)
    known = {s.id for s in library.standards}
    if correction is not None:
        reason_ids = tuple(r for r in correction if r in known)
    else:
        reason_ids = tuple(d.reason_id for d in detected)
    coverage = advice_coverage(call, library.get(reason_ids[0])) if reason_ids else None
    return CallAdvice(call.call_id, library.sha256, detected, reason_ids, correction is not None, coverage)


def written_advice(advice: CallAdvice, library: AdviceLibrary, settings: AdviceSettings) -> str | None:
    """The SMS the caller could have received, through the anonymiser; None without a reason."""
    if advice.reason_id is None:
        return None
    draft = sms_draft(
        library.get(advice.reason_id),
        advice.coverage,
        service_number="{nummer}",
        max_chars=settings.sms_max_chars,
    )
    # The number goes in after anonymising: a local legevakt number would read as a phone number.
    return anonymise_text(draft).replace("{nummer}", settings.service_number)


def _row(tid: str, advice: CallAdvice) -> tuple:
    cov = advice.coverage
    reasons = [{"reason_id": d.reason_id, "name": d.name, "confidence": d.confidence, "cues": list(d.cues)}
               for d in advice.detected]  # fmt: skip
    return (
        tid,
        advice.call_id,
        advice.library_sha256,
        advice.reason_id,
        "correction" if advice.corrected else "detected",
        json.dumps(reasons, ensure_ascii=False),
        cov.home_care if cov else None,
        len(cov.signs_said) if cov else None,
        len(cov.signs) if cov else None,
        any(a.said for a in cov.actions) if cov else None,
        cov.meets_standard if cov else None,
        json.dumps([s.id for s in cov.signs_missing]) if cov else None,
        json.dumps(cov.as_dict(evidence=False), ensure_ascii=False)
        if cov
        else None,  # evidence: `lydlogg advice`
        f"lydlogg {lydlogg.__version__}",
    )


_COLUMNS = ["transcript_id", "call_id", "library_sha256", "reason_id", "reason_source", "reasons_json",
            "home_care", "signs_said", "signs_total", "action_said", "meets_standard", "missing_json",
            "coverage_json", "software_version"]  # fmt: skip


def store_results(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, CallAdvice]]) -> None:
    """Insert or replace (transcript, library hash) rows; the caller holds the transaction."""
    if not rows:
        return
    frame = pd.DataFrame([_row(tid, a) for tid, a in rows], columns=_COLUMNS)
    for col in ("signs_said", "signs_total"):
        frame[col] = frame[col].astype("Int32")
    for col in ("home_care", "action_said", "meets_standard"):
        frame[col] = frame[col].astype("boolean")
    con.register("new_advice", frame)
    con.execute(
        "DELETE FROM advice_results WHERE (transcript_id, library_sha256) IN"
        " (SELECT (transcript_id, library_sha256) FROM new_advice)"
    )
    con.execute(
        "INSERT INTO advice_results (transcript_id, call_id, library_sha256, reason_id, reason_source,"
        " reasons_json, home_care, signs_said, signs_total, action_said, meets_standard, missing_json,"
        " coverage_json, software_version) SELECT * FROM new_advice"
    )  # the column list is _COLUMNS, the frame's own order
    con.unregister("new_advice")


def corrected_reasons(
    con: duckdb.DuckDBPyConnection, call_ids: list[str] | None = None
) -> dict[str, tuple[str, ...]]:
    """The newest reviewer correction per call (reason ids; () = none of the library's reasons)."""
    rows = con.execute(
        "SELECT call_id, arg_max(reason_ids, correction_id) FROM advice_reason_corrections GROUP BY call_id"
    ).fetchall()
    wanted = None if call_ids is None else set(call_ids)
    return {c: tuple(r for r in ids.split(",") if r) for c, ids in rows if wanted is None or c in wanted}


def correct_reason(
    con: duckdb.DuckDBPyConnection,
    call_id: str,
    reason_ids: tuple[str, ...],
    username: str,
    library: AdviceLibrary,
    call: CallText | None = None,
    transcript_id: str | None = None,
) -> CallAdvice | None:
    """Record a reviewer's contact reason(s) for a call (audited) and, given the call, re-analyse it.

    Unknown reason ids are refused with the accepted ones named.
    """
    known = [s.id for s in library.standards]
    unknown = [r for r in reason_ids if r not in known]
    if unknown:
        raise ValueError(f"unknown contact reason(s) {unknown}; accepted: {', '.join(known)} (or none)")
    advice = analyse_call(call, library, tuple(reason_ids)) if call is not None else None
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO advice_reason_corrections (call_id, reason_ids, corrected_by) VALUES (?, ?, ?)",
            [call_id, ",".join(reason_ids), username],
        )
        record(con, username, "correct_contact_reason", "call", call_id, ",".join(reason_ids) or "ingen")
        if advice is not None and transcript_id is not None:
            store_results(con, [(transcript_id, advice)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return advice


def call_advice(
    con: duckdb.DuckDBPyConnection, call_id: str, library: AdviceLibrary
) -> tuple[CallAdvice, CallText]:
    """Analyse a stored call's newest transcript now, with the reviewer's correction if there is one.

    Raises :class:`lydlogg.store.CallNotFoundError` for an unknown or untranscribed call.
    """
    transcript = load_transcript(con, call_id)
    service = con.execute("SELECT service FROM calls WHERE call_id = ?", [call_id]).fetchone()
    call = build_call_text(transcript, service[0] if service else None)
    correction = corrected_reasons(con, [call_id]).get(call_id)
    with library_in_use(library):
        return analyse_call(call, library, correction), call


def approval_notice(library: AdviceLibrary) -> str | None:
    """A warning (bokmål) while any standard is not approved by the medical lead; None when all are."""
    pending = [s.navn for s in library.standards if not s.approved]
    if not pending:
        return None
    return (
        f"Rådbiblioteket er ikke godkjent: {len(pending)} av {len(library.standards)} standardråd har status "
        "«eksempel». Legevaktens medisinskfaglige leder må godkjenne dem (status: godkjent, med hvem og når) "
        "før tall basert på dem vises i rapporter."
    )


def approval_line(library: AdviceLibrary) -> str | None:
    """Who approved the library and when (bokmål), once every standard is approved; None before that."""
    if not library.approved:
        return None
    counts: dict[tuple[str, str], int] = {}
    for s in sorted(library.standards, key=lambda s: (s.godkjent_dato, s.godkjent_av)):
        key = (str(s.godkjent_av), date_text(s.godkjent_dato))
        counts[key] = counts.get(key, 0) + 1
    total = len(library.standards)
    parts = [
        f"{who} {when}" + (f" ({n} av {total})" if len(counts) > 1 else "")
        for (who, when), n in counts.items()
    ]
    return "Rådbiblioteket er godkjent av " + "; ".join(parts) + "."


def summary_lines(advice: CallAdvice) -> list[str]:
    """The analysis as short bokmål lines (for the CLI and the handout); no transcript text."""
    lines = []
    if advice.corrected:
        lines.append("Kontaktårsak (rettet av veileder): " + (", ".join(advice.reason_ids) or "ingen"))
    for d in advice.detected:
        lines.append(f"Kontaktårsak funnet: {d.name} ({d.confidence:.0%}; stikkord: {', '.join(d.cues)})")
    if not advice.detected and not advice.corrected:
        lines.append("Kontaktårsak: ingen av standardrådene passer")
    cov = advice.coverage
    if cov is None:
        return lines
    lines.append(
        f"Standardråd: {cov.reason_name}"
        + ("" if cov.home_care else " (samtalen endte med oppmøte/ambulanse)")
    )
    for title, items in (("Tegn", cov.signs), ("Handling", cov.actions), ("Tidsramme", cov.time_frames)):
        for item in items:
            lines.append(f"  {'✓' if item.said else '✗'} {title.lower()}: {item.label}")
    lines.append(
        "Dekker standarden (minst to tegn og en handling): " + ("ja" if cov.meets_standard else "nei")
    )
    return lines
