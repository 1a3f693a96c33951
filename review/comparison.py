"""Helpers for the call page: segment-anchored comments and self-review comparisons (pure), and the
names reviewers are shown by (one read of the users table)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from review.service import Review
from transcription.types import Transcript

__all__ = ["compare_reviews", "parse_segment_comments", "reviewer_names", "unanchored_lines"]

_LINE = re.compile(r"^\s*(\d+)\s*[:.)-]\s*(.+?)\s*$")


def parse_segment_comments(text: str, transcript: Transcript) -> list[tuple[int | None, float | None, str]]:
    """Comments written one per line as ``12: tekst`` (segment number as shown, from 1).

    A line without a valid segment number becomes a comment on the whole call.
    """
    out: list[tuple[int | None, float | None, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m and 1 <= int(m.group(1)) <= len(transcript.segments):
            index = int(m.group(1)) - 1
            out.append((index, transcript.segments[index].start, m.group(2)))
        else:
            out.append((None, None, line.strip()))
    return out


def unanchored_lines(text: str, segments: int) -> list[str]:
    """The non-blank lines of ``text`` that do not start with a segment number from 1 to
    ``segments`` («12: tekst»): the call page refuses to save them rather than file them elsewhere."""
    bad = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not (m and 1 <= int(m.group(1)) <= segments):
            bad.append(line.strip())
    return bad


def compare_reviews(own: Review, others: list[Review], criteria: list[tuple[str, str]]) -> pd.DataFrame:
    """One row per criterion: the user's own value, each other reviewer's, and whether they differ."""
    rows = []
    for criterion_id, title in criteria:
        row: dict[str, object] = {"Kriterium": title, "Egen vurdering": own.values.get(criterion_id)}
        for other in others:
            row[other.reviewer] = other.values.get(criterion_id)
        row["Ulik"] = any(other.values.get(criterion_id) != own.values.get(criterion_id) for other in others)
        rows.append(row)
    return pd.DataFrame(rows)


def reviewer_names(db_path: Path, usernames: list[str]) -> dict[str, str]:
    """The name each reviewer is shown by (display name; the username where the user is gone, or
    where two reviewers share a display name)."""
    from lydlogg.auth import get_user
    from lydlogg.db import connect

    with connect(db_path) as con:
        found = {u: getattr(get_user(con, u), "display_name", None) or u for u in usernames}
    shared = {n for n in found.values() if list(found.values()).count(n) > 1}
    return {u: (f"{n} ({u})" if n in shared else n) for u, n in found.items()}
