"""Roles from words: staff, caller and others, with confidence and evidence; pure and fast."""

from __future__ import annotations

import pytest

from transcription.diarization import (
    Diarization,
    DiarizationSettings,
    SpeakerTurn,
    apply_roles,
    channel_roles,
    infer_roles,
    label,
    staff_score,
)
from transcription.diarization.roles import address_evidence, opening_weight
from transcription.types import Segment

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding


def _segments(*turns: tuple[str, str]) -> list[Segment]:
    return [Segment(float(i), i + 0.9, text, speaker=speaker) for i, (speaker, text) in enumerate(turns)]


LVS = (
    ("S2", "Legevakten, du snakker med sykepleier Anne. Hva kan jeg hjelpe deg med?"),
    ("S1", "Hei. Jeg ringer om sønnen min på tre år. Han har feber."),
    ("S2", "Hvor høy er feberen?"),
    ("S1", "Førti grader."),
    ("S2", "Du bør gi ham paracet og ringe igjen om han blir slappere."),
)


@pytest.mark.parametrize(
    ("turns", "service", "expected"),
    [
        (LVS, "lvs", {"S1": "caller", "S2": "operator"}),
        (
            (("A", "Hei, det er legevaktlege Dahl. Jeg ringer deg opp fordi du har feber?"), ("B", "Ja, det stemmer.")),
            None,
            {"A": "doctor", "B": "caller"},
        ),
        ((("A", "Medisinsk nødtelefon."), ("B", "Mannen min puster rart!"), ("A", "Puster han nå?")), "amk",
         {"A": "operator", "B": "caller"}),
        # the caller speaks first but the greeting and questions still win
        ((("B", "Hallo?"), ("A", "Legevakten. Hva gjelder det?"), ("B", "Jeg har vondt i magen."),
          ("A", "Hvor lenge har du hatt det?")), None, {"A": "operator", "B": "caller"}),
        # no cue at all: the doctor's service and speaking first decide
        ((("A", "Hei."), ("B", "Hei hei.")), "legevaktlege", {"A": "doctor", "B": "caller"}),
        # a third party with few words is ``other``
        ((*LVS, ("S3", "Ja.")), "lvs", {"S1": "caller", "S2": "operator", "S3": "other"}),
    ],
)  # fmt: skip
def test_roles_follow_greeting_questions_and_advice(turns, service, expected):
    roles = infer_roles(_segments(*turns), service)
    assert {r.speaker: r.role for r in roles} == expected
    assert all(0 <= r.confidence <= 1 for r in roles)


def test_confidence_grows_with_the_evidence_and_evidence_points_at_segments():
    strong = {r.speaker: r for r in infer_roles(_segments(*LVS))}
    weak = {r.speaker: r for r in infer_roles(_segments(("A", "Hei."), ("B", "Hei.")))}
    assert strong["S2"].confidence > 0.9 > weak["A"].confidence >= 0.5
    cues = {(e.segment_index, e.cue) for e in strong["S2"].evidence}
    assert (0, "staff: legevakten") in cues and (0, "staff: du snakker med") in cues
    assert (2, "spørsmål") in cues and (4, "advice: du bør") in cues
    assert any(e.cue == "caller: jeg ringer om" and e.segment_index == 1 for e in strong["S1"].evidence)


@pytest.mark.parametrize(
    ("turns", "expected_role"),
    [
        ((("A", "Legevakten, hva kan jeg hjelpe med?"),), "operator"),
        ((("A", "Jeg har vondt i magen."),), "caller"),
    ],
)
def test_a_lone_speaker_gets_the_role_its_words_suggest_at_half_confidence(turns, expected_role):
    (role,) = infer_roles(_segments(*turns))
    assert role.role == expected_role and role.confidence == 0.5


