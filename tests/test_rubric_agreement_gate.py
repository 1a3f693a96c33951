"""The automatic scorers against the hand labels of the rubric set's development split: a floor.

``bench/rubric_agreement.py`` prints the full figures for both splits. This gate reads only the
``dev`` calls (the ``holdout`` calls stay unseen, so they remain a fair estimate) and fails when
agreement drops below floors set just under today's figures, so that a scorer change that loses
agreement fails CI. Text only: no model, no database.

Today (dev, 32 calls, 330 labelled criteria): exact agreement 100 % overall and for every
criterion; within one scale point 100 % on the 0-4 criteria. The floors leave room for a
borderline call or two to flip, not for a criterion to go astray.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from lydlogg.calltext import build_call_text
from rubrics import load_rubrics, score_call
from transcription.formats import from_json

pytestmark = pytest.mark.pure

SET = Path(__file__).resolve().parent / "data" / "rubric_set"
OVERALL_EXACT_FLOOR = 0.98  # of all labelled criteria (about 6 of 330 may differ)
CRITERION_EXACT_FLOOR = 0.90  # of each criterion's labelled calls (3 of 32 may differ)
ORDINAL_WITHIN_ONE_FLOOR = 0.97  # 0-4 criteria: suggestion within one point of the label
MIN_DEV_PAIRS = 300  # the dev split holds 330 today; fewer means labels went missing

Pair = tuple[int | None, int | str | None]  # (label, suggestion); "missing" when no suggestion


def dev_pairs() -> dict[str, list[Pair]]:
    """criterion id -> (label, suggestion) for every labelled criterion of every dev call."""
    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    rubrics = load_rubrics()
    pairs: dict[str, list[Pair]] = defaultdict(list)
    for call_id, entry in labels.items():
        if entry["split"] != "dev":
            continue  # never read a holdout transcript here
        doc = json.loads((SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        result = score_call(build_call_text(from_json(doc), doc.get("service")), rubrics[entry["rubric"]])
        suggested = {s.criterion_id: s.value for s in result.scores}
        for criterion, label in entry["labels"].items():
            pairs[criterion].append((label, suggested.get(criterion, "missing")))
    return dict(pairs)


def _within_one(label: int | None, suggestion: int | str | None) -> bool:
    if label == suggestion:
        return True
    return isinstance(label, int) and isinstance(suggestion, int) and abs(label - suggestion) <= 1


@pytest.fixture(scope="module")
def pairs() -> dict[str, list[Pair]]:
    return dev_pairs()


@pytest.fixture(scope="module")
def ordinal() -> set[str]:
    return {c.id for r in load_rubrics().values() for c in r.rubric.criteria if c.scale.type == "ordinal"}


def test_the_gate_reads_the_whole_dev_split_and_only_it(pairs):
    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    dev = [e for e in labels.values() if e["split"] == "dev"]
    assert {e["split"] for e in labels.values()} == {"dev", "holdout"}
    assert sum(len(p) for p in pairs.values()) == sum(len(e["labels"]) for e in dev) >= MIN_DEV_PAIRS


def test_overall_exact_agreement_on_the_dev_split_stays_above_the_floor(pairs):
    every = [p for criterion in pairs.values() for p in criterion]
    exact = sum(label == suggestion for label, suggestion in every) / len(every)
    assert exact >= OVERALL_EXACT_FLOOR, f"exact agreement {exact:.1%} < {OVERALL_EXACT_FLOOR:.0%}"


def test_each_criterion_agrees_on_the_dev_split(pairs):
    below = {}
    for criterion, criterion_pairs in sorted(pairs.items()):
        exact = sum(label == suggestion for label, suggestion in criterion_pairs) / len(criterion_pairs)
        if exact < CRITERION_EXACT_FLOOR:
            below[criterion] = f"{exact:.0%} of {len(criterion_pairs)}"
    assert not below, f"criteria below {CRITERION_EXACT_FLOOR:.0%} exact agreement: {below}"


def test_ordinal_criteria_stay_within_one_point(pairs, ordinal):
    scaled = [p for criterion, ps in pairs.items() if criterion in ordinal for p in ps]
    assert scaled, "no 0-4 criterion is labelled in the dev split"
    within = sum(_within_one(*p) for p in scaled) / len(scaled)
    assert within >= ORDINAL_WITHIN_ONE_FLOOR, (
        f"within one point {within:.1%} < {ORDINAL_WITHIN_ONE_FLOOR:.0%}"
    )


@pytest.mark.parametrize(
    ("label", "suggestion", "expected"),
    [(3, 3, True), (3, 4, True), (3, 1, False), (None, None, True), (None, 2, False), (2, "missing", False)],
)
def test_within_one_counts_not_applicable_against_a_value_as_a_miss(label, suggestion, expected):
    assert _within_one(label, suggestion) is expected
