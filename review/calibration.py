"""Calibration rounds: the same calls scored blind by several reviewers, then compared and agreed.

A leader or supervisor (``manage_calibration``) creates a round: a rubric, one or more calls and
the reviewers taking part. Each member scores each call with no sight of the others' scores; a
review saved in a round is an ordinary peer review, tied to the round by ``calibration_reviews``.
The blind rule is kept here, not only in the pages: while a round is open,

- a member sees nobody else's round review of a round call until they have saved their own round
  review of it;
- anyone else sees the round's reviews only once the round is closed, except the round's manager
  (its creator) when not a member, who sees everything.

Only reviews saved in the round are blind: an ordinary peer review of the same call, saved outside
the round, stays visible on every page (the call page, Publiser kasus, the feedback session), since
an open round must not make a reviewed call look unreviewed. The round's own form shows no other
review, so a member still scores blind there.

:func:`hidden_review_ids` gives that rule to :meth:`review.service.ReviewService.reviews`.
What a round agreed about a criterion is stored as an interpretation and becomes guidance text on
that criterion (:func:`guidance`). Every view of others' scores, saved round review and agreed
interpretation is audited.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lydlogg.access import OWNER_SQL, AccessDenied, allowed, check, check_call
from lydlogg.audit import record
from lydlogg.auth import User, get_user
from lydlogg.db import connect, transaction
from review.agreement import AgreementReport, Rating, agreement_report
from rubrics import load_rubrics

__all__ = [
    "CalibrationService",
    "Disagreement",
    "Interpretation",
    "Round",
    "RoundResults",
    "RoundScore",
    "SuggestionView",
    "disagreements",
    "guidance",
    "hidden_review_ids",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    round_id: str
    title: str
    rubric_id: str
    created_by: str
    created_at: object
    closed_at: object
    call_ids: tuple[str, ...]
    reviewers: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class RoundScore:
    review_id: str
    call_id: str
    reviewer: str
    created_at: object
    values: dict[str, int | None] = field(default_factory=dict)
    criterion_comments: dict[str, str] = field(default_factory=dict)
    overall_comment: str | None = None


@dataclass(frozen=True)
class SuggestionView:
    value: int | None
    confidence: float
    rationale: str
    evidence: tuple[dict, ...]


@dataclass(frozen=True)
class Disagreement:
    """One criterion of one call on which the reviewers did not all give the same value."""

    call_id: str
    criterion_id: str
    values: dict[str, int | None]
    comments: dict[str, str]
    suggestion: SuggestionView | None


@dataclass(frozen=True)
class RoundResults:
    round: Round
    scores: tuple[RoundScore, ...]  # the ones this user may see
    report: AgreementReport
    disagreements: tuple[Disagreement, ...]
    calls_shown: tuple[str, ...]  # the round's calls whose scores this user may see


@dataclass(frozen=True)
class Interpretation:
    rubric_id: str
    criterion_id: str
    text: str
    decided_by: str
    decided_at: object
    round_id: str | None


def _audit(
    con: duckdb.DuckDBPyConnection,
    user: User,
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str | None = None,
) -> None:
    record(con, user.username, action, object_type, object_id, detail)


_HIDDEN_SQL = """
WITH open_calls AS (
    SELECT r.round_id, r.created_by, c.call_id
    FROM calibration_rounds r JOIN calibration_calls c USING (round_id) WHERE r.closed_at IS NULL
)
SELECT DISTINCT rv.review_id
FROM reviews rv JOIN open_calls o ON o.call_id = rv.call_id
WHERE rv.reviewer <> $user
  AND EXISTS (SELECT 1 FROM calibration_reviews cr WHERE cr.review_id = rv.review_id AND cr.round_id = o.round_id)
  AND NOT EXISTS (SELECT 1 FROM calibration_reviews s
                  WHERE s.round_id = o.round_id AND s.call_id = o.call_id AND s.reviewer = $user)
  AND (o.created_by <> $user
       OR EXISTS (SELECT 1 FROM calibration_members m WHERE m.round_id = o.round_id AND m.username = $user))
"""


def hidden_review_ids(con: duckdb.DuckDBPyConnection, user: User) -> set[str]:
    """Ids of reviews that ``user`` may not see yet because of an open round's blind rule."""
    return {r[0] for r in con.execute(_HIDDEN_SQL, {"user": user.username}).fetchall()}


