"""The shared spoken-number parser, checked by round trip against num2words' Norwegian."""

from __future__ import annotations

import random

import pytest
from num2words import num2words

from anonymise.numbers import find_number_runs
from norsk.numbers import combine, ordinal_value, parse_cardinal, parse_number_word
from rubrics.text import normalise


def _spoken(n: int) -> str:
    return num2words(n, lang="no")


def _wide_range() -> list[int]:
    rng = random.Random(14)
    return [*range(0, 2500), *rng.sample(range(2500, 1_000_000), 3000), *rng.sample(range(10**6, 10**9), 300)]


def test_every_number_read_back_from_num2words():
    wrong = [
        (n, _spoken(n), parse_cardinal(_spoken(n))) for n in _wide_range() if parse_cardinal(_spoken(n)) != n
    ]
    assert wrong == []


def test_one_word_forms_read_as_the_same_number():
    """ "firehundreogtolv": ASR often glues the words together; the value must not change."""
    numbers = [*range(0, 1000), 1001, 1013, 1234, 2000, 5050, 9999]
    wrong = [
        n for n in numbers if getattr(parse_number_word(_spoken(n).replace(" ", "")), "value", None) != n
    ]
    assert wrong == []


@pytest.mark.parametrize("n", [13, 47, 113, 250, 412, 999])
def test_the_anonymiser_and_the_scorers_read_a_number_alike(n):
    words = _spoken(n)
    tokens, offset = [], 0
    for word in words.split():
        tokens.append((offset, word))
        offset += len(word) + 1
    runs = find_number_runs(tokens)
    assert [r.digits for r in runs] == [str(n)]
    assert str(n) in normalise(f"ring {words} nå").text.split()


@pytest.mark.parametrize(
    "words",
    [
        "to tre",
        "femti femti",
        "hundre hundre",
        "og",
        "",
        "tusen tusen tusen fem",
        "tre og tjue",
        "nittenåtti",
    ],
)
def test_what_is_not_one_cardinal_is_refused(words):
    assert parse_cardinal(words) is None


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("tjue en", 21),
        ("tusen og fem", 1005),
        ("tretusen fem hundre", 3500),
        ("hundre og tretten", 113),
        ("sju", 7),
        ("søtti", 70),
        ("tjueein", 21),
        ("tre millioner to hundre tusen", 3_200_000),
    ],
)
def test_forms_num2words_does_not_write(words, value):
    assert parse_cardinal(words) == value


def test_pieces_join_only_in_spoken_order():
    tens, unit, hundred = parse_number_word("førti"), parse_number_word("fem"), parse_number_word("hundre")
    assert combine(tens, unit, False).value == 45
    assert combine(tens, unit, True) is None  # "førti og fem" is the old order, not parsed
    assert combine(unit, hundred, False).value == 500
    assert combine(unit, tens, False) is None
    assert parse_number_word("41-23").digits == "4123"


@pytest.mark.parametrize(("word", "day"), [("tolvte", 12), ("trettiførste", 31), ("12.", 12), ("tolv", None)])
def test_ordinals(word, day):
    assert ordinal_value(word) == day
