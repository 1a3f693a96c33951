"""Conversation measures that contact-centre QA tools show, computed from who spoke when.

Pure interval arithmetic over speaker turns (no model, no database at import): staff and caller
talk time and their ratio, silence share, the longest silence, overlaps (talk-over) and who
interrupted, time to the first question, and the longest staff monologue. On a stereo recording
each party has its own channel, so the figures are exact; on mono they rest on diarization and
are labelled ``estimated``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Literal

from lydlogg import vocabulary

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

__all__ = [
    "MEASURE_COLUMNS",
    "ConversationMeasures",
    "Turn",
    "add_call_measures",
    "call_measures",
    "measure",
    "party_of",
]

Party = Literal["staff", "caller"]
STAFF_ROLES = frozenset(vocabulary.STAFF_ROLES)
MIN_OVERLAP_S = 0.3  # shorter overlaps are turn-taking jitter, not talk-over


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    party: Party
    text: str = ""


@dataclass(frozen=True)
class ConversationMeasures:
    basis: Literal["exact", "estimated"]
    staff_talk_s: float
    caller_talk_s: float
    talk_ratio: float | None  # staff talk / caller talk
    silence_share: float  # share of the call (first to last word) where nobody talks
    longest_silence_s: float
    overlap_s: float
    interruptions_by_staff: int
    interruptions_by_caller: int
    time_to_first_question_s: float | None  # from the call's start to the staff's first question
    longest_staff_monologue_s: float


MEASURE_COLUMNS = tuple(f.name for f in fields(ConversationMeasures))


def party_of(role: str | None) -> Party | None:
    """``staff`` for operator and doctor, ``caller`` for the caller, else None (not counted)."""
    if role in STAFF_ROLES:
        return "staff"
    return "caller" if role == "caller" else None


def _union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(spans: Sequence[tuple[float, float]]) -> float:
    return sum(end - start for start, end in spans)


def _intersection(
    a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def measure(turns: Sequence[Turn], *, exact: bool) -> ConversationMeasures | None:
    """The measures of one call's turns; None when nobody on either side is heard."""
    turns = sorted((t for t in turns if t.end > t.start), key=lambda t: (t.start, t.end))
    if not turns:
        return None
    staff = _union((t.start, t.end) for t in turns if t.party == "staff")
    caller = _union((t.start, t.end) for t in turns if t.party == "caller")
    talk = _union([*staff, *caller])
    first, last = talk[0][0], talk[-1][1]
    gaps = [b[0] - a[1] for a, b in zip(talk, talk[1:], strict=False)]
    overlaps = [o for o in _intersection(staff, caller) if o[1] - o[0] >= MIN_OVERLAP_S]
    interruptions = {"staff": 0, "caller": 0}
    for start, _end in overlaps:
        # the overlap starts where the later of the two spans starts: that party interrupted
        staff_start = next(a for a, e in staff if a <= start < e)
        caller_start = next(a for a, e in caller if a <= start < e)
        interruptions["staff" if staff_start > caller_start else "caller"] += 1
    question = next((t.start for t in turns if t.party == "staff" and "?" in t.text), None)
    monologue, run_start, run_end = 0.0, None, None
    for t in turns:
        if t.party == "caller":
            if run_start is not None and t.start >= run_end - 1e-6:
                monologue = max(monologue, run_end - run_start)
                run_start = run_end = None
            continue
        if run_start is None:
            run_start, run_end = t.start, t.end
        else:
            run_end = max(run_end, t.end)
    if run_start is not None:
        monologue = max(monologue, run_end - run_start)
    staff_s, caller_s = _length(staff), _length(caller)
    span = last - first
    return ConversationMeasures(
        basis="exact" if exact else "estimated",
        staff_talk_s=round(staff_s, 2),
        caller_talk_s=round(caller_s, 2),
        talk_ratio=round(staff_s / caller_s, 2) if caller_s else None,
        silence_share=round(max(0.0, span - _length(talk)) / span, 3) if span else 0.0,
        longest_silence_s=round(max(gaps, default=0.0), 2),
        overlap_s=round(_length(overlaps), 2),
        interruptions_by_staff=interruptions["staff"],
        interruptions_by_caller=interruptions["caller"],
        time_to_first_question_s=round(question, 2) if question is not None else None,
        longest_staff_monologue_s=round(monologue, 2),
    )


_SEGMENTS_SQL = """
SELECT l.call_id, t.layout, s.start_s, s.end_s, s.role, s.text
FROM latest_transcripts l JOIN transcripts t USING (transcript_id)
JOIN segments_current s ON s.transcript_id = l.transcript_id
WHERE list_contains($ids, l.call_id)
ORDER BY l.call_id, s.segment_index
"""


def call_measures(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str]) -> dict[str, ConversationMeasures]:
    """Measures of the newest transcript of each call (calls without one are left out)."""
    by_call: dict[str, tuple[str, list[Turn]]] = {}
    for call_id, layout, start, end, role, text in con.execute(
        _SEGMENTS_SQL, {"ids": list(call_ids)}
    ).fetchall():
        party = party_of(role)
        entry = by_call.setdefault(call_id, (layout, []))
        if party is not None:
            entry[1].append(Turn(float(start), float(end), party, text or ""))
    out = {}
    for call_id, (layout, turns) in by_call.items():
        result = measure(turns, exact=layout == "stereo")
        if result is not None:
            out[call_id] = result
    return out


def add_call_measures(con: duckdb.DuckDBPyConnection, calls: pd.DataFrame) -> pd.DataFrame:
    """``calls`` with one column per measure (empty where a call has no transcript)."""
    import pandas as pd

    measures = call_measures(con, list(calls["call_id"]))
    extra = pd.DataFrame(
        [asdict(measures[c]) if c in measures else dict.fromkeys(MEASURE_COLUMNS) for c in calls["call_id"]],
        columns=list(MEASURE_COLUMNS),
        index=calls.index,
    )
    return pd.concat([calls, extra], axis=1)
