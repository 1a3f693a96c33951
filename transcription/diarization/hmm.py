"""Re-segmentation of window labels by a two-state (k-state) hidden Markov model, pure numpy.

After clustering, each window has a speaker label, but a label decided window by window flips
inside a turn whenever one window happens to lie nearer the other voice. Here the speakers are
the states of an HMM: a window's score for a speaker says how well it fits that speaker's mean
(cosine for speaker embeddings, a Gaussian log-density for the built-in voice features), and
every change of speaker between neighbouring windows of one speech region costs
``change_penalty`` (a change between two speech regions, across a pause, costs nothing). The
Viterbi path is the labelling with the best total score less penalties: a flip inside a long
turn is removed when its windows fit the other speaker by less than the penalty, while a real
short turn whose windows clearly fit the other speaker survives. The speaker means are then
taken again from the new labels and the path found again, ``rounds`` times at most (the
re-estimation of variational-Bayes HMM diarization, with hard labels).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["cosine_scores", "gaussian_scores", "hmm_resegment", "viterbi_labels"]

ScoreFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def viterbi_labels(scores: np.ndarray, groups: np.ndarray, change_penalty: float) -> np.ndarray:
    """The state (column of ``scores``) per window on the best path.

    ``scores`` is (n windows, k states), higher is better; ``groups`` is each window's speech
    region: a change of state inside a region costs ``change_penalty``, between regions nothing.
    """
    n, k = scores.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = 1.0 - np.eye(k)
    best = scores[0].astype(np.float64)
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        cost = change_penalty if groups[t] == groups[t - 1] else 0.0
        moves = best[:, None] - cost * change  # moves[i, j]: from state i to state j
        back[t] = moves.argmax(axis=0)
        best = moves[back[t], np.arange(k)] + scores[t]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(best.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _means(x: np.ndarray, labels: np.ndarray, names: np.ndarray) -> np.ndarray:
    return np.stack([x[labels == k].mean(axis=0) for k in names])


def cosine_scores(x: np.ndarray, labels: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Cosine of each (unit) row of ``x`` to each speaker's mean direction."""
    means = _means(x, labels, names)
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-9)
    return x @ means.T


def gaussian_scores(x: np.ndarray, labels: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Log-density of each row of ``x`` under each speaker's Gaussian (its mean, a diagonal
    variance shared by the speakers), up to a constant and divided by the number of features."""
    means = _means(x, labels, names)
    resid = x - means[np.searchsorted(names, labels)]
    var = resid.var(axis=0) + 1e-6
    dist = (((x[:, None, :] - means[None, :, :]) ** 2) / var).sum(axis=2)
    return -0.5 * dist / x.shape[1]


def hmm_resegment(
    x: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    scores: ScoreFn,
    change_penalty: float,
    rounds: int,
) -> np.ndarray:
    """``labels`` re-segmented: up to ``rounds`` times, the speaker means from the current labels,
    each window scored against them, the Viterbi path (see the module text). Stops early when
    nothing changes or only one speaker is left."""
    for _ in range(rounds):
        names = np.unique(labels)
        if len(names) < 2:
            break
        new = names[viterbi_labels(scores(x, labels, names), groups, change_penalty)]
        if np.array_equal(new, labels):
            break
        labels = new
    return labels
