"""Long recordings read from their file block by block, so memory does not grow with the call.

A call longer than one decoding block (``asr.block_s``) is not decoded into one array.
:func:`open_streamed` reads the file once to learn its exact length and, for two channels,
whether they carry one signal; it returns :class:`StreamedSamples`, which decodes the stretch a
stage asks for when it asks and keeps only that stretch. Every stage of ``lydlogg process`` already
reads a call in blocks (the recogniser's quiet-cut blocks, diarization's ``block_s`` blocks and
speech regions), so the most held at once is about one block, not the call.

The samples are those :func:`transcription.audio.decode_audio` would hold for the same stretch:
the same decoder, the same dual-mono mix, the same polyphase resampling to 16 kHz (each stretch is
resampled with enough of the file on either side that the filter sees what it would see in the
whole file) and the same clipping. Only the dual-mono test differs in arithmetic: the channels'
correlation is summed piece by piece instead of over one array.

Reading moves forward through the file; asking for a stretch before the last one decoded starts
over from the beginning (or seeks, for PCM and G.711 whose positions are exact). A stage's pass is
forward, so a call is decoded about once per pass.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from math import gcd
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from transcription.audio import (
    SAMPLE_RATE,
    AudioError,
    AudioInfo,
    DecodedAudio,
    native_chunks,
)
from transcription.types import Layout

__all__ = ["StreamedSamples", "open_streamed"]

log = logging.getLogger(__name__)

# libsndfile subtypes whose seek lands on the exact frame (fixed-size frames, no decoder state).
_EXACT_SEEK = frozenset({"PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "ULAW", "ALAW"})
_SEEK_AHEAD = 1 << 16  # a seekable file skips forward by seeking when a stretch starts this far on


class _FileReader:
    """Frames ``[i0, i1)`` of a file at its own rate, (channels, n) float32, zeros outside it.

    Holds the generator of the file's pieces and the decoded frames from the start of the last
    stretch asked for; a stretch that starts earlier starts the file again.
    """

    def __init__(self, info: AudioInfo, frames: int) -> None:
        self._info = info
        self.frames = frames
        self.channels = info.channels
        self._seekable = info.decoder == "libsndfile" and (info.subtype or "") in _EXACT_SEEK
        self._pieces: Iterator[np.ndarray] | None = None
        self._pos = 0  # file frame of self._held[:, 0]
        self._held = np.zeros((self.channels, 0), dtype=np.float32)

    def _start(self, at: int) -> None:
        if self._pieces is not None:
            self._pieces.close()  # type: ignore[attr-defined]
        start = at if self._seekable else 0
        self._pieces = native_chunks(self._info, start=start)
        self._pos = start
        self._held = np.zeros((self.channels, 0), dtype=np.float32)

    def read(self, i0: int, i1: int) -> np.ndarray:
        out = np.zeros((self.channels, max(0, i1 - i0)), dtype=np.float32)
        lo, hi = max(i0, 0), min(i1, self.frames)
        if lo >= hi:
            return out
        held_end = self._pos + self._held.shape[1]
        if self._pieces is None or lo < self._pos or (self._seekable and lo > held_end + _SEEK_AHEAD):
            self._start(lo)
        drop = min(max(0, lo - self._pos), self._held.shape[1])
        self._held, self._pos = self._held[:, drop:], self._pos + drop
        pieces = [self._held]
        end = self._pos + self._held.shape[1]
        assert self._pieces is not None
        while end < hi:
            piece = next(self._pieces, None)
            if piece is None:
                break
            if end < lo:  # nothing held: frames before the stretch are passed over
                skip = min(lo - end, piece.shape[1])
                piece, end = piece[:, skip:], end + skip
                self._pos = end
            pieces.append(piece)
            end += piece.shape[1]
        self._held = np.concatenate(pieces, axis=1) if len(pieces) > 1 else self._held
        got = self._held[:, : hi - self._pos]
        out[:, self._pos - i0 : self._pos - i0 + got.shape[1]] = got
        return out


class StreamedSamples:
    """A call's 16 kHz float32 samples, shaped (channels, samples), decoded as they are read.

    It answers the reads the stages make of a decoded array: ``shape``, ``ndim``, ``dtype``,
    ``x[..., a:b]`` / ``x[:, a:b]`` (every channel), ``x[c, a:b]``, ``x[c]`` (one channel, itself
    read by slices) and ``x.mean(axis=0)`` (the channels mixed, read by slices). Each slice is a new
    read-only array of just that stretch; the last stretch is kept, so reading each channel of one
    block decodes it once. ``numpy.asarray(x)`` reads the whole call into memory (logged), for the
    one stage that takes whole audio (a configured pyannote pipeline).
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, reader: _FileReader, rate: int, mix_channels: bool, name: str) -> None:
        self._reader, self._rate, self._mix, self._name = reader, rate, mix_channels, name
        g = gcd(rate, SAMPLE_RATE)
        self._up, self._down = SAMPLE_RATE // g, rate // g
        total = reader.frames * self._up
        length = total // self._down + bool(total % self._down)
        self.shape = (1 if mix_channels else reader.channels, length)
        # half the length of scipy's resampling filter (10 taps a rate step), in file frames
        self._reach = 10 * max(self._up, self._down) // self._up + 2
        self._last: tuple[int, int, np.ndarray] | None = None

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, a: int, b: int) -> np.ndarray:
        """Samples ``[a, b)`` of every channel, (channels, b - a), read-only."""
        a, b = max(0, a), min(max(a, b), self.shape[1])
        if self._last is not None and self._last[:2] == (a, b):
            return self._last[2]
        if self._up == self._down:
            samples = self._mixed(self._reader.read(a, b))
        else:
            # A stretch starting at a multiple of ``down`` file frames lines up with whole output
            # samples, and ``reach`` frames either side let the filter see what it sees in the file.
            i0 = (a * self._down // self._up - self._reach) // self._down * self._down
            i1 = -(-b * self._down // self._up) + self._reach
            part = resample_poly(self._mixed(self._reader.read(i0, i1)), self._up, self._down, axis=1)
            offset = i0 * self._up // self._down
            samples = part[:, a - offset : b - offset].astype(np.float32, copy=False)
        samples = np.ascontiguousarray(samples)
        np.clip(samples, -1.0, 1.0, out=samples)
        samples.flags.writeable = False
        self._last = (a, b, samples)
        return samples

    def _mixed(self, frames: np.ndarray) -> np.ndarray:
        return frames.mean(axis=0, keepdims=True, dtype=np.float32) if self._mix else frames

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, np.integer)):
            return _Channel(self, int(key))
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], slice):
            first, span = key
            a, b = _bounds(span, self.shape[1])
            if first is Ellipsis or first == slice(None):
                return self.read(a, b)
            if isinstance(first, (int, np.integer)):
                return self.read(a, b)[_channel_index(int(first), self.shape[0])]
        raise TypeError(
            f"streamed samples of {self._name}: index {key!r} not supported; expected x[c], x[c, a:b], "
            "x[..., a:b] or x[:, a:b] with a step of 1"
        )

    def mean(self, axis: int = 0, dtype: Any = None, keepdims: bool = False) -> Any:
        """The channels averaged, read by slices (``axis=0`` only)."""
        if axis != 0:
            raise TypeError(
                f"streamed samples of {self._name}: mean over axis {axis}; only axis 0 is supported"
            )
        mix = _Channel(self, None)
        return _Rows(mix) if keepdims else mix

    def whole(self) -> np.ndarray:
        """Every sample in one writable array, not kept here (logged: a long call's memory)."""
        log.info("reading the whole of %s into memory (%.0f s)", self._name, self.shape[1] / SAMPLE_RATE)
        samples = self.read(0, self.shape[1])
        self._last = None
        samples.flags.writeable = True
        return samples

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        samples = self.whole()
        return samples if dtype is None else samples.astype(dtype, copy=False)


