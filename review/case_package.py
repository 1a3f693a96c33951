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
a manifest whose checksums and sizes match every file. Members must be unencrypted, stored or
deflated, and declare in the zip the size the manifest lists (checked before anything is
unpacked); a member that is corrupt or truncated is refused, naming it. Nothing is imported
from a package that fails any check.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lydlogg.documents import render_html
from lydlogg.formatting import MISSING
from lydlogg.settings import CaseSettings
from lydlogg.vocabulary import SERVICE_LABELS, SPEAKER_ROLE_LABELS, Service
from review.cases import CaseContent, content_from_json, content_to_json
from transcription.formats import TranscriptFormatError, from_json, to_json, to_vtt

__all__ = [
    "FORMAT",
    "MEMBERS",
    "Package",
    "PackageError",
    "build_package",
    "handout_html",
    "read_package",
    "refusal_text",
]

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
    """A file that is not an acceptable case package; the message says what is accepted, and
    ``member`` names the file inside the package at fault, where there is one."""

    def __init__(self, message: str, *, member: str | None = None) -> None:
        super().__init__(message)
        self.member = member


_COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# What the zip module raises on a member it cannot unpack: a bad CRC, a truncated or garbled
# stream, a header that disagrees with the directory, an encryption or method it does not know.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)


def refusal_text(file_name: str, error: PackageError, max_package_mb: float) -> str:
    """The Norwegian message shown on the page when the package ``file_name`` is refused."""
    if error.member is not None:
        reason = f"filen «{error.member}» i pakken er skadet, kryptert eller stemmer ikke med manifest.json"
    else:
        reason = "filen er ikke en gyldig kasuspakke fra Lydlogg"
    return (
        f"«{file_name}» ble ikke importert, og ingenting er lagret: {reason}. "
        f"Godtatt er en kasuspakke (zip) eksportert fra Lydlogg, på høyst {max_package_mb:g} MB, "
        f"med bare filene {', '.join(MEMBERS)}, ukryptert, der hver fil stemmer med "
        "størrelsen og sjekksummen i manifest.json."
    )


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


def _audio_files(wav: bytes) -> dict[str, bytes]:
    import soundfile as sf

    data, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    out = {}
    for name, fmt, subtype in (("audio.wav", "WAV", "PCM_16"), ("audio.ogg", "OGG", "VORBIS")):
        buf = io.BytesIO()
        sf.write(buf, data, rate, format=fmt, subtype=subtype)
        out[name] = buf.getvalue()
    return out


def build_package(content: CaseContent, audio: bytes | None = None, *, pdf: bool = True) -> bytes:
    """The zip of a case: its anonymised content, the covered audio (WAV bytes, if any) and a handout."""
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
    name = info.filename
    if info.flag_bits & 0x1:
        raise PackageError(f"{name}: the member is encrypted; accepted: unencrypted members", member=name)
    if info.compress_type not in _COMPRESSIONS:
        raise PackageError(
            f"{name}: compression method {info.compress_type} is not accepted; "
            f"accepted: {' or '.join(_COMPRESSIONS.values())}",
            member=name,
        )
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except _UNREADABLE as e:
        raise PackageError(
            f"{name}: the member is corrupt or truncated ({e}); accepted: members that unpack "
            "whole, as Lydlogg exports them",
            member=name,
        ) from e
    if len(data) > limit:
        raise PackageError(f"{name}: unpacks to more than the {limit} bytes allowed", member=name)
    if len(data) != info.file_size:
        raise PackageError(
            f"{name}: unpacks to {len(data)} bytes but the zip declares {info.file_size}", member=name
        )
    return data


def _read_manifest(body: bytes) -> dict:
    try:
        manifest = json.loads(body)
        listed = manifest["files"]
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise PackageError(f"not a {FORMAT} package of version {FORMAT_VERSION}")
    except (ValueError, KeyError, TypeError) as e:
        if isinstance(e, PackageError):
            raise
        raise PackageError(f"manifest.json is unreadable ({e})", member="manifest.json") from e
    if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
        raise PackageError("manifest.json: 'files' must map each file name to its sha256 and bytes")
    return listed


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
        by_name = {i.filename: i for i in infos}
        manifest_info = by_name.pop("manifest.json")
        listed = _read_manifest(_read_member(zf, manifest_info, budget))
        budget -= manifest_info.file_size
        if set(listed) != set(by_name):
            raise PackageError("manifest.json does not list exactly the files in the package")
        for name, info in by_name.items():  # declared sizes against the manifest, before unpacking
            if listed[name].get("bytes") != info.file_size:
                raise PackageError(
                    f"{name}: the zip declares {info.file_size} bytes but manifest.json lists "
                    f"{listed[name].get('bytes')}; accepted: members of the size the manifest lists",
                    member=name,
                )
        files: dict[str, bytes] = {}
        for name, info in by_name.items():
            files[name] = _read_member(zf, info, budget)
            budget -= len(files[name])
    for name, body in files.items():
        if listed[name].get("sha256") != hashlib.sha256(body).hexdigest():
            raise PackageError(f"{name}: checksum does not match the manifest", member=name)
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
