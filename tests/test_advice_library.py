"""The standard worsening advice library: what the loader accepts and rejects, detection, coverage, SMS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from lydlogg.calltext import build_call_text
from rubrics.advice_library import (
    ADVICE_DIR,
    SMS_MAX_CHARS,
    advice_coverage,
    detect_reasons,
    load_advice_library,
    sms_draft,
)
from rubrics.loader import RubricError
from rubrics.scorers.advice import (
    SafetyNettingParams,
    WorseningAdviceParams,
    score_safety_netting,
    score_worsening_advice,
)
from transcription.formats import from_json

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

SET = Path(__file__).resolve().parent / "data" / "rubric_set" / "calls"
NEW = Path(__file__).resolve().parent / "data" / "advice_set" / "calls"


@pytest.fixture(scope="module")
def library():
    return load_advice_library()


def _call(path: Path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    return build_call_text(from_json(doc), doc.get("service"))


def _doc(*lines: tuple[str, str]):
    segs = [{"start": float(i), "end": i + 0.9, "speaker": "S1" if r == "operator" else "S2", "role": r, "text": t}
            for i, (r, t) in enumerate(lines)]  # fmt: skip
    return build_call_text(from_json({"call_id": "t", "language": "no", "segments": segs}), "lvs")


def test_the_shipped_library_has_ten_reasons_all_marked_as_examples(library):
    assert len(library.standards) >= 10
    ids = {s.id for s in library.standards}
    assert {"tungpust", "feber_barn", "magesmerter", "brystsmerter", "hodeskade", "oppkast_diare_barn",
            "urinveier", "allergisk_reaksjon", "gravid_syk", "psykisk_krise"} <= ids  # fmt: skip
    assert all(s.status == "eksempel" and s.kilde for s in library.standards)
    assert not library.approved
    for s in library.standards:
        assert len(sms_draft(s)) <= SMS_MAX_CHARS


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "advice"
    shutil.copytree(ADVICE_DIR, folder)
    return folder


def _edit(folder: Path, name: str, change) -> None:
    doc = yaml.safe_load((folder / f"{name}.yaml").read_text(encoding="utf-8"))
    change(doc)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(ukjent=1), "ukjent: Extra inputs are not permitted"),
        (lambda d: d.update(status="godkjent"), "needs godkjent_av"),
        (lambda d: d.update(godkjent_av="Dr. X"), "only for status godkjent"),
        (lambda d: d.update(sms=d["sms"] + " {navn}"), "unknown placeholder"),
        (lambda d: d.update(sms="Ring legevakten på {nummer} om noe skjer, uten tegn her."), "{tegn}"),
        (lambda d: d.update(sms="x" * 500 + "{tegn}"), "sms"),
        (lambda d: d["tegn"][0].update(handling="ring mor"), "handling"),
        (lambda d: d["tegn"].append(dict(d["tegn"][0])), "duplicate sign id"),
        (lambda d: d.update(stikkord=["feber"]), "stikkord"),
        (lambda d: d.update(id="noe_annet"), "must match the file name"),
        (lambda d: d["tegn"][0].update(farge="blå"), "tegn.0.farge: Extra inputs are not permitted"),
        (lambda d: d["tidsrammer"][0].update(frist=3), "tidsrammer.0.frist: Extra inputs are not permitted"),
        (lambda d: d.update(status="utkast"), "status: Input should be 'eksempel' or 'godkjent'"),
        (lambda d: d.update(kilde="meg"), "kilde"),
        (lambda d: d.pop("navn"), "navn: Field required"),
        (lambda d: d.update(tegn=d["tegn"][:2]), "tegn"),
        (lambda d: d.update(tidsrammer=[]), "tidsrammer"),
        (lambda d: d["tegn"][0].update(fraser=["x" * 81]), "phrases must be 1-80 characters"),
        (lambda d: d.update(stikkord=[*d["stikkord"], "  "]), "phrases must be 1-80 characters"),
        (lambda d: d.update(status="godkjent", godkjent_av="Dr. X", godkjent_dato="i går"), "godkjent_dato"),
        (lambda d: d.update(versjon=0), "versjon"),
    ],
)
def test_the_loader_rejects_with_the_file_named(tmp_path, change, message):
    folder = _copy(tmp_path)
    _edit(folder, "tungpust", change)
    with pytest.raises(RubricError) as e:
        load_advice_library(folder)
    assert "tungpust.yaml" in str(e.value) and message in str(e.value)


def test_every_field_of_the_library_is_described_and_unknown_fields_are_refused():
    from pydantic import ValidationError

    from rubrics.advice_library import AdviceStandard, Sign, TimeFrame

    for model in (AdviceStandard, Sign, TimeFrame):
        assert model.model_config.get("extra") == "forbid", model.__name__
        undescribed = [name for name, f in model.model_fields.items() if not f.description]
        assert not undescribed, f"{model.__name__}: {undescribed}"
    with pytest.raises(ValidationError):
        Sign(id="x", tekst="noe", fraser=("noe",), handling="113", farge="blå")


def test_a_file_that_is_not_yaml_or_not_a_mapping_is_named(tmp_path):
    folder = _copy(tmp_path)
    (folder / "tungpust.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(RubricError, match=r"tungpust\.yaml: cannot read YAML"):
        load_advice_library(folder)
    (folder / "tungpust.yaml").write_text("- bare\n- en liste\n", encoding="utf-8")
    with pytest.raises(RubricError, match=r"tungpust\.yaml: expected a mapping with id, versjon, navn"):
        load_advice_library(folder)


def test_the_hash_follows_the_content_not_the_formatting(tmp_path, library):
    folder = _copy(tmp_path)
    for path in folder.glob("*.yaml"):
        _edit(folder, path.stem, lambda d: None)  # written again by another YAML writer: same content
    assert load_advice_library(folder).sha256 == library.sha256
    _edit(folder, "hodeskade", lambda d: d["tegn"][0]["fraser"].append("våkner ikke"))
    assert load_advice_library(folder).sha256 != library.sha256


def test_an_empty_folder_says_what_is_expected(tmp_path):
    with pytest.raises(RubricError, match="no advice standards"):
        load_advice_library(tmp_path)


def test_approval_and_the_content_hash(tmp_path, library):
    folder = _copy(tmp_path)
    assert load_advice_library(folder).sha256 == library.sha256  # same content, same hash
    for path in folder.glob("*.yaml"):
        _edit(folder, path.stem, lambda d: d.update(status="godkjent", godkjent_av="Overlege Test", godkjent_dato="2026-11-30"))  # fmt: skip
    approved = load_advice_library(folder)
    assert approved.approved and approved.sha256 != library.sha256


@pytest.mark.parametrize(
    ("call_id", "expected"),
    [
        ("rs-lvs-021", "tungpust"),
        ("rs-lvs-001", "feber_barn"),
        ("rs-lvs-006", "oppkast_diare_barn"),
        ("rs-lvs-002", "urinveier"),  # ASR style
        ("rs-lvs-016", "psykisk_krise"),
        ("rs-llt-013", "gravid_syk"),  # nynorsk: "eg er gravid i veke tjue"
        ("rs-lvs-005", None),  # toothache: none of the reasons
        ("rs-lvs-010", None),  # a 15-year-old's sore throat is not fever in a small child
    ],
)
def test_detection(library, call_id, expected):
    found = detect_reasons(_call(SET / f"{call_id}.json"), library)
    assert (found[0].reason_id if found else None) == expected
    for d in found:
        assert 0 < d.confidence <= 1 and d.cues and d.evidence
        for ev in d.evidence:
            assert ev.text  # evidence points into the caller's words


def test_coverage_names_what_was_said_with_evidence_and_what_was_missing(library):
    call = _call(SET / "rs-lvs-021.json")
    cov = advice_coverage(call, library.get("tungpust"))
    said = {s.id for s in cov.signs_said}
    assert said == {"blaa_lepper", "forvirret", "tung_aa_vekke", "klarer_ikke_snakke", "metning"}
    assert {s.id for s in cov.signs_missing} == {"puster_fort", "inndragninger", "drikker_ikke"}
    assert {a.id for a in cov.actions if a.said} == {"113", "legevakt"}
    assert cov.home_care and cov.meets_standard
    for s in cov.signs_said:
        seg = call.utterances[s.evidence[0].segment_index]
        assert (
            seg.is_staff and seg.text[s.evidence[0].start_char : s.evidence[0].end_char] == s.evidence[0].text
        )


def test_a_sign_only_asked_about_in_the_history_is_not_advice(library):
    call = _doc(
        ("operator", "Legevakten. Puster hun fort? Er hun blå rundt munnen?"),
        ("caller", "Nei, hun har feber og hoster, hun er tre år."),
        ("operator", "Ring igjen hvis det blir verre."),
    )
    cov = advice_coverage(call, library.get("tungpust"))
    assert not cov.signs_said and not cov.meets_standard


def test_dialect_and_asr_forms_of_the_advice_count(library):
    call = _call(NEW / "as-002.json")  # nynorsk, lower case: "viss du får feber eller vondt i ryggen ..."
    cov = advice_coverage(call, library.get("urinveier"))
    assert {s.id for s in cov.signs_said} == {"feber", "vondt_i_siden"}
    assert any(t.said for t in cov.time_frames)  # "etter to døgn" written out in words


def test_the_sms_puts_the_signs_said_first_and_uses_the_time_frame_given(library):
    call = _call(SET / "rs-lvs-021.json")
    std = library.get("tungpust")
    cov = advice_coverage(call, std)
    text = sms_draft(std, cov, service_number="55 00 00 00")
    assert "55 00 00 00" in text and "{" not in text and len(text) <= SMS_MAX_CHARS
    assert text.index("blå lepper") < text.index("metningen")  # said first, in the order said
    assert "Har legen ikke ringt innen en halvtime" in text  # the time frame the nurse gave
    assert len(sms_draft(std, cov, max_chars=200)) <= 200


def test_the_scorers_name_the_standard_signs_that_were_missing(library):
    call = _call(SET / "rs-lvs-014.json")
    on = score_worsening_advice(call, WorseningAdviceParams())
    off = score_worsening_advice(call, WorseningAdviceParams(advice_library=False))
    assert off.rationale in on.rationale and "Standardrådet for feber hos lite barn" not in off.rationale
    call = _call(NEW / "as-006.json")  # vague advice only
    on = score_safety_netting(call, SafetyNettingParams())
    assert "Standardrådet for oppkast og diaré hos barn nevner også" in on.rationale


def test_a_standard_sign_outside_the_general_lexicon_counts_as_concrete(tmp_path):
    from rubrics.advice_library import library_in_use

    folder = _copy(tmp_path)
    _edit(folder, "urinveier", lambda d: d["tegn"].append(
        {"id": "lukt", "tekst": "sterk lukt av urinen", "fraser": ["lukter sterkt"], "handling": "legevakt"}))  # fmt: skip
    call = _doc(
        ("operator", "Legevakten, sykepleier Eva."),
        ("caller", "Det svir når jeg tisser og jeg må på do hele tiden."),
        ("operator", "Hvis urinen lukter sterkt, ring oss på 116117."),
    )
    assert score_worsening_advice(call, WorseningAdviceParams()).value == 1  # general lexicon: vague only
    with library_in_use(load_advice_library(folder)):
        scored = score_worsening_advice(
            _doc(*[(u.role, u.text) for u in call.utterances]), WorseningAdviceParams()
        )
    assert scored.value == 3 and "lukter sterkt" in scored.rationale


def test_the_advice_labels_cover_the_set_and_name_only_known_reasons_and_signs(library):
    labels = yaml.safe_load((SET.parent / "advice_labels.yaml").read_text(encoding="utf-8"))
    assert set(labels) == {p.stem for p in SET.glob("*.json")}
    new = yaml.safe_load((NEW.parent / "labels.yaml").read_text(encoding="utf-8"))
    assert set(new) == {p.stem for p in NEW.glob("*.json")}
    for entry in [*labels.values(), *new.values()]:
        for reason in entry["reasons"]:
            library.get(reason)
        if entry["reasons"]:
            signs = {s.id for s in library.get(entry["reasons"][0]).tegn}
            assert set(entry.get("signs_named", [])) <= signs


def test_detection_and_coverage_on_the_held_out_advice_set(library):
    new = yaml.safe_load((NEW.parent / "labels.yaml").read_text(encoding="utf-8"))
    right, tp, hand = 0, 0, 0
    for call_id, entry in new.items():
        call = _call(NEW / f"{call_id}.json")
        found = detect_reasons(call, library)
        right += (found[0].reason_id if found else None) in (entry["reasons"] or [None])
        if entry["reasons"]:
            said = {s.id for s in advice_coverage(call, library.get(entry["reasons"][0])).signs_said}
            tp += len(said & set(entry["signs_named"]))
            hand += len(entry["signs_named"])
            assert said <= set(entry["signs_named"])  # no sign counted that a person did not hear
    assert right >= 9 and tp / hand >= 0.85  # measured: 9 of 10, recall 90 %


def test_several_reasons_may_apply_and_the_staff_words_count_only_twice_over(library):
    found = detect_reasons(
        _call(SET / "rs-llt-001.json"), library
    )  # a two-year-old with fever and fast breathing
    assert [d.reason_id for d in found] == ["tungpust", "feber_barn"]
    assert found[0].confidence > found[1].confidence
    interpreted = _doc(
        ("operator", "Legevakten. Hun sier at han har vondt i brystet og at det trykker i brystet."),
        ("caller", "[arabisk]"),
    )
    assert [d.reason_id for d in detect_reasons(interpreted, library)] == ["brystsmerter"]
    once = _doc(("operator", "Legevakten. Har du vondt i brystet?"), ("caller", "Nei."))
    assert detect_reasons(once, library) == ()  # one cue in the staff's words is not enough


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Eg hostar heile tida og pustar så tungt.", "tungpust"),  # nynorsk
        ("Han e så tung i pusten, og han hoste og hoste.", "tungpust"),  # dialect
        ("Han har fått puste besvær og er and pusten.", "tungpust"),  # ASR: split compounds
        ("Veslejenta vår er to år og ho er så varm, tempen er trettini.", "feber_barn"),  # number in words
        ("Æ har så vondt i magen, mest nede til høgre.", "magesmerter"),
        ("Æ har vondt i brøstet og det trykke sånn.", "brystsmerter"),  # northern dialect
        ("Eg har vondt i brystet og hjartet bankar.", "brystsmerter"),
        ("Guten datt av sykkelen og slo hovudet.", "hodeskade"),
        ("Ho er tre år og har kasta opp heile natta og har diare.", "oppkast_diare_barn"),
        ("Det svir når eg tissar, eg må tissa heile tida.", "urinveier"),
        ("Han vart stukken av ein kveps og no hovnar leppene.", "allergisk_reaksjon"),
        ("Eg er gravid i veke tjue og har fått feber.", "gravid_syk"),
        ("Sonen min snakkar om å ta sitt eige liv, han orkar ikkje meir.", "psykisk_krise"),
        ("Ho har hatt det så tungt og vil ikkje leve lenger.", "psykisk_krise"),
        ("Såret på leggen er raudt og hovent.", "hudinfeksjon"),
    ],
)
def test_dialect_nynorsk_and_asr_forms_of_the_callers_words_find_the_reason(library, said, expected):
    found = detect_reasons(_doc(("operator", "Legevakten, sykepleier Eva."), ("caller", said)), library)
    assert found and found[0].reason_id == expected, [d.reason_id for d in found]
    assert found[0].evidence[0].text in said  # the evidence quotes the caller's own words


def test_nynorsk_advice_names_the_standards_signs_and_action(library):
    call = _doc(
        ("operator", "Legevakten."),
        ("caller", "Eg får ikkje puste skikkeleg, eg hostar."),
        (
            "operator",
            "Viss du blir blå rundt munnen eller ikkje klarar å snakke, ring hundre og tretten."
            " Viss du pustar veldig fort, ring oss att på ein ein seks ein ein sju.",
        ),
    )
    cov = advice_coverage(call, library.get("tungpust"))
    assert {s.id for s in cov.signs_said} == {"blaa_lepper", "klarer_ikke_snakke", "puster_fort"}
    assert {a.id for a in cov.actions if a.said} == {"113", "legevakt"} and cov.meets_standard


def _labelled_calls():
    """(call, hand labels of worsening_advice and safety_netting) for the rubric set and the advice set."""
    labels = yaml.safe_load((SET.parent / "labels.yaml").read_text(encoding="utf-8"))
    for call_id, entry in labels.items():
        yield _call(SET / f"{call_id}.json"), entry["labels"]
    for call_id, entry in yaml.safe_load((NEW.parent / "labels.yaml").read_text(encoding="utf-8")).items():
        yield _call(NEW / f"{call_id}.json"), entry


def test_the_library_does_not_make_either_criterion_agree_less_with_the_hand_labels():
    """The issue's condition for the scorers using the standard: no worse on the labelled set."""
    exact = {(c, on): 0 for c in ("worsening_advice", "safety_netting") for on in (False, True)}
    n = 0
    for call, labels in _labelled_calls():
        n += 1
        for on in (False, True):
            wa = score_worsening_advice(call, WorseningAdviceParams(advice_library=on)).value
            sn = score_safety_netting(call, SafetyNettingParams(advice_library=on)).value
            exact["worsening_advice", on] += wa == labels["worsening_advice"]
            exact["safety_netting", on] += sn == labels["safety_netting"]
    assert n == 57
    for criterion in ("worsening_advice", "safety_netting"):
        assert exact[criterion, True] >= exact[criterion, False], criterion
        assert exact[criterion, True] / n >= 0.9, criterion  # measured: 54/57 and 55/57
