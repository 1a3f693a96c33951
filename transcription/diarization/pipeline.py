"""Choosing and running a diarization strategy on one decoded call.

``auto`` takes the channels of a true-stereo call as its parties; a mono or dual-mono call goes
to pyannote when it is configured and loads (``pyannote_adapter.diarize_pyannote``, imported only
then; a failed import or missing weights count as not available), else to the speaker-embedding
method when its optional extra is installed (``embeddings.diarize_embeddings``: measured better
than the built-in method on telephone-like mono audio, docs/mono_diarization.md), else to the
built-in method. Asked for by name, ``embeddings`` without its extra is a
:class:`DiarizationError` saying how to install it. A stereo call with one silent channel is read
as a mono call of the live channel. The strategy that ran is on the
result, with notes (in Norwegian, for the reviewer) on anything unusual.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np

from transcription.audio import SAMPLE_RATE, DecodedAudio
from transcription.diarization.builtin import diarize_builtin
from transcription.diarization.settings import DiarizationSettings
from transcription.diarization.types import Diarization, SpeakerTurn
from transcription.diarization.vad import channel_level_dbfs, speech_regions

__all__ = ["DiarizationError", "diarize", "diarize_channels"]

log = logging.getLogger(__name__)


class DiarizationError(ValueError):
    """Audio the diarization stage cannot read; the message says what is accepted."""


def diarize_channels(samples: np.ndarray, settings: DiarizationSettings) -> Diarization:
    """One speaker per channel of a (2, n) true-stereo call: channel 0 is S1, channel 1 is S2."""
    turns: list[SpeakerTurn] = []
    for channel in range(samples.shape[0]):
        speaker = f"S{channel + 1}"
        regions = speech_regions(
            samples[channel], settings.vad, sample_rate=SAMPLE_RATE, block_s=settings.block_s
        )
        turns.extend(SpeakerTurn(a, b, speaker) for a, b in regions)
    turns.sort(key=lambda t: (t.start, t.speaker))
    mapping = tuple((c, f"S{c + 1}") for c in range(samples.shape[0]))
    return Diarization("channels", tuple(turns), channel_speakers=mapping)


def _mono(
    samples: np.ndarray, settings: DiarizationSettings, notes: tuple[str, ...], pyannote: Any | None
) -> Diarization:
    configured = pyannote is not None and bool(getattr(pyannote, "pipeline", ""))
    fell_back = False
    if settings.strategy == "pyannote" or (settings.strategy == "auto" and configured):
        try:
            from transcription.diarization.pyannote_adapter import PyannoteSettings, diarize_pyannote

            count = {"num_speakers": settings.num_speakers}
            if settings.num_speakers is None:
                count = {"min_speakers": 1, "max_speakers": settings.max_speakers}
            result = diarize_pyannote(samples, SAMPLE_RATE, pyannote or PyannoteSettings(), **count)
        except (ImportError, OSError, RuntimeError, ValueError, LookupError) as e:
            log.warning("pyannote not available (%s); using a mono method without it", type(e).__name__)
            fell_back = True
        else:
            return replace(result, notes=(*result.notes, *notes))
    if settings.strategy in ("embeddings", "auto"):
        from transcription.diarization.embeddings import EmbeddingsUnavailable, diarize_embeddings

        try:
            extra = ("pyannote ikke tilgjengelig: stemmeprofiler brukt",) if fell_back else ()
            return diarize_embeddings(samples, settings, (*notes, *extra))
        except EmbeddingsUnavailable as e:
            if settings.strategy == "embeddings":
                raise DiarizationError(str(e)) from e
            log.debug("speaker embeddings not installed; using the built-in method")
    extra = ("pyannote ikke tilgjengelig: innebygd metode brukt",) if fell_back else ()
    return diarize_builtin(samples, settings, (*notes, *extra))


def join_turns(turns: tuple[SpeakerTurn, ...], max_pause_s: float) -> tuple[SpeakerTurn, ...]:
    """Join a speaker's consecutive turns across pauses up to ``max_pause_s`` when nobody else talks."""
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    out: list[SpeakerTurn] = []
    last_end: dict[str, int] = {}  # speaker -> index in ``out`` of their latest turn
    for turn in ordered:
        j = last_end.get(turn.speaker)
        if j is not None:
            prev = out[j]
            others = max((t.end for t in out[j + 1 :] if t.speaker != turn.speaker), default=float("-inf"))
            if turn.start - prev.end <= max_pause_s and others <= prev.end:
                out[j] = SpeakerTurn(prev.start, max(prev.end, turn.end), turn.speaker)
                continue
        out.append(turn)
        last_end[turn.speaker] = len(out) - 1
    return tuple(out)


def diarize(audio: DecodedAudio, settings: DiarizationSettings, pyannote: Any | None = None) -> Diarization:
    """Who spoke when in ``audio``, by the strategy ``settings`` asks for (see the module text).

    ``pyannote`` is the ``PyannoteSettings`` of the pyannote adapter (its ``pipeline`` set means
    configured); pyannote is imported only when a mono call is to go to it.
    """
    result = _diarize(audio, settings, pyannote)
    return replace(result, turns=join_turns(result.turns, settings.join_pause_s))


def _diarize(audio: DecodedAudio, settings: DiarizationSettings, pyannote: Any | None) -> Diarization:
    samples = audio.samples
    if samples.ndim != 2 or samples.shape[0] not in (1, 2) or samples.shape[1] == 0:
        shape = "x".join(str(d) for d in samples.shape)
        raise DiarizationError(
            f"audio of shape {shape}: expected 16 kHz samples shaped (channels, samples) with one "
            "channel (mono or dual-mono) or two (true stereo, one party per channel)"
        )
    if samples.shape[0] == 2:
        levels = [channel_level_dbfs(samples[c], SAMPLE_RATE, settings.block_s) for c in (0, 1)]
        live = [c for c in (0, 1) if levels[c] > settings.silent_channel_dbfs]
        if not live:
            return Diarization("channels", (), notes=("begge kanalene er stille",))
        if len(live) == 1:
            silent = 1 - live[0]
            log.info("channel %d is silent (%.0f dBFS); reading the call as mono", silent, levels[silent])
            note = f"kanal {silent} er stille: samtalen er lest som mono fra kanal {live[0]}"
            return _mono(samples[live[0]], settings, (note,), pyannote)
        if settings.strategy in ("auto", "channels"):
            return diarize_channels(samples, settings)
        mix = samples.mean(axis=0, dtype=np.float32)
        return _mono(mix, settings, (f"stereo lest som mono ({settings.strategy})",), pyannote)
    notes: tuple[str, ...] = ()
    if settings.strategy == "channels":
        notes = ("kanalstrategien krever ekte stereo: mono-metode brukt",)
    return _mono(samples[0], settings, notes, pyannote)
