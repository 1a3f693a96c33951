"""The case library (kasusbibliotek): reviewed calls, anonymised and published for training.

A trainer (``publish_case``: leder, veileder) opens a :class:`CaseDraft` of a peer-reviewed call:
the original transcript and the redactions the anonymiser proposes. They add (a word range) or
remove any redaction; :meth:`CaseLibraryService.preview` gives every text that will be published
(title, learning points, tags, the anonymised transcript, the reviewers' anonymised comments), and
the trainer confirms exactly that (its :attr:`CaseContent.sha256`) before
:meth:`CaseLibraryService.publish` stores only anonymised material: the redacted transcript, the
assessment with the reviewers' comments run through the anonymiser (reviewers named "Vurderer 1",
"Vurderer 2"), the trainer's title and learning points (with the anonymiser's proposals for them
that the trainer accepted), tags and reflection questions. Audio is published only when the
trainer asks for it (``publish_audio``): then a copy with every voice disguised
(:mod:`anonymise.voice`, unless the trainer turns that off) and every redacted span covered in
every channel is written as a new file in ``CaseSettings.cases_dir``, encrypted with a key derived
from the database key when ``encryption.enabled`` (:func:`lydlogg.crypto.case_audio_key`); the
original recording is never touched. The roles that take part in training (``read_cases``: see
``lydlogg.access``) search and read published cases; a draft of a call shows the original and
needs the rights to the original call as well. A case imported from a package is a draft
(``published`` false) that only trainers see until one of them publishes it
(:meth:`CaseLibraryService.publish_imported`).

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
from collections.abc import Callable, Iterator, Sequence
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
from lydlogg.access import AccessDenied, allowed, check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.backup_crypto import BackupKey, BackupKeyError, decrypt_file, encrypt_file
from lydlogg.crypto import EncryptionSettings, case_audio_key
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
_ENCRYPTED_SUFFIX = ".enc"  # case-ID.wav.enc: the WAV encrypted with the case-audio key
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

    @property
    def sha256(self) -> str:
        """Identifies every text of the case (pass the previewed one to ``publish``)."""
        doc = {**content_to_json(self), "transcript": to_json(self.transcript)}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

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
    published: bool = True  # False: an imported draft, seen only by trainers until one publishes it
    voice_disguised: bool | None = None  # None: no audio, or not known (older or imported cases)


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
        encryption: EncryptionSettings | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.user = user
        self.settings = settings or CaseSettings()
        self.anonymise = anonymise or AnonymiseSettings()
        self.encryption = encryption or EncryptionSettings()
        self._review = review

    def _audio_key(self) -> BackupKey | None:
        """The case-audio key when encryption is on (read when needed, never kept in a field)."""
        return case_audio_key(self.encryption)

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

    def _prepare(
        self,
        call_id: str,
        redactions: Sequence[Redaction],
        *,
        title: str,
        learning_points: str,
        tags: Sequence[str],
        draft_sha256: str | None,
        title_redactions: Sequence[Redaction] | None,
        points_redactions: Sequence[Redaction] | None,
    ) -> tuple[CaseContent, list[WordRedaction], Path | None]:
        """The anonymised case, the spans to cover in the audio and the original recording."""
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
        return content, spans, original_audio

    def preview(
        self,
        call_id: str,
        redactions: Sequence[Redaction],
        *,
        title: str,
        learning_points: str,
        tags: Sequence[str],
        draft_sha256: str | None = None,
        title_redactions: Sequence[Redaction] | None = None,
        points_redactions: Sequence[Redaction] | None = None,
    ) -> CaseContent:
        """Every text that :meth:`publish` with the same arguments would publish, nothing stored;
        the trainer confirms it, and passes its ``sha256`` to ``publish``."""
        check(self.user, "publish_case")
        content, _spans, _audio = self._prepare(
            call_id, redactions, title=title, learning_points=learning_points, tags=tags,
            draft_sha256=draft_sha256, title_redactions=title_redactions, points_redactions=points_redactions,
        )  # fmt: skip
        return content

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
        publish_audio: bool = False,
        disguise_voice: bool = True,
        preview_sha256: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> str:
        """Anonymise the call with the trainer's confirmed redactions and publish it; the case id.

        ``draft_sha256`` (:attr:`CaseDraft.text_sha256`) refuses to publish when the transcript was
        corrected after the draft was opened, since the offsets would then hide the wrong words.
        ``preview_sha256`` (:attr:`CaseContent.sha256` of :meth:`preview`) refuses to publish
        anything other than the texts the trainer confirmed. Audio is published only with
        ``publish_audio``, with every voice disguised unless ``disguise_voice`` is false.
        ``title_redactions`` and ``points_redactions``: see :func:`build_case_content`. ``progress``
        hears the voice disguise's share done (it is the slow part).
        """
        check(self.user, "publish_case")
        if not confirmed:
            raise ValueError("the redactions must be confirmed before a case is published")
        content, spans, original_audio = self._prepare(
            call_id, redactions, title=title, learning_points=learning_points, tags=tags,
            draft_sha256=draft_sha256, title_redactions=title_redactions, points_redactions=points_redactions,
        )  # fmt: skip
        if preview_sha256 is not None and content.sha256 != preview_sha256:
            raise ValueError("the texts to publish differ from the confirmed preview; confirm them again")
        case_id = uuid.uuid4().hex[:12]
        audio_file = None
        disguised = None
        if publish_audio and original_audio is not None and original_audio.is_file():
            audio_file = self._write_covered_audio(
                case_id, original_audio, spans, disguise=disguise_voice, progress=progress
            )
            disguised = disguise_voice
        kept = [
            {"start": r.start, "end": r.end, "kind": r.kind, "source": r.source}
            for r in merge_redactions(redactions)
        ]
        audio_note = (
            "no audio" if audio_file is None else ("disguised audio" if disguised else "audio, voices kept")
        )
        with self._cleanup_on_error(audio_file), self._db() as con, transaction(con):
            self._insert(con, case_id, content, audio_file, source_call_id=call_id, redactions=kept,
                         voice_disguised=disguised)  # fmt: skip
            self._audit(con, "publish_case", case_id, f"call {call_id}; {len(kept)} redactions; {audio_note}")
        log.info("published case %s with %d redactions (%s)", case_id, len(kept), audio_note)
        return case_id

    def _write_covered_audio(
        self,
        case_id: str,
        original: Path,
        spans: list[WordRedaction],
        *,
        disguise: bool,
        progress: Callable[[float], None] | None = None,
    ) -> str:
        from anonymise.voice import disguise_voice
        from transcription.audio import SAMPLE_RATE, decode_audio

        samples = decode_audio(original).samples
        if disguise:  # before covering, so that the cover tone stays the plain tone
            samples = disguise_voice(samples, SAMPLE_RATE, self.anonymise.voice, progress=progress)
        covered = cover_redactions(samples, SAMPLE_RATE, spans, self.anonymise)
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
        """Write a case's (anonymised) audio as a new WAV in the cases folder; its file name there.

        With encryption on, the file is ``case-ID.wav.enc``: the WAV encrypted with the case-audio
        key (AES-256-GCM, bound to the file name); otherwise a plain ``case-ID.wav``.
        """
        import io

        import soundfile as sf

        key = self._audio_key()
        folder = private_dir(Path(self.settings.cases_dir))
        target = folder / (f"case-{case_id}.wav" + (_ENCRYPTED_SUFFIX if key is not None else ""))
        if original is not None and target.resolve() == Path(original).resolve():
            raise ValueError("the cases folder holds the original recording; refusing to overwrite it")
        data = samples.T if samples.ndim == 2 else samples
        buf = io.BytesIO()
        sf.write(buf, data, rate, format="WAV", subtype="PCM_16")
        body = buf.getvalue() if key is None else encrypt_file(key, target.name, buf.getvalue())
        # O_EXCL: never overwrite a file that is there; 0600: readable by the service account only
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        return target.name

    def _insert(self, con, case_id: str, content: CaseContent, audio_file: str | None, *,
                source_call_id: str | None, redactions: list, imported_sha256: str | None = None,
                published: bool = True, voice_disguised: bool | None = None) -> None:  # fmt: skip
        audio_sha = None
        if audio_file is not None:
            from transcription.audio import file_sha256

            audio_sha = file_sha256(Path(self.settings.cases_dir) / audio_file)
        assessment = content.assessment
        con.execute(
            "INSERT INTO cases (case_id, source_call_id, title, service, rubric_id, rubric_version, transcript_json,"
            " assessment_json, learning_points, tags, reflection_json, redactions_json, audio_file, audio_sha256,"
            " search_text, published_by, imported_sha256, published, voice_disguised)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [case_id, source_call_id, content.title, content.service, assessment.get("rubric_id"),
             assessment.get("rubric_version"), json.dumps(to_json(content.transcript), ensure_ascii=False),
             json.dumps(assessment, ensure_ascii=False), content.learning_points, list(content.tags),
             json.dumps([list(r) for r in content.reflection], ensure_ascii=False), json.dumps(redactions),
             audio_file, audio_sha, content.search_text(), self.user.username, imported_sha256, published,
             voice_disguised],
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
        where, params = ["c.published"], []
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
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT unnest(tags) FROM cases WHERE published ORDER BY 1"
                ).fetchall()
            ]
        return list(dict.fromkeys([*TAG_SUGGESTIONS, *used]))

    def case(self, case_id: str) -> Case:
        """A published case (audited); raise AccessDenied for an unknown id, and for an imported
        draft unless the user may publish cases."""
        check(self.user, "read_cases")
        with self._db() as con:
            row = con.execute(
                "SELECT transcript_json, title, service, assessment_json, learning_points, tags, reflection_json,"
                " audio_file, published_by, published_at, imported_sha256, published, voice_disguised"
                " FROM cases WHERE case_id = ?",
                [case_id],
            ).fetchone()
            if row is None or (not row[11] and not allowed(self.user, "publish_case")):
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
        return Case(case_id, content, row[7], row[8], row[9], row[10] is not None, bool(row[11]), row[12])

    def audio_path(self, case: Case) -> Path | None:
        """The file of a case's anonymised audio, if it has one (encrypted when its name ends in
        ``.wav.enc``: read it with :meth:`audio_bytes`)."""
        check(self.user, "read_cases")
        if case.audio_file is None:
            return None
        path = Path(self.settings.cases_dir) / case.audio_file
        return path if path.is_file() else None

    def audio_bytes(self, case: Case) -> bytes | None:
        """A case's anonymised audio as WAV bytes (decrypted when stored encrypted), or None."""
        path = self.audio_path(case)
        return None if path is None else self._stored_bytes(path)

    def _stored_bytes(self, path: Path) -> bytes:
        """A stored case-audio file's WAV bytes (decrypted when its name says it is encrypted)."""
        body = path.read_bytes()
        if not path.name.endswith(_ENCRYPTED_SUFFIX):
            return body
        key = self._audio_key()
        if key is None:
            raise BackupKeyError(
                f"{path}: case audio is encrypted; it is read with encryption.enabled and the database key"
            )
        return decrypt_file(key, path.name, body)

    def drafts(self) -> pd.DataFrame:
        """Imported cases that no trainer has published yet (trainers only), newest first."""
        check(self.user, "publish_case")
        with self._db() as con:
            return con.execute(
                "SELECT case_id, title, service, tags, published_at AS imported_at FROM cases"
                " WHERE NOT published ORDER BY published_at DESC, case_id"
            ).df()

    def publish_imported(
        self, case_id: str, *, disguise_voice: bool = True, progress: Callable[[float], None] | None = None
    ) -> None:
        """Publish an imported draft (a trainer, who has read it); audited. From now on its
        ``published_by`` and ``published_at`` are this trainer's and this moment.

        A package does not say whether its voices were disguised where it was made, so the audio of
        an imported case is disguised here before it is published (as a new file; the imported one
        is deleted), unless ``disguise_voice`` is false: the trainer has listened and keeps it as is.
        """
        check(self.user, "publish_case")
        with self._db() as con:
            row = con.execute(
                "SELECT audio_file, voice_disguised FROM cases WHERE case_id = ? AND NOT published", [case_id]
            ).fetchone()
        if row is None:
            raise AccessDenied()  # unknown, or published already
        old_audio, new_audio = row[0], None
        if old_audio is not None and disguise_voice and row[1] is not True:
            new_audio = self._disguised_copy(case_id, old_audio, progress)
        note = "no audio" if old_audio is None else ("voices disguised" if new_audio else "audio as imported")
        with self._cleanup_on_error(new_audio), self._db() as con, transaction(con):
            found = con.execute(
                "UPDATE cases SET published = true, published_by = ?, published_at = current_timestamp"
                " WHERE case_id = ? AND NOT published RETURNING case_id",
                [self.user.username, case_id],
            ).fetchall()
            if not found:
                raise AccessDenied()  # published by someone else meanwhile
            if new_audio is not None:
                from transcription.audio import file_sha256

                sha = file_sha256(Path(self.settings.cases_dir) / new_audio)
                con.execute(
                    "UPDATE cases SET audio_file = ?, audio_sha256 = ?, voice_disguised = true WHERE case_id = ?",
                    [new_audio, sha, case_id],
                )
            self._audit(con, "publish_case", case_id, f"imported package; {note}")
        if new_audio is not None:
            (Path(self.settings.cases_dir) / old_audio).unlink(missing_ok=True)

    def _disguised_copy(self, case_id: str, audio_file: str, progress: Callable[[float], None] | None) -> str:
        """A disguised copy of a case's stored audio, written beside it; its file name."""
        import io

        import soundfile as sf

        from anonymise.voice import disguise_voice

        body = self._stored_bytes(Path(self.settings.cases_dir) / audio_file)
        samples, rate = sf.read(io.BytesIO(body), dtype="float32", always_2d=True)
        disguised = disguise_voice(samples.T, rate, self.anonymise.voice, progress=progress)
        return self.store_audio(f"{case_id}-{uuid.uuid4().hex[:6]}", disguised, rate)

    def export_case(self, case_id: str) -> bytes:
        """The case as a package (zip; audited). Only the anonymised material is in it."""
        from review.case_package import build_package

        check(self.user, "export_case")
        case = self.case(case_id)
        data = build_package(case.content, self.audio_bytes(case))
        with self._db() as con:
            self._audit(con, "export_case", case_id, f"{len(data)} bytes")
        return data

    def import_case(self, data: bytes) -> str:
        """Store a case from a package made by another Lydlogg (validated; audited) as a draft that
        only trainers see until one publishes it (:meth:`publish_imported`); the case id."""
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
                         imported_sha256=digest, published=False)  # fmt: skip
            self._audit(con, "import_case", case_id, f"package sha256 {digest}; a draft until published")
        return case_id
