"""Retention: removing recordings and transcripts once they are no longer needed.

Four rules, each off when its number of days is 0:

* ``delete_audio_after_days``: a call older than this loses its recording. The ``audio_files``
  row goes, the call keeps its metadata (and its transcript and reviews), and the file is deleted
  from disk when it lies under ``managed_audio_dir``; a file elsewhere is someone else's original
  and is only forgotten.
* ``drop_unreviewed_transcripts_after_days``: a call older than this that nobody has reviewed
  loses its transcript text: segments, words, corrections, rubric suggestions and the stored
  recogniser output behind them. The transcript row stays as provenance (model, duration), so
  the batch does not transcribe the call again.
* ``delete_cases_after_days``: a case of the case library published longer ago than this (an
  imported draft: imported longer ago) is deleted with its criterion scores and its audio file
  in the cases folder. Anonymised material still goes: a disguised voice and the story of a
  call can still point to someone in a small community.
* ``delete_drafts_after_days``: a half-filled review (:mod:`review.drafts`) nobody has touched for
  this long is deleted. A draft is not a review: it also goes, whatever its age, with the
  transcript text it was made on when the rule above drops that.

Reviews and their comments are kept. :func:`apply_retention` first makes a plan
(ids and counts only, never text), then carries it out in one transaction, deletes the files
after the commit, and writes every removed object to ``deletions`` and one row to ``audit``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from lydlogg.access import check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.db import connect, transaction
from lydlogg.db.fts import build_index

__all__ = ["RetentionPlan", "RetentionSettings", "apply_retention", "plan_retention"]

log = logging.getLogger(__name__)


class RetentionSettings(BaseModel):
    """How long recordings and transcripts are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delete_audio_after_days: int = Field(
        90,
        ge=0,
        description=(
            "Days after the call (its start time, else when it was ingested) that its recording is "
            "deleted; 0 keeps recordings. The call's metadata, transcript and reviews stay."
        ),
    )
    drop_unreviewed_transcripts_after_days: int = Field(
        180,
        ge=0,
        description=(
            "Days after the call that the transcript text (segments, words, corrections, suggestions) "
            "of a call nobody has reviewed is deleted; 0 keeps them. Reviewed calls keep theirs."
        ),
    )
    managed_audio_dir: Path = Field(
        Path("data/audio"),
        description=(
            "Recordings under this folder are deleted from disk when their time is up; recordings "
            "elsewhere are originals owned by another system and are only removed from the database."
        ),
    )
    delete_cases_after_days: int = Field(
        730,
        ge=0,
        description=(
            "Days after a case was published in the case library (an imported draft: imported) that it "
            "is deleted with its audio; 0 keeps cases."
        ),
    )
    delete_drafts_after_days: int = Field(
        30,
        ge=0,
        description=(
            "Days after a reviewer last changed a half-filled review (a draft on the call page) that it is "
            "deleted; 0 keeps drafts. Drafts of calls whose transcript text is dropped go with it."
        ),
    )
    delete_files: bool = Field(
        True,
        description="Delete expired recordings under `managed_audio_dir` from disk (false: only forget them).",
    )


