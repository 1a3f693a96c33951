"""Case packages: one published case as a zip that another Lydlogg installation can import.

A package holds only the anonymised material of a case, under fixed names::

    manifest.json     format, version and the sha256 and size of every other file
    case.json         title, service, assessment, learning points, tags, reflection questions
    transcript.json   the anonymised transcript (the JSON exchange shape)
    transcript.vtt    the same as WebVTT
    handout.html      a printable handout;  handout.pdf  the same as PDF where WeasyPrint runs
    audio.wav         the covered audio (16-bit PCM);  audio.ogg  the same as Ogg Vorbis

:func:`read_package` accepts only those names (so no member can point outside the package), a
zip within ``CaseSettings.max_package_mb`` whose files unpack to at most ``max_unpacked_mb``, and
a manifest whose checksums and sizes match every file.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lydlogg.documents import render_html
from lydlogg.formatting import MISSING
from lydlogg.settings import CaseSettings
from lydlogg.vocabulary import SERVICE_LABELS, SPEAKER_ROLE_LABELS, Service
from review.cases import CaseContent, content_from_json, content_to_json
from transcription.formats import TranscriptFormatError, from_json, to_json, to_vtt

__all__ = ["FORMAT", "MEMBERS", "Package", "PackageError", "build_package", "handout_html", "read_package"]

log = logging.getLogger(__name__)

FORMAT = "lydlogg-case"
FORMAT_VERSION = 1
MEMBERS = (
    "manifest.json",
    "case.json",
    "transcript.json",
    "transcript.vtt",
    "handout.html",
    "handout.pdf",
    "audio.wav",
    "audio.ogg",
)
_REQUIRED = ("manifest.json", "case.json", "transcript.json")


class PackageError(ValueError):
    """A file that is not an acceptable case package; the message says what is accepted."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Criterion(_Strict):
    id: str = Field(description="Criterion id in the rubric.")
    title: str = Field(description="Criterion title.")
    suggested: int | None = Field(description="The automatic suggestion.")
    yes_no: bool = Field(description="Whether the scale is yes/no.")
    top: int = Field(description="The top of the scale.")
    values: tuple[int | None, ...] = Field(description="One value per reviewer, in the order of 'reviewers'.")


class _Note(_Strict):
    reviewer: str = Field(max_length=40, description="Anonymous reviewer label ('Vurderer 1').")
    text: str = Field(max_length=10_000, description="Anonymised comment.")


class _Comment(_Note):
    segment_index: int | None = Field(ge=0, description="Segment the comment is anchored to.")
    at_s: float | None = Field(ge=0, description="Time in the call, seconds.")


class _Assessment(_Strict):
    rubric_id: str = Field(description="Rubric id.")
    rubric_title: str = Field(description="Rubric title.")
    rubric_version: int = Field(description="Rubric version.")
    reviewers: tuple[str, ...] = Field(max_length=50, description="Anonymous reviewer labels.")
    criteria: tuple[_Criterion, ...] = Field(max_length=200, description="Criterion by criterion.")
    overall: tuple[_Note, ...] = Field(max_length=200, description="Overall comments.")
    comments: tuple[_Comment, ...] = Field(max_length=2000, description="Comments anchored in the call.")

    @model_validator(mode="after")
    def _one_value_per_reviewer(self) -> _Assessment:
        for c in self.criteria:
            if len(c.values) != len(self.reviewers):
                raise ValueError(
                    f"criterion {c.id}: {len(c.values)} values for {len(self.reviewers)} reviewers"
                )
        return self


class _Question(_Strict):
    title: str = Field(description="Criterion or theme title.")
    question: str = Field(description="The reflection question.")


class _CaseDocument(_Strict):
    """``case.json``."""

    title: str = Field(min_length=1, max_length=200, description="Case title.")
    service: Service | None = Field(description="Service.")
    assessment: _Assessment = Field(description="The anonymised assessment.")
    learning_points: str = Field(max_length=20_000, description="The trainer's learning points.")
    tags: tuple[str, ...] = Field(max_length=30, description="Tags.")
    reflection: tuple[_Question, ...] = Field(max_length=200, description="Reflection questions.")


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors())


@dataclass(frozen=True, eq=False)
class Package:
    content: CaseContent
    audio: np.ndarray | None  # (channels, n) float32, or None
    sample_rate: int
    files: tuple[str, ...]


def handout_html(content: CaseContent) -> str:
    """A printable handout of an anonymised case, from the template ``case_handout.html``, which
    escapes every value."""
    a = content.assessment
    notes = [(None, c["reviewer"], c["text"]) for c in a.get("overall", [])] + [
        (c.get("at_s"), c["reviewer"], c["text"]) for c in a.get("comments", [])
    ]
    return render_html(
        "case_handout.html",
        title=content.title,
        service=SERVICE_LABELS.get(content.service or "", MISSING),
        rubric_title=a.get("rubric_title", ""),
        tags=content.tags,
        learning_points=[line for line in content.learning_points.splitlines() if line.strip()],
        segments=[
            (seg.start, SPEAKER_ROLE_LABELS.get(seg.role or "", "Ukjent"), seg.text)
            for seg in content.transcript.segments
        ],
        reviewers=a.get("reviewers", []),
        criteria=a.get("criteria", []),
        notes=notes,
        reflection=content.reflection,
    )