def test_segments_without_speakers_give_no_roles():
    assert infer_roles([Segment(0, 1, "Legevakten.")]) == ()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("operator,caller", ("operator", "caller")), ("caller,doctor", ("caller", "doctor"))],
)
def test_the_channel_roles_setting_fixes_roles_with_full_confidence(setting, expected):
    roles = channel_roles(setting, ((0, "S1"), (1, "S2")))
    assert tuple(r.role for r in roles) == expected
    assert {r.confidence for r in roles} == {1.0} and {r.source for r in roles} == {"channel_setting"}


@pytest.mark.parametrize("setting", ["operator", "operator,nurse", "operator,caller,other"])
def test_a_malformed_channel_roles_value_says_what_is_accepted(setting):
    with pytest.raises(ValueError, match="expected 'auto' or two roles"):
        channel_roles(setting, ((0, "S1"), (1, "S2")))


def test_label_applies_channel_setting_over_the_words():
    # the words say channel 1 is staff, the setting says channel 0: the setting wins
    segs = [
        Segment(0, 1, "Jeg har vondt.", channel=0),
        Segment(1, 2, "Legevakten, du snakker med Anne. Hva gjelder det?", channel=1),
    ]
    diarization = Diarization(
        "channels", (SpeakerTurn(0, 1, "S1"), SpeakerTurn(1, 2, "S2")), ((0, "S1"), (1, "S2"))
    )
    fixed = label(segs, diarization, DiarizationSettings(channel_roles="operator,caller"))
    assert [s.role for s in fixed.segments] == ["operator", "caller"]
    auto = label(segs, diarization, DiarizationSettings())
    assert [s.role for s in auto.segments] == ["caller", "operator"]


def test_a_silent_channel_party_gets_the_other_role():
    segs = [Segment(0, 1, "Legevakten, hva kan jeg hjelpe med?", channel=0)]
    diarization = Diarization("channels", (SpeakerTurn(0, 1, "S1"),), ((0, "S1"), (1, "S2")))
    roles = {r.speaker: r.role for r in label(segs, diarization, DiarizationSettings()).roles}
    assert roles == {"S1": "operator", "S2": "caller"}


def test_apply_roles_leaves_unlabelled_segments_alone():
    roles = infer_roles(_segments(*LVS))
    out = apply_roles([*_segments(*LVS), Segment(9, 10, "støy")], roles)
    assert out[-1].role is None and out[0].role == "operator"


@pytest.mark.parametrize(
    ("texts", "first", "expected"),
    [
        # two staff cues; one segment addressing the other: 6 * 1 / (1 + 2)
        (["Legevakten, du snakker med Anne."], False, 6.0 + 2.0),
        (["Hva gjelder det?"], True, 3.0 + 1.0 + 1.5),  # a staff cue, a question, spoke first
        (["Jeg ringer om sønnen min."], False, -4.0 - 2.0),  # two caller phrases; speaks of self
        (["Du bør ringe igjen."], False, 1.5 + 1.5 + 2.0),  # advice twice: "du bør", "ringe igjen"
    ],
)
def test_staff_score_weighs_the_cues(texts, first, expected):
    assert staff_score(texts, first) == pytest.approx(expected)


def _timed(*turns: tuple[str, float, float, str]) -> list[Segment]:
    return [Segment(start, end, text, speaker=speaker) for speaker, start, end, text in turns]


# What a mono call looks like when nothing of the greeting was heard and the diarization gave the
# call's first seconds to the caller's voice (rs-llt-008 on the spoken set): no service word, no
# question mark, no known caller phrase; only who speaks first, and how each talks to the other.
GARBLED = (
    ("A", "Ja, hei, det er øyet mitt som er rødt."),
    ("B", "Bruker du linser i det daglige."),
    ("A", "Ja, jeg sov med dem i natt."),
    ("B", "Det ser ut som du trenger å bli sett på."),
)


