"""The scorers' tolerance for recognition errors on key words (rubrics/tolerance.py; pure, no I/O)."""

from __future__ import annotations

import pytest

from rubrics import tolerance
from rubrics.scorers import REGISTRY
from rubrics.text import normalise
from rubrics.types import CallText, Utterance

pytestmark = pytest.mark.pure


def staff_call(*staff: str, quality: float | None = None) -> CallText:
    utts = [
        Utterance(i, i * 5.0, i * 5.0 + 4.0, t, "operator", "S1", quality=quality)
        for i, t in enumerate(staff)
    ]
    return CallText("test", tuple(utts), "legevaktlege")


def score(criterion: str, c: CallText, **params):
    cls, fn = REGISTRY[criterion]
    return fn(c, cls(**params))


@pytest.mark.parametrize(("length", "edits"), [(3, 0), (4, 0), (5, 1), (8, 1), (9, 2), (16, 2)])
def test_allowed_edits_grow_with_the_word(length: int, edits: int) -> None:
    assert tolerance.allowed_edits(length) == edits
    assert tolerance.allowed_edits(length, limit=1) == min(edits, 1)


@pytest.mark.parametrize(
    ("token", "word"),
    [
        ("forverrng", "forverring"),  # a letter dropped
        ("forvering", "forverring"),
        ("smartene", "smertene"),  # one vowel wrong, 8 letters
        ("bevistløs", "bevisstløs"),
        ("lysømfimtlig", "lysømfintlig"),
    ],
)
def test_near_misses_of_key_words_are_read_as_them(token: str, word: str) -> None:
    assert tolerance.near_word(token) == (word, 1)


@pytest.mark.parametrize(
    "token",
    [
        "utslitt",  # a real word one letter from "utslett": listed as never near
        "kontant",
        "smerte",  # another form of a key word, not a recognition error
        "telefoner",
        "legevakter",
        "sikkert",
        "hvis",  # short words are never near misses
        "ringe",
        "xorverring",  # the first letter must agree
        "fxrvxrrxng",  # three edits on a ten-letter word is too many
    ],
)
def test_real_words_and_distant_tokens_are_left_alone(token: str) -> None:
    assert tolerance.near_word(token) is None


def test_the_limit_caps_the_edits() -> None:
    assert tolerance.near_word("forvrring", limit=1) == ("forverring", 1)
    assert tolerance.near_word("fovrrring", limit=1) is None
    assert tolerance.near_word("forverrng", limit=0) is None


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("for", "verring"), ("forverring", False)),
        (("video", "sam", "talen"), ("videosamtalen", False)),
        (("video", "som", "talen"), ("videosamtalen", True)),  # joined and one letter off
        (("video", "sam", "taler"), ("videosamtaler", False)),  # another form of the key word
        (("til", "bake"), ("tilbake", False)),
        (("kan", "du"), None),  # short joins are two real words
        (("hva", "er", "det"), None),
        (("ring", "113"), None),
    ],
)
def test_join_finds_key_words_written_apart(parts: tuple[str, ...], expected) -> None:
    assert tolerance.join(parts) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("forverringav", ("forverring", "av")),
        ("ilegevakten", ("i", "legevakten")),
        ("ringoss", ("ring", "oss")),
        ("ringeigjen", ("ringe", "igjen")),
        ("komminn", None),  # "komm" is no verb on the list
        ("ringer", None),  # a real word, not a glued verb
        ("legevakten", None),
    ],
)
def test_split_separates_glued_words(token: str, expected) -> None:
    assert tolerance.split(token) == expected


@pytest.mark.parametrize(
    ("raw", "edits", "expected"),
    [
        ("ring oss ved en for verring", 2, "ring oss ved en forverring"),
        ("ringoss igjen hvis det blir verre", 2, "ring oss igjen hvis det blir verre"),
        ("kan vi ta en video som talen", 2, "kan vi ta en videosamtalen"),
        ("kan vi ta en video som talen", 0, "kan vi ta en video som talen"),
        ("mot smartene", 2, "mot smertene"),
        ("mot smartene", 0, "mot smartene"),
        ("jeg er utslitt", 2, "jeg er utslitt"),
        ("puster fort eller blir blå", 2, "puster fort eller blir blå"),  # two real words, not "forteller"
        ("jeg oppsummerer", 2, "jeg oppsummerer"),  # another form of "oppsummere", not a near miss
    ],
)
def test_normalise_reads_near_misses_only_when_asked(raw: str, edits: int, expected: str) -> None:
    assert normalise(raw, 90, edits).text == expected


def test_a_joined_phrase_maps_back_to_all_its_words() -> None:
    raw = "Kan vi ta en video som talen noe"
    n = normalise(raw, 90, 2)
    i = n.tokens.index("videosamtalen")
    assert raw[n.starts[i] : n.ends[i]] == "video som talen"
    assert n.is_fuzzy(n.pos[i], n.pos[i] + 1)  # one letter off: a near miss
    exact = normalise("ring ved en for verring", 90, 2)
    assert not exact.fuzzy  # an exact rejoin is as good as the written word


def test_a_near_miss_finds_the_advice_with_lower_confidence_than_the_exact_word() -> None:
    exact = score("communicates_uncertainty", staff_call("Dette er vanskelig å si sikkert over telefonen."))
    near = score("communicates_uncertainty", staff_call("Dette er vanskleig å si sikkert over telefonen."))
    assert exact.value == 1 and near.value == 1
    assert near.confidence < exact.confidence
    off = score(
        "communicates_uncertainty",
        staff_call("Dette er vanskleig å si sikkert over telefonen."),
        near_miss_edits=0,
    )
    assert off.value == 0


# Recognised speech from the spoken rubric set (dev call rs-llt-011, stereo 16 kHz, Whisper base):
# the doctor said "ringen forsvinner gradvis i løpet av noen uker, du trenger ikke ringe igjen for
# dette"; the recogniser wrote it as below.
RECOGNISED_LLT_011 = "Ringen forksvinner grad vis i løpet og noen øker, du trenger vi kvinger i en forbette."


def test_a_misrecognised_key_phrase_from_the_spoken_set_still_gives_the_finding() -> None:
    found = score("safety_netting", staff_call(RECOGNISED_LLT_011))
    assert found.value == 1  # the expected course, as the hand label has it
    assert (
        found.evidence
        and "forksvinner grad vis"
        in RECOGNISED_LLT_011[found.evidence[0].start_char : found.evidence[0].end_char]
    )
    assert score("safety_netting", staff_call(RECOGNISED_LLT_011), near_miss_edits=0).value == 0


def test_the_tables_are_part_of_every_rubrics_content_hash(monkeypatch) -> None:
    from pathlib import Path

    from rubrics import loader

    path = Path(loader.__file__).with_name("lvs_operator.yaml")
    before = loader.load_rubric(path).sha256
    monkeypatch.setattr(loader, "TABLES_SHA256", "0" * 64)  # as if tolerance.yaml had been edited
    assert loader.load_rubric(path).sha256 != before
