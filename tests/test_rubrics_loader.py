"""What the rubric loader must accept and reject."""

from __future__ import annotations

import copy

import pytest
import yaml

from rubrics import RubricError, load_rubric, load_rubrics
from rubrics.loader import RUBRICS_DIR

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

SHIPPED = sorted(RUBRICS_DIR.glob("*.yaml"))


def test_the_shipped_rubrics_load():
    found = load_rubrics()
    assert {"lvs_operator", "legevaktlege_telefon"} <= set(found)
    lvs = found["lvs_operator"].rubric
    ids = {c.id for c in lvs.criteria}
    assert {"open_questions", "worsening_advice", "safety_netting", "asks_prior_contact", "summarises",
            "checks_understanding", "elicits_concerns", "states_urgency", "introduces_self",
            "asks_to_speak_to_patient"} <= ids  # fmt: skip
    wa = lvs.criterion("worsening_advice")
    assert wa.scale.type == "ordinal" and wa.scale.not_applicable and sorted(wa.anchors) == [0, 1, 2, 3, 4]
    assert lvs.criterion("asks_prior_contact").scale.type == "yes_no"
    doctor = found["legevaktlege_telefon"].rubric
    assert {"communicates_uncertainty", "offers_video"} <= {c.id for c in doctor.criteria}


def _base() -> dict:
    return yaml.safe_load((RUBRICS_DIR / "lvs_operator.yaml").read_text(encoding="utf-8"))


def _write(tmp_path, doc) -> object:
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _mutations():
    def unknown_top(d):
        d["colour"] = "blue"

    def unknown_criterion_field(d):
        d["criteria"][0]["hint"] = "x"

    def bad_scale_type(d):
        d["criteria"][0]["scale"] = {"type": "stars"}

    def bad_scale_range(d):
        d["criteria"][1]["scale"] = {"type": "ordinal", "min": 4, "max": 2}

    def anchors_miss_a_value(d):
        crit = next(c for c in d["criteria"] if c["scale"]["type"] == "ordinal")
        crit["anchors"].pop(max(crit["anchors"]))

    def duplicate_id(d):
        d["criteria"].append(copy.deepcopy(d["criteria"][0]))

    def unknown_scorer(d):
        d["criteria"][0]["scorer"] = {"type": "mind_reader"}

    def bad_scorer_params(d):
        d["criteria"][0]["scorer"]["params"] = {"no_such_knob": 1}

    def _looks_at(d, looks_at):
        crit = next(c for c in d["criteria"] if c["scorer"]["type"] == "introduces_self")
        crit["scorer"]["params"] = {"looks_at": looks_at}

    def unknown_stretch(d):
        _looks_at(d, {"part": "middle"})

    def unknown_stretch_field(d):
        _looks_at(d, {"part": "opening", "turns": 2})

    def stretch_out_of_range(d):
        _looks_at(d, {"part": "opening", "max_staff_turns": 0})

    def unknown_phase(d):
        d["criteria"][0]["phase"] = "dessert"

    def unknown_service(d):
        d["applies_to"]["services"] = ["tannlege"]

    return {
        "unknown top-level field": (unknown_top, "colour"),
        "unknown criterion field": (unknown_criterion_field, "hint"),
        "bad scale type": (bad_scale_type, "scale"),
        "bad scale range": (bad_scale_range, "must be above min"),
        "anchors miss a value": (anchors_miss_a_value, "anchors must describe exactly"),
        "duplicate criterion id": (duplicate_id, "duplicate criterion id"),
        "unknown scorer": (unknown_scorer, "unknown scorer 'mind_reader'"),
        "bad scorer params": (bad_scorer_params, "no_such_knob"),
        "unknown phase": (unknown_phase, "name a phase not in phases"),
        "unknown stretch": (unknown_stretch, "'all_staff', 'opening'"),
        "unknown stretch field": (unknown_stretch_field, "turns"),
        "stretch out of range": (stretch_out_of_range, "max_staff_turns"),
        "unknown service": (unknown_service, "tannlege"),
    }


@pytest.mark.parametrize("case", sorted(_mutations()))
def test_loader_rejects_with_file_and_reason(tmp_path, case):
    mutate, expected = _mutations()[case]
    doc = _base()
    mutate(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(RubricError) as err:
        load_rubric(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_not_yaml_and_not_a_mapping(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    with pytest.raises(RubricError, match="cannot read YAML"):
        load_rubric(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(RubricError, match="expected a mapping"):
        load_rubric(bad)


def test_two_files_with_one_id_are_refused(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(
            (RUBRICS_DIR / "lvs_operator.yaml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    with pytest.raises(RubricError, match="also used by"):
        load_rubrics(tmp_path)


def test_hash_follows_meaning_not_formatting(tmp_path):
    original = load_rubric(RUBRICS_DIR / "lvs_operator.yaml")
    doc = _base()
    same = load_rubric(_write(tmp_path, doc))
    assert same.sha256 == original.sha256  # re-serialised YAML, same content
    doc["criteria"][0]["weight"] = doc["criteria"][0].get("weight", 1.0) + 1
    assert load_rubric(_write(tmp_path, doc)).sha256 != original.sha256


def test_where_a_rule_looks_is_rubric_content_so_changing_it_scores_again(tmp_path):
    """looks_at is part of the hash: stored suggestions are keyed on it and get scored again."""
    original = load_rubric(RUBRICS_DIR / "lvs_operator.yaml")
    greeting = original.rubric.criterion("introduces_self").scorer.params["looks_at"]
    assert greeting == {"part": "opening", "max_staff_turns": 3, "caller_words_before_end": 6}
    assert all(
        "looks_at" not in c.scorer.params for c in original.rubric.criteria if c.id != "introduces_self"
    )
    doc = _base()
    crit = next(c for c in doc["criteria"] if c["id"] == "introduces_self")
    crit["scorer"]["params"]["looks_at"]["max_staff_turns"] = 2
    assert load_rubric(_write(tmp_path, doc)).sha256 != original.sha256
