"""Dates as Norwegians type them: ``dd.mm.åååå`` (or ``d.m.åååå``), parsed without a calendar widget.

Pure logic: the review app's date fields (Revisjonslogg, Søk) read their text through
:func:`parse_date` and show a chosen date back with :func:`date_text`.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["DATE_FORMAT_HINT", "DateError", "date_text", "parse_date"]

DATE_FORMAT_HINT = "dd.mm.åååå"
"""How a date field asks for its date (shown in the field's label)."""

_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


class DateError(ValueError):
    """A date field's text is not a date; the message is Norwegian and fit to show the user."""


def parse_date(text: str | None, field: str = "Dato") -> date | None:
    """The date in ``text`` (``dd.mm.åååå`` or ``d.m.åååå``); ``None`` for an empty field.

    Raises :class:`DateError`, naming ``field`` and the accepted form, for anything else: other
    separators, two-digit years, ISO dates, and days that do not exist (``31.02.2026``).
    """
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    found = _DATE.fullmatch(cleaned)
    if found is None:
        raise DateError(
            f"{field}: «{cleaned}» er ikke en dato. Skriv datoen som {DATE_FORMAT_HINT}, f.eks. 01.03.2026."
        )
    day, month, year = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(f"{field}: {cleaned} finnes ikke i kalenderen.") from None


def date_text(value: date | None) -> str:
    """``value`` as ``dd.mm.åååå``; an empty string for no date (an empty field)."""
    return value.strftime("%d.%m.%Y") if value else ""
