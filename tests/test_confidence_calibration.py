"""The confidence calibration map (rule confidence and recognition factor -> probability right;
not the reviewers' calibration rounds) (pure)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import rubrics.loader
from lydlogg.calltext import build_call_text
from rubrics import load_rubric, load_rubrics, score_call
from rubrics.confidence import CALIBRATION, CALIBRATION_PATH, Calibration, load_calibration
from rubrics.engine import assess_call
from rubrics.recognition import recognition_factor
from rubrics.types import CriterionScore
from transcription.formats import from_json
from transcription.types import Segment, Transcript, Word

pytestmark = pytest.mark.pure

SET = Path(__file__).resolve().parent / "data" / "rubric_set"


def _written_calls():
    import yaml

    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    rubrics = load_rubrics()
    for call_id, entry in sorted(labels.items()):
        doc = json.loads((SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        yield entry, build_call_text(from_json(doc), doc.get("service")), rubrics[entry["rubric"]]


def test_the_shipped_map_is_fitted_and_monotone():
    cal = load_calibration()
    assert cal == CALIBRATION and cal.yes_no.n > 0 and cal.ordinal.n > 0
    assert "dev" in cal.fitted_on and "holdout" not in cal.fitted_on
    grid = [i / 10 for i in range(11)]
    for kind in ("yes_no", "ordinal"):
        for f in grid:
            ps = [cal.probability(kind, c, f) for c in grid]
            assert ps == sorted(ps), (kind, f)  # higher rule confidence never lowers it
        for c in grid:
            ps = [cal.probability(kind, c, f) for f in grid]
            assert ps == sorted(ps), (kind, c)  # better-heard speech never lowers it
    # recognised speech heard badly is less likely right than written text, for the same rule
    assert cal.probability("yes_no", 0.7, 0.2) < cal.probability("yes_no", 0.7, 1.0)
    assert cal.probability("ordinal", 0.85, 0.2) < cal.probability("ordinal", 0.85, 1.0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a list\n", "expected a mapping"),
        ("version: 1\nfitted_on: dev splits only here\nyes_no: {intercept: 0, rule_weight: -1, "
         "recognition_weight: 1, n: 3}\nordinal: {intercept: 0, rule_weight: 1, recognition_weight: 1, n: 3}\n",
         "yes_no.rule_weight"),
        ("version: 1\nfitted_on: dev splits only here\nyes_no: {intercept: 0, rule_weight: 1, "
         "recognition_weight: 1, n: 3}\n", "ordinal: Field required"),
        ("version: 1\nfitted_on: dev splits only here\nslope: 3\nyes_no: {intercept: 0, rule_weight: 1, "
         "recognition_weight: 1, n: 3}\nordinal: {intercept: 0, rule_weight: 1, recognition_weight: 1, n: 3}\n",
         "slope: Extra inputs"),
        ("version: [1\n", "cannot read YAML"),
    ],
)  # fmt: skip
def test_a_bad_map_is_refused_with_the_file_and_what_is_accepted(tmp_path, text, problem):
    path = tmp_path / "confidence.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as e:
        load_calibration(path)
    assert str(path) in str(e.value) and problem in str(e.value)
    if "YAML" not in problem and "mapping" not in problem:
        assert "rule_weight >= 0" in str(e.value)


def test_the_map_is_part_of_every_rubrics_hash(monkeypatch):
    path = next(Path(rubrics.loader.RUBRICS_DIR).glob("*.yaml"))
    before = load_rubric(path).sha256
    monkeypatch.setattr(rubrics.loader, "CALIBRATION_SHA256", "another map")
    assert load_rubric(path).sha256 != before


def test_on_written_text_the_values_stay_and_nothing_new_abstains():
    """Calibration changes only confidences: every labelled call, written, keeps its values,
    evidence and rationales, and nothing abstains."""
    for _entry, call, rubric in _written_calls():
        plain = score_call(call, rubric, calibrated=False).scores
        calibrated = score_call(call, rubric).scores
        for a, b in zip(plain, calibrated, strict=True):
            assert (a.value, a.evidence, a.rationale, a.abstained) == (
                b.value,
                b.evidence,
                b.rationale,
                False,
            )
            kind = rubric.rubric.criterion(a.criterion_id).scale.type
            assert b.confidence == CALIBRATION.probability(kind, a.confidence, 1.0)


def test_held_out_written_suggestions_at_0_8_or_more_are_right_at_least_90_percent():
    right = given = 0
    for entry, call, rubric in _written_calls():
        if entry["split"] != "holdout":
            continue
        for s in score_call(call, rubric).scores:
            if s.criterion_id in entry["labels"] and s.confidence >= 0.8:
                given += 1
                right += s.value == entry["labels"][s.criterion_id]
    assert given >= 100 and right / given >= 0.9, (right, given)


def _recognised(prob: float) -> Transcript:
    """A short LVS call whose staff words were all heard with probability ``prob``."""
    lines = [
        ("operator", "Legevakten, du snakker med sykepleier Kari."),
        ("caller", "Hei, jeg har hatt vondt i magen siden i går kveld og lurer på hva jeg skal gjøre."),
        ("operator", "Hvordan har du det nå?"),
        ("caller", "Det verker, men jeg klarer meg."),
    ]
    segs, t = [], 0.0
    for role, text in lines:
        words = tuple(Word(t + i * 0.4, t + i * 0.4 + 0.35, w, prob) for i, w in enumerate(text.split()))
        segs.append(Segment(start=t, end=words[-1].end, text=text, channel=0 if role == "operator" else 1,
                            speaker="S1" if role == "operator" else "S2", role=role, words=words,
                            avg_logprob=-0.2 if prob > 0.8 else -1.2, no_speech_prob=0.01))  # fmt: skip
        t = words[-1].end + 0.5
    return Transcript("cal-1", "no", tuple(segs))


@pytest.mark.parametrize("prob", [0.95, 0.3])
def test_on_recognised_speech_the_confidence_is_the_maps_probability_and_abstentions_stay(prob):
    call = build_call_text(_recognised(prob), "lvs")
    assert all(u.quality is not None for u in call.utterances)
    rubric = load_rubrics()["lvs_operator"]
    steps = assess_call(call, rubric, CALIBRATION)
    assert steps
    for a in steps:
        if a.recognised.abstained:
            assert a.final == a.recognised and a.final.value is None  # an abstention stays one
            continue
        assert a.final.value == a.rule.value
        assert a.final.confidence == CALIBRATION.probability(a.kind, a.rule.confidence, a.factor)
        assert 0 <= a.factor <= 1
    if prob < 0.5:
        assert any(a.factor < recognition_factor(0.74, 0.75) for a in steps)


def test_the_map_file_is_the_one_the_engine_uses():
    assert CALIBRATION_PATH.is_file() and CALIBRATION_PATH.parent.name == "confidence"
    assert isinstance(CALIBRATION, Calibration)


def test_abstaining_by_probability_only_touches_a_not_found_on_recognised_speech():
    from rubrics.recognition import abstain_by_probability

    heard = build_call_text(_recognised(0.3), "lvs")
    written = build_call_text(
        Transcript("w", "no", tuple(replace(s, words=(), avg_logprob=None, no_speech_prob=None)
                                    for s in _recognised(0.3).segments)), "lvs"
    )  # fmt: skip
    assert all(u.quality is None for u in written.utterances)
    kw = {"abstain_below": 0.9, "lowest": 0, "listen_below": 0.5}
    none_found = CriterionScore("asks_prior_contact", 0, 0.7, (), "Ingen.")
    out = abstain_by_probability(none_found, heard, probability=0.6, **kw)
    assert out.abstained and out.value is None and out.confidence == 0.0
    assert out.evidence and "lytt" in out.rationale and "60%" in out.rationale  # names its probability
    kept = abstain_by_probability(none_found, heard, probability=0.95, **kw)
    assert (kept.value, kept.confidence, kept.abstained) == (0, 0.95, False)
    assert abstain_by_probability(none_found, written, probability=0.6, **kw).value == 0  # text: never
    found = CriterionScore("asks_prior_contact", 1, 0.85, (heard.staff[0].evidence(),), "Funnet.")
    assert abstain_by_probability(found, heard, probability=0.3, **kw).value == 1  # a finding: never


def _bench():
    import importlib.util
    import sys

    path = Path(__file__).resolve().parent.parent / "bench" / "confidence_calibration.py"
    if "confidence_calibration" not in sys.modules:
        spec = importlib.util.spec_from_file_location("confidence_calibration", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["confidence_calibration"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules["confidence_calibration"]


def test_the_fit_finds_what_decides_rightness_and_stays_monotone():
    bench = _bench()

    def row(conf: float, factor: float, right: bool):
        return bench.Row("x", "dev", "c", "k", "yes_no", 1, 1 if right else 0, conf, factor,
                         False, False, conf, conf, False)  # fmt: skip

    # right when heard well, wrong when not, whatever the rule says
    heard = [row(c, f, f > 0.5) for c in (0.7, 0.85) for f in (0.1, 0.3, 0.7, 0.9) for _ in range(5)]
    curve = bench.fit_curve(heard)
    assert curve.recognition_weight > 2 and curve.n == len(heard)
    assert curve.probability(0.7, 0.9) > 0.8 > 0.2 > curve.probability(0.7, 0.1)
    # the lower rule confidence is the more often right: the weight stays at 0, never negative
    backwards = [row(c, 1.0, c < 0.8) for c in (0.7, 0.85) for _ in range(10)]
    assert bench.fit_curve(backwards).rule_weight == 0.0
    # all right: finite weights, a high probability
    assert 0.9 < bench.fit_curve([row(0.85, 1.0, True)] * 20).probability(0.85, 1.0) < 1.0