def guidance(con: duckdb.DuckDBPyConnection, rubric_id: str) -> dict[str, str]:
    """The newest agreed interpretation per criterion of ``rubric_id``: criterion_id -> text."""
    rows = con.execute(
        "SELECT criterion_id, arg_max(text, interpretation_id) FROM criterion_interpretations"
        " WHERE rubric_id = ? GROUP BY criterion_id ORDER BY criterion_id",
        [rubric_id],
    ).fetchall()
    return dict(rows)


def disagreements(
    scores: list[RoundScore], suggestions: dict[str, dict[str, SuggestionView]], criteria: list[str]
) -> list[Disagreement]:
    """Per call and criterion (in rubric order), where at least two reviewers gave different values."""
    by_call: dict[str, list[RoundScore]] = {}
    for s in scores:
        by_call.setdefault(s.call_id, []).append(s)
    found = []
    for criterion in criteria:
        for call_id, call_scores in by_call.items():
            values = {s.reviewer: s.values[criterion] for s in call_scores if criterion in s.values}
            if len(values) < 2 or len(set(values.values())) < 2:
                continue
            comments = {
                s.reviewer: s.criterion_comments[criterion]
                for s in call_scores
                if s.criterion_comments.get(criterion)
            }
            found.append(
                Disagreement(
                    call_id, criterion, values, comments, suggestions.get(call_id, {}).get(criterion)
                )
            )
    return found


