"""The embeddings mono method: Resemblyzer d-vectors over the speech regions, cosine clustering.

1. Speech regions and windows exactly as the built-in method finds them (the Silero detector or
   frame energy; ``window_s`` every ``hop_s``).
2. Each window's d-vector: the 40-band mel spectrogram (10 ms frames) of its region, volume
   raised to -30 dBFS as the encoder was trained, through Resemblyzer's speaker encoder (a
   3-layer LSTM whose weights ship inside its wheel, so nothing is downloaded); 256 floats,
   unit length.
3. The call's mean d-vector is taken away (see :func:`cluster_embeddings`), each speech
   region's windows are averaged, and the regions are clustered by average linkage on cosine
   distance into ``num_speakers`` groups, or, with ``num_speakers`` unset, into the count from 2
   to ``max_speakers`` with the best silhouette (at most 3,000 regions; the rest join the
   nearest centroid).
4. Re-segmentation (``embedding_resegment`` rounds): every window goes to the speaker whose
   mean d-vector is nearest, short flips are smoothed, and the means are taken again. This
   splits a region in which both parties speak, which the region-level clustering cannot.
5. HMM re-segmentation as in the built-in method (:mod:`transcription.diarization.hmm`), each
   window scored by its cosine to each speaker's mean d-vector, a change inside a region costing
   ``embedding_change_penalty``; with the penalty 0, short flips are smoothed instead. Turns are
   cut as in the built-in method.

Only the d-vectors (1 KB a window, about 2 KB a second of speech) are kept for the whole call;
mel spectrograms are made one speech region at a time and encoded as batches of ``_BATCH``
windows fill, on ``embedding_threads`` CPU threads (one by default: with two, on a 2-core machine
shared with other work, the encoder's threads spent most of their time waiting for each other).

Resemblyzer and torch are the optional ``embeddings`` extra; :func:`diarize_embeddings` raises
:class:`EmbeddingsUnavailable` (an ``ImportError``) naming it when they are missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

from transcription.diarization.hmm import cosine_scores, hmm_resegment
from transcription.diarization.settings import DiarizationSettings
from transcription.diarization.types import Diarization, SpeakerTurn
from transcription.diarization.vad import speech_regions
from transcription.diarization.windows import labels_to_diarization, region_windows, smooth_labels

__all__ = [
    "EmbeddingsUnavailable",
    "cluster_embeddings",
    "diarize_embeddings",
    "embeddings_available",
    "window_embeddings",
]


_RATE = 16_000
_MEL_HOP_S = 0.01  # Resemblyzer's mel frames: 25 ms every 10 ms
_MEL_FFT = 400  # 25 ms at 16 kHz
_MEL_BANDS = 40
_TARGET_DBFS = -30.0  # the level Resemblyzer normalises utterances to before training
_BATCH = 256  # windows per encoder call: on 2 CPU cores 256 took half the time of 64
_MAX_FIT = 3000
_MIN_WINDOWS = 6
_MIN_SPEECH_S = 3.0

INSTALL_HINT = (
    "the `embeddings` diarization method needs the optional `embeddings` extra (Resemblyzer and "
    "the CPU torch): pip install 'lydlogg[embeddings]' (docs/mono_diarization.md); or set "
    "diarization.strategy to `auto` or `builtin`"
)


class EmbeddingsUnavailable(ImportError):
    """Resemblyzer (or torch, or librosa under it) cannot be imported; the message says how to install it."""


@lru_cache(maxsize=1)
def _encoder() -> Any:
    try:
        import torch
        from resemblyzer import VoiceEncoder
    except ImportError as e:
        raise EmbeddingsUnavailable(f"{INSTALL_HINT} ({type(e).__name__}: {e})") from e
    torch.set_grad_enabled(False)
    return VoiceEncoder(device="cpu", verbose=False)


def embeddings_available() -> bool:
    """Whether the speaker encoder loads here (imports Resemblyzer and torch the first time)."""
    try:
        _encoder()
    except EmbeddingsUnavailable:
        return False
    return True


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=_RATE, n_fft=_MEL_FFT, n_mels=_MEL_BANDS)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) power mel spectrogram of 16 kHz audio, 25 ms frames every 10 ms: the encoder's
    input, as Resemblyzer's ``wav_to_mel_spectrogram`` makes it (the same values,
    ``tests/test_mono_embeddings.py``), with the filter bank made once and applied as one matrix
    product, which took a sixth of the CPU time of librosa's ``melspectrogram`` here."""
    import librosa

    power = np.abs(librosa.stft(wav, n_fft=_MEL_FFT, hop_length=int(_MEL_HOP_S * _RATE))) ** 2
    return (_mel_filters() @ power).astype(np.float32).T