def test_the_speaker_who_addresses_the_other_is_staff_when_no_greeting_was_heard():
    roles = {r.speaker: r for r in infer_roles(_segments(*GARBLED))}
    assert roles["B"].role == "operator" and roles["A"].role == "caller"
    cues = {(e.segment_index, e.cue) for e in roles["B"].evidence}
    assert (1, "tiltale: du") in cues and (3, "tiltale: du") in cues
    assert {e.cue for e in roles["A"].evidence} >= {"snakker først", "om seg selv: jeg"}
    # weak, garbled evidence on both sides: the naming says it is unsure
    assert roles["B"].confidence < 0.85


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ([(0, "Har du feber?"), (1, "Kan du gi ham paracet.")], 6.0 * 2 / 4),
        ([(0, "Jeg har vondt."), (1, "Sønnen min er syk.")], -6.0 * 2 / 4),
        ([(0, "Har du feber?"), (1, "Jeg hører.")], 0.0),
        ([(0, "Ja."), (1, "Okei.")], 0.0),  # no pronoun either way: no evidence
        # a segment is one vote however often it repeats itself (a recogniser's loop)
        ([(0, "at jeg er løpet at jeg er løpet at jeg er løpet at jeg er løpet"), (1, "Kan du puste.")], 0.0),
        # more "du" than "jeg" in one segment leans "du" ("kan jeg hjelpe deg med noe, har du ...")
        ([(0, "Hva kan jeg hjelpe deg med, har du feber?")], 6.0 / 3),
    ],
)
def test_address_balance_counts_leaning_segments_not_words(said, expected):
    evidence = address_evidence(said)
    assert sum(e.weight for e in evidence) == pytest.approx(expected)
    assert all(e.segment_index in {i for i, _ in said} for e in evidence)


@pytest.mark.parametrize(
    ("seconds", "expected"), [(1.0, 1.5), (6.0, 1.5), (9.0, 0.75), (12.0, 0.0), (30.0, 0.0)]
)
def test_speaking_first_counts_for_a_short_opening_only(seconds, expected):
    assert opening_weight(seconds) == pytest.approx(expected)


def test_a_greeting_run_together_with_the_callers_reply_does_not_name_the_first_voice_staff():
    # the diarization put the greeting and the caller's 12 s reply in one turn of A (rs-lvs-017)
    turns = _timed(
        ("A", 0.6, 13.7, "Legevakt. Hei, jeg lurte på en ting, jeg har tatt to paracet."),
        ("B", 14.2, 18.6, "Hvor mye paracet tok du."),
        ("A", 19.3, 24.1, "Ja, to stykker."),
        ("B", 24.1, 36.2, "Ikke ta mer enn fire gram i døgnet."),
    )
    roles = {r.speaker: r for r in infer_roles(turns)}
    assert not any(e.cue == "snakker først" for e in roles["A"].evidence)
    assert roles["B"].role == "operator"


def test_a_short_opening_counts_in_full_even_when_its_segment_runs_past_the_reply():
    # stereo: channel 0's first segment spans the caller's reply on channel 1
    turns = _timed(
        ("S1", 0.3, 15.8, "Hei, det er legevaktlege Berg."),
        ("S2", 5.9, 11.5, "Ja, hei."),
    )
    roles = {r.speaker: r for r in infer_roles(turns)}
    first = [e for e in roles["S1"].evidence if e.cue == "snakker først"]
    assert [e.weight for e in first] == [1.5]


def test_a_recognisers_repetition_loop_is_no_evidence():
    loop = "at jeg er løpet " * 6  # 24 words, 4 distinct: Whisper ran on (rs-lvs-007 at 8 kHz)
    roles = {r.speaker: r for r in infer_roles(_segments(("A", "Legevakten."), ("B", loop), ("B", "Ja.")))}
    assert [e.cue for e in roles["B"].evidence] == []
    assert staff_score(["Legevakten " + "gøy " * 12], first=False) == 0.0
    # a real sentence of the same length is read as usual
    assert staff_score(["Har du hatt feber i dag, og har du målt den selv i kveld?"], first=False) > 0
