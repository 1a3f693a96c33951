"""Cover time spans of a recording with a quiet 1 kHz tone (or silence), in every channel.

Each span is widened by ``margin_s`` on both sides (word timestamps from Whisper are a few tens
of milliseconds off), overlapping spans merge, and the cover is cross-faded in and out over
``fade_ms`` with a raised-cosine ramp that lies outside the widened span, so the widened span
itself is fully replaced and no click is heard at either edge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from anonymise.types import WordRedaction
from anonymise.voice import VoiceSettings

__all__ = ["AnonymiseSettings", "cover_redactions", "merge_spans", "redact_audio"]

logger = logging.getLogger(__name__)

Mode = Literal["tone", "silence"]


class AnonymiseSettings(BaseModel):
    """Anonymisation for the case library: how redacted stretches of a recording are covered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    margin_s: float = Field(
        0.15, ge=0, le=2, description="Seconds added before and after each redacted span."
    )
    estimated_margin_s: float = Field(
        0.5, ge=0, le=5, description="Margin for spans interpolated from a segment without word timings."
    )
    mode: Mode = Field(
        "tone", description="Cover a span with a quiet tone ('tone') or with silence ('silence')."
    )
    tone_hz: float = Field(1000.0, gt=0, le=8000, description="Frequency of the cover tone in Hz.")
    tone_dbfs: float = Field(
        -24.0, le=0, ge=-60, description="Peak level of the cover tone in dB full scale."
    )
    fade_ms: float = Field(10.0, ge=0, le=200, description="Length of the cross-fade at each edge, in ms.")
    voice: VoiceSettings = Field(
        default_factory=VoiceSettings,
        description="Voice disguise (pitch and formant shift) of published case audio, on unless the trainer turns it off.",
    )


def merge_spans(spans: Sequence[tuple[float, float]], margin_s: float) -> list[tuple[float, float]]:
    """Spans widened by ``margin_s`` (never below 0), sorted, with overlapping ones merged."""
    widened = sorted((max(0.0, s - margin_s), e + margin_s) for s, e in spans if e >= s)
    merged: list[tuple[float, float]] = []
    for s, e in widened:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def redact_audio(
    samples: np.ndarray,
    sample_rate: int,
    spans: Sequence[tuple[float, float]],
    margin_s: float = 0.15,
    mode: Mode = "tone",
    *,
    tone_hz: float = 1000.0,
    tone_dbfs: float = -24.0,
    fade_ms: float = 10.0,
) -> np.ndarray:
    """A copy of ``samples`` with every span (seconds) replaced in every channel.

    ``samples`` is ``(n,)`` or ``(channels, n)``; the result has the same shape and is float32.
    """
    if samples.ndim not in (1, 2):
        raise ValueError(f"samples must be (n,) or (channels, n), got shape {samples.shape}")
    if mode not in ("tone", "silence"):
        raise ValueError(f"mode must be 'tone' or 'silence', got {mode!r}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    out = np.array(samples, dtype=np.float32, copy=True)
    view = out[np.newaxis, :] if out.ndim == 1 else out
    n = view.shape[1]
    fade = int(round(fade_ms / 1000 * sample_rate))
    amplitude = 10 ** (tone_dbfs / 20) if mode == "tone" else 0.0
    merged = merge_spans(spans, margin_s)
    for start_s, end_s in merged:
        a, b = int(np.floor(start_s * sample_rate)), int(np.ceil(end_s * sample_rate))
        lo, hi = max(0, a - fade), min(n, b + fade)
        if lo >= hi:
            continue
        idx = np.arange(lo, hi)
        weight = np.ones(hi - lo, dtype=np.float32)
        if fade:
            ramp_in = idx < a
            weight[ramp_in] = 0.5 - 0.5 * np.cos(np.pi * (idx[ramp_in] - (a - fade)) / fade)
            ramp_out = idx >= b
            weight[ramp_out] = 0.5 + 0.5 * np.cos(np.pi * (idx[ramp_out] - b + 1) / fade)
        cover = (amplitude * np.sin(2 * np.pi * tone_hz * idx / sample_rate)).astype(np.float32)
        view[:, lo:hi] = view[:, lo:hi] * (1 - weight) + cover * weight
    logger.debug("covered %d spans (%s) in %d channels", len(merged), mode, view.shape[0])
    return out


def cover_redactions(
    samples: np.ndarray,
    sample_rate: int,
    redactions: Sequence[WordRedaction],
    settings: AnonymiseSettings | None = None,
) -> np.ndarray:
    """:func:`redact_audio` over the spans from :func:`anonymise.redact_transcript`, with the wider
    ``estimated_margin_s`` for spans interpolated from segments without word timings."""
    s = settings or AnonymiseSettings()
    style = {"mode": s.mode, "tone_hz": s.tone_hz, "tone_dbfs": s.tone_dbfs, "fade_ms": s.fade_ms}
    exact = [(r.start_s, r.end_s) for r in redactions if not r.estimated]
    estimated = [(r.start_s, r.end_s) for r in redactions if r.estimated]
    out = redact_audio(samples, sample_rate, exact, s.margin_s, **style)
    return redact_audio(out, sample_rate, estimated, s.estimated_margin_s, **style) if estimated else out
