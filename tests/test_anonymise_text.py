"""Anonymisation of bokmål text and transcripts: pure logic, real spaCy tokenizer, no model."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from stdnum.no import fodselsnummer

from anonymise import (
    Redaction,
    anonymise_text,
    apply_redactions,
    cli_anonymise,
    find_identifiers,
    redact_transcript,
)
from anonymise.evaluation import load_cases, score
from anonymise.names import lexicon
from anonymise.numbers import find_number_runs, ordinal_value, parse_number_word
from transcription.types import Segment, Transcript, Word

DATA = Path(__file__).resolve().parent / "data" / "anonymise"


def kinds(text: str) -> list[tuple[str, str]]:
    return [(r.kind, text[r.start : r.end]) for r in find_identifiers(text)]


@pytest.mark.parametrize(
    ("word", "digits"),
    [
        ("null", "0"), ("en", "1"), ("ni", "9"), ("tolv", "12"), ("førti", "40"), ("førtifem", "45"),
        ("sekstisju", "67"), ("syttisyv", "77"), ("tjueen", "21"), ("hundre", "100"),
        ("firehundreogtolv", "412"), ("to-tre", None), ("41", "41"), ("+47", "47"), ("0368", "0368"),
        ("nittenåttiseks", "1986"), ("tusen", "1000"), ("heter", None), ("tre.", "3"), ("ei", None),
    ],
)  # fmt: skip
def test_parse_number_word(word, digits):
    piece = parse_number_word(word)
    assert (piece.digits if piece else None) == digits


@pytest.mark.parametrize(
    ("word", "day"),
    [("første", 1), ("sjuende", 7), ("syvende", 7), ("tolvte", 12), ("tjuende", 20), ("tjueførste", 21),
     ("trettiende", 30), ("trettiførste", 31), ("12.", 12), ("mars", None), ("tolv", None)],
)  # fmt: skip
def test_ordinal_value(word, day):
    assert ordinal_value(word) == day


def _runs(text: str) -> list[str]:
    tokens = [(m.start(), m.group()) for m in re.finditer(r"\+?[\w-]+\.?|[^\w\s]", text)]
    return [r.digits for r in find_number_runs(tokens)]


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        ("førti en tjuetre førtifem sekstisju", ["41234567"]),
        ("førti to tjue", ["4220"]),
        ("fire hundre og tolv, trettifire, fem hundre og sekstisju", ["41234567"]),
        ("hundre og tretten", ["113"]),
        ("fire en to tre fire fem seks sju", ["41234567"]),
        ("pluss førtisju nitti åtte", ["4798"]),
        ("41-23-45-67", ["41234567"]),
        ("trettiåtte og åtte", ["38", "8"]),
        ("to tabletter tre ganger", ["2", "3"]),
        ("nitten åttiseks", ["1986"]),
    ],
)
def test_find_number_runs(text, runs):
    assert _runs(text) == runs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jeg heter Kari Nordmann.", [("NAVN", "Kari Nordmann")]),
        ("Du snakker med sykepleier Trond.", [("NAVN", "Trond")]),
        ("Mitt navn er Ragnvald Kristoffersen.", [("NAVN", "Ragnvald Kristoffersen")]),
        ("Dette er Eldbjørg fra hjemmesykepleien.", [("NAVN", "Eldbjørg")]),
        ("Nummeret er førti to tjue, trettien nittini.", [("TELEFON", "førti to tjue, trettien nittini")]),
        ("Ring meg på 412 34 567.", [("TELEFON", "412 34 567")]),
        ("Det er førti en tjuetre og førtifem sekstisju.", [("TELEFON", "førti en tjuetre og førtifem sekstisju")]),
        ("Det er pluss førtisju fire en to tre fire fem seks sju.", [("TELEFON", "pluss førtisju fire en to tre fire fem seks sju")]),
        ("Fødselsnummeret er 01018012371.", [("FØDSELSNUMMER", "01018012371")]),
        ("Personnummeret er 010180 123 71.", [("FØDSELSNUMMER", "010180 123 71")]),
        ("Hun er født sjuende mars åttiseks.", [("FØDSELSNUMMER", "sjuende mars åttiseks")]),
        ("Vi bor i Kirkeveien 5B, 0368 Oslo.", [("ADRESSE", "Kirkeveien 5B, 0368 Oslo")]),
        ("Storgata tolv i Lillevik.", [("ADRESSE", "Storgata tolv"), ("STED", "Lillevik")]),
        ("Han falt på Karl Johans gate.", [("ADRESSE", "Karl Johans gate")]),
        ("Det skjedde 12. mars.", [("DATO", "12. mars")]),
        ("Det skjedde tolvte mars.", [("DATO", "tolvte mars")]),
        ("Timen var 03.11.2023.", [("DATO", "03.11.2023")]),
        ("Vi er på hytta i Hemsedal.", [("STED", "Hemsedal")]),
    ],
)  # fmt: skip
def test_find_identifiers(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hun tar to tabletter per dag.",
        "Per dag drikker han nesten ingenting.",
        "Per i dag har hun ikke spist.",
        "Hun skal hege om ham.",
        "Vi så en bjørn i skogen.",
        "Han snublet på stien bak huset.",
        "Stig forsiktig opp i bilen.",
        "Det står om liv, hun puster ikke!",
        "Liv og helse er det viktigste.",
        "Dag og natt har hun hatt vondt.",
        "Finn ut om hun har tatt medisinen.",
        "Han ligger på bakken og svarer ikke.",
        "Hun har hatt feber på trettiåtte og åtte siden i går.",
        "Ring 113 hvis han blir dårligere, eller 116 117 i natt.",
        "Ta 2 tabletter 3 ganger om dagen, neste dose kl. 14.30.",
        "Han er åttifem år og har KOLS.",
        "Jeg tok en Paracet og en Ibux i morges.",
        "Adressen er ikke viktig nå.",
        "Nesen hennes blør, og hun er i uke trettien.",
        "Han har vondt i hele kroppen, og det er liv i ham.",
        "Ok. Takk skal du ha.",
    ],
)
def test_common_words_are_not_identifiers(text):
    assert find_identifiers(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Per ringte i går kveld.", "Per"),
        ("Vi så en bjørn, sa Bjørn.", "Bjørn"),
        ("Hun heter Liv.", "Liv"),
        ("Det var Hege som fant ham.", "Hege"),
        ("Han gikk tur med Stig og Eli.", "Stig"),
        ("Han gikk tur med Stig og Eli.", "Eli"),
        ("Ole har falt i trappen.", "Ole"),
        ("Jeg heter kari.", "kari"),
    ],
)
def test_names_that_are_also_words(text, name):
    assert ("NAVN", name) in kinds(text)


def test_every_listed_name_is_found_after_a_cue():
    lex = lexicon()
    missed = [n for n in sorted(lex.first_names) if ("NAVN", n) not in kinds(f"Jeg heter {n}.")]
    assert not missed
    assert len(lex.first_names) >= 300 and len(lex.surnames) >= 150 and len(lex.places) >= 300


def test_redaction_keeps_the_text_out_of_repr():
    r = find_identifiers("Jeg heter Kari Nordmann.")[0]
    assert r.text == "Kari Nordmann" and "Kari" not in repr(r)


@pytest.mark.parametrize(
    ("start", "end", "kind", "message"),
    [(3, 3, "NAVN", "start < end"), (-1, 2, "NAVN", "start < end"), (0, 2, "PERSON", "accepted")],
)
def test_redaction_rejects_bad_values(start, end, kind, message):
    with pytest.raises(ValueError, match=message):
        Redaction(start, end, kind)


def test_anonymise_text_and_a_trainers_edits():
    text = "Jeg heter Kari og bor ved Mjøsa, nummeret er 41 23 45 67."
    found = find_identifiers(text)
    assert anonymise_text(text) == "Jeg heter [NAVN] og bor ved [STED], nummeret er [TELEFON]."
    # the trainer keeps "Mjøsa" (a lake, not identifying) and adds "bor ved" as an address
    edited = [r for r in found if r.kind != "STED"] + [
        Redaction(text.index("bor"), text.index("bor") + 3, "ADRESSE")
    ]
    assert apply_redactions(text, edited) == "Jeg heter [NAVN] og [ADRESSE] ved Mjøsa, nummeret er [TELEFON]."
    assert anonymise_text(text, redactions=[]) == text


def test_apply_redactions_merges_overlaps_and_checks_bounds():
    text = "Kari Nordmann ringte"
    overlapping = [Redaction(0, 4, "NAVN"), Redaction(2, 13, "NAVN"), Redaction(5, 9, "STED")]
    assert apply_redactions(text, overlapping) == "[NAVN] ringte"
    assert (
        apply_redactions(text, [Redaction(0, 4, "NAVN"), Redaction(3, 13, "STED")]) == "[NAVN][STED] ringte"
    )
    with pytest.raises(ValueError, match="past the end"):
        apply_redactions(text, [Redaction(0, 99, "NAVN")])


def test_cli_anonymise_keeps_lines():
    assert cli_anonymise("Hei, jeg heter Marit.\nNummeret er 92847163.\n") == (
        "Hei, jeg heter [NAVN].\nNummeret er [TELEFON].\n"
    )


def _words(text: str, start: float, step: float = 0.5, channel: int | None = None) -> tuple[Word, ...]:
    return tuple(
        Word(start + i * step, start + (i + 1) * step, " " + w, 0.9, channel)
        for i, w in enumerate(text.split())
    )


def test_redact_transcript_maps_redactions_to_word_times():
    first = "Legevakten, du snakker med Trond."
    second = "Hei, det er Marit Solberg, nummeret er 41 23 45 67."
    t = Transcript(
        "c1",
        "no",
        (
            Segment(0.0, 2.5, first, channel=0, words=_words(first, 0.0, channel=0)),
            Segment(3.0, 8.0, second, channel=1, words=_words(second, 3.0, channel=1)),
        ),
    )
    redacted, spans = redact_transcript(t)
    assert redacted.segments[0].text == "Legevakten, du snakker med [NAVN]."
    assert redacted.segments[1].text == "Hei, det er [NAVN], nummeret er [TELEFON]."
    assert [(s.segment_index, s.start_s, s.end_s, s.kind, s.channel, s.estimated) for s in spans] == [
        (0, 2.0, 2.5, "NAVN", 0, False),
        (1, 4.5, 5.5, "NAVN", 1, False),
        (1, 6.5, 8.5, "TELEFON", 1, False),
    ]
    words = [w.text for w in redacted.segments[1].words]
    assert words == [" Hei,", " det", " er", " [NAVN]", " nummeret", " er", " [TELEFON]"]
    assert redacted.segments[1].words[-1].start == 6.5 and redacted.segments[1].words[-1].end == 8.5


def test_redact_transcript_finds_a_number_answered_in_the_next_turn():
    t = Transcript(
        "c2",
        "no",
        (
            Segment(0, 2, "Hva er nummeret ditt?", channel=0),
            Segment(2, 6, "Ni åtte, sju seks, fem fire.", channel=1),
        ),
    )
    redacted, spans = redact_transcript(t)
    assert redacted.segments[1].text == "[TELEFON]."
    assert spans[0].estimated and spans[0].segment_index == 1 and 2 <= spans[0].start_s < spans[0].end_s <= 6


def test_redact_transcript_applies_an_edited_list():
    text = "Jeg heter Kari."
    t = Transcript("c3", "no", (Segment(1.0, 2.5, text, words=_words(text, 1.0)),))
    redacted, spans = redact_transcript(t, [Redaction(0, 3, "NAVN")])
    assert redacted.text == "[NAVN] heter Kari." and spans[0].start_s == 1.0 and spans[0].end_s == 1.5
    with pytest.raises(ValueError, match="past the transcript"):
        redact_transcript(t, [Redaction(0, 40, "NAVN")])


def test_labelled_set_meets_the_targets():
    cases = [c for f in sorted(DATA.glob("*.yaml")) for c in load_cases(f)]
    assert len(cases) >= 30
    scores = score(cases)
    assert scores["TELEFON"].labelled >= 20 and scores["FØDSELSNUMMER"].labelled >= 15
    assert scores["TELEFON"].recall >= 0.98 and scores["FØDSELSNUMMER"].recall >= 0.98
    assert scores["NAVN"].recall >= 0.9
    for s in scores.values():
        assert s.precision >= 0.85, s
        assert s.hidden_recall >= 0.9, s


def test_identity_numbers_in_the_set_are_valid():
    numbers = [
        c.text[s:e].replace(" ", "")
        for f in DATA.glob("*.yaml")
        for c in load_cases(f)
        for s, e, k in c.spans
        if k == "FØDSELSNUMMER" and re.fullmatch(r"[\d ]{11,14}", c.text[s:e])
    ]
    assert len(numbers) >= 5 and all(fodselsnummer.is_valid(n) for n in numbers)


def test_generated_set_is_up_to_date():
    spec = importlib.util.spec_from_file_location("make_cases", DATA / "make_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == (DATA / "generated.yaml").read_text(encoding="utf-8")


SAMPLE_IDENTIFIERS = {
    "amk-001-bevisstlos": [("ADRESSE", "Storgata tolv"), ("STED", "Lillevik")],
    "ep1-c1-fastlege": [("NAVN", "Holm")],
    "ep1-c2-lvs": [],
    "ep1-c3-lvs": [("NAVN", "Trond")],
    "ep1-c4-amk": [],
    "ep1-c5-legevaktlege": [("NAVN", "Dahl")],
    "ep1-c6-legevaktlege": [("NAVN", "Nilsen")],
    "lege-001-magesmerter": [("NAVN", "Berg")],
    "lvs-001-feber-barn": [("NAVN", "Anne")],
    "lvs-002-urinveis": [("NAVN", "Jonas")],
    "lvs-003-brystsmerter": [],
    "lvs-004-kuttskade": [],
}


@pytest.mark.parametrize(("call_id", "expected"), sorted(SAMPLE_IDENTIFIERS.items()))
def test_whole_sample_calls_give_exactly_their_identifiers(call_id, expected):
    """The twelve reference transcripts: every name and address, and nothing else in ~70 turns."""
    import json

    from transcription.formats import from_json

    doc = json.loads(
        (DATA.parent.parent.parent / "data" / "samples" / "reference" / f"{call_id}.json").read_text()
    )
    assert kinds(from_json(doc).text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Det er mannen min. Han har vondt.",  # "min." is kept whole by the tokenizer
        "Ring 113. Kan du se om han puster?",
        "Ring 116 117. Er det noe mer?",
        "Hun fikk Ventolin. Han har Alzheimer og Downs syndrom.",
        "Han brukte EpiPen, og nå har han det bedre.",
    ],
)
def test_sentence_starts_and_medical_words_are_not_names(text):
    assert find_identifiers(text) == []


def test_a_name_found_once_is_found_again():
    assert kinds("Liv, hun heter Liv, er tre år.") == [("NAVN", "Liv"), ("NAVN", "Liv")]


def test_spacy_is_imported_without_torch():
    import subprocess
    import sys

    code = "import sys; import anonymise; anonymise.find_identifiers('Jeg heter Kari.'); print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=DATA.parents[2]
    )
    assert out.stdout.strip() == "False"
