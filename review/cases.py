"""The case library (kasusbibliotek): reviewed calls, anonymised and published for training.

A trainer (``publish_case``: leder, veileder) opens a :class:`CaseDraft` of a peer-reviewed call:
the original transcript and the redactions the anonymiser proposes. They add (a word range) or
remove any redaction and confirm; :meth:`CaseLibraryService.publish` then stores only anonymised
material: the redacted transcript, the assessment with the reviewers' comments run through the
anonymiser (reviewers named "Vurderer 1", "Vurderer 2"), the trainer's title and learning points
(with the anonymiser's proposals for them that the trainer accepted, shown before confirming), tags, reflection questions and a copy of the audio with every redacted
span covered in every channel, written as a new file in ``CaseSettings.cases_dir``; the original
recording is never touched. Everyone logged in (``read_cases``) may search and read published
cases; a draft shows the original and needs the rights to the original call as well.

Search: DuckDB's full-text index (``lydlogg.db.fts``, Norwegian Snowball stems, BM25 ranking)
over each case's lower-cased ``search_text``, rebuilt in the transaction that adds a case. A case
matches a text query when the index holds every word of it (so "forverringen" finds
"forverring") or when every word occurs inside its text (so "smerter" finds "brystsmerter":
Norwegian compounds are not split by the stemmer). Indexed matches come first, best score first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from anonymise import (
    AnonymiseSettings,
    Redaction,
    WordRedaction,
    anonymise_text,
    cover_redactions,
    redact_transcript,
)
from anonymise.transcript import find_transcript_identifiers, segment_offsets
from lydlogg.access import AccessDenied, check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.db import connect, transaction
from lydlogg.db.fts import build_index, has_index, load_fts, match_sql
from lydlogg.fileperms import PRIVATE_FILE, private_dir
from lydlogg.settings import CaseSettings
from lydlogg.vocabulary import SERVICES
from review.feedback import assessment_rows
from review.service import Review, ReviewService, Suggestion
from rubrics import load_rubrics
from rubrics.reflection import ReflectionQuestions, load_reflection_questions
from rubrics.schema import Rubric
from transcription.formats import from_json, to_json
from transcription.types import Transcript

__all__ = [
    "TAG_SUGGESTIONS",
    "AccessDenied",
    "Case",
    "CaseContent",
    "CaseDraft",
    "CaseLibraryService",
    "SERVICES",
    "build_case_content",
    "merge_redactions",
    "normalise_tags",
    "reflection_for",
    "word_range_redaction",
    "word_tokens",
]

log = logging.getLogger(__name__)

TAG_SUGGESTIONS = (
    "forverring",
    "rekontakt",
    "gravid",
    "barn",
    "brystsmerter",
    "eldre",
    "feber",
    "psykisk helse",
    "bevisstløs",
    "hjertestans",
    "smerter",
    "kommunikasjon",
)
CASE_CALL_ID = "kasus"  # the call id of every case transcript
_TAG = re.compile(r"^[a-zæøå0-9][a-zæøå0-9 -]{0,39}$")
_TRAILING = ".,;:!?»«\"'()"


@dataclass(frozen=True)
class CaseDraft:
    """What a trainer sees before publishing: the original transcript and the proposed redactions."""

    call_id: str
    service: str | None
    transcript: Transcript
    proposed: tuple[Redaction, ...]
    rubric_id: str | None
    peer_reviews: int
    has_audio: bool

    @property
    def text_sha256(self) -> str:
        """Identifies the text the redaction offsets refer to (pass it to ``publish``)."""
        return hashlib.sha256(self.transcript.text.encode()).hexdigest()


@dataclass(frozen=True)
class CaseContent:
    """The anonymised material of a case, as published and as carried in a package."""

    title: str
    service: str | None
    transcript: Transcript
    assessment: dict  # rubric, criteria with values per anonymous reviewer, anonymised comments
    learning_points: str
    tags: tuple[str, ...]
    reflection: tuple[tuple[str, str], ...]  # (criterion or theme title, question)

    def scores(self) -> dict[str, int | None]:
        """Per criterion the lowest reviewer value (the suggestion where nobody gave one)."""
        out: dict[str, int | None] = {}
        for row in self.assessment.get("criteria", []):
            given = [v for v in row["values"] if v is not None]
            out[row["id"]] = min(given) if given else row.get("suggested")
        return out

    def search_text(self) -> str:
        comments = [c["text"] for c in self.assessment.get("comments", [])]
        parts = [self.title, self.learning_points, " ".join(self.tags), self.transcript.text, *comments]
        return " ".join(parts).lower()


@dataclass(frozen=True)
class Case:
    case_id: str
    content: CaseContent
    audio_file: str | None
    published_by: str
    published_at: object
    imported: bool


def word_tokens(text: str) -> list[tuple[int, int, str]]:
    """The whitespace-separated words of ``text`` as (start, end, word), trailing punctuation cut off."""
    out = []
    for m in re.finditer(r"\S+", text):
        word = m.group().rstrip(_TRAILING) or m.group()
        out.append((m.start(), m.start() + len(word), word))
    return out


def word_range_redaction(
    transcript: Transcript, segment_index: int, first_word: int, last_word: int, kind: str
) -> Redaction:
    """A trainer's redaction of words ``first_word..last_word`` (inclusive) of one segment,
    as offsets into ``transcript.text``."""
    if not 0 <= segment_index < len(transcript.segments):
        raise ValueError(f"segment {segment_index} is not in the call (0-{len(transcript.segments) - 1})")
    tokens = word_tokens(transcript.segments[segment_index].text)
    if not 0 <= first_word <= last_word < len(tokens):
        raise ValueError(f"word range {first_word}..{last_word} is outside the segment's {len(tokens)} words")
    offset = segment_offsets(transcript)[segment_index][0]
    return Redaction(offset + tokens[first_word][0], offset + tokens[last_word][1], kind, source="manual")


def merge_redactions(redactions: Sequence[Redaction]) -> tuple[Redaction, ...]:
    """Sorted, with overlapping or touching spans merged (the earlier span's kind is kept)."""
    merged: list[Redaction] = []
    for r in sorted(redactions):
        if merged and r.start <= merged[-1].end:
            p = merged[-1]
            if r.end > p.end:
                merged[-1] = Redaction(p.start, r.end, p.kind, source=p.source)
            continue
        merged.append(r)
    return tuple(merged)


def normalise_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Lower-cased, stripped, de-duplicated tags; raise ValueError naming what a tag may be."""
    out: list[str] = []
    for tag in tags:
        clean = " ".join(tag.strip().lower().split())
        if not clean:
            continue
        if not _TAG.fullmatch(clean):
            raise ValueError(f"tag {tag!r}: use 1-40 lower-case letters (a-å), digits, spaces or hyphens")
        if clean not in out:
            out.append(clean)
    return tuple(out)


def reflection_for(
    rubric: Rubric, rows: Sequence, questions: ReflectionQuestions
) -> tuple[tuple[str, str], ...]:
    """Reflection questions for the criteria scored below the top of their scale, then the
    session-wide themes."""
    out: list[tuple[str, str]] = []
    for row in rows:
        values = [v for v in row.values.values() if v is not None] or (
            [row.suggested] if row.suggested is not None else []
        )
        if not any(v < row.top for v in values):
            continue
        criterion = rubric.criterion(row.criterion_id)
        out.append((criterion.title, criterion.reflection_question))
        out += [(t.title, q) for t in questions.for_criterion(row.criterion_id) for q in t.questions]
    out += [(t.title, q) for t in questions.session_themes for q in t.questions]
    return tuple(dict.fromkeys(out))


def build_case_content(
    transcript: Transcript,
    redactions: Sequence[Redaction],
    *,
    title: str,
    service: str | None,
    rubric: Rubric,
    suggestions: Sequence[Suggestion],
    reviews: Sequence[Review],
    questions: ReflectionQuestions,
    learning_points: str,
    tags: Sequence[str],
    title_redactions: Sequence[Redaction] | None = None,
    points_redactions: Sequence[Redaction] | None = None,
) -> tuple[CaseContent, list[WordRedaction]]:
    """The anonymised case and the time spans to cover in the audio (pure; no I/O).

    ``title_redactions`` and ``points_redactions`` are the redactions the trainer accepted in their
    own title and learning points (offsets into the stripped text): given, exactly those are made,
    so the case reads as the trainer saw it before confirming; ``None`` lets the anonymiser decide.
    """
    if not title.strip():
        raise ValueError("a case needs a title")
    peer = [r for r in reviews if r.kind == "peer"]
    if not peer:
        raise ValueError("a case needs at least one peer review of the call")
    redacted, spans = redact_transcript(transcript, merge_redactions(redactions))
    redacted = dataclasses.replace(redacted, call_id=CASE_CALL_ID)  # a call id can name the original
    alias = {r.reviewer: f"Vurderer {i}" for i, r in enumerate(peer, start=1)}
    rows = assessment_rows(rubric, list(suggestions), peer)
    assessment = {
        "rubric_id": rubric.id,
        "rubric_title": rubric.title,
        "rubric_version": rubric.version,
        "reviewers": list(alias.values()),
        "criteria": [
            {
                "id": row.criterion_id,
                "title": row.title,
                "suggested": row.suggested,
                "yes_no": row.yes_no,
                "top": row.top,
                "values": [row.values.get(name) for name in alias],
            }
            for row in rows
        ],
        "overall": [
            {"reviewer": alias[r.reviewer], "text": anonymise_text(r.overall_comment)}
            for r in peer
            if r.overall_comment
        ],
        "comments": [
            {"reviewer": alias[r.reviewer], "segment_index": seg, "at_s": at, "text": anonymise_text(text)}
            for r in peer
            for seg, at, text in r.comments
        ],
    }
    content = CaseContent(
        title=anonymise_text(title.strip(), title_redactions),
        service=service,
        transcript=redacted,
        assessment=assessment,
        learning_points=anonymise_text(learning_points.strip(), points_redactions),
        tags=normalise_tags(tags),
        reflection=reflection_for(rubric, rows, questions),
    )
    return content, spans


def content_to_json(content: CaseContent) -> dict:
    """The JSON shape of a case (``case.json`` in a package, minus the transcript)."""
    return {
        "title": content.title,
        "service": content.service,
        "assessment": content.assessment,
        "learning_points": content.learning_points,
        "tags": list(content.tags),
        "reflection": [{"title": t, "question": q} for t, q in content.reflection],
    }


def content_from_json(doc: dict, transcript: Transcript) -> CaseContent:
    return CaseContent(
        title=str(doc["title"]),
        service=doc.get("service"),
        transcript=transcript,
        assessment=dict(doc["assessment"]),
        learning_points=str(doc.get("learning_points", "")),
        tags=normalise_tags(doc.get("tags", [])),
        reflection=tuple((str(r["title"]), str(r["question"])) for r in doc.get("reflection", [])),
    )


class CaseLibraryService:
    """Drafts, publishing, search and reading of cases for one user (build it from the app's
    ReviewService: db_path, user, and the service itself as ``review`` so that its settings apply)."""

    def __init__(
        self,
        db_path: Path,
        user: User,
        settings: CaseSettings | None = None,
        anonymise: AnonymiseSettings | None = None,
        *,
        review: ReviewService | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.user = user
        self.settings = settings or CaseSettings()
        self.anonymise = anonymise or AnonymiseSettings()
        self._review = review

    def _calls(self) -> ReviewService:
        """The call-level service this library reads originals through (same user and database)."""
        if self._review is not None:
            return self._review
        return ReviewService(self.db_path, self.user)

    @contextmanager
    def _db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.db_path) as con:
            yield con

    def _audit(
        self, con, action: str, object_id: str | None, detail: str | None = None, *, object_type: str = "case"
    ) -> None:
        record(con, self.user.username, action, object_type, object_id, detail)

    def reviewed_calls(self) -> pd.DataFrame:
        """Calls this trainer may publish from: transcribed, with a current peer review."""
        check(self.user, "publish_case")
        calls = self._calls().calls()
        return calls[(calls["peer_reviews"] > 0) & (calls["status"] == "transcribed")].reset_index(drop=True)

    def draft(self, call_id: str) -> CaseDraft:
        """The original transcript and the proposed redactions (needs the rights to the call)."""
        check(self.user, "publish_case")
        review = self._calls()
        with review.batch():
            info = review.call(call_id)  # checks view_call on the original, audits the view
            transcript = review.transcript(call_id)
            rubric_id, _suggestions = review.suggestions(call_id)
            peer = [r for r in review.reviews(call_id) if r.kind == "peer"]
        with self._db() as con:
            has_audio = con.execute(
                "SELECT count(*) FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256 WHERE c.call_id = ?",
                [call_id],
            ).fetchone()[0]
            self._audit(con, "case_draft", call_id, "proposed redactions shown", object_type="call")
        proposed = tuple(find_transcript_identifiers(transcript))
        return CaseDraft(call_id, info.service, transcript, proposed, rubric_id, len(peer), has_audio > 0)

    def publish(
        self,
        call_id: str,
        redactions: Sequence[Redaction],
        *,
        title: str,
        learning_points: str,
        tags: Sequence[str],
        confirmed: bool,
        draft_sha256: str | None = None,
        title_redactions: Sequence[Redaction] | None = None,
        points_redactions: Sequence[Redaction] | None = None,
    ) -> str:
        """Anonymise the call with the trainer's confirmed redactions and publish it; the case id.

        ``draft_sha256`` (:attr:`CaseDraft.text_sha256`) refuses to publish when the transcript was
        corrected after the draft was opened, since the offsets would then hide the wrong words.
        ``title_redactions`` and ``points_redactions``: see :func:`build_case_content`.
        """
        check(self.user, "publish_case")
        if not confirmed:
            raise ValueError("the redactions must be confirmed before a case is published")
        review = self._calls()
        with review.batch():
            info = review.call(call_id)
            transcript = review.transcript(call_id)
            rubric_id, suggestions = review.suggestions(call_id)
            reviews = review.reviews(call_id)
            original_audio = review.audio_path(call_id)
        if draft_sha256 is not None and hashlib.sha256(transcript.text.encode()).hexdigest() != draft_sha256:
            raise ValueError("the transcript changed after the draft was opened; open the draft again")
        rubrics = load_rubrics()
        if rubric_id not in rubrics:
            raise ValueError(f"call {call_id!r} has not been scored against a known rubric")
        content, spans = build_case_content(
            transcript,
            redactions,
            title=title,
            service=info.service,
            rubric=rubrics[rubric_id].rubric,
            suggestions=suggestions,
            reviews=reviews,
            questions=load_reflection_questions(rubrics=rubrics),
            learning_points=learning_points,
            tags=tags,
            title_redactions=title_redactions,
            points_redactions=points_redactions,
        )
        case_id = uuid.uuid4().hex[:12]
        audio_file = None
        if original_audio is not None and original_audio.is_file():
            audio_file = self._write_covered_audio(case_id, original_audio, spans)
        kept = [
            {"start": r.start, "end": r.end, "kind": r.kind, "source": r.source}
            for r in merge_redactions(redactions)
        ]
        with self._cleanup_on_error(audio_file), self._db() as con, transaction(con):
            self._insert(con, case_id, content, audio_file, source_call_id=call_id, redactions=kept)
            self._audit(con, "publish_case", case_id, f"call {call_id}; {len(kept)} redactions")
        log.info("published case %s with %d redactions", case_id, len(kept))
        return case_id

    def _write_covered_audio(self, case_id: str, original: Path, spans: list[WordRedaction]) -> str:
        from transcription.audio import SAMPLE_RATE, decode_audio

        decoded = decode_audio(original)
        covered = cover_redactions(decoded.samples, SAMPLE_RATE, spans, self.anonymise)
        return self.store_audio(case_id, covered, SAMPLE_RATE, original=original)

    @contextmanager
    def _cleanup_on_error(self, audio_file: str | None) -> Iterator[None]:
        """Remove a case's new audio file again when its database row could not be written."""
        try:
            yield
        except BaseException:
            if audio_file is not None:
                (Path(self.settings.cases_dir) / audio_file).unlink(missing_ok=True)
            raise

    def store_audio(
        self, case_id: str, samples: np.ndarray, rate: int, *, original: Path | None = None
    ) -> str:
        """Write a case's (anonymised) audio as a new WAV in the cases folder; its file name there."""
        import soundfile as sf

        folder = private_dir(Path(self.settings.cases_dir))
        target = folder / f"case-{case_id}.wav"
        if original is not None and target.resolve() == Path(original).resolve():
            raise ValueError("the cases folder holds the original recording; refusing to overwrite it")
        data = samples.T if samples.ndim == 2 else samples
        # O_EXCL: never overwrite a file that is there; 0600: readable by the service account only
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            sf.write(fh, data, rate, format="WAV", subtype="PCM_16")
        return target.name

    def _insert(self, con, case_id: str, content: CaseContent, audio_file: str | None, *,
                source_call_id: str | None, redactions: list, imported_sha256: str | None = None) -> None:  # fmt: skip
        audio_sha = None
        if audio_file is not None:
            from transcription.audio import file_sha256

            audio_sha = file_sha256(Path(self.settings.cases_dir) / audio_file)
        assessment = content.assessment
        con.execute(
            "INSERT INTO cases (case_id, source_call_id, title, service, rubric_id, rubric_version, transcript_json,"
            " assessment_json, learning_points, tags, reflection_json, redactions_json, audio_file, audio_sha256,"
            " search_text, published_by, imported_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [case_id, source_call_id, content.title, content.service, assessment.get("rubric_id"),
             assessment.get("rubric_version"), json.dumps(to_json(content.transcript), ensure_ascii=False),
             json.dumps(assessment, ensure_ascii=False), content.learning_points, list(content.tags),
             json.dumps([list(r) for r in content.reflection], ensure_ascii=False), json.dumps(redactions),
             audio_file, audio_sha, content.search_text(), self.user.username, imported_sha256],
        )  # fmt: skip
        con.executemany(
            "INSERT INTO case_scores (case_id, criterion_id, value) VALUES (?, ?, ?)",
            [(case_id, c, v) for c, v in content.scores().items()],
        )
        build_index(con, "cases", "case_id", "search_text")  # the index is a snapshot: rebuild it

    def search(
        self,
        text: str = "",
        *,
        tags: Sequence[str] = (),
        service: str | None = None,
        criterion_id: str | None = None,
        max_value: int | None = None,
    ) -> pd.DataFrame:
        """Published cases matching every word of ``text`` (see the module's docstring), all ``tags``,
        the service and, with ``criterion_id``, a lowest reviewer value at or below ``max_value``;
        the best full-text matches first, then the newest."""
        check(self.user, "read_cases")
        where, params = ["true"], []
        words = text.lower().split()
        if words:
            substrings = " AND ".join(["c.search_text ILIKE ? ESCAPE '\\'"] * len(words))
            where.append(f"(c.score IS NOT NULL OR ({substrings}))")
            params += [
                "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words
            ]
        if tags:
            where.append("list_has_all(c.tags, ?)")
            params.append(list(normalise_tags(tags)))
        if service:
            if service not in SERVICES:
                raise ValueError(f"service {service!r} is not one of {', '.join(SERVICES)}")
            where.append("c.service = ?")
            params.append(service)
        if criterion_id:
            where.append(
                "EXISTS (SELECT 1 FROM case_scores s WHERE s.case_id = c.case_id AND s.criterion_id = ?"
                " AND (? IS NULL OR s.value <= ?))"
            )
            params += [criterion_id, max_value, max_value]
        with self._db() as con:
            score, score_params = "NULL::DOUBLE", []
            if words:
                load_fts(con)
                if not has_index(con, "cases"):  # a database whose cases predate the index
                    with transaction(con):
                        build_index(con, "cases", "case_id", "search_text")
                score, score_params = match_sql("cases", "cases.case_id"), [" ".join(words)]
            clauses = " AND ".join(where)  # fixed clauses; every value is a parameter
            return con.execute(
                f"SELECT c.case_id, c.title, c.service, c.tags, c.rubric_id, c.published_at,"  # noqa: S608
                f" c.imported_sha256 IS NOT NULL AS imported, c.score"
                f" FROM (SELECT *, {score} AS score FROM cases) c WHERE {clauses}"
                " ORDER BY c.score DESC NULLS LAST, c.published_at DESC, c.case_id",
                score_params + params,
            ).df()

    def tags(self) -> list[str]:
        """Every tag in use, with the suggested ones first."""
        check(self.user, "read_cases")
        with self._db() as con:
            used = [
                r[0] for r in con.execute("SELECT DISTINCT unnest(tags) FROM cases ORDER BY 1").fetchall()
            ]
        return list(dict.fromkeys([*TAG_SUGGESTIONS, *used]))

    def case(self, case_id: str) -> Case:
        """A published case (audited); raise AccessDenied for an unknown id."""
        check(self.user, "read_cases")
        with self._db() as con:
            row = con.execute(
                "SELECT transcript_json, title, service, assessment_json, learning_points, tags, reflection_json,"
                " audio_file, published_by, published_at, imported_sha256 FROM cases WHERE case_id = ?",
                [case_id],
            ).fetchone()
            if row is None:
                raise AccessDenied()
            self._audit(con, "read_case", case_id)
        transcript = from_json(json.loads(row[0]))
        content = CaseContent(
            title=row[1],
            service=row[2],
            transcript=transcript,
            assessment=json.loads(row[3]),
            learning_points=row[4],
            tags=tuple(row[5]),
            reflection=tuple((t, q) for t, q in json.loads(row[6])),
        )
        return Case(case_id, content, row[7], row[8], row[9], row[10] is not None)

    def audio_path(self, case: Case) -> Path | None:
        """The anonymised audio of a case, if it has one."""
        check(self.user, "read_cases")
        if case.audio_file is None:
            return None
        path = Path(self.settings.cases_dir) / case.audio_file
        return path if path.is_file() else None

    def export_case(self, case_id: str) -> bytes:
        """The case as a package (zip; audited). Only the anonymised material is in it."""
        from review.case_package import build_package

        check(self.user, "export_case")
        case = self.case(case_id)
        audio = self.audio_path(case)
        data = build_package(case.content, audio)
        with self._db() as con:
            self._audit(con, "export_case", case_id, f"{len(data)} bytes")
        return data

    def import_case(self, data: bytes) -> str:
        """Publish a case from a package made by another Lydlogg (validated; audited); the case id."""
        from review.case_package import read_package

        check(self.user, "export_case")
        package = read_package(data, self.settings)
        case_id = uuid.uuid4().hex[:12]
        audio_file = None
        if package.audio is not None:
            audio_file = self.store_audio(case_id, package.audio, package.sample_rate)
        digest = hashlib.sha256(data).hexdigest()
        with self._cleanup_on_error(audio_file), self._db() as con, transaction(con):
            self._insert(con, case_id, package.content, audio_file, source_call_id=None, redactions=[],
                         imported_sha256=digest)  # fmt: skip
            self._audit(con, "import_case", case_id, f"package sha256 {digest}")
        return case_id