@dataclass(frozen=True)
class RetentionPlan:
    """What a retention run removes (or, for a dry run, would remove): ids and counts, no text."""

    run_id: str
    now: datetime
    dry_run: bool
    audio_cutoff: datetime | None
    transcript_cutoff: datetime | None
    audio_calls: tuple[str, ...]  # calls that lose their recording
    audio_sha256: tuple[str, ...]
    files_to_delete: tuple[Path, ...]  # under managed_audio_dir
    files_left: tuple[Path, ...]  # outside it: forgotten, not deleted
    transcript_calls: tuple[str, ...]  # calls that lose their transcript text
    transcript_ids: tuple[str, ...]
    segments: int
    words: int
    suggestions: int
    corrections: int
    case_cutoff: datetime | None = None
    cases: tuple[str, ...] = ()  # case ids that go, with their scores and audio
    case_audio: tuple[str, ...] = ()  # their audio files' names in the cases folder
    draft_cutoff: datetime | None = None
    drafts: tuple[tuple[str, str], ...] = ()  # (username, call_id) of review drafts that go
    files_deleted: tuple[Path, ...] = ()
    files_missing: tuple[Path, ...] = ()  # already gone from disk
    files_failed: tuple[Path, ...] = ()  # could not be deleted (permissions): delete them by hand

    @property
    def empty(self) -> bool:
        return not self.audio_sha256 and not self.transcript_ids and not self.cases and not self.drafts

    def summary(self) -> str:
        """One line without ids, for the audit trail and the log."""
        return (
            f"{len(self.audio_sha256)} recordings ({len(self.files_to_delete)} files to delete, "
            f"{len(self.files_left)} outside the managed folder), {len(self.transcript_ids)} transcripts "
            f"({self.segments} segments, {self.words} words, {self.suggestions} suggestions, "
            f"{self.corrections} corrections), {len(self.cases)} cases ({len(self.case_audio)} with audio), "
            f"{len(self.drafts)} review drafts"
        )


_AUDIO_SQL = """
SELECT c.call_id, a.sha256, a.path
FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256
WHERE coalesce(c.started_at, a.ingested_at) < ?
ORDER BY c.call_id
"""

_TRANSCRIPT_SQL = """
SELECT t.call_id, t.transcript_id
FROM transcripts t JOIN calls c USING (call_id)
WHERE coalesce(c.started_at, t.created_at) < ?
  AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.call_id = t.call_id)
  AND (EXISTS (SELECT 1 FROM segments s WHERE s.transcript_id = t.transcript_id)
       OR EXISTS (SELECT 1 FROM suggestions g WHERE g.transcript_id = t.transcript_id))
ORDER BY t.call_id, t.transcript_id
"""

_CASE_SQL = """
SELECT case_id, audio_file FROM cases WHERE published_at < ? ORDER BY case_id
"""

# Drafts untouched since the cutoff (NULL: no age rule), or made on a call whose text goes.
_DRAFT_SQL = """
SELECT username, call_id FROM review_drafts
WHERE (CAST(? AS TIMESTAMPTZ) IS NOT NULL AND updated_at < ?) OR call_id IN (SELECT unnest(CAST(? AS VARCHAR[])))
ORDER BY username, call_id
"""

# Tables holding transcript text or what was derived from it, keyed on transcript_id.
_TRANSCRIPT_TABLES = ("words", "segments", "segment_corrections", "segment_identifier_marks", "suggestions")


