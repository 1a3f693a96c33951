"""The app's service layer: every query and write the pages make, with access rules and audit.

Each method opens the database for as long as it needs and closes it, so the batch and the app
take turns on DuckDB's single-writer file (:func:`lydlogg.db.connect` waits while the other holds
it). Access is checked here, not only hidden in the UI; every view of a call, audio play, export
and saved review is written to the append-only ``audit`` table.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from lydlogg.access import OWNER_SQL, AccessDenied, call_scope, check, check_call
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.conversation import call_measures
from lydlogg.db import connect, transaction
from lydlogg.episodes import read_episodes
from lydlogg.playback import playable_copy
from lydlogg.scoring import score_one_call
from lydlogg.settings import Settings, default_settings
from lydlogg.store import list_calls, load_transcript, visible_calls
from lydlogg.store import swap_roles as swap_in_store
from lydlogg.units import user_units
from lydlogg.vocabulary import SPEAKER_ROLES, STAFF_ROLES
from review.calibration import guidance, hidden_review_ids
from review.quality_marks import call_quality_marks
from review.sampling import SamplingPlan, assign, draw
from review.search import search_calls
from rubrics import load_rubrics
from transcription.types import Transcript

__all__ = ["AccessDenied", "CallInfo", "Review", "ReviewService", "Suggestion"]


@dataclass(frozen=True)
class CallInfo:
    call_id: str
    started_at: object
    service: str | None
    operator_id: str | None
    urgency: str | None
    duration_s: float | None
    status: str


@dataclass(frozen=True)
class Suggestion:
    criterion_id: str
    value: int | None
    confidence: float
    evidence: tuple[dict, ...]
    rationale: str
    abstained: bool = False


@dataclass(frozen=True)
class Review:
    review_id: str
    call_id: str
    reviewer: str
    kind: str
    rubric_id: str
    rubric_version: int
    created_at: object
    overall_comment: str | None
    values: dict[str, int | None] = field(default_factory=dict)
    comments: tuple[tuple[int | None, float | None, str], ...] = ()


def review_value_problems(
    scales: dict[str, tuple[int, ...]] | None, values: dict[str, int | None]
) -> list[str]:
    """Why ``values`` cannot be saved for a rubric whose criteria allow ``scales`` (pure).

    ``scales`` maps each criterion id to its allowed values (None: the rubric is unknown); a
    value may also be None (not given).
    """
    if scales is None:
        return ["no such rubric"]
    problems = []
    for criterion, value in values.items():
        if criterion not in scales:
            problems.append(f"criterion {criterion!r} is not in the rubric")
        elif value is not None and (isinstance(value, bool) or value not in scales[criterion]):
            problems.append(f"{criterion}: value must be one of {', '.join(map(str, scales[criterion]))}")
    return problems


@functools.lru_cache(maxsize=32)
def _rubric_scales(rubric_id: str) -> dict[str, tuple[int, ...]] | None:
    loaded = load_rubrics().get(rubric_id)
    if loaded is None:
        return None
    return {c.id: tuple(c.scale.values) for c in loaded.rubric.criteria}


def _override_reason(
    criterion: str, value: int | None, suggested: dict[str, int | None] | None, reasons: dict[str, str] | None
) -> str | None:
    """The reviewer's reason, one line of at most 200 characters, when the value overrides the suggestion."""
    reason = " ".join(((reasons or {}).get(criterion) or "").split())[:200]
    suggestion = (suggested or {}).get(criterion)
    if not reason or suggestion is None or suggestion == value:
        return None
    return reason


def _audit(
    con: duckdb.DuckDBPyConnection, user: User, action: str, call_id: str | None, detail: str | None = None
) -> None:
    record(con, user.username, action, "call", call_id, detail)


_SUGGESTED_SQL = """
WITH latest AS (SELECT call_id, transcript_id AS tid FROM latest_transcripts)
SELECT s.call_id, s.rubric_id, s.criterion_id, arg_max_null(s.value, s.created_at) AS value
FROM suggestions s JOIN latest l ON l.tid = s.transcript_id
GROUP BY s.call_id, s.rubric_id, s.criterion_id
"""

