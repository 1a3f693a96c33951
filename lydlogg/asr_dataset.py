"""Reviewer-corrected segments as a fine-tuning set that Hugging Face ``datasets`` loads directly.

Layout (``audiofolder``): ``DIR/train/metadata.csv`` and one 16 kHz mono WAV clip per segment
beside it, so ``load_dataset("audiofolder", data_dir=DIR)`` gives ``audio`` and ``transcription``
columns with the metadata. Identifiers never leave unchecked; the rule is :func:`release_segment`:

* a corrected text that a reviewer marked free of identifiers (on the call page, migration 28)
  goes out as it is, text and audio;
* every other corrected text goes through the anonymiser: its placeholders replace what it finds,
  and the matching stretch of the clip (placed by the character position within the segment, with
  the anonymiser's wider margin for estimated spans) is covered with the tone.

Reading needs the ``export`` right and is audited; a file that cannot be read is skipped with a
warning and counted, and the export goes on.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from anonymise.audio import AnonymiseSettings, redact_audio
from anonymise.text import apply_redactions, find_identifiers
from lydlogg.access import call_scope, check
from lydlogg.asr_eval import CorrectedSegment, corrected_segments
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.db import connect
from transcription.audio import SAMPLE_RATE, AudioError, decode_audio

__all__ = ["DatasetReport", "ReleasedSegment", "estimated_spans", "export_asr_dataset", "release_segment"]

log = logging.getLogger(__name__)

COLUMNS = [
    "file_name", "transcription", "service", "channel", "model_id", "duration_s",
    "free_of_identifiers", "anonymised",
]  # fmt: skip


@dataclass(frozen=True)
class DatasetReport:
    """What one export wrote: clips, how many of them the anonymiser changed, how many went out as
    they are because a reviewer marked them free of identifiers, and the unreadable files."""

    clips: int
    anonymised: int
    skipped_files: tuple[str, ...]
    folder: Path
    marked_free: int = 0


@dataclass(frozen=True)
class ReleasedSegment:
    """A segment as it may leave: its text and clip, and whether the anonymiser changed them."""

    text: str
    clip: np.ndarray
    anonymised: bool


def estimated_spans(
    text: str, starts_ends: list[tuple[int, int]], duration_s: float
) -> list[tuple[float, float]]:
    """Seconds within a clip for character spans of its text, by the share of characters before them."""
    n = max(len(text), 1)
    return [(duration_s * a / n, duration_s * b / n) for a, b in starts_ends]


def release_segment(
    text: str, clip: np.ndarray, *, free_of_identifiers: bool, anonymise: AnonymiseSettings
) -> ReleasedSegment:
    """The rule for what leaves: a text a reviewer marked free of identifiers goes out as it is
    (text and audio); any other has the anonymiser's placeholders put in its text and the tone over
    the matching stretch of its 16 kHz clip. Pure: no database, no files."""
    if free_of_identifiers:
        return ReleasedSegment(text, clip, anonymised=False)
    found = find_identifiers(text)
    if not found:
        return ReleasedSegment(text, clip, anonymised=False)
    spans = estimated_spans(text, [(r.start, r.end) for r in found], clip.size / SAMPLE_RATE)
    s = anonymise
    covered = redact_audio(clip, SAMPLE_RATE, spans, s.estimated_margin_s, s.mode, tone_hz=s.tone_hz,
                           tone_dbfs=s.tone_dbfs, fade_ms=s.fade_ms)  # fmt: skip
    return ReleasedSegment(apply_redactions(text, found), covered, anonymised=True)


def _clip(samples: np.ndarray, seg: CorrectedSegment, layout: str) -> np.ndarray:
    row = seg.channel if (seg.channel is not None and layout == "stereo") else 0
    a, b = int(seg.start_s * SAMPLE_RATE), int(seg.end_s * SAMPLE_RATE)
    return np.asarray(samples[row, a:b], dtype=np.float32)


def export_asr_dataset(
    db_path: Path, user: User, folder: Path, anonymise: AnonymiseSettings | None = None, *,
    dual_mono_correlation: float = 0.98,
) -> DatasetReport:  # fmt: skip
    """Write every corrected segment as a clip with its text, by :func:`release_segment`'s rule."""
    check(user, "export")
    settings = anonymise or AnonymiseSettings()
    where, params = call_scope(user).where("c")  # the calls of the user's units
    with connect(db_path, read_only=True) as con:
        segments = corrected_segments(con)
        sql = f"SELECT c.call_id FROM calls c WHERE {where}"  # noqa: S608 - constant clauses
        visible = {r[0] for r in con.execute(sql, params).fetchall()}
    segments = [s for s in segments if s.call_id in visible]
    train = Path(folder) / "train"
    train.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    skipped: list[str] = []
    by_path: dict[str, list[CorrectedSegment]] = {}
    for seg in segments:
        by_path.setdefault(seg.audio_path, []).append(seg)
    for path, segs in by_path.items():
        try:
            audio = decode_audio(Path(path), dual_mono_correlation=dual_mono_correlation)
        except (AudioError, OSError) as e:
            log.warning(
                "asr-dataset: skipped %s (%s): its %d segment(s) are not exported", path, e, len(segs)
            )
            skipped.append(path)
            continue
        for seg in segs:
            clip = _clip(audio.samples, seg, audio.layout)
            if clip.size == 0:
                continue
            out = release_segment(
                seg.corrected_text, clip, free_of_identifiers=seg.free_of_identifiers, anonymise=settings
            )
            name = f"{seg.call_id}-{seg.transcript_id[:8]}-{seg.segment_index:04d}.wav"
            sf.write(str(train / name), out.clip, SAMPLE_RATE, subtype="PCM_16")
            rows.append(
                {
                    "file_name": name,
                    "transcription": out.text,
                    "service": seg.service or "",
                    "channel": "" if seg.channel is None else seg.channel,
                    "model_id": seg.model_id,
                    "duration_s": round(out.clip.size / SAMPLE_RATE, 3),
                    "free_of_identifiers": seg.free_of_identifiers,
                    "anonymised": out.anonymised,
                }
            )
    with open(train / "metadata.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    anonymised = sum(r["anonymised"] for r in rows)
    marked = sum(r["free_of_identifiers"] for r in rows)
    with connect(db_path) as con:
        record(con, user.username, "export", "asr_dataset", None,
               f"{len(rows)} clips, {anonymised} anonymised, {marked} marked free of identifiers")  # fmt: skip
    return DatasetReport(len(rows), anonymised, tuple(skipped), Path(folder), marked)