def _within(path: Path, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except OSError:
        return False


def _count(con: duckdb.DuckDBPyConnection, table: str, ids: list[str]) -> int:
    if not ids:
        return 0
    # `table` is one of _TRANSCRIPT_TABLES, never user input
    return con.execute(
        f"SELECT count(*) FROM {table} WHERE transcript_id IN (SELECT unnest(?))",  # noqa: S608
        [ids],
    ).fetchone()[0]


def plan_retention(
    con: duckdb.DuckDBPyConnection, rules: RetentionSettings, now: datetime, *, dry_run: bool = True
) -> RetentionPlan:
    """What the rules remove at ``now``, read from an open connection; changes nothing."""
    audio_cutoff = transcript_cutoff = None
    audio: list[tuple[str, str, str]] = []
    transcripts: list[tuple[str, str]] = []
    if rules.delete_audio_after_days:
        audio_cutoff = now - timedelta(days=rules.delete_audio_after_days)
        audio = con.execute(_AUDIO_SQL, [audio_cutoff]).fetchall()
    if rules.drop_unreviewed_transcripts_after_days:
        transcript_cutoff = now - timedelta(days=rules.drop_unreviewed_transcripts_after_days)
        transcripts = con.execute(_TRANSCRIPT_SQL, [transcript_cutoff]).fetchall()
    paths = [Path(p) for _c, _s, p in audio]
    ours = [p for p in paths if rules.delete_files and _within(p, rules.managed_audio_dir)]
    tids = [t for _c, t in transcripts]
    counts = {table: _count(con, table, tids) for table in _TRANSCRIPT_TABLES}
    case_cutoff = None
    cases: list[tuple[str, str | None]] = []
    if rules.delete_cases_after_days:
        case_cutoff = now - timedelta(days=rules.delete_cases_after_days)
        cases = con.execute(_CASE_SQL, [case_cutoff]).fetchall()
    draft_cutoff = None
    if rules.delete_drafts_after_days:
        draft_cutoff = now - timedelta(days=rules.delete_drafts_after_days)
    dropped_calls = list(dict.fromkeys(c for c, _t in transcripts))
    drafts = con.execute(_DRAFT_SQL, [draft_cutoff, draft_cutoff, dropped_calls]).fetchall()
    return RetentionPlan(
        run_id=uuid.uuid4().hex,
        now=now,
        dry_run=dry_run,
        audio_cutoff=audio_cutoff,
        transcript_cutoff=transcript_cutoff,
        audio_calls=tuple(c for c, _s, _p in audio),
        audio_sha256=tuple(s for _c, s, _p in audio),
        files_to_delete=tuple(ours),
        files_left=tuple(p for p in paths if p not in ours),
        transcript_calls=tuple(dict.fromkeys(c for c, _t in transcripts)),
        transcript_ids=tuple(tids),
        segments=counts["segments"],
        words=counts["words"],
        suggestions=counts["suggestions"],
        corrections=counts["segment_corrections"],
        case_cutoff=case_cutoff,
        cases=tuple(c for c, _a in cases),
        case_audio=tuple(a for _c, a in cases if a),
        draft_cutoff=draft_cutoff,
        drafts=tuple((u, c) for u, c in drafts),
    )


# The recogniser's stored output behind the dropped transcripts (kept so that diarization can run
# again without transcribing): its text goes with theirs.
_ASR_OF_TRANSCRIPTS = """
SELECT r.asr_id FROM asr_results r JOIN transcripts t
  ON t.audio_sha256 = r.audio_sha256 AND t.model_id = r.model_id AND t.options_hash = r.options_hash
WHERE t.transcript_id IN (SELECT unnest(?))
"""


def _drop_asr_output(con: duckdb.DuckDBPyConnection, tids: list[str]) -> None:
    asr_ids = [r[0] for r in con.execute(_ASR_OF_TRANSCRIPTS, [tids]).fetchall()]
    if asr_ids:
        con.execute("DELETE FROM asr_segments WHERE asr_id IN (SELECT unnest(?))", [asr_ids])
        con.execute("DELETE FROM asr_results WHERE asr_id IN (SELECT unnest(?))", [asr_ids])


def _carry_out(con: duckdb.DuckDBPyConnection, plan: RetentionPlan, user: User) -> None:
    audio = list(zip(plan.audio_calls, plan.audio_sha256, strict=True))
    tids = list(plan.transcript_ids)
    owner = dict(con.execute("SELECT transcript_id, call_id FROM transcripts WHERE transcript_id IN (SELECT unnest(?))",
                             [tids]).fetchall()) if tids else {}  # fmt: skip
    with transaction(con):
        if audio:
            shas = [s for _c, s in audio]
            con.execute(
                "UPDATE calls SET audio_sha256 = NULL WHERE audio_sha256 IN (SELECT unnest(?))", [shas]
            )
            con.execute("DELETE FROM audio_files WHERE sha256 IN (SELECT unnest(?))", [shas])
            con.executemany(
                "INSERT INTO deletions (run_id, username, rule, object_type, object_id, call_id)"
                " VALUES (?, ?, 'audio', 'audio_file', ?, ?)",
                [(plan.run_id, user.username, sha, call_id) for call_id, sha in audio],
            )
        if tids:
            for table in _TRANSCRIPT_TABLES:  # constants, see above
                con.execute(f"DELETE FROM {table} WHERE transcript_id IN (SELECT unnest(?))", [tids])  # noqa: S608
            _drop_asr_output(con, tids)
            con.executemany(
                "INSERT INTO deletions (run_id, username, rule, object_type, object_id, call_id)"
                " VALUES (?, ?, 'transcript', 'transcript', ?, ?)",
                [(plan.run_id, user.username, tid, owner.get(tid)) for tid in tids],
            )
        if plan.cases:
            ids = list(plan.cases)
            sources = dict(con.execute("SELECT case_id, source_call_id FROM cases WHERE case_id IN (SELECT unnest(?))",
                                       [ids]).fetchall())  # fmt: skip
            con.execute("DELETE FROM case_scores WHERE case_id IN (SELECT unnest(?))", [ids])
            con.execute("DELETE FROM cases WHERE case_id IN (SELECT unnest(?))", [ids])
            build_index(con, "cases", "case_id", "search_text")  # the index is a snapshot: rebuild it
            con.executemany(
                "INSERT INTO deletions (run_id, username, rule, object_type, object_id, call_id)"
                " VALUES (?, ?, 'case', 'case', ?, ?)",
                [(plan.run_id, user.username, case_id, sources.get(case_id)) for case_id in ids],
            )
        if plan.drafts:
            con.executemany(
                "DELETE FROM review_drafts WHERE username = ? AND call_id = ?", [list(d) for d in plan.drafts]
            )
            con.executemany(
                "INSERT INTO deletions (run_id, username, rule, object_type, object_id, call_id)"
                " VALUES (?, ?, 'draft', 'review_draft', ?, ?)",
                [(plan.run_id, user.username, f"{who}:{call_id}", call_id) for who, call_id in plan.drafts],
            )
        record(con, user.username, "apply_retention", "retention_run", plan.run_id, plan.summary())


def apply_retention(
    db_path: Path,
    rules: RetentionSettings,
    *,
    user: User,
    now: datetime,
    dry_run: bool = False,
    playback_dir: Path | None = None,
    cases_dir: Path | None = None,
) -> RetentionPlan:
    """Plan and (unless ``dry_run``) carry out the retention rules; the plan is returned either way.

    The database changes in one transaction; recordings under ``managed_audio_dir`` are deleted
    from disk only after it has committed, and only those whose rows were removed. The audio of
    deleted cases is deleted from ``cases_dir`` (``cases.cases_dir``: every file there is ours).
    """
    check(user, "manage_retention")
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone (datetime.now(UTC))")
    with connect(db_path) as con:
        plan = plan_retention(con, rules, now, dry_run=dry_run)
        if dry_run:
            record(con, user.username, "plan_retention", "retention_run", plan.run_id, plan.summary())
            return plan
        _carry_out(con, plan, user)
    deleted, missing, failed = [], [], []
    case_files = [Path(cases_dir) / name for name in plan.case_audio] if cases_dir is not None else []
    for path in [*plan.files_to_delete, *case_files]:
        try:
            path.unlink()
            deleted.append(path)
        except FileNotFoundError:
            missing.append(path)
        except OSError as e:
            log.warning("retention run %s: a recording could not be deleted (%s)", plan.run_id, e.strerror)
            failed.append(path)
    if playback_dir is not None:  # browser-safe copies (lydlogg.playback) are always ours to delete
        for sha in plan.audio_sha256:
            (Path(playback_dir) / f"{sha}.wav").unlink(missing_ok=True)
    log.info("retention run %s: %s; %d files deleted", plan.run_id, plan.summary(), len(deleted))
    return replace(
        plan, files_deleted=tuple(deleted), files_missing=tuple(missing), files_failed=tuple(failed)
    )
