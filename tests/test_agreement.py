"""Agreement statistics against values computed by hand (the working is in each case's comment)."""

from __future__ import annotations

import pytest

from review.agreement import CONSENSUS, SUGGESTION, Rating, agreement, agreement_report, consensus

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

SCALE = (0, 1, 2, 3, 4)


def approx(value: float | None) -> object:
    return None if value is None else pytest.approx(value, abs=1e-9)


# Two raters, three items: A = 0, 1, 2 and B = 0, 1, 1.
#  exact: 2 of 3 pairs equal; within one: 3 of 3.
#  kappa (quadratic): observed mean squared difference = (0 + 0 + 1) / 3 = 1/3;
#   expected under independence: A's values 0, 1, 2 each 1/3, B's 0 (1/3) and 1 (2/3):
#   A=0: 1/3 * (1/3*0 + 2/3*1) = 2/9; A=1: 1/3 * (1/3*1 + 2/3*0) = 1/9; A=2: 1/3 * (1/3*4 + 2/3*1) = 6/9;
#   sum 1, so kappa = 1 - (1/3) / 1 = 2/3 (the 1/16 scale normalisation cancels).
#  alpha (ordinal): counts n0=2, n1=3, n2=1, n=6; coincidences o00=2, o11=2, o12=o21=1.
#   delta(c,k) = (sum of n from c to k - (nc + nk)/2)^2: d01 = 2.5^2 = 6.25, d12 = 2^2 = 4, d02 = 4.5^2 = 20.25.
#   Do = (o12 + o21) * d12 / n = 8/6; De = 2 * (n0 n1 d01 + n0 n2 d02 + n1 n2 d12) / (n (n-1))
#   = 2 * (37.5 + 40.5 + 12) / 30 = 6; alpha = 1 - (8/6)/6 = 7/9.
#  strictness: item means 0, 1, 1.5; A offsets 0, 0, +0.5 -> +1/6; B 0, 0, -0.5 -> -1/6.
TWO_RATERS = {"c1": {"A": 0, "B": 0}, "c2": {"A": 1, "B": 1}, "c3": {"A": 2, "B": 1}}

# Three raters, two items: 1, 1, 2 and 3, 3, 3.
#  exact: item 1 has 1 equal pair of 3, item 2 has 3 of 3 -> 4/6; within one: 6/6. Kappa: not for three.
#  alpha: each ordered pair weighs 1/(m-1) = 1/2. o11 = 1, o12 = o21 = 1, o33 = 3; n1=2, n2=1, n3=3, n=6.
#   d12 = 1.5^2 = 2.25, d13 = (6 - 2.5)^2 = 12.25, d23 = 2^2 = 4.
#   Do = 2 * 2.25 / 6 = 0.75; De = 2 * (2*1*2.25 + 2*3*12.25 + 1*3*4) / 30 = 2 * 90 / 30 = 6; alpha = 0.875.
#  strictness: item 1 mean 4/3 -> A, B -1/3, C +2/3; item 2 all 0 -> A, B -1/6, C +1/3.
THREE_RATERS = {"c1": {"A": 1, "B": 1, "C": 2}, "c2": {"A": 3, "B": 3, "C": 3}}

# «Ikke aktuelt» (None): x both None, y None against 2, z 3 and 3, w 1 and 2.
#  exact: x, z agree; y, w do not -> 0.5. within one: x, z, w -> 0.75.
#  kappa over the numeric pairs z, w: observed (0 + 1)/2 = 0.5; A 3 or 1, B 3 or 2, each 1/2:
#   expected (0 + 1 + 4 + 1)/4 = 1.5; kappa = 1 - 0.5/1.5 = 2/3.
#  alpha over z, w (y has one number only): n1=n2=1, n3=2, n=4; o12 = o21 = 1, o33 = 2.
#   d12 = 1, d13 = (4 - 1.5)^2 = 6.25, d23 = 1.5^2 = 2.25; Do = 2 * 1 / 4 = 0.5;
#   De = 2 * (1 + 2*6.25 + 2*2.25) / 12 = 3; alpha = 1 - 0.5/3 = 5/6.
#  strictness over z, w: z 0, 0; w mean 1.5 -> A -0.5, B +0.5; A -0.25, B +0.25.
NOT_APPLICABLE = {
    "x": {"A": None, "B": None},
    "y": {"A": None, "B": 2},
    "z": {"A": 3, "B": 3},
    "w": {"A": 1, "B": 2},
}

ALL_AGREE = {"c1": {"A": 2, "B": 2}, "c2": {"A": 2, "B": 2}}