_REVIEW_FIGURES_SQL = """
WITH latest AS (SELECT call_id, transcript_id AS tid FROM latest_transcripts),
low AS (SELECT transcript_id, avg(CASE WHEN probability < 0.5 THEN 1.0 ELSE 0.0 END) AS low_share
        FROM words GROUP BY transcript_id),
-- Criteria that abstained in the newest scoring of a transcript (the one the call page shows): an
-- abstention under an earlier rubric version that now has a value is not counted.
newest_scoring AS (
    SELECT transcript_id, max(created_at) AS scored_at FROM suggestions
    WHERE transcript_id IN (SELECT transcript_id FROM suggestions WHERE abstained)
    GROUP BY transcript_id
),
abstentions AS (
    SELECT s.transcript_id, count(DISTINCT s.criterion_id) AS abstained
    FROM suggestions s JOIN newest_scoring n ON n.transcript_id = s.transcript_id AND s.created_at = n.scored_at
    WHERE s.abstained GROUP BY s.transcript_id
),
current_reviews AS (
    SELECT call_id, count(*) FILTER (WHERE kind = 'peer') AS peer_reviews,
           count(*) FILTER (WHERE kind = 'self') AS self_reviews
    FROM reviews r WHERE NOT EXISTS (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id)
    GROUP BY call_id
)
SELECT c.call_id, coalesce(r.peer_reviews, 0) AS peer_reviews, coalesce(r.self_reviews, 0) AS self_reviews,
       w.low_share, q.quality, a.abstained
FROM calls c
LEFT JOIN current_reviews r USING (call_id)
LEFT JOIN latest l USING (call_id)
LEFT JOIN low w ON w.transcript_id = l.tid
LEFT JOIN transcript_quality q ON q.transcript_id = l.tid
LEFT JOIN abstentions a ON a.transcript_id = l.tid
"""


# Per corrected segment of one transcript: whether the newest mark on its current (newest) text
# correction says free of identifiers.
_IDENTIFIER_MARKS = """
WITH current AS (
    SELECT segment_index, max(correction_id) AS correction_id FROM segment_corrections
    WHERE transcript_id = ? AND text IS NOT NULL GROUP BY segment_index
)
SELECT c.segment_index,
       coalesce((SELECT arg_max(m.free_of_identifiers, m.mark_id) FROM segment_identifier_marks m
                 WHERE m.correction_id = c.correction_id), false)
FROM current c ORDER BY c.segment_index
"""


def _insert_marks(
    con: duckdb.DuckDBPyConnection, transcript_id: str, marks: dict[int, bool], by: str
) -> None:
    """A mark on each segment's current text correction (call inside the caller's transaction)."""
    con.executemany(
        "INSERT INTO segment_identifier_marks (transcript_id, segment_index, correction_id, free_of_identifiers,"
        " marked_by) SELECT ?, ?, max(correction_id), ?, ? FROM segment_corrections"
        " WHERE transcript_id = ? AND segment_index = ? AND text IS NOT NULL",
        [(transcript_id, i, free, by, transcript_id, i) for i, free in marks.items()],
    )


def _marks_detail(marks: dict[int, bool]) -> str:
    return ", ".join(
        f"segment {i}: {'free of identifiers' if free else 'not free of identifiers'}"
        for i, free in marks.items()
    )


def _latest_transcript_id(con: duckdb.DuckDBPyConnection, call_id: str) -> str:
    row = con.execute("SELECT transcript_id FROM latest_transcripts WHERE call_id = ?", [call_id]).fetchone()
    if row is None:
        raise ValueError(f"call {call_id!r} has no transcript to correct")
    return row[0]


