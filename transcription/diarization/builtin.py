"""The built-in mono method: speech regions, voice features per window, clustering, smoothing.

1. Speech regions from the Silero detector (or frame energy), block by block.
2. Windows of ``window_s`` every ``hop_s`` inside each region; each window's feature is the mean
   and standard deviation of its MFCCs and its mean log pitch, the pitch weighted up by
   ``pitch_weight`` (:mod:`transcription.diarization.features`).
3. The windows are standardised and clustered into ``num_speakers`` groups (Ward agglomerative
   clustering on at most 3,000 windows; the rest join the nearest centroid), or, with
   ``num_speakers`` unset, into the count from 2 to ``max_speakers`` with the best silhouette.
4. HMM re-segmentation (:mod:`transcription.diarization.hmm`): each window scored by its fit to
   each speaker's Gaussian, a speaker change inside a region costing ``builtin_change_penalty``,
   the Viterbi path taken and the speakers' means estimated again, ``hmm_rounds`` times. With the
   penalty 0, a speaker change shorter than ``min_turn_s`` is a flip and is smoothed away instead.
5. A region's turns change speaker halfway between two windows of different speakers.

Only the features (38 floats a window) are kept for the whole call, so memory grows with the
call's length by about 150 bytes a second of speech, and the audio is read one block at a time.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from transcription.diarization.features import FRAME_HOP_S, frame_features
from transcription.diarization.hmm import gaussian_scores, hmm_resegment
from transcription.diarization.settings import DiarizationSettings
from transcription.diarization.types import Diarization, SpeakerTurn
from transcription.diarization.vad import speech_regions
from transcription.diarization.windows import labels_to_diarization, region_windows

__all__ = ["diarize_builtin"]


_RATE = 16_000
_MAX_FIT = 3000
_MIN_WINDOWS = 6
_MIN_SPEECH_S = 3.0

NOTE_TOO_SHORT = "for lite tale til å skille stemmer: lest som én taler"
NOTE_NO_SPEECH = "ingen tale funnet"


def _window_features(
    samples: np.ndarray,
    regions: list[tuple[float, float]],
    windows: np.ndarray,
    settings: DiarizationSettings,
) -> np.ndarray:
    """Per window: mean and standard deviation of the MFCCs and mean log pitch, block by block."""
    half = settings.window_s / 2
    block = int(settings.block_s * _RATE)
    feats = np.zeros((len(windows), 39), dtype=np.float64)
    starts = np.array([regions[int(r)][0] for r in windows[:, 1]])
    ends = np.array([regions[int(r)][1] for r in windows[:, 1]])
    lo_t = np.maximum(windows[:, 0] - half, starts)
    hi_t = np.minimum(windows[:, 0] + half, ends)
    for b0 in range(0, len(samples), block):
        t0 = b0 / _RATE
        in_block = np.flatnonzero((windows[:, 0] >= t0) & (windows[:, 0] < t0 + settings.block_s))
        if not len(in_block):
            continue
        coeffs, log_f0 = frame_features(samples[b0 : b0 + block])
        if not len(coeffs):
            continue
        coeffs = coeffs.astype(np.float64)
        voiced = ~np.isnan(log_f0)
        pitch = np.where(voiced, log_f0, 0.0).astype(np.float64)

        def csum(values: np.ndarray) -> np.ndarray:
            return np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])

        c1, c2, p1, pn = csum(coeffs), csum(coeffs**2), csum(pitch), csum(voiced.astype(np.float64))
        lo = np.clip(((lo_t[in_block] - t0) / FRAME_HOP_S).astype(int), 0, len(coeffs) - 1)
        hi = np.clip(((hi_t[in_block] - t0) / FRAME_HOP_S).astype(int), lo + 1, len(coeffs))
        count = (hi - lo)[:, None]
        mean = (c1[hi] - c1[lo]) / count
        var = np.maximum((c2[hi] - c2[lo]) / count - mean**2, 0.0)
        n_voiced = pn[hi] - pn[lo]
        f0 = np.where(n_voiced > 0, (p1[hi] - p1[lo]) / np.maximum(n_voiced, 1), np.nan)
        feats[in_block] = np.hstack([mean, np.sqrt(var), f0[:, None]])
    pitch = feats[:, -1]
    pitch[np.isnan(pitch)] = np.nanmean(pitch) if np.isfinite(pitch).any() else 0.0
    return feats


def _scaled(feats: np.ndarray, settings: DiarizationSettings) -> np.ndarray:
    """The windows' features standardised, the pitch weighted by ``pitch_weight``."""
    x = StandardScaler().fit_transform(feats)
    x[:, -1] *= settings.pitch_weight  # pitch is one column against 38 of spectrum shape
    return x


def _cluster(feats: np.ndarray, settings: DiarizationSettings) -> np.ndarray:
    """A speaker label per window: Ward clustering of (at most ``_MAX_FIT``) standardised
    windows, then every window to the nearest cluster centroid."""
    x = _scaled(feats, settings)
    step = max(1, len(x) // _MAX_FIT)
    fit = x[::step]
    if settings.num_speakers is not None:
        options = [min(settings.num_speakers, len(fit))]
    else:
        options = list(range(2, min(settings.max_speakers, len(fit) - 1) + 1)) or [1]
    best_labels, best_score = None, -np.inf
    for k in options:
        if k > 1:
            labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(fit)
        else:
            labels = np.zeros(len(fit), int)
        score = silhouette_score(fit, labels) if 1 < k < len(fit) and len(options) > 1 else 0.0
        if best_labels is None or score > best_score:
            best_labels, best_score = labels, score
    assert best_labels is not None
    centroids = np.stack([fit[best_labels == k].mean(axis=0) for k in np.unique(best_labels)])
    dist = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    return dist.argmin(axis=1)


def diarize_builtin(
    samples: np.ndarray, settings: DiarizationSettings, notes: tuple[str, ...] = ()
) -> Diarization:
    """Who spoke when in a 1-D 16 kHz mono signal, by the built-in method."""
    regions = speech_regions(samples, settings.vad, sample_rate=_RATE, block_s=settings.block_s)
    if not regions:
        return Diarization("builtin", (), notes=(*notes, NOTE_NO_SPEECH))
    windows = region_windows(regions, settings.window_s, settings.hop_s)
    speech_s = sum(b - a for a, b in regions)
    if settings.num_speakers == 1 or len(windows) < _MIN_WINDOWS or speech_s < _MIN_SPEECH_S:
        extra = () if settings.num_speakers == 1 else (NOTE_TOO_SHORT,)
        return Diarization(
            "builtin", tuple(SpeakerTurn(a, b, "S1") for a, b in regions), notes=(*notes, *extra)
        )
    feats = _window_features(samples, regions, windows, settings)
    labels = _cluster(feats, settings)
    min_turn_s = settings.min_turn_s
    if settings.builtin_change_penalty > 0:
        groups = windows[:, 1].astype(int)
        x = _scaled(feats, settings)
        labels = hmm_resegment(
            x, labels, groups, gaussian_scores, settings.builtin_change_penalty, settings.hmm_rounds
        )
        min_turn_s = 0.0  # the change penalty has done the smoothing
    return labels_to_diarization(
        "builtin", regions, windows, labels, min_turn_s=min_turn_s, hop_s=settings.hop_s, notes=notes
    )
