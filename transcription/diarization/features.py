"""Voice features for clustering: MFCC statistics over short windows, in numpy and scipy only.

MFCCs (25 ms frames every 20 ms, 40 mel bands, coefficients 1-19; c0, the loudness, is dropped)
describe the shape of a voice's spectrum; the pitch (F0, from the autocorrelation peak between
60 and 400 Hz in voiced frames) describes what MFCCs smooth away. A window's feature is the mean
and standard deviation of its frames' coefficients and its mean log pitch: crude next to a
neural speaker embedding, but it needs no weights and separates two telephone voices of
different pitch and timbre.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import fft as sp_fft

__all__ = ["FRAME_HOP_S", "frame_features"]

_RATE = 16_000
_WIN = 400  # 25 ms
_HOP = 320  # 20 ms
_NFFT = 640  # frame (400) + longest pitch lag (229) fits, so the autocorrelation does not wrap
_BANDS = 40
_COEFFS = slice(1, 20)
_CHUNK_FRAMES = 1500  # 30 s per FFT batch keeps the spectrum arrays small
_F0_MIN, _F0_MAX = 70, 400
_VOICED = 0.45  # normalised autocorrelation at the pitch lag that counts as voiced
FRAME_HOP_S = _HOP / _RATE


@lru_cache(maxsize=1)
def _mel_bank() -> np.ndarray:
    """Triangular mel filters over the rfft bins, with the pre-emphasis filter folded in."""

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + f / 700)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700 * (10 ** (m / 2595) - 1)

    mels = np.linspace(hz_to_mel(np.array(60.0)), hz_to_mel(np.array(7600.0)), _BANDS + 2)
    bins = np.floor((_NFFT + 1) * mel_to_hz(mels) / _RATE).astype(int)
    bank = np.zeros((_BANDS, _NFFT // 2 + 1), dtype=np.float32)
    for m in range(1, _BANDS + 1):
        left, centre, right = bins[m - 1], bins[m], bins[m + 1]
        for k in range(left, centre):
            bank[m - 1, k] = (k - left) / max(1, centre - left)
        for k in range(centre, right):
            bank[m - 1, k] = (right - k) / max(1, right - centre)
    omega = np.pi * np.arange(_NFFT // 2 + 1) / (_NFFT // 2)
    emphasis = np.abs(1 - 0.97 * np.exp(-1j * omega)) ** 2  # |H|^2 of y[n] = x[n] - 0.97 x[n-1]
    return (bank * emphasis[None, :]).astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> tuple[np.ndarray, np.ndarray]:
    window = np.hamming(_WIN).astype(np.float32)
    acf = sp_fft.irfft(np.abs(sp_fft.rfft(window, n=_NFFT)) ** 2, n=_NFFT)[:_WIN]
    return window, (acf / acf[0]).astype(np.float32)


def frame_features(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MFCC 1-19 (frames, 19) and log F0 (frames,; NaN where unvoiced) of a 1-D 16 kHz signal.

    Frame i covers samples [i * 320, i * 320 + 400): 25 ms every 20 ms. One FFT per frame serves
    both: its power spectrum gives the MFCCs, its inverse the autocorrelation for the pitch,
    corrected for the window (Boersma 1993).
    """
    n = 1 + (len(samples) - _WIN) // _HOP if len(samples) >= _WIN else 0
    coeffs = np.empty((n, _COEFFS.stop - _COEFFS.start), dtype=np.float32)
    log_f0 = np.full(n, np.nan, dtype=np.float32)
    if n == 0:
        return coeffs, log_f0
    window, window_acf = _window()
    bank = _mel_bank()
    lag_lo, lag_hi = _RATE // _F0_MAX, _RATE // _F0_MIN
    frames_all = np.lib.stride_tricks.sliding_window_view(samples, _WIN)[::_HOP]
    rows = np.arange(_CHUNK_FRAMES)
    for i in range(0, n, _CHUNK_FRAMES):
        raw = np.asarray(frames_all[i : i + _CHUNK_FRAMES], dtype=np.float32)
        raw = (raw - raw.mean(axis=1, keepdims=True)) * window
        power = np.abs(sp_fft.rfft(raw, n=_NFFT, axis=1)) ** 2
        acf = sp_fft.irfft(power, n=_NFFT, axis=1)[:, : lag_hi + 1]
        norm = acf / (acf[:, :1] + 1e-12) / np.maximum(window_acf[: lag_hi + 1], 1e-3)
        lag = lag_lo + norm[:, lag_lo:].argmax(axis=1)
        strength = norm[rows[: len(norm)], lag]
        voiced = (strength > _VOICED) & (acf[:, 0] > 1e-6)
        log_f0[i : i + len(raw)] = np.where(voiced, np.log(_RATE / lag), np.nan)
        logmel = np.log(power @ bank.T + 1e-8)
        coeffs[i : i + len(raw)] = sp_fft.dct(logmel, type=2, norm="ortho", axis=1)[:, _COEFFS]
    return coeffs, log_f0