def _bounds(span: slice, length: int) -> tuple[int, int]:
    if span.step not in (None, 1):
        raise TypeError(f"slice {span!r}: streamed samples are read with a step of 1")
    a, b, _ = span.indices(length)
    return a, max(a, b)


def _channel_index(c: int, channels: int) -> int:
    if not -channels <= c < channels:
        raise IndexError(f"channel {c} of a recording with {channels}")
    return c % channels


class _Channel:
    """One channel (or, ``index`` None, the channels' mean) of :class:`StreamedSamples`, 1-D."""

    ndim = 1
    dtype = np.dtype(np.float32)

    def __init__(self, source: StreamedSamples, index: int | None) -> None:
        self._source = source
        self._index = None if index is None else _channel_index(index, source.shape[0])
        self.shape = (source.shape[1],)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, slice):
            raise TypeError(f"one streamed channel: index {key!r} not supported; expected a slice a:b")
        a, b = _bounds(key, self.shape[0])
        block = self._source.read(a, b)
        if self._index is not None:
            return block[self._index]
        return block[0] if block.shape[0] == 1 else block.mean(axis=0, dtype=np.float32)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        samples = self._source.whole()
        row = samples[self._index] if self._index is not None else samples.mean(axis=0, dtype=np.float32)
        return row if dtype is None else row.astype(dtype, copy=False)


