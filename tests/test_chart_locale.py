"""The charts' Norwegian locale is in the Vega-Lite spec (pure; the page test checks it reaches Streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from review.views.chart_locale import NB_LOCALE, norwegian
from review.views.episode import timeline_chart


def test_the_locale_is_a_whole_d3_locale_with_a_decimal_comma_and_a_24_hour_clock():
    number, time = NB_LOCALE["number"], NB_LOCALE["time"]
    assert (number["decimal"], number["thousands"], number["percent"]) == (",", "\u00a0", "\u00a0%")
    assert len(time["days"]) == len(time["shortDays"]) == 7 and time["days"][1] == "mandag"
    assert len(time["months"]) == len(time["shortMonths"]) == 12 and time["months"][4] == "mai"
    assert time["periods"] == ["", ""] and "%I" not in time["dateTime"] + time["time"]
    assert time["date"] == "%d.%m.%Y"


def test_a_chart_carries_the_locale_in_its_top_level_config():
    chart = alt.Chart(pd.DataFrame({"andel": [0.25]})).mark_point().encode(y="andel:Q")
    assert "locale" not in chart.to_dict().get("config", {})
    assert norwegian(chart).to_dict()["config"]["locale"] == NB_LOCALE


def test_the_episode_timeline_is_norwegian_too():
    episode = pd.DataFrame(
        {
            "call_id": ["a"],
            "started_at": [pd.Timestamp("2026-03-01 12:00", tz="UTC")],
            "service": ["lvs"],
            "flagged": [False],
            "worsening_advice": [1],
            "contact_number": [1],
            "operator_id": ["op-anne"],
            "urgency": ["grønn"],
        }
    )
    spec = timeline_chart(episode).to_dict()
    assert spec["config"]["locale"]["time"]["months"][2] == "mars"
    assert spec["params"][0]["name"] == "kontakt"  # the click selection survives the config
