"""The end-to-end benchmark's figures (bench/e2e_rubric.py) on hand-made suggestions: an
abstention counts against coverage and as a miss, never as a value; the reliability table bins
the suggestions given by confidence; the >= 0.8 figure reads only the top bins."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pure

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    name = "e2e_rubric"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]


LABELS = {
    "c1": {"labels": {"asks_prior_contact": 0, "open_questions": 3}},
    "c2": {"labels": {"asks_prior_contact": 1, "open_questions": 2}},
}


def test_an_abstention_is_a_miss_and_not_given_never_a_zero(bench):
    s = bench.Suggestion
    got = {
        "c1": {"asks_prior_contact": s(None, 0.0, abstained=True), "open_questions": s(2, 0.55)},
        "c2": {"asks_prior_contact": s(1, 0.93), "open_questions": s(2, 0.85)},
    }
    figures = bench.summary(LABELS, got, {"open_questions"})
    prior = figures["per_criterion"]["asks_prior_contact"]
    # read as a zero, the abstention would be right (label 0): exact 1.0 and coverage 1.0
    assert (prior["exact"], prior["coverage"], prior["exact_given"]) == (0.5, 0.5, 1.0)
    opens = figures["per_criterion"]["open_questions"]
    assert (opens["exact"], opens["within_one"], opens["coverage"]) == (0.5, 1.0, 1.0)
    assert figures["coverage"] == 0.75
    bins = {(b["low"], b["high"]): (b["n"], b["right"]) for b in figures["reliability"]}
    assert bins[(0.5, 0.6)] == (1, 0) and bins[(0.8, 0.9)] == (1, 1) and bins[(0.9, 1.0)] == (1, 1)
    assert sum(n for n, _r in bins.values()) == 3  # the abstention is in no bin
    assert figures["right_at_0_8"] == 1.0 and figures["given_at_0_8"] == 0.5
    assert figures["right_given"] == pytest.approx(2 / 3)


def test_nothing_at_0_8_or_more_gives_no_figure_rather_than_zero(bench):
    s = bench.Suggestion
    got = {c: {k: s(v, 0.4) for k, v in e["labels"].items()} for c, e in LABELS.items()}
    figures = bench.summary(LABELS, got, {"open_questions"})
    assert figures["right_at_0_8"] is None and figures["given_at_0_8"] == 0.0
    assert figures["coverage"] == 1.0 and figures["right_given"] == 1.0
