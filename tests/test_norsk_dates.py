"""The Norwegian date fields' parser: dd.mm.åååå and d.m.åååå, nothing else."""

from __future__ import annotations

from datetime import date

import pytest

from norsk.dates import DateError, date_text, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01.03.2026", date(2026, 3, 1)),
        ("1.3.2026", date(2026, 3, 1)),
        (" 31.12.2025 ", date(2025, 12, 31)),
        ("29.2.2028", date(2028, 2, 29)),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_a_norwegian_date_parses(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01",
        "1/3/2026",
        "01.03.26",
        "1. mars 2026",
        "01.03.2026.",
        "001.03.2026",
        "01-03-2026",
        "i dag",
    ],
)
def test_anything_else_is_refused_in_norwegian(text):
    with pytest.raises(DateError) as refused:
        parse_date(text, "Fra dato")
    message = str(refused.value)
    assert message.startswith("Fra dato:") and "dd.mm.åååå" in message and "er ikke en dato" in message


@pytest.mark.parametrize("text", ["31.02.2026", "29.2.2026", "0.1.2026", "12.13.2026"])
def test_a_day_that_does_not_exist_is_refused(text):
    with pytest.raises(DateError, match="finnes ikke i kalenderen"):
        parse_date(text, "Til dato")


def test_a_date_is_shown_as_it_is_typed_and_reads_back():
    assert date_text(date(2026, 3, 1)) == "01.03.2026"
    assert date_text(None) == ""
    assert parse_date(date_text(date(2026, 11, 9))) == date(2026, 11, 9)