def _raise_volume(wav: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
    if rms <= 1e-9:
        return wav
    gain = 10 ** (_TARGET_DBFS / 20) / rms
    return wav * gain if gain > 1 else wav


@contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``threads`` (0: left as it is) while inside, then put back."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if threads:
            torch.set_num_threads(before)


def window_embeddings(
    samples: np.ndarray,
    regions: list[tuple[float, float]],
    windows: np.ndarray,
    window_s: float,
    threads: int = 1,
) -> np.ndarray:
    """(n, 256) unit d-vectors, one per window of :func:`region_windows`, from 1-D 16 kHz audio.

    The encoder runs on ``threads`` CPU threads (0: torch's default); the vectors are the same for
    any count (``tests/test_mono_embeddings.py``).
    """
    with _torch_threads(threads):
        return _window_embeddings(samples, regions, windows, window_s)


def _window_embeddings(
    samples: np.ndarray, regions: list[tuple[float, float]], windows: np.ndarray, window_s: float
) -> np.ndarray:
    import torch

    encoder = _encoder()
    half = window_s / 2
    out = np.zeros((len(windows), 256), dtype=np.float32)
    pending: dict[int, list[tuple[int, np.ndarray]]] = {}  # mel length -> windows waiting for a batch

    def encode(items: list[tuple[int, np.ndarray]]) -> None:
        with torch.inference_mode():
            vectors = encoder(torch.from_numpy(np.stack([m for _i, m in items]))).numpy()
        out[[i for i, _m in items]] = vectors

    regions_of = windows[:, 1].astype(int)
    for r, (a, b) in enumerate(regions):
        idx = np.flatnonzero(regions_of == r)
        if not len(idx):
            continue
        wav = np.asarray(samples[int(a * _RATE) : int(b * _RATE)], dtype=np.float32)
        mel = mel_frames(_raise_volume(wav))
        for i in idx:
            lo = max(0, int(round((windows[i, 0] - half - a) / _MEL_HOP_S)))
            hi = min(len(mel), max(lo + 1, int(round((windows[i, 0] + half - a) / _MEL_HOP_S))))
            batch = pending.setdefault(hi - lo, [])
            batch.append((int(i), mel[lo:hi].copy()))
            if len(batch) == _BATCH:  # encode as batches fill, so memory does not grow with the call
                encode(batch)
                batch.clear()
    for batch in pending.values():
        if batch:
            encode(batch)
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


def _centred(vectors: np.ndarray) -> np.ndarray:
    """The d-vectors less the call's mean d-vector, unit length again."""
    return _unit(vectors.astype(np.float64) - vectors.mean(axis=0, dtype=np.float64))


def _centroids(x: np.ndarray, labels: np.ndarray, names: np.ndarray) -> np.ndarray:
    return _unit(np.stack([x[labels == k].mean(axis=0) for k in names]))


def _cluster_units(units: np.ndarray, settings: DiarizationSettings) -> np.ndarray:
    """Average-linkage cosine clustering of the rows of ``units`` (k by silhouette when unset)."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    if settings.num_speakers is not None:
        options = [min(settings.num_speakers, len(units))]
    else:
        options = list(range(2, min(settings.max_speakers, len(units) - 1) + 1)) or [1]
    best_labels, best_score = None, -np.inf
    for k in options:
        if k > 1:
            labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(
                units
            )
        else:
            labels = np.zeros(len(units), int)
        score = (
            silhouette_score(units, labels, metric="cosine")
            if 1 < k < len(units) and len(options) > 1
            else 0.0
        )
        if best_labels is None or score > best_score:
            best_labels, best_score = labels, score
    assert best_labels is not None
    return best_labels


def cluster_embeddings(vectors: np.ndarray, groups: np.ndarray, settings: DiarizationSettings) -> np.ndarray:
    """A speaker label per window from its d-vector; ``groups`` is each window's speech region.

    The call's mean d-vector is taken away first: the encoder's outputs are non-negative and share
    one large common direction, so raw cosines between any two voices are high, and what is left
    after centring is what tells them apart (on the tuning calls it took window accuracy from 0.59
    to 0.90). Whole regions (their mean) are clustered, as a telephone turn is mostly one voice;
    with fewer than three regions the windows are. Then ``embedding_resegment`` rounds of
    re-segmentation: every window to the nearest speaker mean, short flips smoothed.
    """
    x = _centred(vectors)
    ids, unit_of = np.unique(groups, return_inverse=True)
    if len(ids) < 3:
        unit_of = np.arange(len(x))
    n_units = int(unit_of.max()) + 1
    units = _unit(np.stack([x[unit_of == u].mean(axis=0) for u in range(n_units)]))
    step = max(1, n_units // _MAX_FIT)
    fit_labels = _cluster_units(units[::step], settings)
    names = np.unique(fit_labels)
    centroids = _centroids(units[::step], fit_labels, names)
    labels = names[(x @ centroids.T).argmax(axis=1)] if step > 1 else fit_labels[unit_of]
    min_windows = int(round(settings.min_turn_s / settings.hop_s))
    for _ in range(settings.embedding_resegment):
        names = np.unique(labels)
        if len(names) < 2:
            break
        new = names[(x @ _centroids(x, labels, names).T).argmax(axis=1)]
        new = smooth_labels(new, groups, min_windows)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def diarize_embeddings(
    samples: np.ndarray, settings: DiarizationSettings, notes: tuple[str, ...] = ()
) -> Diarization:
    """Who spoke when in a 1-D 16 kHz mono signal, by speaker embeddings (see the module text).

    Raises :class:`EmbeddingsUnavailable` when the ``embeddings`` extra is not installed.
    """
    _encoder()  # fail first, and clearly, when the extra is missing
    from transcription.diarization.builtin import NOTE_NO_SPEECH, NOTE_TOO_SHORT

    regions = speech_regions(samples, settings.vad, sample_rate=_RATE, block_s=settings.block_s)
    if not regions:
        return Diarization("embeddings", (), notes=(*notes, NOTE_NO_SPEECH))
    windows = region_windows(regions, settings.window_s, settings.hop_s)
    speech_s = sum(b - a for a, b in regions)
    if settings.num_speakers == 1 or len(windows) < _MIN_WINDOWS or speech_s < _MIN_SPEECH_S:
        extra = () if settings.num_speakers == 1 else (NOTE_TOO_SHORT,)
        turns = tuple(SpeakerTurn(a, b, "S1") for a, b in regions)
        return Diarization("embeddings", turns, notes=(*notes, *extra))
    vectors = window_embeddings(samples, regions, windows, settings.window_s, settings.embedding_threads)
    groups = windows[:, 1].astype(int)
    labels = cluster_embeddings(vectors, groups, settings)
    min_turn_s = settings.min_turn_s
    if settings.embedding_change_penalty > 0:
        labels = hmm_resegment(
            _centred(vectors),
            labels,
            groups,
            cosine_scores,
            settings.embedding_change_penalty,
            settings.hmm_rounds,
        )
        min_turn_s = 0.0  # the change penalty has done the smoothing
    return labels_to_diarization(
        "embeddings",
        regions,
        windows,
        labels,
        min_turn_s=min_turn_s,
        hop_s=settings.hop_s,
        notes=notes,
    )
