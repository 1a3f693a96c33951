"""The HMM re-segmentation of the mono methods (``transcription.diarization.hmm``): pure cases for
the Viterbi pass and the re-estimation, and real sample-call audio to show the pipeline takes
that path and that it mends a voice split the smoothing alone leaves."""

from __future__ import annotations

import numpy as np
import pytest
from test_diarization import frame_der
from test_mono_embeddings import mix_down, needs_extra

from transcription.diarization import DiarizationSettings, diarize, hmm

A, B = [1.0, 0.0], [0.0, 1.0]  # a window's score for speaker 0 and 1 when it clearly fits one


def scores_of(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


@pytest.mark.parametrize(
    ("rows", "groups", "penalty", "expected"),
    [
        # a long turn of speaker 0 with one window a little nearer speaker 1: the flip goes
        ([A, A, A, [0.4, 0.5], A, A, B, B, B], [0] * 9, 0.5, [0, 0, 0, 0, 0, 0, 1, 1, 1]),
        # two windows nearer speaker 1, but not by more than two changes cost: they go too
        ([A, A, [0.3, 0.6], [0.3, 0.6], A, A], [0] * 6, 0.5, [0] * 6),
        # a real short turn: two windows that clearly fit speaker 1 survive inside speaker 0's talk
        ([A, A, A, B, B, A, A, A], [0] * 8, 0.5, [0, 0, 0, 1, 1, 0, 0, 0]),
        # a one-window reply in its own speech region survives: a change across a pause is free
        ([A, A, A, [0.4, 0.5], A, A], [0, 0, 0, 1, 2, 2], 0.5, [0, 0, 0, 1, 0, 0]),
        # no penalty: each window to the speaker it fits best
        ([A, A, [0.4, 0.5], A], [0] * 4, 0.0, [0, 0, 1, 0]),
        # three speakers
        ([[1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]], [0] * 5, 0.5, [0, 0, 2, 2, 1]),
    ],
)
def test_viterbi_removes_flips_inside_a_turn_and_keeps_real_short_turns(rows, groups, penalty, expected):
    path = hmm.viterbi_labels(scores_of(rows), np.array(groups), penalty)
    assert path.tolist() == expected


def test_viterbi_of_no_windows_is_empty():
    assert hmm.viterbi_labels(np.zeros((0, 2)), np.zeros(0, int), 0.5).tolist() == []


TRUTH = [0] * 12 + [1] * 2 + [0] * 8 + [1] * 10  # speaker 1 has a real two-window reply at 12-13


def voice_windows(spread: float, between: float, unit: bool) -> np.ndarray:
    """Windows drawn round two speakers' means (8 features); window 5, inside speaker 0's long
    turn, lies a little nearer speaker 1 (``between`` of the way over), so clustering flips it."""
    rng = np.random.default_rng(7)
    means = {0: np.eye(8)[0] * 3, 1: np.eye(8)[1] * 3}
    x = np.stack([means[s] + spread * rng.standard_normal(8) for s in TRUTH])
    x[5] = (1 - between) * means[0] + between * means[1]
    return x / np.linalg.norm(x, axis=1, keepdims=True) if unit else x


@pytest.mark.parametrize(
    ("scores", "penalty", "spread", "unit"),
    [(hmm.cosine_scores, 0.2, 0.45, True), (hmm.gaussian_scores, 0.5, 1.0, False)],
)
def test_resegmentation_cleans_a_noisy_label_sequence_and_keeps_a_short_turn(scores, penalty, spread, unit):
    x = voice_windows(spread, 0.55, unit)
    noisy = np.array(TRUTH)
    noisy[5] = 1  # the flip the clustering made
    assert scores(x, noisy, np.array([0, 1]))[5].argmax() == 1  # window by window it stays flipped
    out = hmm.hmm_resegment(x, noisy, np.zeros(len(x), int), scores, penalty, rounds=3)
    assert out.tolist() == TRUTH


def test_resegmentation_with_one_speaker_changes_nothing():
    x = np.ones((5, 3))
    labels = np.zeros(5, int)
    assert hmm.hmm_resegment(x, labels, np.zeros(5, int), hmm.cosine_scores, 0.2, 3).tolist() == [0] * 5


@pytest.fixture
def viterbi_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records each Viterbi pass the real code makes (the real function still runs)."""
    calls: list[int] = []
    real = hmm.viterbi_labels

    def recording(scores, groups, change_penalty):
        calls.append(len(scores))
        return real(scores, groups, change_penalty)

    monkeypatch.setattr(hmm, "viterbi_labels", recording)
    return calls


def test_the_builtin_method_in_the_pipeline_re_segments_by_hmm_and_it_mends_a_split(viterbi_calls):
    """ep1-c4 (a mono sample call): the clustering gives part of the caller's talk to the
    operator's voice; the HMM re-segmentation takes the frame DER from 0.32 to 0.22 (measured)."""
    audio, truth = mix_down("ep1-c4-amk")
    before = diarize(audio, DiarizationSettings(strategy="builtin", builtin_change_penalty=0.0))
    assert viterbi_calls == []
    after = diarize(audio, DiarizationSettings(strategy="builtin"))
    assert viterbi_calls and viterbi_calls[0] == 68  # a pass over every window of the call
    assert frame_der(truth, after.turns) < frame_der(truth, before.turns) - 0.05


@needs_extra
def test_the_embeddings_method_in_the_pipeline_re_segments_by_hmm(viterbi_calls):
    audio, truth = mix_down("lvs-001-feber-barn")
    result = diarize(audio, DiarizationSettings(strategy="auto"))
    assert result.strategy == "embeddings" and viterbi_calls
    assert frame_der(truth, result.turns) < 0.10
