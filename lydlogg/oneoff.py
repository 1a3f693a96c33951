"""One-off transcription without a database: files in, transcript files out.

The same stages as ``lydlogg process`` (decode -> ASR -> diarization -> roles) for a trainer who
just wants one transcript. Nothing is stored but the files written; a file that fails is reported
and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lydlogg.batch import asr_options
from lydlogg.settings import Settings
from transcription import AudioError, Transcriber, decode_audio, load_model, resolve_model
from transcription.diarization import DiarizationSettings, diarize, label
from transcription.formats import TRANSCRIPT_FORMATS, render
from transcription.types import Transcript

__all__ = ["OneOffReport", "transcribe_files"]

log = logging.getLogger(__name__)


@dataclass
class OneOffReport:
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _names(files: Sequence[Path]) -> list[str]:
    """Output stems: the file's own, numbered where two inputs share one."""
    seen: dict[str, int] = {}
    out = []
    for f in files:
        stem = Path(f).stem
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out


def transcribe_files(
    settings: Settings, files: Sequence[Path], out_dir: Path, formats: Sequence[str]
) -> OneOffReport:
    """Transcribe ``files`` and write each in ``formats`` to ``out_dir`` as ``<stem>.<ext>``."""
    unknown = [f for f in formats if f not in TRANSCRIPT_FORMATS]
    if unknown:
        raise ValueError(f"format(s) {', '.join(unknown)} not one of {', '.join(TRANSCRIPT_FORMATS)}")
    spec = resolve_model(settings.asr.model, models_dir=settings.asr.models_dir, offline=settings.asr.offline)
    options = asr_options(settings)
    model = load_model(
        spec, device=options.device, compute_type=options.compute_type, cpu_threads=settings.asr.cpu_threads
    )
    transcriber = Transcriber(model, options)
    diarization_settings = getattr(settings, "diarization", None) or DiarizationSettings()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = OneOffReport()
    for path, name in zip(files, _names(files), strict=True):
        try:
            audio = decode_audio(
                Path(path),
                dual_mono_correlation=settings.audio.dual_mono_correlation,
                block_s=options.block_s,
            )
            result = transcriber.transcribe(audio)
        except (AudioError, OSError, RuntimeError, ValueError, MemoryError) as e:
            reason = str(e) if isinstance(e, AudioError) else f"{path}: {type(e).__name__}: {e}"
            log.warning("transcribe failed: %s", reason)
            report.failures.append(reason)
            continue
        segments, turns = result.segments, []
        try:
            found = diarize(audio, diarization_settings, getattr(settings, "pyannote", None))
            segments, turns = label(result.segments, found, diarization_settings).segments, list(found.turns)
        except (ValueError, RuntimeError, OSError, MemoryError) as e:
            log.warning("%s: diarization failed, transcript kept without speakers: %s", path, e)
        transcript = Transcript(call_id=name, language=result.language, segments=tuple(segments))
        for fmt in formats:
            target = out_dir / f"{name}.{fmt}"
            target.write_text(render(transcript, fmt, turns), encoding="utf-8")
            report.written.append(target)
    return report