class _Rows:
    """A 1-D :class:`_Channel` as one row, (1, samples), for ``mean(keepdims=True)``."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, row: _Channel) -> None:
        self._row = row
        self.shape = (1, row.shape[0])

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (int, np.integer)) and int(key) in (0, -1):
            return self._row
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], slice):
            return self._row[key[1]][None, :]
        raise TypeError(f"mixed streamed samples: index {key!r} not supported")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._row, dtype=dtype)[None, :]


def _survey(info: AudioInfo, min_correlation: float) -> tuple[int, bool]:
    """The file's exact length in frames, and whether its two channels carry one signal: the
    correlation of :func:`transcription.audio.is_dual_mono`, merged piece by piece."""
    frames = 0
    n = 0
    mean = np.zeros(2)
    co = np.zeros((2, 2))  # sums of centred products
    nonzero = np.zeros(2, dtype=bool)
    for piece in native_chunks(info):
        frames += piece.shape[1]
        if piece.shape[0] != 2 or not piece.shape[1]:
            continue
        x = piece.astype(np.float64)
        nonzero |= x.any(axis=1)
        k = x.shape[1]
        m = x.mean(axis=1)
        c = x - m[:, None]
        delta = m - mean
        co += c @ c.T + np.outer(delta, delta) * (n * k / (n + k))
        mean += delta * k / (n + k)
        n += k
    if info.channels != 2:
        return frames, False
    if not nonzero.any():
        return frames, True
    if not nonzero.all():
        return frames, False
    return frames, float(co[0, 1] / np.sqrt(co[0, 0] * co[1, 1])) >= min_correlation


def open_streamed(info: AudioInfo, dual_mono_correlation: float) -> DecodedAudio:
    """``info``'s recording as a :class:`DecodedAudio` whose samples are read from the file as
    the stages ask for them (see the module text)."""
    frames, dual = _survey(info, dual_mono_correlation)
    if frames == 0:
        raise AudioError(f"{info.path}: the recording holds no audio")
    layout: Layout = "dual_mono" if dual else ("stereo" if info.channels == 2 else "mono")
    samples = StreamedSamples(_FileReader(info, frames), info.sample_rate, dual, info.path.name)
    log.debug(
        "streaming %s: %s, %d ch, %.1f s",
        info.path.name,
        layout,
        samples.shape[0],
        samples.shape[1] / SAMPLE_RATE,
    )
    return DecodedAudio(samples=samples, layout=layout, info=info)  # type: ignore[arg-type]
