"""Feedback sessions (tilbakemeldingsmøte): one call, step by step, with notes and a handout.

:func:`plan_steps` lays a call out for presentation: one step per segment, carrying the
criteria whose suggestion found evidence there, the reviewers' comments anchored to it and the
reflection questions that belong to those criteria; criteria that scored below the top of their
scale without evidence anywhere (often what was *missing*, such as worsening advice) get their
questions in a closing step. :class:`FeedbackService` keeps the session notes with the call
(audited), and :func:`handout_html` makes a printable handout. The handout holds no transcript
text: only times, scores, comments, questions and notes. Everything user-provided is escaped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from lydlogg.access import OWNER_SQL, check, check_call
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.db import connect, transaction
from lydlogg.documents import Markup, render_html
from lydlogg.formatting import clock
from review.service import Review, Suggestion
from rubrics.reflection import ReflectionQuestions
from rubrics.schema import Rubric
from transcription.types import Transcript

__all__ = [
    "CriterionRow",
    "FeedbackNote",
    "FeedbackService",
    "Step",
    "assessment_rows",
    "handout_html",
    "plan_steps",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedbackNote:
    note_id: int
    call_id: str
    segment_index: int | None
    text: str
    written_by: str
    written_at: object


@dataclass(frozen=True)
class Step:
    """One segment of the call as shown in the session (``segment_index`` None: the closing step)."""

    segment_index: int | None
    start: float | None
    end: float | None
    role: str | None
    criteria: tuple[str, ...]  # criteria with evidence here (or, in the closing step, without any)
    comments: tuple[tuple[str, str], ...]  # (reviewer, text) anchored to this segment
    questions: tuple[tuple[str, str], ...]  # (criterion title or theme title, question)


@dataclass(frozen=True)
class CriterionRow:
    criterion_id: str
    title: str
    suggested: int | None
    values: dict[str, int | None]  # reviewer -> value
    yes_no: bool
    top: int
    abstained: bool = False  # the suggestion could not be given («kan ikke vurderes automatisk»)


def _questions(criterion_ids, rubric: Rubric, questions: ReflectionQuestions) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for criterion_id in criterion_ids:
        try:
            criterion = rubric.criterion(criterion_id)
        except KeyError:
            continue
        out.append((criterion.title, criterion.reflection_question))
        for theme in questions.for_criterion(criterion_id):
            out += [(theme.title, q) for q in theme.questions]
    return tuple(dict.fromkeys(out))  # a theme shared by two criteria at one step is asked once


def assessment_rows(
    rubric: Rubric, suggestions: list[Suggestion], reviews: list[Review]
) -> list[CriterionRow]:
    """The assessment, criterion by criterion: the suggestion beside every reviewer's value (an
    abstention is no value, and is marked as such, never read as «ikke aktuelt»)."""
    suggested = {s.criterion_id: s for s in suggestions}
    return [
        CriterionRow(
            c.id,
            c.title,
            suggested[c.id].value if c.id in suggested else None,
            {r.reviewer: r.values[c.id] for r in reviews if c.id in r.values},
            c.scale.type == "yes_no",
            c.scale.values[-1],
            c.id in suggested and suggested[c.id].abstained,
        )
        for c in rubric.criteria
    ]


def plan_steps(
    transcript: Transcript,
    rubric: Rubric,
    suggestions: list[Suggestion],
    reviews: list[Review],
    questions: ReflectionQuestions,
) -> list[Step]:
    """One step per segment, then a closing step for low-scored criteria without evidence."""
    evidence: dict[int, list[str]] = {}
    for s in suggestions:
        if s.abstained:  # its spans are where to listen, not evidence of the criterion
            continue
        for ev in s.evidence:
            index = ev.get("segment_index")
            if isinstance(index, int) and 0 <= index < len(transcript.segments):
                evidence.setdefault(index, []).append(s.criterion_id)
    comments: dict[int, list[tuple[str, str]]] = {}
    for review in reviews:
        for seg, _at, text in review.comments:
            if seg is not None:
                comments.setdefault(seg, []).append((review.reviewer, text))
    order = {c.id: i for i, c in enumerate(rubric.criteria)}
    steps = []
    for i, segment in enumerate(transcript.segments):
        here = sorted(dict.fromkeys(c for c in evidence.get(i, ()) if c in order), key=order.__getitem__)
        steps.append(
            Step(
                i,
                segment.start,
                segment.end,
                segment.role,
                tuple(here),
                tuple(comments.get(i, ())),
                _questions(here, rubric, questions),
            )  # fmt: skip
        )
    placed = {c for found in evidence.values() for c in found}
    low = [
        row.criterion_id
        for row in assessment_rows(rubric, suggestions, reviews)
        if row.criterion_id not in placed and _below_top(row)
    ]
    closing = _questions(low, rubric, questions) + tuple(
        (theme.title, q) for theme in questions.session_themes for q in theme.questions
    )
    steps.append(Step(None, None, None, None, tuple(low), (), closing))
    return steps


def _below_top(row: CriterionRow) -> bool:
    """Whether anyone (a reviewer, or the suggestion when nobody reviewed) scored below the top."""
    values = list(row.values.values()) or [row.suggested]
    return any(v is not None and v < row.top for v in values)


def handout_html(
    call_id: str,
    rubric: Rubric,
    rows: list[CriterionRow],
    reviews: list[Review],
    steps: list[Step],
    notes: list[FeedbackNote],
    *,
    held_on: date | None = None,
    advice_html: str = "",
) -> str:
    """A printable handout for the session (no transcript text), from the template
    ``feedback_handout.html``, which escapes every value.

    ``advice_html`` is the already escaped part on the standard worsening advice and its SMS draft
    (:func:`review.advice.handout_section`), placed before the reflection questions.
    """
    reviewers = sorted({r for row in rows for r in row.values})
    table = [
        {
            "title": row.title,
            "suggested": row.suggested,
            "abstained": row.abstained,
            "yes_no": row.yes_no,
            "cells": [
                {
                    "given": reviewer in row.values,
                    "value": row.values.get(reviewer),
                    "low": row.values.get(reviewer) is not None and row.values[reviewer] < row.top,
                }
                for reviewer in reviewers
            ],
        }
        for row in rows
    ]
    questions: dict[str, list[str]] = {}
    for title, question in dict.fromkeys(q for step in steps for q in step.questions):
        questions.setdefault(title, []).append(question)
    starts = {s.segment_index: s.start for s in steps}
    return render_html(
        "feedback_handout.html",
        call_id=call_id,
        rubric_title=rubric.title,
        rubric_version=rubric.version,
        held_on=held_on or date.today(),
        reviewers=reviewers,
        rows=table,
        overall=[(r.reviewer, r.overall_comment) for r in reviews if r.overall_comment],
        anchored=[(step.start, who, text) for step in steps for who, text in step.comments],
        advice_html=Markup(advice_html),  # noqa: S704 - escaped by review.advice.handout_section
        questions=questions,
        notes=[
            (
                "hele samtalen" if n.segment_index is None else clock(starts.get(n.segment_index)),
                n.written_by,
                n.text,
            )
            for n in notes
        ],
    )


class FeedbackService:
    """Session notes for one user; build it from the app's ReviewService (db_path, user)."""

    def __init__(self, db_path: Path, user: User) -> None:
        self.db_path = Path(db_path)
        self.user = user

    def _check_call(self, con: duckdb.DuckDBPyConnection, action: str, call_id: str) -> None:
        check_call(self.user, action, con.execute(OWNER_SQL, [call_id]).fetchone())

    def save_note(self, call_id: str, text: str, *, segment_index: int | None = None) -> int:
        """Keep a session note with the call (on one segment, or the whole call)."""
        check(self.user, "run_feedback")
        if not text.strip():
            raise ValueError("a note cannot be empty")
        with connect(self.db_path) as con:
            self._check_call(con, "view_call", call_id)
            with transaction(con):
                note_id = con.execute(
                    "INSERT INTO feedback_notes (call_id, segment_index, text, written_by) VALUES (?, ?, ?, ?)"
                    " RETURNING note_id",
                    [call_id, segment_index, text.strip(), self.user.username],
                ).fetchone()[0]
                record(con, self.user.username, "feedback_note", "call", call_id, f"note {note_id}")
        return note_id

    def notes(self, call_id: str) -> list[FeedbackNote]:
        """The call's session notes, oldest first (whoever may see the call may read them)."""
        with connect(self.db_path) as con:
            self._check_call(con, "view_call", call_id)
            rows = con.execute(
                "SELECT note_id, call_id, segment_index, text, written_by, written_at FROM feedback_notes"
                " WHERE call_id = ? ORDER BY note_id",
                [call_id],
            ).fetchall()
        return [FeedbackNote(*r) for r in rows]
