"""How values read on pages and in documents (lydlogg.formatting): pure, no Streamlit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from lydlogg.formatting import (
    DisplaySettings,
    clock,
    display_date,
    display_frame,
    display_time,
    number_text,
    percent,
    score_text,
    value_text,
    yes_no,
)

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (datetime(2026, 3, 2, 17, 40, tzinfo=UTC), "02.03.2026 18:40"),  # winter: +01:00
        (datetime(2026, 7, 2, 17, 40, tzinfo=UTC), "02.07.2026 19:40"),  # summer: +02:00
        ("2026-03-29T00:30:00+00:00", "29.03.2026 01:30"),  # the night clocks go forward
        ("2026-03-29T01:30:00+00:00", "29.03.2026 03:30"),
        (pd.Timestamp("2026-12-31 23:30", tz="UTC"), "01.01.2027 00:30"),
        (datetime(2026, 3, 2, 17, 40), "02.03.2026 18:40"),  # no offset: stored UTC
        (None, "–"),
        (pd.NaT, "–"),
        (float("nan"), "–"),
        ("ikke en tid", "ikke en tid"),
    ],
)
def test_times_in_norwegian_time(value, shown):
    assert display_time(value) == shown
    assert "+00:00" not in display_time(value)


def test_another_time_zone_and_dates():
    moment = datetime(2026, 3, 2, 23, 40, tzinfo=UTC)
    assert display_time(moment, "UTC") == "02.03.2026 23:40"
    assert display_date(moment) == "03.03.2026"  # already the next day in Oslo
    assert display_date(date(2026, 3, 5)) == "05.03.2026"


def test_an_unknown_time_zone_is_refused_with_what_is_accepted():
    with pytest.raises(ValueError, match="IANA name such as Europe/Oslo"):
        DisplaySettings(timezone="Europe/Bergen")
    assert DisplaySettings().timezone == "Europe/Oslo"


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (0, "share", "0 %"), (0.333333, "share", "33 %"), (1.0, "share", "100 %"),
        (2.3456, "mean", "2,3"), (1.0, "count", "1"), (12345.0, "count", "12 345"),
        (None, "count", "–"), (float("nan"), "share", "–"), (pd.NA, "mean", "–"), (np.int64(4), "count", "4"),
        (True, "count", "ja"), ("tekst", "count", "tekst"),
    ],
)  # fmt: skip
def test_numbers_read_as_numbers(value, kind, shown):
    assert number_text(value, kind) == shown


def test_percent_with_decimals_uses_a_comma():
    assert percent(0.12345, 1) == "12,3 %"


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0:00"), (61.4, "1:01"), (59.99, "0:59"), (600, "10:00"), (None, "–"),
                           (float("nan"), "–"), (-3, "0:00")],
)  # fmt: skip
def test_clock(seconds, shown):
    assert clock(seconds) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(True, "ja"), (1, "ja"), (False, "nei"), (0, "nei"), (None, "–")]
)
def test_yes_no(value, shown):
    assert yes_no(value) == shown


def test_a_criterion_value_as_the_form_shows_it():
    assert score_text(1, True) == "ja" and score_text(0, True) == "nei" and score_text(3, False) == "3"
    assert score_text(None, False) == "ikke aktuelt" and score_text(None, True, missing="–") == "–"
    assert score_text(3.0, False) == "3" and score_text(float("nan"), False) == "ikke aktuelt"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "–"), (1.0, "1"), (0.5, "0,5"), (0.123456, "0,12"), (np.float64(3.0), "3"), (False, "nei"),
     (datetime(2026, 1, 1, 12, tzinfo=UTC), "01.01.2026 13:00")],
)  # fmt: skip
def test_any_value(value, shown):
    assert value_text(value) == shown


def test_a_table_reads_as_the_page_should_show_it():
    frame = pd.DataFrame(
        {
            "tid": pd.to_datetime(["2026-03-02T17:40:00Z", None], utc=True),
            "hele": [1.0, 2.0],
            "med hull": [1.0, None],
            "desimal": [0.25, None],
            "andel": [0.5, None],
            "flagg": [True, False],
            "tekst": ["a", None],
        }
    )
    shown = display_frame(frame, shares=["andel"])
    assert shown["tid"].tolist() == ["02.03.2026 18:40", "–"]
    assert shown["hele"].tolist() == [1, 2] and shown["hele"].dtype == "int64"  # still sorts as numbers
    assert shown["med hull"].tolist() == ["1", "–"]
    assert shown["desimal"].tolist() == ["0,25", "–"]
    assert shown["andel"].tolist() == ["50 %", "–"]
    assert shown["flagg"].tolist() == ["ja", "nei"]
    assert shown["tekst"].tolist() == ["a", "–"]
    rendered = shown.to_string()
    for raw in ("None", "NaN", "nan", "NaT", "+00:00", ".000000", "True", "False"):
        assert raw not in rendered