def _audio_files(path: Path) -> dict[str, bytes]:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    out = {}
    for name, fmt, subtype in (("audio.wav", "WAV", "PCM_16"), ("audio.ogg", "OGG", "VORBIS")):
        buf = io.BytesIO()
        sf.write(buf, data, rate, format=fmt, subtype=subtype)
        out[name] = buf.getvalue()
    return out


def build_package(content: CaseContent, audio: Path | None = None, *, pdf: bool = True) -> bytes:
    """The zip of a case: its anonymised content, the covered audio (if any) and a handout."""
    from lydlogg.documents import PdfUnavailableError, html_to_pdf

    page = handout_html(content)
    files: dict[str, bytes] = {
        "case.json": json.dumps(content_to_json(content), ensure_ascii=False, indent=1).encode(),
        "transcript.json": json.dumps(to_json(content.transcript), ensure_ascii=False, indent=1).encode(),
        "transcript.vtt": to_vtt(content.transcript).encode(),
        "handout.html": page.encode(),
    }
    if pdf:
        try:
            files["handout.pdf"] = html_to_pdf(page)
        except PdfUnavailableError as e:
            log.warning("case package without a PDF handout: %s", e)
    if audio is not None:
        files.update(_audio_files(audio))
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in files.items()
        },
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, data in files.items():  # Ogg and PDF are compressed already: stored as they are
            method = zipfile.ZIP_STORED if name.endswith((".ogg", ".pdf")) else zipfile.ZIP_DEFLATED
            zf.writestr(name, data, compress_type=method)
    return buf.getvalue()


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise PackageError(f"{info.filename}: unpacks to more than the {limit} bytes allowed")
    return data


def read_package(data: bytes, settings: CaseSettings | None = None) -> Package:
    """Validate and read a case package; raise :class:`PackageError` saying what is wrong."""
    s = settings or CaseSettings()
    max_zip = int(s.max_package_mb * 1_000_000)
    if len(data) > max_zip:
        raise PackageError(f"the package is {len(data)} bytes; at most {max_zip} are accepted")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise PackageError("not a zip file; expected a case package exported from Lydlogg") from e
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        unknown = sorted(set(names) - set(MEMBERS))
        if unknown:
            raise PackageError(
                f"unexpected file(s) in the package: {', '.join(map(repr, unknown))}; accepted: {', '.join(MEMBERS)}"
            )
        if len(set(names)) != len(names):
            raise PackageError("the package names a file twice")
        missing = [n for n in _REQUIRED if n not in names]
        if missing:
            raise PackageError(f"the package lacks {', '.join(missing)}")
        budget = int(s.max_unpacked_mb * 1_000_000)
        if sum(i.file_size for i in infos) > budget:
            raise PackageError(f"the package unpacks to more than {budget} bytes")
        files: dict[str, bytes] = {}
        for info in infos:
            files[info.filename] = _read_member(zf, info, budget)
            budget -= len(files[info.filename])
    try:
        manifest = json.loads(files.pop("manifest.json"))
        listed = manifest["files"]
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise PackageError(f"not a {FORMAT} package of version {FORMAT_VERSION}")
    except (ValueError, KeyError, TypeError) as e:
        if isinstance(e, PackageError):
            raise
        raise PackageError(f"manifest.json is unreadable ({e})") from e
    if not isinstance(listed, dict) or set(listed) != set(files):
        raise PackageError("manifest.json does not list exactly the files in the package")
    for name, body in files.items():
        entry = listed[name]
        if not isinstance(entry, dict) or entry.get("sha256") != hashlib.sha256(body).hexdigest():
            raise PackageError(f"{name}: checksum does not match the manifest")
        if entry.get("bytes") != len(body):
            raise PackageError(f"{name}: size does not match the manifest")
    try:
        document = _CaseDocument.model_validate_json(files["case.json"])
    except ValidationError as e:
        raise PackageError(f"case.json is not a case: {_problems(e)}") from e
    try:
        transcript = from_json(json.loads(files["transcript.json"]))
        content = content_from_json(document.model_dump(mode="json"), transcript)
    except (ValueError, KeyError, TypeError, TranscriptFormatError) as e:
        raise PackageError(f"transcript.json or the tags are not a case's ({e})") from e
    last = len(transcript.segments) - 1
    if any(c.segment_index is not None and c.segment_index > last for c in document.assessment.comments):
        raise PackageError(f"case.json: a comment points past the transcript's last segment ({last})")
    audio, rate = None, 0
    if "audio.wav" in files:
        import soundfile as sf

        try:
            samples, rate = sf.read(io.BytesIO(files["audio.wav"]), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise PackageError(f"audio.wav is not readable audio ({e})") from e
        audio = np.ascontiguousarray(samples.T)
    log.info("read case package: %d files", len(files) + 1)
    return Package(content, audio, int(rate), tuple(sorted(names)))