class ReviewService:
    """Everything the pages do for one logged-in ``user``, against the database at ``db_path``.

    ``settings`` are the installation's, passed in by the app (never read here); without them the
    documented defaults apply (:func:`lydlogg.settings.default_settings`).
    """

    def __init__(self, db_path: Path, user: User, settings: Settings | None = None) -> None:
        self.db_path = Path(db_path)
        self.user = user
        self.settings = settings if settings is not None else default_settings(self.db_path)
        self._con: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def _db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is not None:
            yield self._con
        else:
            with connect(self.db_path) as con:
                yield con

    @contextmanager
    def batch(self) -> Iterator[ReviewService]:
        """Serve every call inside the block from one connection (a page render: one open, not six).

        Keep the block short: the batch waits for the write lock while it is held. A batch inside
        a batch (a page fragment on the page's first run) uses the outer one's connection.
        """
        if self._con is not None:
            yield self
            return
        with connect(self.db_path) as con:
            self._con = con
            try:
                yield self
            finally:
                self._con = None

    def available(self) -> bool:
        return self.db_path.exists()

    def _check_call(self, con: duckdb.DuckDBPyConnection, action: str, call_id: str) -> None:
        """Refuse ``action`` on ``call_id`` unless the access rules allow it on that call (an
        unknown call is refused like a forbidden one)."""
        check_call(self.user, action, con.execute(OWNER_SQL, [call_id]).fetchone())

    def calls(self) -> pd.DataFrame:
        """The calls this user may see, unrecognised re-contacts first, with their episode figures
        (read from the stored episodes, never relinked here)."""
        check(self.user, "list_calls")
        with self._db() as con:
            df = list_calls(con, scope=call_scope(self.user))
            episodes = read_episodes(con)
            figures = self._review_figures(con)
        df = df.merge(
            episodes[
                ["call_id", "episode_id", "contact_number", "episode_size", "episode_span_hours", "flagged"]
            ],
            on="call_id",
            how="left",
        )
        df = df.merge(figures, on="call_id", how="left")
        df["flagged"] = df["flagged"].fillna(False).astype(bool)
        df["quality_level"] = call_quality_marks(
            df["quality"], df["status"], self.settings.transcript_quality
        )
        df = df.sort_values(
            ["flagged", "started_at"], ascending=[False, True], na_position="last", kind="stable"
        )
        return df.reset_index(drop=True)

    def _review_figures(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """Per call: suggested total (weighted share of the rubric's maximum, %), reviews, low-confidence share."""
        suggested = con.execute(_SUGGESTED_SQL).df()
        criteria = pd.DataFrame(
            [
                (r.rubric.id, c.id, c.weight, c.scale.values[-1])
                for r in load_rubrics().values()
                for c in r.rubric.criteria
            ],
            columns=["rubric_id", "criterion_id", "weight", "max"],
        )
        scored = suggested.dropna(subset=["value"]).merge(criteria, on=["rubric_id", "criterion_id"])
        scored = scored.assign(got=scored["weight"] * scored["value"] / scored["max"])
        totals = scored.groupby("call_id").agg(got=("got", "sum"), weight=("weight", "sum"))
        totals["suggested_total"] = (100 * totals["got"] / totals["weight"]).round(0)
        figures = con.execute(_REVIEW_FIGURES_SQL).df()
        totals = (
            totals.reset_index()
        )  # call_id as a column: merging on an index level is ambiguous when empty
        return figures.merge(totals[["call_id", "suggested_total"]], on="call_id", how="outer")

    def episode(self, call_id: str) -> pd.DataFrame:
        """Every contact in the episode of ``call_id``, in time order (leaders and supervisors)."""
        check(self.user, "view_episodes")
        with self._db() as con:
            self._check_call(con, "view_episodes", call_id)
            episodes = read_episodes(con, episode_of=call_id)
            # contacts of the episode taken by units this user does not see are left out
            episodes = episodes[episodes["call_id"].isin(self._visible(con, list(episodes["call_id"])))]
            _audit(con, self.user, "view_episode", call_id)
        return episodes.sort_values("contact_number").reset_index(drop=True)

    def _visible(self, con: duckdb.DuckDBPyConnection, call_ids: list[str]) -> set[str]:
        """The calls among ``call_ids`` that this user may see (:func:`lydlogg.access.call_scope`)."""
        return visible_calls(con, call_ids, call_scope(self.user))

    def call(self, call_id: str) -> CallInfo:
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            row = list_calls(con, call_id).iloc[0]
            _audit(con, self.user, "view_call", call_id)
        duration = None if pd.isna(row["duration_s"]) else float(row["duration_s"])
        return CallInfo(call_id, row["started_at"], row["service"], row["operator_id"], row["urgency"], duration,
                        row["status"])  # fmt: skip

    def transcript(self, call_id: str) -> Transcript:
        """The call's newest transcript; every read is audited (the call page, calibration, feedback)."""
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            transcript = load_transcript(con, call_id)
            _audit(con, self.user, "view_transcript", call_id)
        return transcript

    def record_download(self, what: str, object_id: str | None = None) -> None:
        """Audit a file the user took away (episode summary, handout, figures, report).

        Pages pass it as the download button's ``on_click``, so the row is written when the
        button is pressed; ``what`` names the file kind and format, never its content.
        """
        with self._db() as con:
            record(con, self.user.username, "download", "file", object_id, what)

    def audio_path(self, call_id: str) -> Path | None:
        with self._db() as con:
            self._check_call(con, "play_audio", call_id)
            row = con.execute(
                "SELECT a.path FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256 WHERE c.call_id = ?",
                [call_id],
            ).fetchone()
            if row:
                _audit(con, self.user, "play_audio", call_id)
        return Path(row[0]) if row else None

    def search(self, query):  # noqa: ANN001, ANN201 - review.search.SearchQuery -> DataFrame
        """Segments of every call this user may see that match ``query`` (audited)."""
        with self._db() as con:
            return search_calls(
                con, self.user, query, who=self.user.username, marks=self.settings.transcript_quality
            )

    def conversation_measures(self, call_id: str):  # noqa: ANN201 - ConversationMeasures | None
        """Talk time, silence, talk-over, ... of the call's newest transcript (None without one)."""
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            return call_measures(con, [call_id]).get(call_id)

    def playable_audio_path(self, call_id: str, cache_dir: Path) -> Path | bytes | None:
        """What the browser plays: the recording, or its PCM WAV copy (cached by sha256) when the
        browser cannot play the original's codec; with the database encrypted that copy is WAV bytes
        made in memory, never a file. Access is checked and the playing audited."""
        with self._db() as con:
            self._check_call(con, "play_audio", call_id)
            row = con.execute(
                "SELECT a.path, a.sha256 FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256"
                " WHERE c.call_id = ?",
                [call_id],
            ).fetchone()
            if row:
                _audit(con, self.user, "play_audio", call_id)
        if not row or not Path(row[0]).is_file():
            return None
        return playable_copy(Path(row[0]), cache_dir, row[1], in_memory=self.settings.encryption.enabled)

    def suggestions(self, call_id: str) -> tuple[str | None, list[Suggestion]]:
        """The newest suggestions for the call's newest transcript: (rubric id, suggestions)."""
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            rows = con.execute(
                """
                SELECT s.rubric_id, s.criterion_id, s.value, s.confidence, s.evidence_json, s.rationale,
                       s.abstained
                FROM suggestions s
                WHERE s.transcript_id = (SELECT transcript_id FROM latest_transcripts WHERE call_id = ?)
                  AND s.created_at = (SELECT max(created_at) FROM suggestions s2
                                      WHERE s2.transcript_id = s.transcript_id)
                """,
                [call_id],
            ).fetchall()
        if not rows:
            return None, []
        return rows[0][0], [
            Suggestion(r[1], r[2], r[3], tuple(json.loads(r[4])), r[5], bool(r[6])) for r in rows
        ]

    def corrected_segments(self, call_id: str) -> set[int]:
        """Indexes of the newest transcript's segments whose text a reviewer has corrected."""
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            rows = con.execute(
                "SELECT segment_index FROM segments_current WHERE text_corrected AND transcript_id = "
                "(SELECT transcript_id FROM latest_transcripts WHERE call_id = ?)",
                [call_id],
            ).fetchall()
        return {r[0] for r in rows}

    def guidance(self, rubric_id: str) -> dict[str, str]:
        """Interpretations agreed in calibration rounds, per criterion (shown with the rubric)."""
        check(self.user, "list_calls")
        with self._db() as con:
            return guidance(con, rubric_id)

    def save_review(
        self,
        call_id: str,
        *,
        kind: str,
        rubric_id: str,
        rubric_version: int,
        rubric_sha256: str,
        values: dict[str, int | None],
        suggested: dict[str, int | None] | None = None,
        overall_comment: str | None = None,
        comments: list[tuple[int | None, float | None, str]] | None = None,
        reasons: dict[str, str] | None = None,
    ) -> str:
        """Store a human verdict; a second save by the same reviewer keeps the first as history.

        ``reasons`` holds, per criterion, the reviewer's one-line reason for overriding the
        suggestion; it is kept only where the saved value differs from the suggestion.
        """
        action = {"peer": "peer_review", "self": "self_review"}.get(kind)
        if action is None:
            raise ValueError(f"kind {kind!r} is not 'peer' or 'self'")
        if problems := review_value_problems(_rubric_scales(rubric_id), values):
            raise ValueError(f"review of rubric {rubric_id!r} refused: {'; '.join(problems)}")
        review_id = uuid.uuid4().hex
        with self._db() as con:
            self._check_call(con, action, call_id)
            transcript = con.execute(
                "SELECT transcript_id FROM latest_transcripts WHERE call_id = ?",
                [call_id],
            ).fetchone()
            previous = con.execute(
                "SELECT review_id FROM reviews WHERE call_id = ? AND reviewer = ? AND kind = ?"
                " AND review_id NOT IN (SELECT replaces FROM reviews WHERE replaces IS NOT NULL)",
                [call_id, self.user.username, kind],
            ).fetchone()
            with transaction(con):
                con.execute(
                    "INSERT INTO reviews (review_id, call_id, transcript_id, rubric_id, rubric_version, rubric_sha256,"
                    " reviewer, kind, overall_comment, replaces) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [review_id, call_id, transcript[0] if transcript else None, rubric_id, rubric_version,
                     rubric_sha256, self.user.username, kind, overall_comment, previous[0] if previous else None],
                )  # fmt: skip
                con.executemany(
                    "INSERT INTO review_scores (review_id, criterion_id, value, suggested_value, override_reason)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(review_id, c, v, (suggested or {}).get(c), _override_reason(c, v, suggested, reasons))
                     for c, v in values.items()],
                )  # fmt: skip
                if comments:
                    con.executemany(
                        "INSERT INTO review_comments (review_id, comment_index, segment_index, at_s, text)"
                        " VALUES (?, ?, ?, ?, ?)",
                        [(review_id, i, seg, at, text) for i, (seg, at, text) in enumerate(comments)],
                    )
                _audit(con, self.user, "save_review", call_id, f"{kind} {review_id}")
        return review_id

    def reviews(self, call_id: str) -> list[Review]:
        """Current (not superseded) reviews of a call that this user may see.

        An operator or doctor sees others' reviews of their own call only after saving a
        self-review of it, so their own judgement comes first.
        """
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            heads = con.execute(
                "SELECT review_id, call_id, reviewer, kind, rubric_id, rubric_version, created_at, overall_comment"
                " FROM reviews r WHERE call_id = ? AND NOT EXISTS"
                " (SELECT 1 FROM reviews n WHERE n.replaces = r.review_id) ORDER BY created_at",
                [call_id],
            ).fetchall()
            scores = con.execute(
                "SELECT s.review_id, s.criterion_id, s.value FROM review_scores s JOIN reviews r USING (review_id)"
                " WHERE r.call_id = ?",
                [call_id],
            ).fetchall()
            notes = con.execute(
                "SELECT c.review_id, c.segment_index, c.at_s, c.text FROM review_comments c JOIN reviews r"
                " USING (review_id) WHERE r.call_id = ? ORDER BY c.review_id, c.comment_index",
                [call_id],
            ).fetchall()
            hidden = hidden_review_ids(con, self.user)  # an open calibration round's blind rule
        values: dict[str, dict[str, int | None]] = {}
        for rid, crit, value in scores:
            values.setdefault(rid, {})[crit] = value
        comments: dict[str, list] = {}
        for rid, seg, at, text in notes:
            comments.setdefault(rid, []).append((seg, at, text))
        found = [
            Review(*h, values=values.get(h[0], {}), comments=tuple(comments.get(h[0], [])))
            for h in heads
            if h[0] not in hidden
        ]
        if self.user.own_calls_only and not any(
            r.kind == "self" and r.reviewer == self.user.username for r in found
        ):
            found = [r for r in found if r.reviewer == self.user.username]
        return found

    def correct_segment(
        self,
        call_id: str,
        segment_index: int,
        *,
        text: str | None = None,
        role: str | None = None,
        free_of_identifiers: bool | None = None,
    ) -> None:
        """Correct a segment's text and/or role; the original stays, the call is scored again.

        ``free_of_identifiers`` marks the new text as holding no identifiers (True) or as holding
        some (False), as :meth:`mark_free_of_identifiers` does afterwards; None leaves it unmarked.
        """
        if free_of_identifiers is not None and text is None:
            raise ValueError("only a corrected text can be marked free of identifiers: give the text too")
        marks = {} if free_of_identifiers is None else {segment_index: free_of_identifiers}
        self._correct(call_id, [(segment_index, text, role)], marks)

    def identifier_marks(self, call_id: str) -> dict[int, bool]:
        """For each segment of the newest transcript whose text a reviewer corrected: whether its
        current corrected text is marked free of identifiers (unmarked counts as not free)."""
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            rows = con.execute(_IDENTIFIER_MARKS, [_latest_transcript_id(con, call_id)]).fetchall()
        return {index: bool(free) for index, free in rows}

    def mark_free_of_identifiers(self, call_id: str, segment_index: int, free: bool = True) -> None:
        """Mark a corrected segment's current text free of identifiers (or take the mark back);
        audited. ``lydlogg export asr-dataset`` then exports its text and audio as they are."""
        with self._db() as con:
            self._check_call(con, "correct_transcript", call_id)
            transcript_id = _latest_transcript_id(con, call_id)
            row = con.execute(
                "SELECT max(correction_id) FROM segment_corrections"
                " WHERE transcript_id = ? AND segment_index = ? AND text IS NOT NULL",
                [transcript_id, segment_index],
            ).fetchone()
            if row[0] is None:
                raise ValueError(
                    f"segment {segment_index} has no corrected text: only a corrected segment can be marked"
                    " free of identifiers (correct its text first)"
                )
            with transaction(con):
                _insert_marks(con, transcript_id, {segment_index: free}, self.user.username)
                _audit(con, self.user, "mark_identifiers", call_id, _marks_detail({segment_index: free}))

    def correct_segments(self, call_id: str, changes: list[tuple[int, str | None, str | None]]) -> None:
        """Correct several segments at once: (segment index, text or None, role or None) each."""
        self._correct(call_id, changes)

    def swap_roles(self, call_id: str) -> int:
        """Swap staff and caller roles (a wrong channel or speaker mapping), without re-running ASR.

        With two diarized speakers their roles are swapped in the speakers table and on every
        segment; otherwise (imported transcripts) each segment's staff and caller roles swap.
        """
        with self._db() as con:
            self._check_call(con, "correct_transcript", call_id)
            speakers = con.execute(
                "SELECT p.speaker FROM transcript_speakers p WHERE p.transcript_id ="
                " (SELECT transcript_id FROM latest_transcripts WHERE call_id = ?) ORDER BY p.speaker",
                [call_id],
            ).fetchall()
        if len(speakers) == 2:
            return self.swap_speaker_roles(call_id, speakers[0][0], speakers[1][0])
        swap = {"operator": "caller", "doctor": "caller", "caller": None}
        transcript = self.transcript(call_id)
        staff_role = next((s.role for s in transcript.segments if s.role in STAFF_ROLES), "operator")
        swap["caller"] = staff_role
        changes = [(i, None, swap[s.role]) for i, s in enumerate(transcript.segments) if s.role in swap]
        if changes:
            self._correct(call_id, changes)
        return len(changes)

    def swap_speaker_roles(self, call_id: str, a: str, b: str) -> int:
        """Give diarized speaker ``a`` the role of ``b`` and the reverse; audited; the call is scored again."""
        with self._db() as con:
            self._check_call(con, "correct_transcript", call_id)
            transcript_id = _latest_transcript_id(con, call_id)
            with transaction(con):
                changed = swap_in_store(con, transcript_id, a, b, corrected_by=self.user.username)
                con.execute("DELETE FROM suggestions WHERE transcript_id = ?", [transcript_id])
                _audit(con, self.user, "correct_transcript", call_id, f"roles swapped: {a} <-> {b}")
        score_one_call(self._scoring_settings(), call_id)
        return changed

    def _scoring_settings(self) -> Settings:
        """The settings scoring runs with: the installation's, on this service's database."""
        if Path(self.settings.db_path) == self.db_path:
            return self.settings
        return self.settings.model_copy(update={"db_path": self.db_path})

    def _correct(
        self,
        call_id: str,
        changes: list[tuple[int, str | None, str | None]],
        marks: dict[int, bool] | None = None,
    ) -> None:
        for _index, text, role in changes:
            if role is not None and role not in SPEAKER_ROLES:
                raise ValueError(f"role {role!r} is not one of {', '.join(SPEAKER_ROLES)}")
            if text is not None and not text.strip():
                raise ValueError("a corrected text cannot be empty")
        with self._db() as con:
            self._check_call(con, "correct_transcript", call_id)
            transcript_id = _latest_transcript_id(con, call_id)
            count = con.execute(
                "SELECT count(*) FROM segments WHERE transcript_id = ?", [transcript_id]
            ).fetchone()[0]
            if any(not 0 <= index < count for index, _t, _r in changes):
                raise ValueError(f"segment index out of range (0-{count - 1})")
            with transaction(con):
                con.executemany(
                    "INSERT INTO segment_corrections (transcript_id, segment_index, text, role, corrected_by)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [(transcript_id, index, text, role, self.user.username) for index, text, role in changes],
                )
                if marks:
                    _insert_marks(con, transcript_id, marks, self.user.username)
                con.execute(
                    "DELETE FROM suggestions WHERE transcript_id = ?", [transcript_id]
                )  # derived: scored again below
                _audit(con, self.user, "correct_transcript", call_id,
                       ", ".join(f"segment {i}: {'text' if t else ''}{' role=' + r if r else ''}" for i, t, r in changes)
                       + (f"; {_marks_detail(marks)}" if marks else ""))  # fmt: skip
        score_one_call(self._scoring_settings(), call_id)

    def create_sampling_plan(self, plan: SamplingPlan, reviewers: list[str]) -> list[tuple[str, str]]:
        """Draw the plan's calls and create a review task for each, assigned in turn.

        Only calls of a service some rubric assesses are drawn (no task without a form).
        """
        from rubrics import rubric_services

        check(self.user, "plan_sampling")
        with self._db() as con:
            known = {r[0] for r in con.execute(
                "SELECT username FROM users WHERE active AND role IN ('leder', 'veileder')").fetchall()}  # fmt: skip
            unknown = [r for r in reviewers if r not in known]
            if unknown:
                raise ValueError(f"not active leaders or supervisors: {', '.join(unknown)}")
            calls = list_calls(con, scope=call_scope(self.user))
            drawn = draw(calls, plan, services=rubric_services())
            tasks = assign(  # a task only for a reviewer who may open the call (its unit)
                drawn,
                reviewers,
                call_units=dict(zip(calls["call_id"], calls["unit"], strict=True)),
                reviewer_units={r: user_units(con, r) for r in reviewers},
            )
            done = {
                r[0]
                for r in con.execute(
                    "SELECT call_id FROM review_tasks WHERE plan_id = ?", [plan.plan_id]
                ).fetchall()
            }
            new = [(call_id, reviewer) for call_id, reviewer in tasks if call_id not in done]
            with transaction(con):
                if new:
                    plan_json = json.dumps(
                        {"month": plan.month, "per_operator": plan.per_operator, "seed": plan.seed}
                    )
                    con.executemany(
                        "INSERT INTO review_tasks (task_id, plan_id, call_id, assigned_to, created_by, plan)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (uuid.uuid4().hex, plan.plan_id, c, r, self.user.username, plan_json)
                            for c, r in new
                        ],
                    )
                record(con, self.user.username, "sampling_plan", "plan", plan.plan_id, f"{len(new)} tasks")
        return tasks

    def tasks(self) -> pd.DataFrame:
        """The review tasks assigned to this user, with whether they have reviewed the call yet."""
        with self._db() as con:
            return con.execute(
                "SELECT t.call_id, t.plan_id, EXISTS (SELECT 1 FROM reviews r WHERE r.call_id = t.call_id"
                " AND r.reviewer = t.assigned_to) AS done FROM review_tasks t WHERE t.assigned_to = ?"
                " ORDER BY t.plan_id, t.call_id",
                [self.user.username],
            ).df()

    def history(self, call_id: str) -> list[tuple[str, str, str, object]]:
        """Every saved version of every review of the call: (review_id, reviewer, replaces, created_at)."""
        with self._db() as con:
            self._check_call(con, "view_call", call_id)
            return con.execute(
                "SELECT review_id, reviewer, replaces, created_at FROM reviews WHERE call_id = ? ORDER BY created_at",
                [call_id],
            ).fetchall()
