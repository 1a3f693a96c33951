"""Voice disguise for case audio: the pitch and the formants of every voice are moved.

Covering names with a tone (:mod:`anonymise.audio`) leaves the voices, and in a small community a
caller or a colleague is recognised by their voice. This module re-synthesises speech with the
WORLD vocoder (``pyworld``, MIT): each block of the signal is analysed into its fundamental
frequency (F0), spectral envelope and aperiodicity; F0 is scaled by ``pitch_semitones`` and the
envelope is stretched along the frequency axis by ``formant_ratio`` (the vocal tract's resonances
move with it), and the block is synthesised again. Pitch and formants moved together change the
perceived speaker far more than pitch alone (which sounds like the same person, sped up), while
the words stay intelligible: see *Voice disguise* in the README for the measured figures.

A fixed, documented shift can in part be undone by someone who knows it: the disguise makes a
voice harder to recognise, it does not make a recording anonymous. Pure numpy and pyworld; no
file is read or written here.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["VoiceSettings", "disguise_voice", "warp_envelope"]

logger = logging.getLogger(__name__)


class VoiceSettings(BaseModel):
    """How published case audio is disguised (when the trainer leaves the disguise on)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pitch_semitones: float = Field(
        4.0,
        ge=-12,
        le=12,
        description="Shift of every voice's pitch (F0), in semitones; negative lowers it.",
    )
    formant_ratio: float = Field(
        1.2,
        ge=0.6,
        le=1.6,
        description=(
            "Factor the spectral envelope is stretched by along the frequency axis: below 1 moves the "
            "formants down (a longer vocal tract), above 1 up. 1 keeps them."
        ),
    )
    f0_method: Literal["dio", "harvest"] = Field(
        "dio",
        description="WORLD's F0 estimator: `dio` (fast) or `harvest` (slower, fewer voicing errors).",
    )
    frame_period_ms: float = Field(5.0, gt=1, le=20, description="WORLD analysis frame step, in ms.")
    block_s: float = Field(
        20.0,
        ge=2,
        le=120,
        description="Audio is disguised in blocks of this many seconds, so memory stays flat on long calls.",
    )


def warp_envelope(envelope: np.ndarray, ratio: float) -> np.ndarray:
    """The spectral envelope (frames x bins) stretched along frequency by ``ratio``.

    Output bin ``k`` takes the input's value at bin ``k / ratio`` (linear interpolation; above the
    input's top the last bin is held), so a resonance at bin ``b`` moves to ``b * ratio``.
    """
    if ratio <= 0:
        raise ValueError(f"formant ratio must be positive, got {ratio}")
    bins = envelope.shape[1]
    source = np.arange(bins) / ratio
    lo = np.clip(np.floor(source).astype(int), 0, bins - 1)
    hi = np.clip(lo + 1, 0, bins - 1)
    frac = np.clip(source - lo, 0.0, 1.0)[np.newaxis, :]
    warped = envelope[:, lo] * (1 - frac) + envelope[:, hi] * frac
    return np.ascontiguousarray(np.maximum(warped, np.finfo(np.float64).tiny))


@lru_cache(maxsize=1)
def _world() -> ModuleType:
    """pyworld's compiled module. Its package ``__init__`` (0.3.5, the newest release) imports
    ``pkg_resources`` only to read its own version, and setuptools 81 removed that module, so the
    extension is loaded from the installed package's folder without running the ``__init__``."""
    name = "pyworld.pyworld"
    if name in sys.modules:
        return sys.modules[name]
    package = importlib.util.find_spec("pyworld")
    if package is None or not package.submodule_search_locations:
        raise ImportError("voice disguise needs pyworld: pip install pyworld==0.3.5 (a main dependency)")
    for folder in package.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"pyworld{suffix}"
            spec = importlib.util.spec_from_file_location(name, path)
            if not path.is_file() or spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
            return module
    raise ImportError(f"pyworld's compiled module is not in {list(package.submodule_search_locations)}")


def _disguise_block(x: np.ndarray, rate: int, s: VoiceSettings) -> np.ndarray:
    pyworld = _world()
    if not np.any(x):
        return x.copy()
    if s.f0_method == "harvest":
        f0, t = pyworld.harvest(x, rate, frame_period=s.frame_period_ms)
    else:
        f0, t = pyworld.dio(x, rate, frame_period=s.frame_period_ms)
        f0 = pyworld.stonemask(x, f0, t, rate)
    envelope = pyworld.cheaptrick(x, f0, t, rate)
    aperiodicity = pyworld.d4c(x, f0, t, rate)
    shifted_f0 = np.ascontiguousarray(f0 * 2 ** (s.pitch_semitones / 12))
    y = pyworld.synthesize(shifted_f0, warp_envelope(envelope, s.formant_ratio), aperiodicity, rate,
                           s.frame_period_ms)  # fmt: skip
    out = np.zeros_like(x)
    n = min(len(x), len(y))
    out[:n] = y[:n]
    return out


def _disguise_channel(
    x: np.ndarray, rate: int, s: VoiceSettings, done: Callable[[int], None] = lambda n: None
) -> np.ndarray:
    """One channel, block by block, neighbouring blocks cross-faded over a short overlap;
    ``done`` is told the samples finished after each block."""
    block = int(s.block_s * rate)
    overlap = min(int(0.05 * rate), block // 4)
    if len(x) <= block:
        y = _disguise_block(x, rate, s)
        done(len(x))
        return y
    out = np.zeros_like(x)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)
    start = 0
    while start < len(x):
        end = min(len(x), start + block + overlap)
        y = _disguise_block(np.ascontiguousarray(x[start:end]), rate, s)
        weight = np.ones(end - start)
        if start > 0:
            weight[:overlap] = ramp
        if end < len(x):
            weight[-overlap:] = ramp[::-1]
        out[start:end] += y * weight
        done(min(block, len(x) - start))
        start += block
    return out


def disguise_voice(
    samples: np.ndarray,
    sample_rate: int,
    settings: VoiceSettings | None = None,
    *,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """A disguised copy of ``samples`` (``(n,)`` or ``(channels, n)``), float32, same shape.

    Every channel is disguised on its own; the peak level never rises above the input's (or 1.0).
    ``progress`` is called with the share done (0-1] after each block (a long call takes about
    half a minute per minute of stereo audio on two cores).
    """
    s = settings or VoiceSettings()
    if samples.ndim not in (1, 2):
        raise ValueError(f"samples must be (n,) or (channels, n), got shape {samples.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    src = np.asarray(samples, dtype=np.float64)
    view = src[np.newaxis, :] if src.ndim == 1 else src
    total, finished = max(view.size, 1), [0]

    def done(n: int) -> None:
        finished[0] += n
        if progress is not None:
            progress(min(1.0, finished[0] / total))

    out = np.stack([_disguise_channel(np.ascontiguousarray(ch), sample_rate, s, done) for ch in view])
    peak_in = float(np.max(np.abs(view))) if view.size else 0.0
    peak_out = float(np.max(np.abs(out))) if out.size else 0.0
    limit = min(1.0, peak_in)
    if peak_out > limit > 0:
        out *= limit / peak_out
    logger.debug("disguised %d channels (%+.1f semitones, formants x%.2f)", len(view),
                 s.pitch_semitones, s.formant_ratio)  # fmt: skip
    result = out.astype(np.float32)
    return result[0] if samples.ndim == 1 else result
