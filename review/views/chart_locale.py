"""Norwegian numbers and dates in the review app's charts.

Vega-Lite formats axis labels and tooltips with d3's English defaults (``0.5``, ``1,234``, ``PM``,
``March``) unless the spec carries a locale. :data:`NB_LOCALE` is the bokmål one (decimal comma,
a no-break space between thousands, ``50 %``, 24-hour clock, Norwegian month and day names);
:func:`norwegian` puts it in a chart's top-level config. Pure: it only builds the spec.
"""

from __future__ import annotations

import altair as alt

__all__ = ["NB_LOCALE", "norwegian"]

_NBSP = "\u00a0"

NB_LOCALE: dict[str, dict] = {
    "number": {
        "decimal": ",",
        "thousands": _NBSP,
        "grouping": [3],
        "currency": ["", f"{_NBSP}kr"],
        "percent": f"{_NBSP}%",
        "minus": "\u2212",
    },
    "time": {
        "dateTime": "%A %e. %B %Y kl. %H:%M:%S",
        "date": "%d.%m.%Y",
        "time": "%H:%M:%S",
        "periods": ["", ""],  # a 24-hour clock: no AM/PM
        "days": ["søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"],
        "shortDays": ["søn.", "man.", "tir.", "ons.", "tor.", "fre.", "lør."],
        "months": [
            "januar",
            "februar",
            "mars",
            "april",
            "mai",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "desember",
        ],
        "shortMonths": [
            "jan.",
            "feb.",
            "mar.",
            "apr.",
            "mai",
            "jun.",
            "jul.",
            "aug.",
            "sep.",
            "okt.",
            "nov.",
            "des.",
        ],
    },
}
"""The bokmål number and time locale, in the form d3-format and d3-time-format take."""


def norwegian(chart: alt.Chart) -> alt.Chart:
    """``chart`` with :data:`NB_LOCALE` in its config (the chart becomes a top-level chart)."""
    return chart.configure(locale=NB_LOCALE)
