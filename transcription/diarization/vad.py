"""Speech regions of one channel: the Silero detector faster-whisper ships, or frame energy.

Both run block by block over the call, so memory stays bounded however long the call is.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

__all__ = ["channel_level_dbfs", "energy_regions", "speech_regions"]

log = logging.getLogger(__name__)

_FRAME = 480  # 30 ms at 16 kHz
_MIN_GAP_S = 0.3  # pauses shorter than this join two regions
_MIN_REGION_S = 0.2


def _frame_db(samples: np.ndarray) -> np.ndarray:
    n = len(samples) // _FRAME
    if n == 0:
        return np.zeros(0)
    frames = samples[: n * _FRAME].reshape(n, _FRAME).astype(np.float32)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / _FRAME
    return 10 * np.log10(power + 1e-12)


def channel_level_dbfs(samples: np.ndarray, sample_rate: int = 16_000, block_s: float = 600.0) -> float:
    """The loudest 30 ms frame of a channel in dBFS (about -120 for digital silence)."""
    step = max(_FRAME, int(block_s * sample_rate) // _FRAME * _FRAME)
    best = -120.0
    for i in range(0, len(samples), step):
        db = _frame_db(samples[i : i + step])
        if len(db):
            best = max(best, float(db.max()))
    return best


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end index of each run of True."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def energy_regions(samples: np.ndarray, sample_rate: int = 16_000) -> list[tuple[float, float]]:
    """Regions where frame energy is 15 dB over the block's noise floor (and above -55 dBFS)."""
    db = _frame_db(samples)
    if not len(db):
        return []
    floor = float(np.percentile(db, 10))
    threshold = max(floor + 15.0, -55.0)
    frame_s = _FRAME / sample_rate
    return [(a * frame_s, b * frame_s) for a, b in _runs(db > threshold)]


def _silero_regions(samples: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=int(_MIN_GAP_S * 1000), speech_pad_ms=30)
    stamps = get_speech_timestamps(np.ascontiguousarray(samples, dtype=np.float32), options)
    return [(s["start"] / sample_rate, s["end"] / sample_rate) for s in stamps]


def _tidy(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(regions):
        if merged and start - merged[-1][1] < _MIN_GAP_S:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return [(a, b) for a, b in merged if b - a >= _MIN_REGION_S]


def speech_regions(
    samples: np.ndarray,
    method: Literal["silero", "energy"],
    *,
    sample_rate: int = 16_000,
    block_s: float = 600.0,
) -> list[tuple[float, float]]:
    """Speech regions (seconds) of a 1-D channel, found block by block and joined across blocks."""
    step = max(_FRAME, int(block_s * sample_rate) // _FRAME * _FRAME)
    found: list[tuple[float, float]] = []
    for i in range(0, len(samples), step):
        block = samples[i : i + step]
        offset = i / sample_rate
        regions = (
            _silero_regions(block, sample_rate) if method == "silero" else energy_regions(block, sample_rate)
        )
        found.extend((offset + a, offset + b) for a, b in regions)
    regions = _tidy(found)
    log.debug("%d speech regions, %.1f s of speech", len(regions), sum(b - a for a, b in regions))
    return regions
