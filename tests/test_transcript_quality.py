"""Transcript quality estimate and suggestions that abstain over poorly recognised speech (pure)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lydlogg.calltext import build_call_text
from rubrics import load_rubrics, score_call
from rubrics.recognition import adjust_for_recognition, clock, recognition_factor
from rubrics.scorers import REGISTRY
from rubrics.scorers import _common as scorer_defaults
from rubrics.types import CriterionScore, Evidence
from transcription import quality as recogniser
from transcription.formats import from_json
from transcription.quality import call_quality, quality_level, segment_quality
from transcription.types import Segment, Transcript, Word

SET = Path(__file__).resolve().parent / "data" / "rubric_set"


def seg(
    text: str, start: float, end: float, prob: float | None, role: str = "operator", ch: int = 0
) -> Segment:
    """A recognised segment whose words all have probability ``prob`` (None: written text)."""
    tokens = text.split()
    step = (end - start) / max(1, len(tokens))
    words = () if prob is None else tuple(
        Word(start + i * step, start + (i + 1) * step, t, prob) for i, t in enumerate(tokens)
    )  # fmt: skip
    lp = None if prob is None else -0.3 if prob > 0.8 else -0.9
    return Segment(start, end, text, ch, None, role, words, lp, None if prob is None else 0.1)


def test_written_text_has_no_estimate_and_recognised_speech_has_one_in_range():
    assert segment_quality(seg("hei på deg", 0, 1.2, None)) is None
    good = segment_quality(seg("legevakten du snakker med sykepleier anne", 0, 2.8, 0.95))
    bad = segment_quality(seg("regge mokten du sa ke med", 0, 2.8, 0.3))
    assert 0 <= bad < good <= 1


def test_call_quality_is_weighted_by_duration_and_skips_written_segments():
    long_bad = seg("regge mokten du sa ke med sykepleier ringt ryd", 0, 4.0, 0.3)
    short_good = seg("hva gjelder det", 5.0, 6.0, 0.95)
    q = call_quality([long_bad, short_good, seg("skrevet tekst", 7, 8, None)])
    assert segment_quality(long_bad) < q < segment_quality(short_good)
    assert q < (segment_quality(long_bad) + segment_quality(short_good)) / 2
    assert call_quality([seg("skrevet", 0, 1, None)]) is None


def _recognised(probs: list[float], *, seconds: float, no_speech: float = 0.01) -> Segment:
    """A recognised segment with these word probabilities over ``seconds``; its average
    log-probability is the words' mean log-probability, as Whisper's would roughly be."""
    step = seconds / len(probs)
    words = tuple(Word(i * step, (i + 1) * step, f"ord{i}", p) for i, p in enumerate(probs))
    lp = sum(math.log(p) for p in probs) / len(probs)
    return Segment(0.0, seconds, " ".join(w.text for w in words), 0, None, None, words, lp, no_speech)


def test_flawless_recognition_reads_as_good():
    """Ten words at 0.95 in four seconds (the typical 2.5 words/s), average log-probability -0.1,
    no-speech 0.01: what a clean line through a good model gives. Weights fitted on synthetic
    speech alone capped this near 0.53 ("usikker"), so nothing could ever read "god"."""
    flawless = Segment(
        0.0, 4.0, "x", 0, None, None,
        tuple(Word(i * 0.4, (i + 1) * 0.4, f"ord{i}", 0.95) for i in range(10)), -0.1, 0.01,
    )  # fmt: skip
    q = segment_quality(flawless)
    assert q >= recogniser.UNCERTAIN_BELOW
    assert quality_level(q) == "god"


def test_half_the_words_unsure_reads_as_poor():
    """Half the words under 0.5 probability (0.2 against 0.95), normal rate: "dårlig"."""
    q = segment_quality(_recognised([0.95, 0.2] * 5, seconds=4.0))
    assert quality_level(q) == "dårlig"


def test_poorly_recognised_real_speech_stays_poor():
    """The signals of the NPSC clip norwegian-short-3s (Whisper base, measured word accuracy 0.40):
    two of five words under 0.5, average log-probability -0.52, 1.8 words/s."""
    words = tuple(
        Word(a, b, t, p)
        for a, b, t, p in [(0.0, 0.74, "a", 0.61), (0.74, 1.36, "b", 0.63), (1.36, 1.66, "c", 0.37),
                           (1.66, 2.4, "d", 0.64), (2.4, 2.84, "e", 0.39)]
    )  # fmt: skip
    q = segment_quality(Segment(0.0, 2.84, "a b c d e", 0, None, None, words, -0.516, 0.044))
    assert quality_level(q) == "dårlig"
    assert abs(q - 0.40) < 0.15


@pytest.mark.parametrize(
    ("q", "level"), [(None, None), (0.2, "dårlig"), (0.49, "dårlig"), (0.5, "usikker"), (0.8, "god")]
)
def test_quality_levels(q, level):
    assert quality_level(q, poor_below=0.5, uncertain_below=0.75) == level


def _call(prob: float | None):
    segments = (
        seg("legevakten hei", 0.0, 1.5, prob),
        seg("hei jeg ringer om sønnen min", 2.0, 4.0, prob, "caller", 1),
        seg("okei han har feber ja", 4.5, 7.0, prob),
        seg("ja", 7.5, 8.0, prob, "caller", 1),
        seg("da ringer du fastlegen i morgen", 8.5, 11.0, prob),
    )
    return build_call_text(Transcript("c1", "no", segments), "lvs")


def test_the_scorers_quality_marks_are_the_recognisers():
    """rubrics restates the two marks (it imports nothing of ours); they must stay the same."""
    assert (scorer_defaults.POOR_BELOW, scorer_defaults.UNCERTAIN_BELOW) == (
        recogniser.POOR_BELOW,
        recogniser.UNCERTAIN_BELOW,
    )
    params = scorer_defaults.ScorerParams()
    assert (params.listen_below, params.trusted_from) == (recogniser.POOR_BELOW, recogniser.UNCERTAIN_BELOW)


def test_a_negative_finding_over_poorly_heard_staff_speech_abstains_with_the_spans_to_listen_to():
    call = _call(0.2)
    none_found = CriterionScore("asks_prior_contact", 0, 0.7, (), "Spør ikke om tidligere kontakt.")
    out = adjust_for_recognition(
        none_found, call, lowest=0, listen_below=0.5, abstain_share=0.25, trusted_from=0.75
    )
    assert out.abstained and out.value is None
    assert out.rationale.startswith("Kan ikke vurderes automatisk – lytt 0:00–0:11")
    assert [e.segment_index for e in out.evidence] == [0, 2, 4]


def test_a_positive_finding_keeps_its_value_with_a_confidence_scaled_by_its_evidence():
    call = _call(0.2)
    ev = call.utterances[0].evidence(0, 10)
    found = CriterionScore("introduces_self", 1, 0.85, (ev,), "Nevner tjenesten.")
    out = adjust_for_recognition(
        found, call, lowest=0, listen_below=0.5, abstain_share=0.25, trusted_from=0.75
    )
    assert not out.abstained and out.value == 1
    assert out.confidence == pytest.approx(
        0.85 * recognition_factor(call.utterances[0].quality, 0.75), abs=1e-3
    )
    assert out.confidence < 0.85


def test_the_lowest_value_with_evidence_of_what_was_found_instead_also_rests_on_not_finding():
    """A greeting heard without the name: the 0 rests on the name not being found, so over poorly
    heard staff speech it abstains; over well-heard speech it keeps its value."""
    service_only = lambda call: CriterionScore(  # noqa: E731
        "introduces_self", 0, 0.68, (call.utterances[0].evidence(0, 10),), "Nevner bare tjenesten."
    )
    kw = {"lowest": 0, "listen_below": 0.5, "abstain_share": 0.25, "trusted_from": 0.75}
    poor = _call(0.2)
    out = adjust_for_recognition(service_only(poor), poor, **kw)
    assert out.abstained and out.value is None
    assert out.rationale.startswith("Kan ikke vurderes automatisk – lytt 0:00–0:11")
    good = _call(0.97)
    q = min(u.quality for u in good.staff)
    kept = adjust_for_recognition(service_only(good), good, **{**kw, "listen_below": q - 0.01})
    assert not kept.abstained and kept.value == 0
    found = CriterionScore("introduces_self", 1, 0.85, (poor.utterances[0].evidence(0, 10),), "Presenterer.")
    assert not adjust_for_recognition(found, poor, **kw).abstained  # a finding above the lowest value


def test_negative_finding_on_speech_heard_above_the_threshold_is_kept_with_scaled_confidence():
    call = _call(0.97)
    q = min(u.quality for u in call.staff)
    none_found = CriterionScore("asks_prior_contact", 0, 0.7, (), "Spør ikke.")
    kw = {"lowest": 0, "listen_below": q - 0.01, "abstain_share": 0.25}
    # Staff speech this well heard reads as trusted at the default mark: kept as it is.
    assert adjust_for_recognition(none_found, call, trusted_from=0.75, **kw) == none_found
    assert adjust_for_recognition(none_found, call, trusted_from=q, **kw) == none_found
    out = adjust_for_recognition(none_found, call, trusted_from=0.99, **kw)
    assert not out.abstained and out.value == 0 and out.confidence < 0.7


@pytest.mark.parametrize(("prob", "abstained"), [(0.2, True), (None, False)])
def test_a_greeting_without_the_name_abstains_when_heard_poorly_and_stands_when_written(prob, abstained):
    """Through the real scorer: "legevakten hei" names the service but no one, so introduces_self
    is 0 with the greeting as evidence; recognised poorly that 0 cannot be trusted."""
    score = {s.criterion_id: s for s in score_call(_call(prob), load_rubrics()["lvs_operator"]).scores}
    got = score["introduces_self"]
    assert got.abstained is abstained
    assert got.value == (None if abstained else 0)
    if not abstained:
        assert got.evidence and "tjenesten" in got.rationale


def _greeting_call(greeting_prob: float, rest_prob: float):
    """A greeting that names the service but no one, then a conversation heard otherwise (every
    segment spoken at the typical rate, so its estimate follows its word probabilities)."""
    segments = (
        seg("legevakten hei hei", 0.0, 1.2, greeting_prob),
        seg("hei jeg ringer om sønnen min som har feber", 1.5, 5.1, rest_prob, "caller", 1),
        seg("okei hvor lenge har han hatt feber da", 5.5, 8.7, rest_prob),
        seg("siden i går kveld", 9.0, 10.6, rest_prob, "caller", 1),
        seg("da ringer du fastlegen i morgen hvis det ikke går over", 11.0, 15.4, rest_prob),
        seg("jeg er sykepleier anne forresten", 16.0, 18.0, rest_prob),
    )
    return build_call_text(Transcript("c1", "no", segments), "lvs")


def test_the_greeting_is_the_stretch_introduces_self_reads():
    from rubrics.stretch import AllStaff, Opening, stretch_indices

    call = _greeting_call(0.97, 0.97)
    assert stretch_indices(call, Opening(part="opening")) == {0}
    assert stretch_indices(call, AllStaff(part="all_staff")) == {0, 2, 4, 5}
    assert stretch_indices(call, Opening(part="opening", caller_words_before_end=20)) == {0, 2, 4}
    # the name said late in the call is outside the greeting: not an introduction
    got = {s.criterion_id: s for s in score_call(call, load_rubrics()["lvs_operator"]).scores}
    assert got["introduces_self"].value == 0 and "tjenesten" in got["introduces_self"].rationale


@pytest.mark.parametrize(
    ("greeting_prob", "rest_prob", "abstained"),
    [
        (0.97, 0.2, False),  # greeting heard well, the rest badly: its "no" stands
        (0.2, 0.97, True),  # greeting garbled, the rest heard well: it abstains
        (0.2, 0.2, True),
        (0.97, 0.97, False),
    ],
)
def test_introduces_self_abstains_by_how_well_the_greeting_was_heard(greeting_prob, rest_prob, abstained):
    call = _greeting_call(greeting_prob, rest_prob)
    got = {s.criterion_id: s for s in score_call(call, load_rubrics()["lvs_operator"]).scores}
    greeting = got["introduces_self"]
    assert greeting.abstained is abstained
    if abstained:
        assert greeting.value is None
        assert greeting.rationale.startswith("Kan ikke vurderes automatisk – lytt 0:00–0:01.")
        assert "i innledningen" in greeting.rationale
        assert [e.segment_index for e in greeting.evidence] == [0]
    else:
        assert greeting.value == 0 and greeting.evidence[0].segment_index == 0


def test_an_abstention_over_a_part_gives_the_whole_part_to_listen_to():
    """Over a part of the call (two greeting turns, one heard badly) the reviewer gets the part's
    span; over all staff speech, the stretches heard badly."""
    long_turn = " ".join(["og så lurte jeg på hvordan det går med ham"] * 3)  # 30 words in 12 s
    mixed = build_call_text(Transcript("c1", "no", (
        seg("legevakten hallo", 0.0, 0.8, 0.2), seg("ja", 0.9, 1.3, 0.97, "caller", 1),
        seg("hei du snakker med", 1.4, 3.0, 0.97),
        seg("hei jeg ringer om sønnen min", 3.5, 5.9, 0.97, "caller", 1),
        seg("okei", 20.0, 20.4, 0.2), seg(long_turn, 22.0, 34.0, 0.97),
    )), "lvs")  # fmt: skip
    none_found = CriterionScore("introduces_self", 0, 0.7, (), "Ingen presentasjon funnet.")
    kw = {"lowest": 0, "listen_below": 0.5, "abstain_share": 0.25, "trusted_from": 0.75}
    part = adjust_for_recognition(none_found, mixed, stretch=frozenset({0, 2}), where="i innledningen", **kw)
    assert part.abstained and part.rationale.startswith("Kan ikke vurderes automatisk – lytt 0:00–0:03.")
    assert [e.segment_index for e in part.evidence] == [0, 2]
    whole = adjust_for_recognition(none_found, mixed, **kw)
    assert not whole.abstained  # 1.2 s of 14.8 s of staff speech heard badly: the "no" stands
    assert adjust_for_recognition(none_found, mixed, stretch=frozenset({4, 5}), **kw).abstained is False


def test_written_text_passes_through_unchanged():
    call = _call(None)
    s = CriterionScore("asks_prior_contact", 0, 0.7, (), "Spør ikke.")
    assert (
        adjust_for_recognition(s, call, lowest=0, listen_below=0.5, abstain_share=0.25, trusted_from=0.75)
        is s
    )


def test_not_applicable_is_never_turned_into_an_abstention():
    call = _call(0.2)
    s = CriterionScore("asks_to_speak_to_patient", None, 0.7, (), "ikke aktuelt")
    out = adjust_for_recognition(s, call, lowest=0, listen_below=0.5, abstain_share=0.25, trusted_from=0.75)
    assert not out.abstained and out.value is None


def test_on_clean_written_transcripts_nothing_abstains_and_nothing_changes():
    """The whole labelled set, written: no abstention, and the same values and confidences as the
    scorers alone give (quality None passes through). The calibration map then changes only the
    confidences (tests/test_confidence_calibration.py), so it is left out here."""
    rubrics = load_rubrics()
    for path in sorted((SET / "calls").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        call = build_call_text(from_json(doc), doc.get("service"))
        assert all(u.quality is None for u in call.utterances)
        rubric = next(r for r in rubrics.values() if doc["service"] in r.rubric.applies_to.services)
        scores = score_call(call, rubric, calibrated=False).scores
        assert not any(s.abstained for s in scores)
        for criterion, got in zip(rubric.rubric.criteria, scores, strict=True):
            params_model, scorer = REGISTRY[criterion.scorer.type]
            alone = scorer(call, params_model.model_validate(criterion.scorer.params))
            assert (got.confidence, got.evidence, got.rationale) == (
                alone.confidence,
                alone.evidence,
                alone.rationale,
            ), (path.name, criterion.id)


def test_abstention_is_stored_as_missing_not_as_zero(tmp_path):
    """score_stored writes an abstention as value NULL with abstained = true, and the quality rows."""
    from lydlogg.db import connect
    from lydlogg.scoring import score_stored
    from lydlogg.settings import Settings

    settings = Settings(db_path=tmp_path / "q.duckdb", key_file=tmp_path / "k.key")
    with connect(settings.db_path) as con:
        con.execute("INSERT INTO calls (call_id, service) VALUES ('c1', 'lvs')")
        con.execute(
            "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,"
            " layout, channels_transcribed, duration_s, speech_s, asr_seconds)"
            " VALUES ('t1', 'c1', 'sha', 'r', 'm', 'h', 'no', 'stereo', 2, 12, 10, 1)"
        )
        for i, u in enumerate(_call(0.2).utterances):
            con.execute(
                "INSERT INTO segments (transcript_id, segment_index, channel, start_s, end_s, text, speaker, role, avg_logprob, no_speech_prob)"
                " VALUES ('t1', ?, ?, ?, ?, ?, NULL, ?, -0.9, 0.1)",
                [i, u.channel, u.start, u.end, u.text, u.role],
            )
            for j, w in enumerate(u.text.split()):
                con.execute(
                    "INSERT INTO words (transcript_id, segment_index, word_index, channel, start_s, end_s, text, probability) VALUES ('t1', ?, ?, ?, ?, ?, ?, 0.2)",
                    [i, j, u.channel, u.start, u.end, w],
                )
    score_stored(settings)
    with connect(settings.db_path) as con:
        rows = dict(
            con.execute("SELECT criterion_id, abstained FROM suggestions WHERE value IS NULL").fetchall()
        )
        quality = con.execute("SELECT quality FROM transcript_quality WHERE transcript_id = 't1'").fetchone()[
            0
        ]
        zeros = con.execute(
            "SELECT count(*) FROM suggestions WHERE abstained AND value IS NOT NULL"
        ).fetchone()[0]
    assert rows.get("asks_prior_contact") is True and rows.get("open_questions") is True
    assert zeros == 0
    assert quality < 0.5


def test_clock():
    assert clock(0) == "0:00" and clock(61.4) == "1:01" and clock(600) == "10:00"


def test_evidence_type_still_round_trips():
    e = Evidence(0, 0, 3, 0.0, 1.0, "hei")
    assert e.as_dict()["text"] == "hei"


def test_an_abstention_on_a_recontact_is_missing_not_an_unrecognised_recontact(tmp_path):
    """Re-contact flags read an abstained asks_prior_contact as missing, even when an older
    suggestion for the call said 0."""
    from datetime import datetime, timedelta

    from lydlogg.db import connect
    from lydlogg.episodes import link_episodes

    t0 = datetime.fromisoformat("2026-03-09T10:00:00+01:00")
    with connect(tmp_path / "e.duckdb") as con:
        con.executemany(
            "INSERT INTO calls (call_id, started_at, service, caller_pseudonym) VALUES (?, ?, 'lvs', 'pho_1')",
            [("c1", t0), ("c2", t0 + timedelta(hours=5))],
        )
        insert = (
            "INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256, criterion_id,"
            " value, confidence, evidence_json, rationale, software_version, abstained, created_at)"
            " VALUES ('t2', 'c2', 'lvs_operator', 1, ?, 'asks_prior_contact', ?, 0.7, '[]', '', 'x', ?, ?)"
        )
        con.execute(insert, ["old", 0, False, t0])
        flagged = link_episodes(con).set_index("call_id").loc["c2", "flagged"]
        assert flagged  # a suggested "no" on a re-contact is flagged
        con.execute(insert, ["new", None, True, t0 + timedelta(days=1)])
        after = link_episodes(con).set_index("call_id").loc["c2"]
    import pandas as pd

    assert pd.isna(after["asks_prior_contact"])  # missing, not the older zero
    assert after["flagged"] is not True and not (pd.notna(after["flagged"]) and after["flagged"])