@pytest.mark.parametrize(
    ("table", "items", "pairs", "exact", "within_one", "kappa", "alpha", "strictness"),
    [
        (TWO_RATERS, 3, 3, 2 / 3, 1.0, 2 / 3, 7 / 9, {"A": 1 / 6, "B": -1 / 6}),
        (THREE_RATERS, 2, 6, 4 / 6, 1.0, None, 0.875, {"A": -1 / 6, "B": -1 / 6, "C": 1 / 3}),
        (NOT_APPLICABLE, 4, 4, 0.5, 0.75, 2 / 3, 5 / 6, {"A": -0.25, "B": 0.25}),
        (ALL_AGREE, 2, 2, 1.0, 1.0, None, None, {"A": 0.0, "B": 0.0}),  # chance-corrected: undefined
        ({"c1": {"A": 3}}, 0, 0, None, None, None, None, {}),  # one rater: nothing to compare
        ({}, 0, 0, None, None, None, None, {}),
    ],
    ids=["two-raters", "three-raters", "ikke-aktuelt", "all-agree", "single-rater", "empty"],
)
def test_agreement_matches_the_hand_computation(
    table, items, pairs, exact, within_one, kappa, alpha, strictness
):
    result = agreement(table, SCALE)
    assert (result.items, result.pairs) == (items, pairs)
    assert result.exact == approx(exact)
    assert result.within_one == approx(within_one)
    assert result.kappa == approx(kappa)
    assert result.alpha == approx(alpha)
    assert result.strictness == {k: approx(v) for k, v in strictness.items()}


def test_kappa_weights_follow_the_numbers_not_the_observed_labels():
    # Values 0, 1 and 4 only: taken as labels 0, 1, 2, a 1 against a 4 would cost as little as 0 against 1.
    # A = 0, 1, 4; B = 1, 1, 4. Observed (1 + 0 + 0)/3 = 1/3. A each 1/3; B 1 (2/3), 4 (1/3).
    # Expected: A=0: 1/3 * (2/3*1 + 1/3*16) = 2; A=1: 1/3 * (1/3*9) = 1; A=4: 1/3 * (2/3*9) = 2; sum 5.
    # kappa = 1 - (1/3)/5 = 14/15 (by label index it would be 1 - (1/3)/1 = 2/3).
    table = {"a": {"A": 0, "B": 1}, "b": {"A": 1, "B": 1}, "c": {"A": 4, "B": 4}}
    assert agreement(table, SCALE).kappa == approx(14 / 15)
    assert agreement(table).kappa == approx(14 / 15)  # without the scale too


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([2, 3], 2),  # even split: the lower middle value
        ([1, 2, 3], 2),
        ([4, 0, 4], 4),
        ([None, 2], 2),  # half «ikke aktuelt» does not win
        ([None, None, 2], None),  # more than half does
        ([0, 4, 4, None], 4),
        ([], None),
    ],
)
def test_consensus_is_the_median(values, expected):
    assert consensus(values) == expected


def test_report_compares_suggestions_with_the_consensus_per_criterion_and_overall():
    ratings = [
        Rating("call1", "advice", "A", 2),
        Rating("call1", "advice", "B", 3),  # consensus 2
        Rating("call2", "advice", "A", 4),
        Rating("call2", "advice", "B", 4),  # consensus 4
        Rating("call1", "intro", "A", 1),
        Rating("call1", "intro", "B", 0),
    ]
    suggestions = {("call1", "advice"): 2, ("call2", "advice"): 3, ("call1", "intro"): 1}
    report = agreement_report(ratings, suggestions, {"advice": SCALE, "intro": (0, 1)})
    assert set(report.per_criterion) == {"advice", "intro"}
    assert report.per_criterion["intro"].exact == 0.0
    # suggestion against consensus for advice: (2, 2) and (3, 4) -> exact 0.5, within one 1.0;
    # kappa: observed (0 + 1)/2 = 0.5, expected ((2-2)^2 + (2-4)^2 + (3-2)^2 + (3-4)^2)/4 = 1.5 -> 2/3;
    # the suggestion's offset: 0 on call1, 3 - 3.5 on call2 -> -0.25.
    advice = report.suggestions_per_criterion["advice"]
    assert (advice.exact, advice.within_one) == (0.5, 1.0)
    assert advice.kappa == approx(2 / 3)
    assert advice.strictness[SUGGESTION] == approx(-0.25) and advice.strictness[CONSENSUS] == approx(0.25)
    # overall pools the three items: reviewers agree exactly only on call2's advice, within one on all.
    assert (report.overall.items, report.overall.within_one) == (3, 1.0)
    assert report.overall.exact == approx(1 / 3)
    # intro: consensus of 1 and 0 is 0, the suggestion said 1 -> overall suggestion exact 1 of 3.
    assert report.suggestions_overall.exact == approx(1 / 3)


def test_a_call_without_suggestion_is_left_out_of_the_comparison():
    report = agreement_report([Rating("c", "x", "A", 1), Rating("c", "x", "B", 1)], {}, {})
    assert report.suggestions_per_criterion == {} and report.suggestions_overall.items == 0
