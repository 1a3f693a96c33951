"""Reviewer-corrected segments as a fine-tuning set that Hugging Face ``datasets`` loads directly.

Layout (``audiofolder``): ``DIR/train/metadata.csv`` and one 16 kHz mono WAV clip per segment
beside it, so ``load_dataset("audiofolder", data_dir=DIR)`` gives ``audio`` and ``transcription``
columns with the metadata. Identifiers are never exported: the anonymiser runs on every corrected
text, its placeholders replace what it finds, and the matching stretch of the clip (placed by the
character position within the segment, with the anonymiser's wider margin for estimated spans) is
covered with the tone. Reading needs the ``export`` right and is audited; a file that cannot be
read is skipped with a warning and counted, and the export goes on.
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

__all__ = ["DatasetReport", "export_asr_dataset", "estimated_spans"]

log = logging.getLogger(__name__)

COLUMNS = ["file_name", "transcription", "service", "channel", "model_id", "duration_s", "anonymised"]


@dataclass(frozen=True)
class DatasetReport:
    clips: int
    anonymised: int
    skipped_files: tuple[str, ...]
    folder: Path


def estimated_spans(
    text: str, starts_ends: list[tuple[int, int]], duration_s: float
) -> list[tuple[float, float]]:
    """Seconds within a clip for character spans of its text, by the share of characters before them."""
    n = max(len(text), 1)
    return [(duration_s * a / n, duration_s * b / n) for a, b in starts_ends]


def _clip(samples: np.ndarray, seg: CorrectedSegment, layout: str) -> np.ndarray:
    row = seg.channel if (seg.channel is not None and layout == "stereo") else 0
    a, b = int(seg.start_s * SAMPLE_RATE), int(seg.end_s * SAMPLE_RATE)
    return np.asarray(samples[row, a:b], dtype=np.float32)


def export_asr_dataset(
    db_path: Path, user: User, folder: Path, anonymise: AnonymiseSettings | None = None, *,
    dual_mono_correlation: float = 0.98,
) -> DatasetReport:  # fmt: skip
    """Write every corrected segment as an anonymised clip with its anonymised text."""
    check(user, "export")
    s = anonymise or AnonymiseSettings()
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
            found = find_identifiers(seg.corrected_text)
            text = apply_redactions(seg.corrected_text, found) if found else seg.corrected_text
            if found:
                spans = estimated_spans(
                    seg.corrected_text, [(r.start, r.end) for r in found], clip.size / SAMPLE_RATE
                )
                clip = redact_audio(clip, SAMPLE_RATE, spans, s.estimated_margin_s, s.mode, tone_hz=s.tone_hz,
                                    tone_dbfs=s.tone_dbfs, fade_ms=s.fade_ms)  # fmt: skip
            name = f"{seg.call_id}-{seg.transcript_id[:8]}-{seg.segment_index:04d}.wav"
            sf.write(str(train / name), clip, SAMPLE_RATE, subtype="PCM_16")
            rows.append(
                {
                    "file_name": name,
                    "transcription": text,
                    "service": seg.service or "",
                    "channel": "" if seg.channel is None else seg.channel,
                    "model_id": seg.model_id,
                    "duration_s": round(clip.size / SAMPLE_RATE, 3),
                    "anonymised": bool(found),
                }
            )
    with open(train / "metadata.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with connect(db_path) as con:
        record(con, user.username, "export", "asr_dataset", None,
               f"{len(rows)} clips, {sum(r['anonymised'] for r in rows)} anonymised")  # fmt: skip
    return DatasetReport(len(rows), sum(r["anonymised"] for r in rows), tuple(skipped), Path(folder))
