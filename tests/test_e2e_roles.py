"""Role accuracy in bench/e2e_rubric.py: recognised words against the spoken set's reference turns."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from transcription.diarization import SpeakerTurn

pytestmark = pytest.mark.pure

REPO = Path(__file__).resolve().parent.parent
TURNS = [
    SpeakerTurn(0.0, 5.0, "S1"),
    SpeakerTurn(5.5, 9.0, "S2"),
    SpeakerTurn(9.0, 12.0, "S1"),
    SpeakerTurn(12.5, 14.0, "S3"),
]
ROLES = {"S1": "operator", "S2": "caller", "S3": "other"}


def _bench():
    name = "e2e_rubric"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "e2e_rubric.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], (0, 0, 0, 0, 0, 0, 0)),
        ([(1.0, 1.4, "operator"), (6.0, 6.3, "caller")], (2, 2, 2, 1, 1, 1, 1)),
        # the caller's word given to the operator: wrong, and a false staff word
        ([(1.0, 1.4, "operator"), (6.0, 6.3, "operator")], (2, 1, 1, 1, 1, 2, 1)),
        # a staff word given to the caller, and one with no role at all: both lost from the staff
        ([(10.0, 10.4, "caller"), (2.0, 2.2, None)], (2, 0, 0, 2, 0, 0, 0)),
        # doctor for an operator turn: the right side, not the exact role
        ([(1.0, 1.4, "doctor")], (1, 1, 0, 1, 1, 1, 1)),
        # a third party's word given to the caller: the right side (not staff), not the exact role
        ([(13.0, 13.3, "caller")], (1, 1, 0, 0, 0, 0, 0)),
        # a word in the gap between turns takes the nearest turn (the caller's, from 5.5 s)
        ([(5.3, 5.45, "caller")], (1, 1, 1, 0, 0, 0, 0)),
        # a word over a boundary takes the turn it overlaps most
        ([(8.7, 9.6, "operator")], (1, 1, 1, 1, 1, 1, 1)),
    ],
)
def test_role_counts(words, expected):
    assert _bench().role_counts(words, TURNS, ROLES).as_tuple() == expected


def test_counts_add_up_over_calls_and_give_shares():
    bench = _bench()
    one = bench.role_counts([(1.0, 1.4, "operator"), (6.0, 6.3, "operator")], TURNS, ROLES)
    two = bench.role_counts([(10.0, 10.4, "caller")], TURNS, ROLES)
    total = one + two
    assert total.as_tuple() == (3, 1, 1, 2, 1, 2, 1)
    assert total.shares() == {
        "words": 3, "accuracy": 1 / 3, "exact": 1 / 3, "staff_recall": 0.5, "staff_precision": 0.5
    }  # fmt: skip
    assert bench.RoleCounts().shares()["accuracy"] is None  # no words: no figure, not zero
