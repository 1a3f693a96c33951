"""The speech-recognition stage: decoded audio in, time-stamped segments with words out.

Two decoders, one result:

- **batched** (``batch_size > 1``, the default on both devices): faster-whisper's
  ``BatchedInferencePipeline`` decodes up to ``batch_size`` 30-second chunks of speech at once.
  On a stereo call both channels go through one pass: their audio is laid end to end with a
  silent gap and each word is mapped back to its channel, so the two parties' speech fills the
  same batches. On this machine's CPU it decodes about 1.6x
  as fast as the sequential decoder at the same or lower WER (``bench/transcribe.py``). The
  batched decoder keeps its first try at each chunk, so a chunk whose text loops (compression
  ratio over ``LOOP_RATIO``) is decoded again by the sequential one with repeated tokens
  penalised, one channel's part of it at a time.
- **sequential** (``batch_size = 1``): ``WhisperModel.transcribe`` channel by channel.

Either way a call longer than ``block_s`` seconds (a tenth more is let pass) is decoded in blocks
cut at the quietest quarter second near each boundary, every time shifted by its block's start:
with the decoded call read from its file block by block (:mod:`transcription.stream`), memory
does not grow with the call. A shorter call is one block, decoded as a whole.

Either way the voice-activity filter keeps only speech, and segments are split where the words
pause (``pause_split_s``) so that each one is a stretch of talk and the channels interleave.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from transcription.audio import SAMPLE_RATE as _RATE
from transcription.audio import DecodedAudio
from transcription.segments import ChannelSpan, split_at_pauses, split_by_channel
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
    pause_split_s: float = 1.0
    block_s: int = 600
    hotwords: str = ""
    initial_prompt: str = ""
    redecode_loops: bool = True  # batched chunks whose text loops are decoded again sequentially

    @property
    def batched(self) -> bool:
        """The batched pipeline needs the voice-activity filter to find its chunks."""
        return self.batch_size > 1 and self.vad_filter

    def transcribe_kwargs(self, batched: bool | None = None) -> dict[str, Any]:
        """Keyword arguments for ``WhisperModel.transcribe``, or the batched pipeline's when
        ``batched`` (by default: when these options decode batched)."""
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
        if self.batched if batched is None else batched:
            kwargs["batch_size"] = self.batch_size
            kwargs["without_timestamps"] = True  # timestamp tokens cost time and, measured, accuracy
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


ProgressFn = Callable[[float], None]

# faster-whisper's own ``compression_ratio_threshold``: above it the text repeats itself (the
# sequential decoder would retry warmer; the batched one keeps its first try).
LOOP_RATIO = 2.4
_MIN_REDECODE_S = 0.2  # a looped chunk's sliver on one channel shorter than this holds no word
# A looped chunk is decoded again at temperature 0 (beam search, no sampling) with repeated
# tokens penalised: deterministic, and on issue 21's call (ep1-c2-lvs at 8 kHz) better than
# faster-whisper's warmer sampled retries (caller's channel WER 0.68 against 0.78-0.85, varying
# run to run, in less CPU time).
_REDECODE_OPTIONS = {"temperature": 0.0, "repetition_penalty": 1.2}

_CUT_SEARCH_S = 30.0  # a block boundary moves at most this far to find a quiet moment
_CUT_FRAME_S = 0.25
# Silero's window in faster-whisper's voice filter (samples at 16 kHz). A block that starts on a
# multiple of it sees its speech through the same windows as one pass over the call would: a
# block starting 0.125 s off that grid changed a quarter of the words of a sample call.
_VAD_WINDOW = 512


def block_starts(samples: np.ndarray, block_s: float, rate: int = _RATE) -> list[int]:
    """Sample indices where decoding blocks begin: 0, then near every ``block_s`` seconds.

    Each boundary moves to the quietest quarter second (all channels together) within
    ``_CUT_SEARCH_S`` of its target, so a block rarely cuts through a word; where several are
    equally quiet (digital silence), the middle of the longest run of them, so a block neither
    ends where the silence begins nor starts where the next speech does. A call no longer than
    ``1.1 * block_s`` is one block. Every boundary lies on the voice filter's window grid.
    """
    total = samples.shape[-1]
    step = int(block_s * rate)
    if step <= 0 or total <= int(1.1 * step):
        return [0]
    frame = int(_CUT_FRAME_S * rate)
    reach = int(_CUT_SEARCH_S * rate)
    grid = _VAD_WINDOW * rate // _RATE
    starts = [0]
    target = step
    while total - target > step // 10:
        lo, hi = max(starts[-1] + frame, target - reach), min(total - frame, target + reach)
        window = samples[..., lo:hi].reshape(-1, hi - lo).astype(np.float64)
        usable = (hi - lo) // frame * frame
        energy = (window[:, :usable] ** 2).sum(axis=0).reshape(-1, frame).sum(axis=1)
        cut = lo + _middle_of_quietest(energy, (target - lo) // frame) * frame + frame // 2
        cut = round(cut / grid) * grid
        starts.append(cut)
        target = cut + step
    return starts


def _middle_of_quietest(energy: np.ndarray, target: int) -> int:
    """Index of the quietest frame; of a tie, the middle of the longest run of quietest frames
    (of equal runs, the one nearest ``target``)."""
    quiet = np.concatenate(([False], energy == energy.min(), [False]))
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    middles = (starts + ends - 1) // 2
    best = np.lexsort((np.abs(middles - target), -(ends - starts)))[0]
    return int(middles[best])


def _shifted(segment: Segment, by: float) -> Segment:
    """``segment`` and its words ``by`` seconds later."""
    words = tuple(replace(w, start=w.start + by, end=w.end + by) for w in segment.words)
    return replace(segment, start=segment.start + by, end=segment.end + by, words=words)


class Transcriber:
    """Runs one loaded faster-whisper model over decoded calls."""

    def __init__(self, model: Any, options: AsrOptions) -> None:
        self._model = model
        self.options = options
        self._pipeline = None
        if options.batched:
            from faster_whisper import BatchedInferencePipeline

            self._pipeline = BatchedInferencePipeline(model)

    def _decode(
        self,
        samples: np.ndarray,
        progress: ProgressFn | None,
        *,
        batched: bool | None = None,
        redecode: bool = False,
    ) -> tuple[list[Segment], float, list[tuple[float, float]]]:
        """One decoder pass: segments timed within ``samples``, the seconds of speech decoded, and
        the ``(start, end)`` of each batched chunk left out because its text loops.

        ``progress`` gets seconds of ``samples`` finished. ``batched=False`` decodes sequentially
        even when the options batch; ``redecode`` adds ``_REDECODE_OPTIONS`` (a looped chunk).
        """
        batched = self.options.batched if batched is None else batched
        engine = self._pipeline if batched and self._pipeline is not None else self._model
        kwargs = self.options.transcribe_kwargs(batched) | (_REDECODE_OPTIONS if redecode else {})
        raw_segments, info = engine.transcribe(samples, **kwargs)
        segments: list[Segment] = []
        looped: list[tuple[float, float]] = []
        last_end = 0.0
        for raw in raw_segments:  # a generator: decoding happens while we iterate
            text = raw.text.strip()
            if batched and self.options.redecode_loops and raw.compression_ratio > LOOP_RATIO:
                looped.append((float(raw.start), float(raw.end)))
                text = ""
            words = tuple(
                Word(
                    start=float(w.start),
                    end=float(w.end),
                    text=w.word.strip(),
                    probability=float(w.probability),
                )
                for w in (raw.words or ())
                if w.word.strip()
            )
            if text:
                segments.append(
                    Segment(
                        start=float(raw.start),
                        end=float(raw.end),
                        text=text,
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
        return segments, float(speech), looped

    def _redecode(
        self, joint: np.ndarray, looped: list[tuple[float, float]], spans: list[ChannelSpan]
    ) -> list[Segment]:
        """The looped chunks of a batched pass decoded again sequentially, one channel's part at a
        time, timed within ``joint``.

        The batched decoder keeps its first, greedy-or-beam try at a chunk; here the chunk is
        decoded again with repeated tokens penalised (``_REDECODE_OPTIONS``), and cutting it at the
        channels' spans keeps one party's speech from prompting the other's.
        """
        segments: list[Segment] = []
        for start, end in looped:
            for span in spans:
                lo, hi = max(start, span.offset), min(end, span.offset + span.length)
                if hi - lo < _MIN_REDECODE_S:
                    continue
                a, b = int(lo * _RATE), int(hi * _RATE)
                found, _spoken, _ = self._decode(joint[a:b], None, batched=False, redecode=True)
                segments.extend(_shifted(s, a / _RATE) for s in found)
                log.info("re-decoded %.1f s of a looping batched chunk sequentially", hi - lo)
        return segments

    def _sequential(self, audio: DecodedAudio, progress: ProgressFn | None) -> tuple[list[Segment], float]:
        """Each channel on its own through ``WhisperModel.transcribe``, block by block (one block
        unless the call is longer than ``block_s``)."""
        n = audio.channels
        scaled = None if progress is None else (lambda s: progress(s / n))
        starts = block_starts(audio.samples, self.options.block_s)
        bounds = list(zip(starts, [*starts[1:], audio.samples.shape[-1]], strict=True))
        segments: list[Segment] = []
        speech = 0.0
        for index in range(n):
            channel = index if audio.layout == "stereo" else None
            for a, b in bounds:
                span = ChannelSpan(channel, 0.0, float("inf"), a / _RATE)
                found, spoken, _ = self._decode(audio.samples[index][a:b], scaled)
                segments.extend(split_by_channel(s, [span])[0] for s in found)
                speech += spoken
        return segments, speech

    def _batched(self, audio: DecodedAudio, progress: ProgressFn | None) -> tuple[list[Segment], float]:
        """Every channel through one batched pass per block, laid end to end with a silent gap.

        The gap is longer than the voice-activity filter's shortest silence, so no speech region
        spans two channels; a decoder chunk that does is split word by word.
        """
        n = audio.channels
        channel_of = (lambda i: i) if audio.layout == "stereo" else (lambda i: None)
        gap_s = max(2.0, 2 * self.options.vad_min_silence_ms / 1000)
        gap = np.zeros(int(gap_s * _RATE), dtype=np.float32)
        starts = block_starts(audio.samples, self.options.block_s)
        bounds = list(zip(starts, [*starts[1:], audio.samples.shape[-1]], strict=True))
        segments: list[Segment] = []
        speech = 0.0
        for a, b in bounds:
            parts: list[np.ndarray] = []
            spans: list[ChannelSpan] = []
            offset = 0.0
            for index in range(n):
                if parts:
                    parts.append(gap)
                    offset += gap_s
                spans.append(ChannelSpan(channel_of(index), offset, (b - a) / _RATE, a / _RATE))
                parts.append(audio.samples[index][a:b])
                offset += (b - a) / _RATE
            joint = parts[0] if n == 1 else np.concatenate(parts)
            ratio = (b - a) / len(joint)
            scaled = None if progress is None else (lambda s, r=ratio: progress(s * r))
            found, spoken, looped = self._decode(joint, scaled)
            found.extend(self._redecode(joint, looped, spans))
            for segment in found:
                segments.extend(split_by_channel(segment, spans))
            speech += spoken
        return segments, speech

    def transcribe(self, audio: DecodedAudio, progress: ProgressFn | None = None) -> AsrResult:
        """Transcribe every party of ``audio``; ``progress`` gets seconds of the call finished."""
        t0 = time.perf_counter()
        run = self._batched if self.options.batched else self._sequential
        found, speech = run(audio, progress)
        segments = [piece for s in found for piece in split_at_pauses(s, self.options.pause_split_s)]
        segments.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
        elapsed = time.perf_counter() - t0
        log.info(
            "transcribed %.1f s of audio (%d channel(s), %.1f s speech, %s) in %.1f s",
            audio.duration_s,
            audio.channels,
            speech,
            f"batched x{self.options.batch_size}" if self.options.batched else "sequential",
            elapsed,
        )
        return AsrResult(
            segments=tuple(segments),
            language=self.options.language,
            speech_s=speech,
            asr_seconds=elapsed,
            channels_transcribed=audio.channels,
        )
