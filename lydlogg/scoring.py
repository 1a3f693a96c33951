"""Scoring stored calls against rubrics, and importing written transcripts as calls.

Suggestions are keyed on (transcript, rubric content hash, criterion): editing a rubric makes
``lydlogg score`` score again under the new hash without touching transcription, and scoring is
skipped for what already has suggestions. A rubric whose criteria read the standard worsening
advice (``rubrics/advice``) is keyed on its hash combined with the advice library's, so editing
the library re-scores those rubrics and re-analyses each call's advice (``advice_results``), and
nothing else. Transcripts are read and suggestions written in batches of a few hundred calls, each
on its own connection and in its own transaction, so that ten thousand calls score in well under
a minute and the review app can write between batches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

import lydlogg
from lydlogg.advice import analyse_call, corrected_reasons, library_for, store_results
from lydlogg.calltext import build_call_text
from lydlogg.db import connect, transaction
from lydlogg.search_index import refresh_after_change
from lydlogg.settings import Settings
from lydlogg.vocabulary import SERVICES
from rubrics import LoadedRubric, choose_rubric, load_rubrics, score_call
from rubrics.advice_library import AdviceLibrary, library_in_use
from transcription.formats import TranscriptFormatError, from_json
from transcription.quality import segment_quality
from transcription.types import Segment, Transcript, Word

__all__ = ["ImportReport", "ScoreReport", "import_transcripts", "score_one_call", "score_stored"]

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)


def _doc_hash(doc: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def import_transcripts(
    settings: Settings, docs: Iterable[tuple[str, Mapping[str, Any]]], *, service: str | None = None
) -> ImportReport:
    """Store written transcripts (the JSON exchange shape) as calls without audio.

    ``docs`` yields (source name, parsed JSON). The document's own ``service`` is used unless
    ``service`` is given. Importing the same document twice changes nothing.
    """
    report = ImportReport()
    calls, transcripts, segments = [], [], []
    with connect(settings.db_path) as con:
        known = {
            r[0]
            for r in con.execute("SELECT audio_sha256 FROM transcripts WHERE run_id = 'import'").fetchall()
        }
        taken = {r[0] for r in con.execute("SELECT call_id FROM calls").fetchall()}
        for source, doc in docs:
            try:
                transcript = from_json(doc)
                svc = service or doc.get("service")
                if svc is not None and svc not in SERVICES:
                    raise TranscriptFormatError(f"service {svc!r} is not one of {', '.join(SERVICES)}")
            except TranscriptFormatError as e:
                report.failures.append((source, str(e)))
                continue
            key = "text:" + _doc_hash(doc)
            if key in known:
                report.unchanged.append(transcript.call_id)
                continue
            if transcript.call_id in taken:
                report.failures.append(
                    (source, f"call_id {transcript.call_id!r} is already used by another call")
                )
                continue
            taken.add(transcript.call_id)
            known.add(key)
            tid = uuid.uuid4().hex
            channels = {s.channel for s in transcript.segments if s.channel is not None}
            end = max((s.end for s in transcript.segments), default=0.0)
            calls.append((transcript.call_id, svc, "import", source, settings.metadata.default_unit))
            transcripts.append((tid, transcript.call_id, key, transcript.language, "stereo" if len(channels) > 1 else "mono",
                                max(1, len(channels)), end, sum(s.end - s.start for s in transcript.segments)))  # fmt: skip
            segments += [
                (tid, i, s.channel, s.start, s.end, s.text, s.speaker, s.role, None, None)
                for i, s in enumerate(transcript.segments)
            ]
            report.imported.append(transcript.call_id)
        if not calls:
            return report
        with transaction(con):
            con.executemany(
                "INSERT INTO calls (call_id, service, source, metadata_source, unit) VALUES (?, ?, ?, ?, ?)",
                calls,
            )
            frame = pd.DataFrame(transcripts, columns=["transcript_id", "call_id", "audio_sha256", "language", "layout",
                                                       "channels", "duration_s", "speech_s"])  # fmt: skip
            con.register("new_transcripts", frame)
            con.execute(
                "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,"
                " layout, channels_transcribed, duration_s, speech_s, asr_seconds)"
                " SELECT transcript_id, call_id, audio_sha256, 'import', 'import', '', language, layout, channels,"
                " duration_s, speech_s, 0 FROM new_transcripts"
            )
            con.unregister("new_transcripts")
            seg_frame = pd.DataFrame(segments, columns=["transcript_id", "segment_index", "channel", "start_s", "end_s",
                                                        "text", "speaker", "role", "avg_logprob", "no_speech_prob"])  # fmt: skip
            seg_frame["channel"] = seg_frame["channel"].astype("Int32")
            con.register("new_segments", seg_frame)
            con.execute(
                "INSERT INTO segments (transcript_id, segment_index, channel, start_s, end_s, text, speaker, role, avg_logprob, no_speech_prob)"
                " SELECT transcript_id, segment_index, channel, start_s, end_s, text, speaker, role, avg_logprob, no_speech_prob FROM new_segments"
            )
            con.unregister("new_segments")
        refresh_after_change(con)
    return report


@dataclass
class ScoreReport:
    scored: int = 0
    already: int = 0
    no_rubric: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    rubrics: set[str] = field(default_factory=set)
    advice_analysed: int = 0
    advice_library: str = ""
    writes: int = 0  # batches written, each on its own connection and transaction
    longest_write_s: float = 0.0  # the longest a batch held the database (connect, write, close)


# Scorers whose results depend on the advice library (when their ``advice_library`` param is on).
_ADVICE_SCORERS = ("worsening_advice", "safety_netting")


def scoring_key(loaded: LoadedRubric, library: AdviceLibrary) -> str:
    """The hash suggestions are stored under: the rubric's, combined with the advice library's
    when one of its criteria reads the library."""
    uses = any(
        c.scorer.type in _ADVICE_SCORERS and c.scorer.params.get("advice_library", True)
        for c in loaded.rubric.criteria
    )
    if not uses:
        return loaded.sha256
    return hashlib.sha256(f"{loaded.sha256}+{library.sha256}".encode()).hexdigest()


_LATEST_SQL = """
SELECT t.transcript_id, t.call_id, t.language, c.service
FROM latest_transcripts l JOIN transcripts t USING (transcript_id) JOIN calls c ON c.call_id = l.call_id
ORDER BY t.call_id
"""
# The same for the calls named in the registered ``wanted_calls`` (one call after a correction).
_LATEST_OF_SQL = """
SELECT t.transcript_id, t.call_id, t.language, c.service
FROM latest_transcripts l JOIN wanted_calls w USING (call_id) JOIN transcripts t USING (transcript_id)
JOIN calls c ON c.call_id = l.call_id
ORDER BY t.call_id
"""


def _latest(con: duckdb.DuckDBPyConnection, call_ids: list[str] | None) -> list[tuple]:
    """(transcript id, call id, language, service) of the newest transcript of every call, or of
    ``call_ids`` only."""
    if call_ids is None:
        return con.execute(_LATEST_SQL).fetchall()
    con.register("wanted_calls", pd.DataFrame({"call_id": pd.Series(call_ids, dtype=str)}))
    try:
        return con.execute(_LATEST_OF_SQL).fetchall()
    finally:
        con.unregister("wanted_calls")


def _having(con: duckdb.DuckDBPyConnection, sql: str, transcript_ids: list[str], *params: object) -> set:
    """The rows of ``sql`` (which reads the registered ``wanted``) for ``transcript_ids``."""
    con.register("wanted", pd.DataFrame({"transcript_id": pd.Series(transcript_ids, dtype=str)}))
    try:
        return set(con.execute(sql, list(params)).fetchall())
    finally:
        con.unregister("wanted")


def _load_segments(con: duckdb.DuckDBPyConnection, transcript_ids: list[str]) -> dict[str, list[Segment]]:
    """The current segments with the recogniser's signals (words' probabilities, average
    log-probability, no-speech probability); a reviewer-corrected segment carries none, so it is
    trusted as written."""
    con.register("wanted", pd.DataFrame({"transcript_id": transcript_ids}))
    rows = con.execute(
        "SELECT s.transcript_id, s.segment_index, s.start_s, s.end_s, s.text, s.channel, s.speaker, s.role,"
        " s.avg_logprob, s.no_speech_prob, s.text_corrected FROM segments_current s"
        " JOIN wanted USING (transcript_id) ORDER BY s.transcript_id, s.segment_index"
    ).fetchall()
    words: dict[tuple[str, int], list[Word]] = defaultdict(list)
    for tid, idx, start, end, text, prob in con.execute(
        "SELECT w.transcript_id, w.segment_index, w.start_s, w.end_s, w.text, w.probability FROM words w"
        " JOIN wanted USING (transcript_id) ORDER BY w.transcript_id, w.segment_index, w.word_index"
    ).fetchall():
        words[(tid, idx)].append(Word(start, end, text, prob))
    con.unregister("wanted")
    out: dict[str, list[Segment]] = defaultdict(list)
    for tid, idx, start, end, text, channel, speaker, role, logprob, no_speech, corrected in rows:
        if corrected:
            out[tid].append(
                Segment(start=start, end=end, text=text, channel=channel, speaker=speaker, role=role)
            )
            continue
        out[tid].append(Segment(start=start, end=end, text=text, channel=channel, speaker=speaker, role=role,
                                words=tuple(words.get((tid, idx), ())), avg_logprob=logprob,
                                no_speech_prob=no_speech))  # fmt: skip
    return out


# Calls scored per write: each batch is scored without the database, then written on its own
# connection in one transaction (well under a second), so the review app can save in between.
SCORE_BATCH_CALLS = 1000


def score_stored(
    settings: Settings,
    *,
    rubric_id: str | None = None,
    rubrics_dir: Path | None = None,
    call_ids: Iterable[str] | None = None,
    force: bool = False,
) -> ScoreReport:
    """Suggest scores for every stored call's newest transcript that has none for its rubric,
    analyse its worsening advice against the standard for its contact reason, and estimate each
    segment's recognition quality (every call, with a rubric or without).

    ``call_ids`` narrows every read to those calls' newest transcripts (see :func:`score_one_call`).
    ``force`` scores again what already has suggestions under the current key (replacing them).
    The work is read at once, then scored and written in batches of :data:`SCORE_BATCH_CALLS`
    calls, each written on its own connection in its own transaction, so the database is never
    held for the whole run.
    """
    rubrics = load_rubrics(rubrics_dir) if rubrics_dir else load_rubrics()
    library = library_for(settings.advice)
    if rubric_id is not None and rubric_id not in rubrics:
        raise KeyError(f"no rubric {rubric_id!r}; available: {', '.join(sorted(rubrics))}")
    report = ScoreReport(advice_library=library.key)
    keys = {rid: scoring_key(loaded, library) for rid, loaded in rubrics.items()}
    only = None if call_ids is None else list(dict.fromkeys(call_ids))
    with connect(settings.db_path) as con:
        latest = _latest(con, only)
        tids = [row[0] for row in latest]
        done = (
            set()
            if force
            else _having(
                con,
                "SELECT DISTINCT transcript_id, rubric_sha256 FROM suggestions JOIN wanted USING (transcript_id)",
                tids,
            )
        )
        advised = {r[0] for r in _having(
            con, "SELECT transcript_id FROM advice_results JOIN wanted USING (transcript_id) WHERE library_sha256 = ?",
            tids, library.sha256,
        )}  # fmt: skip
        rated = {r[0] for r in _having(
            con, "SELECT DISTINCT transcript_id FROM segment_quality JOIN wanted USING (transcript_id)", tids
        )}  # fmt: skip
        corrections = corrected_reasons(con, only)
        todo: list[_ScoreTask] = []
        unrated: list[str] = []
        for tid, call_id, language, service in latest:
            if tid not in rated:
                unrated.append(tid)
            loaded = rubrics[rubric_id] if rubric_id else choose_rubric(rubrics, service)
            if loaded is None:
                report.no_rubric.append(call_id)
            elif (tid, keys[loaded.rubric.id]) in done:
                report.already += 1
                loaded = None
            if loaded is not None or tid not in advised:  # scored again (a corrected text): advice too
                todo.append(_ScoreTask(tid, call_id, language, service, loaded))
        wanted = list(dict.fromkeys([t.transcript_id for t in todo] + unrated))
        segments = _load_segments(con, wanted) if wanted else {}  # one read: a scan per batch costs more
    tasks = {t.transcript_id: t for t in todo}
    for start in range(0, len(wanted), SCORE_BATCH_CALLS):
        batch = wanted[start : start + SCORE_BATCH_CALLS]
        rows = _score_batch(batch, segments, tasks, keys, library, corrections, report)
        t0 = time.perf_counter()
        with connect(settings.db_path) as con:  # written in one short transaction
            _write_batch(con, rows, replace=force)
        report.writes += 1
        report.longest_write_s = max(report.longest_write_s, time.perf_counter() - t0)
    return report


@dataclass(frozen=True)
class _ScoreTask:
    transcript_id: str
    call_id: str
    language: str
    service: str | None
    rubric: LoadedRubric | None  # None: only the advice is analysed


@dataclass(frozen=True)
class _BatchRows:
    """What one batch writes: advice analyses, segment quality, suggestions, failures."""

    advice: list[tuple[str, Any]]
    quality: list[tuple[str, int, float]]
    suggestions: list[tuple]
    failures: list[tuple[str, str]]


def _score_batch(
    transcript_ids: list[str],
    segments: Mapping[str, list[Segment]],
    tasks: Mapping[str, _ScoreTask],
    keys: Mapping[str, str],
    library: AdviceLibrary,
    corrections: Mapping[str, tuple[str, ...]],
    report: ScoreReport,
) -> _BatchRows:
    """Score one batch of transcripts (pure: no database)."""

    version = f"lydlogg {lydlogg.__version__}"
    quality_rows = [
        (tid, i, q) for tid in transcript_ids for i, seg in enumerate(segments.get(tid, ())) if (q := segment_quality(seg)) is not None
    ]  # fmt: skip
    rows, advice_rows, failures = [], [], []
    with library_in_use(library):
        for task in (tasks[t] for t in transcript_ids if t in tasks):
            tid, call_id, loaded = task.transcript_id, task.call_id, task.rubric
            try:
                call = build_call_text(
                    Transcript(call_id, task.language, tuple(segments.get(tid, ()))), task.service
                )
                result = score_call(call, loaded) if loaded is not None else None
                if segments.get(tid):  # text dropped by retention: keep the earlier analysis
                    advice_rows.append((tid, analyse_call(call, library, corrections.get(call_id))))
            except Exception as e:  # noqa: BLE001 - one call's scoring error must not stop the batch
                log.warning("scoring %s failed: %s", call_id, e)
                failures.append((call_id, f"{type(e).__name__}: {e}"))
                continue
            if result is None:
                continue
            report.rubrics.add(loaded.key)
            key = keys[loaded.rubric.id]
            for s in result.scores:
                rows.append((tid, call_id, loaded.rubric.id, loaded.rubric.version, key, s.criterion_id,
                             s.value, s.confidence, json.dumps([e.as_dict() for e in s.evidence],
                             ensure_ascii=False), s.rationale, version, s.abstained))  # fmt: skip
            report.scored += 1
    report.advice_analysed += len(advice_rows)
    report.failures += failures
    return _BatchRows(advice_rows, quality_rows, rows, failures)


def _write_batch(con: duckdb.DuckDBPyConnection, batch: _BatchRows, *, replace: bool) -> None:
    """Write one scored batch in one transaction; ``replace`` first removes the suggestions stored
    under the same transcript and key."""

    rows = batch.suggestions
    with transaction(con):
        store_results(con, batch.advice)
        if batch.quality:
            frame = pd.DataFrame(batch.quality, columns=["transcript_id", "segment_index", "quality"])
            con.register("new_quality", frame)
            con.execute(
                "INSERT OR REPLACE INTO segment_quality (transcript_id, segment_index, quality)"
                " SELECT transcript_id, segment_index, quality FROM new_quality"
            )
            con.unregister("new_quality")
        if rows:
            frame = pd.DataFrame(rows, columns=["transcript_id", "call_id", "rubric_id", "rubric_version",
                                                "rubric_sha256", "criterion_id", "value", "confidence",
                                                "evidence_json", "rationale", "software_version",
                                                "abstained"])  # fmt: skip
            frame["value"] = frame["value"].astype("Int32")
            con.register("new_suggestions", frame)
            if replace:
                con.execute(
                    "DELETE FROM suggestions WHERE (transcript_id, rubric_sha256) IN"
                    " (SELECT DISTINCT (transcript_id, rubric_sha256) FROM new_suggestions)"
                )
            con.execute(
                "INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256,"
                " criterion_id, value, confidence, evidence_json, rationale, software_version, abstained)"
                " SELECT * FROM new_suggestions"
            )
            con.unregister("new_suggestions")
        for call_id, reason in batch.failures:
            con.execute(
                "INSERT INTO failures (call_id, stage, reason) VALUES (?, 'score', ?)", [call_id, reason]
            )


def score_one_call(settings: Settings, call_id: str) -> ScoreReport:
    """Score one call's newest transcript again, e.g. after a reviewer corrected its text or roles.

    Reads only that call's rows, so a correction costs the same in a database of ten calls or ten
    thousand. The caller deletes the transcript's old suggestions first (they are derived).
    """
    return score_stored(settings, call_ids=[call_id])
