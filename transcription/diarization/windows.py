"""Windows over speech regions, label smoothing and labels back to turns: shared by the mono
methods (the built-in voice features and the speaker embeddings), pure numpy."""

from __future__ import annotations

import logging

import numpy as np

from transcription.diarization.types import Diarization, SpeakerTurn, Strategy

__all__ = ["labels_to_diarization", "region_windows", "smooth_labels", "turns_from_labels"]

log = logging.getLogger(__name__)


def region_windows(regions: list[tuple[float, float]], window_s: float, hop_s: float) -> np.ndarray:
    """(n, 2) array of window centre (seconds) and the index of its speech region.

    A region no longer than ``window_s`` is one window at its middle; a longer one has a window
    every ``hop_s``, the last one moved up to end with the region when it would leave more than
    half a hop uncovered.
    """
    rows = []
    for r, (a, b) in enumerate(regions):
        if b - a <= window_s:
            rows.append((0.5 * (a + b), r))
            continue
        centres = np.arange(a + window_s / 2, b - window_s / 2 + 1e-9, hop_s)
        if b - window_s / 2 - centres[-1] > hop_s / 2:
            centres = np.append(centres, b - window_s / 2)
        rows.extend((c, r) for c in centres)
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def smooth_labels(labels: np.ndarray, groups: np.ndarray, min_windows: int) -> np.ndarray:
    """Relabel runs shorter than ``min_windows`` to the longer neighbouring run of the same group.

    ``groups`` marks which windows belong together (one speech region); runs never cross groups,
    so a short reply in its own region keeps its speaker.
    """
    labels = labels.copy()
    if min_windows <= 1:
        return labels
    changed = True
    while changed:
        changed = False
        bounds = np.flatnonzero((np.diff(labels) != 0) | (np.diff(groups) != 0)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(labels)]))
        lengths = ends - starts
        order = np.argsort(lengths, kind="stable")
        for i in order:
            if lengths[i] >= min_windows:
                break
            s, e = starts[i], ends[i]
            left = i - 1 if i > 0 and groups[starts[i - 1]] == groups[s] else None
            right = i + 1 if i + 1 < len(starts) and groups[starts[i + 1]] == groups[s] else None
            options = [j for j in (left, right) if j is not None]
            if not options:
                continue
            j = max(options, key=lambda k: lengths[k])
            labels[s:e] = labels[starts[j]]
            changed = True
            break
    return labels


def turns_from_labels(
    regions: list[tuple[float, float]], windows: np.ndarray, labels: np.ndarray
) -> list[SpeakerTurn]:
    """Turns from window labels: speakers named S1, S2, ... in order of first appearance; inside
    a region the speaker changes halfway between two windows of different speakers."""
    names: dict[int, str] = {}
    for label in labels:
        names.setdefault(int(label), f"S{len(names) + 1}")
    turns: list[SpeakerTurn] = []
    regions_of = windows[:, 1].astype(int)
    for r, (a, b) in enumerate(regions):
        idx = np.flatnonzero(regions_of == r)
        if not len(idx):
            continue
        start = a
        for i, j in zip(idx[:-1], idx[1:], strict=True):
            if labels[i] != labels[j]:
                cut = 0.5 * (windows[i, 0] + windows[j, 0])
                turns.append(SpeakerTurn(start, cut, names[int(labels[i])]))
                start = cut
        turns.append(SpeakerTurn(start, b, names[int(labels[idx[-1]])]))
    return turns


def labels_to_diarization(
    strategy: Strategy,
    regions: list[tuple[float, float]],
    windows: np.ndarray,
    labels: np.ndarray,
    *,
    min_turn_s: float,
    hop_s: float,
    notes: tuple[str, ...] = (),
) -> Diarization:
    """The last steps of the mono method ``strategy``: flips shorter than ``min_turn_s`` smoothed
    away inside each region, labels cut into turns, the counts logged (never any audio or text)."""
    min_windows = int(round(min_turn_s / hop_s))
    labels = smooth_labels(labels, windows[:, 1].astype(int), min_windows)
    turns = turns_from_labels(regions, windows, labels)
    log.info(
        "%s diarization: %d regions, %d windows, %d speakers, %d turns",
        strategy,
        len(regions),
        len(windows),
        len(set(labels.tolist())),
        len(turns),
    )
    return Diarization(strategy, tuple(turns), notes=notes)
