"""The speech-recognition stage: decoded audio in, time-stamped segments with words out.

Stereo calls are transcribed channel by channel (one party per channel). With the voice-activity
filter on, faster-whisper decodes only each channel's speech regions, so a stereo call costs
about what its mono mix-down costs: each channel is mostly silent while the other party talks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from transcription.audio import DecodedAudio
from transcription.types import Segment, Word

__all__ = ["AsrOptions", "AsrResult", "Transcriber"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsrOptions:
    """Decoding options that shape the output; their hash keys cached results."""

    language: str = "no"
    beam_size: int = 5
    vad_filter: bool = True
    vad_min_silence_ms: int = 1000
    word_timestamps: bool = True
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 8
    hotwords: str = ""
    initial_prompt: str = ""

    @property
    def batched(self) -> bool:
        return self.device == "cuda"

    def transcribe_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``WhisperModel.transcribe`` (and the batched pipeline)."""
        kwargs: dict[str, Any] = {
            "language": self.language,
            "task": "transcribe",
            "beam_size": self.beam_size,
            "word_timestamps": self.word_timestamps,
            "vad_filter": self.vad_filter,
        }
        if self.vad_filter:
            kwargs["vad_parameters"] = {"min_silence_duration_ms": self.vad_min_silence_ms}
        if self.hotwords:
            kwargs["hotwords"] = self.hotwords
        if self.initial_prompt:
            kwargs["initial_prompt"] = self.initial_prompt
        if self.batched:
            kwargs["batch_size"] = self.batch_size
        return kwargs

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hash(self) -> str:
        """Short stable hash of every option that can change the transcript."""
        payload = json.dumps(self.as_dict(), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


@dataclass(frozen=True)
class AsrResult:
    """All channels' segments in time order, with how much speech was decoded."""

    segments: tuple[Segment, ...]
    language: str
    speech_s: float
    asr_seconds: float
    channels_transcribed: int
    channel_speech_s: tuple[float, ...] = field(default_factory=tuple)


ProgressFn = Callable[[float], None]


class Transcriber:
    """Runs one loaded faster-whisper model over decoded calls."""

    def __init__(self, model: Any, options: AsrOptions) -> None:
        self._model = model
        self.options = options
        self._pipeline = None
        if options.batched:
            from faster_whisper import BatchedInferencePipeline

            self._pipeline = BatchedInferencePipeline(model)

    def _run_channel(
        self, samples: np.ndarray, channel: int | None, progress: ProgressFn | None
    ) -> tuple[list[Segment], float]:
        engine = self._pipeline or self._model
        raw_segments, info = engine.transcribe(samples, **self.options.transcribe_kwargs())
        segments: list[Segment] = []
        last_end = 0.0
        for raw in raw_segments:  # a generator: decoding happens while we iterate
            words = tuple(
                Word(
                    start=float(w.start),
                    end=float(w.end),
                    text=w.word.strip(),
                    probability=float(w.probability),
                    channel=channel,
                )
                for w in (raw.words or ())
                if w.word.strip()
            )
            text = raw.text.strip()
            if not text:
                continue
            segments.append(
                Segment(
                    start=float(raw.start),
                    end=float(raw.end),
                    text=text,
                    channel=channel,
                    words=words,
                    avg_logprob=float(raw.avg_logprob),
                    no_speech_prob=float(raw.no_speech_prob),
                )
            )
            if progress is not None and raw.end > last_end:
                progress(float(raw.end) - last_end)
                last_end = float(raw.end)
        if progress is not None:
            progress(max(0.0, float(info.duration) - last_end))
        speech = info.duration_after_vad if info.duration_after_vad is not None else info.duration
        return segments, float(speech)

    def transcribe(self, audio: DecodedAudio, progress: ProgressFn | None = None) -> AsrResult:
        """Transcribe every party of ``audio``; ``progress`` gets seconds of audio finished.

        Progress is counted per channel and scaled so that a call adds up to its duration.
        """
        t0 = time.perf_counter()
        n = audio.channels
        scaled = None if progress is None else (lambda s: progress(s / n))
        segments: list[Segment] = []
        speech: list[float] = []
        for index in range(n):
            channel = index if audio.layout == "stereo" else None
            found, speech_s = self._run_channel(audio.samples[index], channel, scaled)
            segments.extend(found)
            speech.append(speech_s)
        segments.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
        elapsed = time.perf_counter() - t0
        log.info(
            "transcribed %.1f s of audio (%d channel(s), %.1f s speech) in %.1f s",
            audio.duration_s,
            n,
            sum(speech),
            elapsed,
        )
        return AsrResult(
            segments=tuple(segments),
            language=self.options.language,
            speech_s=sum(speech),
            asr_seconds=elapsed,
            channels_transcribed=n,
            channel_speech_s=tuple(speech),
        )