class CalibrationService:
    """Calibration rounds for one user; build it from the app's ReviewService (db_path, user)."""

    def __init__(self, db_path: Path, user: User) -> None:
        self.db_path = Path(db_path)
        self.user = user

    # --- rounds -------------------------------------------------------------------------------

    def create_round(self, title: str, rubric_id: str, call_ids: list[str], reviewers: list[str]) -> str:
        """Create a round; every reviewer must be an active user who may take part in calibration."""
        check(self.user, "manage_calibration")
        if not title.strip():
            raise ValueError("a round needs a title")
        if rubric_id not in load_rubrics():
            raise ValueError(f"unknown rubric {rubric_id!r}; known: {', '.join(sorted(load_rubrics()))}")
        call_ids = list(dict.fromkeys(call_ids))
        reviewers = list(dict.fromkeys(reviewers))
        if not call_ids:
            raise ValueError("a round needs at least one call")
        if len(reviewers) < 2:
            raise ValueError("a round needs at least two reviewers")
        round_id = uuid.uuid4().hex[:12]
        with connect(self.db_path) as con:
            users = {name: get_user(con, name) for name in reviewers}
            refused = [n for n, u in users.items() if u is None or not allowed(u, "calibrate")]
            if refused:
                raise ValueError(f"not active users who may calibrate: {', '.join(refused)}")
            owners = {
                r[0]: (r[1], r[2])
                for r in con.execute(
                    "SELECT call_id, operator_id, unit FROM calls WHERE list_contains(?, call_id)", [call_ids]
                ).fetchall()
            }
            # a call outside the creator's units is as unknown as one that does not exist
            unknown = [c for c in call_ids if c not in owners or not allowed(
                self.user, "view_call", owners[c][0], call_known=True, call_unit=owners[c][1])]  # fmt: skip
            if unknown:
                raise ValueError(f"no such calls: {', '.join(unknown)}")
            outside = sorted(
                n for n, u in users.items() for c in call_ids
                if not allowed(u, "peer_review", owners[c][0], call_known=True, call_unit=owners[c][1])
            )  # fmt: skip
            if outside:
                raise ValueError(
                    f"reviewers outside the units of the round's calls: {', '.join(dict.fromkeys(outside))}"
                )
            with transaction(con):
                con.execute(
                    "INSERT INTO calibration_rounds (round_id, title, rubric_id, created_by) VALUES (?, ?, ?, ?)",
                    [round_id, title.strip(), rubric_id, self.user.username],
                )
                con.executemany(
                    "INSERT INTO calibration_calls (round_id, call_id, position) VALUES (?, ?, ?)",
                    [(round_id, c, i) for i, c in enumerate(call_ids)],
                )
                con.executemany(
                    "INSERT INTO calibration_members (round_id, username) VALUES (?, ?)",
                    [(round_id, r) for r in reviewers],
                )
                _audit(con, self.user, "create_round", "round", round_id,
                       f"{len(call_ids)} calls, {len(reviewers)} reviewers")  # fmt: skip
        log.info("calibration round %s created with %d calls", round_id, len(call_ids))
        return round_id

    def _round(self, con: duckdb.DuckDBPyConnection, round_id: str) -> Round:
        head = con.execute(
            "SELECT round_id, title, rubric_id, created_by, created_at, closed_at FROM calibration_rounds"
            " WHERE round_id = ?",
            [round_id],
        ).fetchone()
        if head is None:
            raise AccessDenied()
        calls = tuple(
            r[0]
            for r in con.execute(
                "SELECT call_id FROM calibration_calls WHERE round_id = ? ORDER BY position", [round_id]
            ).fetchall()
        )
        members = tuple(
            r[0]
            for r in con.execute(
                "SELECT username FROM calibration_members WHERE round_id = ? ORDER BY username", [round_id]
            ).fetchall()
        )
        found = Round(*head, call_ids=calls, reviewers=members)
        if self.user.username not in members and not self._manages(found):
            raise AccessDenied()  # unknown and forbidden look the same from outside
        return found

    def _manages(self, found: Round) -> bool:
        return found.created_by == self.user.username and allowed(self.user, "manage_calibration")

    def round(self, round_id: str) -> Round:
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            return self._round(con, round_id)

    def rounds(self) -> list[Round]:
        """The rounds this user takes part in or manages, newest first."""
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            ids = con.execute(
                "SELECT round_id FROM calibration_rounds r WHERE created_by = $u OR EXISTS"
                " (SELECT 1 FROM calibration_members m WHERE m.round_id = r.round_id AND m.username = $u)"
                " ORDER BY created_at DESC, round_id",
                {"u": self.user.username},
            ).fetchall()
            return [self._round(con, r[0]) for r in ids]

    def close_round(self, round_id: str) -> None:
        check(self.user, "manage_calibration")
        with connect(self.db_path) as con:
            found = self._round(con, round_id)
            if not self._manages(found):
                raise AccessDenied()
            with transaction(con):
                con.execute(
                    "UPDATE calibration_rounds SET closed_at = current_timestamp WHERE round_id = ?",
                    [round_id],
                )
                _audit(con, self.user, "close_round", "round", round_id)

    # --- blind scoring --------------------------------------------------------------------------

    def save_round_review(
        self,
        round_id: str,
        call_id: str,
        values: dict[str, int | None],
        *,
        criterion_comments: dict[str, str] | None = None,
        overall_comment: str | None = None,
        not_rated: Collection[str] = (),
    ) -> str:
        """Save this member's review of a round call: an ordinary peer review, linked to the round.

        Every criterion needs a value, or its id in ``not_rated`` («ikke vurdert», said explicitly):
        those are stored without a score rather than as a silent 0.
        """
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            found = self._round(con, round_id)
            if self.user.username not in found.reviewers or call_id not in found.call_ids:
                raise AccessDenied()
            if not found.is_open:
                raise ValueError("the round is closed")
            check_call(self.user, "peer_review", con.execute(OWNER_SQL, [call_id]).fetchone())
            loaded = load_rubrics()[found.rubric_id]
            _validate(loaded.rubric, values, not_rated)
            suggested = dict(
                con.execute(_SUGGESTED_SQL, {"call_id": call_id, "rubric_id": found.rubric_id}).fetchall()
            )
            transcript = con.execute(
                "SELECT transcript_id FROM latest_transcripts WHERE call_id = ?",
                [call_id],
            ).fetchone()
            previous = con.execute(
                "SELECT review_id FROM reviews WHERE call_id = ? AND reviewer = ? AND kind = 'peer'"
                " AND review_id NOT IN (SELECT replaces FROM reviews WHERE replaces IS NOT NULL)",
                [call_id, self.user.username],
            ).fetchone()
            review_id = uuid.uuid4().hex
            comments = {k: v.strip() for k, v in (criterion_comments or {}).items() if v and v.strip()}
            with transaction(con):
                con.execute(
                    "INSERT INTO reviews (review_id, call_id, transcript_id, rubric_id, rubric_version, rubric_sha256,"
                    " reviewer, kind, overall_comment, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, 'peer', ?, ?)",
                    [review_id, call_id, transcript[0] if transcript else None, loaded.rubric.id,
                     loaded.rubric.version, loaded.sha256, self.user.username, overall_comment or None,
                     previous[0] if previous else None],
                )  # fmt: skip
                con.executemany(
                    "INSERT INTO review_scores (review_id, criterion_id, value, suggested_value, comment)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(review_id, c, v, suggested.get(c), comments.get(c)) for c, v in values.items()],
                )
                con.execute(
                    "INSERT INTO calibration_reviews (review_id, round_id, call_id, reviewer) VALUES (?, ?, ?, ?)",
                    [review_id, round_id, call_id, self.user.username],
                )
                _audit(con, self.user, "save_round_review", "call", call_id, f"round {round_id} {review_id}")
        return review_id

    def _scores(self, con: duckdb.DuckDBPyConnection, round_id: str) -> list[RoundScore]:
        """Every current round review of the round (no access rule applied)."""
        heads = con.execute(
            "SELECT r.review_id, r.call_id, r.reviewer, r.created_at, r.overall_comment"
            " FROM calibration_reviews c JOIN reviews r USING (review_id)"
            " WHERE c.round_id = ? AND NOT EXISTS (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id)"
            " ORDER BY r.call_id, r.reviewer",
            [round_id],
        ).fetchall()
        rows = con.execute(
            "SELECT s.review_id, s.criterion_id, s.value, s.comment FROM review_scores s"
            " JOIN calibration_reviews c USING (review_id) WHERE c.round_id = ?",
            [round_id],
        ).fetchall()
        values: dict[str, dict[str, int | None]] = {}
        notes: dict[str, dict[str, str]] = {}
        for rid, crit, value, comment in rows:
            values.setdefault(rid, {})[crit] = value
            if comment:
                notes.setdefault(rid, {})[crit] = comment
        return [
            RoundScore(rid, call, who, at, values.get(rid, {}), notes.get(rid, {}), overall)
            for rid, call, who, at, overall in heads
        ]

    def _visible_calls(self, found: Round, scores: list[RoundScore]) -> list[str]:
        """The round calls whose scores this user may see in full."""
        if self._manages(found) and self.user.username not in found.reviewers:
            return list(found.call_ids)
        saved = {s.call_id for s in scores if s.reviewer == self.user.username}
        if not found.is_open:
            return list(found.call_ids) if self.user.username in found.reviewers else []
        return [c for c in found.call_ids if c in saved]

    def scores(self, round_id: str, call_id: str | None = None) -> list[RoundScore]:
        """Round reviews this user may see: their own always, the others' only under the blind rule."""
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            found = self._round(con, round_id)
            scores = self._scores(con, round_id)
            visible = set(self._visible_calls(found, scores))
            shown = [
                s
                for s in scores
                if (call_id is None or s.call_id == call_id)
                and (s.reviewer == self.user.username or s.call_id in visible)
            ]
            others = [s for s in shown if s.reviewer != self.user.username]
            if others:
                _audit(con, self.user, "view_round_scores", "round", round_id,
                       f"{len(others)} reviews of {call_id or 'all calls'}")  # fmt: skip
        return shown

    def mine(self, round_id: str) -> list[RoundScore]:
        """This user's own current round reviews (nothing of anyone else's, so nothing to audit)."""
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            self._round(con, round_id)
            return [s for s in self._scores(con, round_id) if s.reviewer == self.user.username]

    def results(self, round_id: str) -> RoundResults:
        """Agreement figures and disagreements over the round calls whose scores this user may see."""
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            found = self._round(con, round_id)
            scores = self._scores(con, round_id)
            visible = self._visible_calls(found, scores)
            shown = [s for s in scores if s.call_id in visible]
            suggestions: dict[str, dict[str, SuggestionView]] = {}
            for call_id in visible:
                rows = con.execute(
                    _SUGGESTION_DETAIL_SQL, {"call_id": call_id, "rubric_id": found.rubric_id}
                ).fetchall()
                suggestions[call_id] = {
                    r[0]: SuggestionView(r[1], r[2], r[3], tuple(json.loads(r[4]))) for r in rows
                }
            if any(s.reviewer != self.user.username for s in shown):
                _audit(
                    con, self.user, "view_round_scores", "round", round_id, f"results of {len(visible)} calls"
                )
        rubric = load_rubrics()[found.rubric_id].rubric
        criteria = [c.id for c in rubric.criteria]
        report = agreement_report(
            [Rating(s.call_id, c, s.reviewer, v) for s in shown for c, v in s.values.items()],
            {(call, crit): sv.value for call, by in suggestions.items() for crit, sv in by.items()},
            {c.id: c.scale.values for c in rubric.criteria},
        )
        return RoundResults(
            found, tuple(shown), report, tuple(disagreements(shown, suggestions, criteria)), tuple(visible)
        )

    # --- agreed interpretations -----------------------------------------------------------------

    def record_interpretation(
        self, rubric_id: str, criterion_id: str, text: str, *, round_id: str | None = None
    ) -> None:
        """Store what the group agreed a criterion means; it is shown as guidance from now on."""
        check(self.user, "manage_calibration")
        rubrics = load_rubrics()
        if rubric_id not in rubrics:
            raise ValueError(f"unknown rubric {rubric_id!r}")
        try:
            rubrics[rubric_id].rubric.criterion(criterion_id)
        except KeyError as e:
            raise ValueError(f"rubric {rubric_id!r} has no criterion {criterion_id!r}") from e
        if not text.strip():
            raise ValueError("an agreed interpretation cannot be empty")
        with connect(self.db_path) as con:
            if round_id is not None:
                self._round(con, round_id)
            with transaction(con):
                con.execute(
                    "INSERT INTO criterion_interpretations (rubric_id, criterion_id, round_id, text, decided_by)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [rubric_id, criterion_id, round_id, text.strip(), self.user.username],
                )
                _audit(con, self.user, "agreed_interpretation", "criterion", f"{rubric_id}/{criterion_id}",
                       f"round {round_id}" if round_id else None)  # fmt: skip

    def interpretations(self, rubric_id: str) -> list[Interpretation]:
        """Every agreed interpretation of the rubric's criteria, newest first."""
        check(self.user, "calibrate")
        with connect(self.db_path) as con:
            rows = con.execute(
                "SELECT rubric_id, criterion_id, text, decided_by, decided_at, round_id"
                " FROM criterion_interpretations WHERE rubric_id = ? ORDER BY interpretation_id DESC",
                [rubric_id],
            ).fetchall()
        return [Interpretation(*r) for r in rows]

    def guidance(self, rubric_id: str) -> dict[str, str]:
        """Agreed interpretations per criterion; for those who see calls (as ReviewService.guidance)."""
        check(self.user, "list_calls")
        with connect(self.db_path) as con:
            return guidance(con, rubric_id)


_SUGGESTION_DETAIL_SQL = """
SELECT s.criterion_id, s.value, s.confidence, s.rationale, s.evidence_json
FROM suggestions s
WHERE s.rubric_id = $rubric_id
  AND NOT coalesce(s.abstained, false)  -- an abstention is missing, never a value to agree with
  AND s.transcript_id = (SELECT transcript_id FROM latest_transcripts WHERE call_id = $call_id)
  AND s.created_at = (SELECT max(created_at) FROM suggestions s2
                      WHERE s2.transcript_id = s.transcript_id AND s2.rubric_id = s.rubric_id)
"""
_SUGGESTED_SQL = f"SELECT criterion_id, value FROM ({_SUGGESTION_DETAIL_SQL})"  # noqa: S608 (constant SQL)


def _validate(rubric, values: dict[str, int | None], not_rated: Collection[str] = ()) -> None:
    """Every criterion once, each value on its scale (``None`` only where «ikke aktuelt» is allowed),
    or named in ``not_rated`` and then given no value."""
    problems = []
    for criterion in rubric.criteria:
        if criterion.id in not_rated:
            if criterion.id in values:
                problems.append(f"{criterion.id}: both a value and «ikke vurdert»")
            continue
        if criterion.id not in values:
            problems.append(f"{criterion.id}: missing (give a value or mark it «ikke vurdert»)")
            continue
        value = values[criterion.id]
        if value is None and not criterion.scale.not_applicable:
            problems.append(f"{criterion.id}: «ikke aktuelt» is not allowed")
        elif value is not None and value not in criterion.scale.values:
            problems.append(f"{criterion.id}: {value!r} is not one of {list(criterion.scale.values)}")
    stray = sorted((set(values) | set(not_rated)) - {c.id for c in rubric.criteria})
    if stray:
        problems.append(f"not in rubric {rubric.id}: {', '.join(stray)}")
    if problems:
        raise ValueError("; ".join(problems))
