"""How values read on a page or in a printed document: one rule per kind of value.

* times in Norwegian time (``display.timezone``, default ``Europe/Oslo``) as ``dd.mm.yyyy HH:MM``,
  never with ``+00:00``; the audit trail and the exports keep ISO time with offset and do not use
  this module;
* shares as ``33 %``, means as ``2,3``, counts as ``4`` or ``12 345``, never ``0.333333``,
  ``1.000000``, ``NaN`` or ``None``;
* ``ja``/``nei`` for yes/no, ``–`` for anything missing;
* positions in a call as ``m:ss``.

Pure functions, no Streamlit: the pages, the handouts and the reports call the same ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from norsk.display import MISSING, clock, yes_no

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_TIMEZONE",
    "MISSING",
    "DisplaySettings",
    "clock",
    "display_date",
    "display_frame",
    "display_time",
    "is_missing",
    "known_timezone",
    "mean_text",
    "number_text",
    "percent",
    "score_text",
    "value_text",
    "yes_no",
]

DEFAULT_TIMEZONE = "Europe/Oslo"


def known_timezone(value: str) -> str:
    """``value`` when it names an IANA time zone (settings' validators share this rule)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {value!r}; give an IANA name such as Europe/Oslo") from e
    return value


class DisplaySettings(BaseModel):
    """How the app and the printed documents show values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(
        DEFAULT_TIMEZONE,
        description=(
            "Time zone (IANA name) in which pages, handouts and reports show times, as "
            "`dd.mm.yyyy HH:MM`. Stored times, the audit trail and exports keep ISO time with offset."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_timezone(value)


def is_missing(value: object) -> bool:
    """None, NaN, pandas' NA and NaT."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except TypeError:  # pandas.NA refuses bool()
        return True
    except ValueError:  # an array
        return False


def _as_datetime(value: object) -> datetime | None:
    if is_missing(value):
        return None
    if isinstance(value, datetime):  # pandas.Timestamp is one too
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _local(value: object, timezone: str) -> datetime | None:
    moment = _as_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored times without an offset are UTC
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(timezone))


def display_time(value: object, timezone: str = DEFAULT_TIMEZONE) -> str:
    """``2026-03-02T17:40:00+00:00`` -> ``02.03.2026 18:40`` (Norwegian time); ``–`` if missing.

    A time without an offset is taken as UTC (how the database stores them); text that is not a
    time is returned as it is.
    """
    moment = _local(value, timezone)
    if moment is None:
        return MISSING if is_missing(value) else str(value)
    return moment.strftime("%d.%m.%Y %H:%M")


def display_date(value: object, timezone: str = DEFAULT_TIMEZONE) -> str:
    """A date (or the local date of a time) as ``02.03.2026``; ``–`` if missing."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d.%m.%Y")
    moment = _local(value, timezone)
    if moment is None:
        return MISSING if is_missing(value) else str(value)
    return moment.strftime("%d.%m.%Y")


def percent(share: object, decimals: int = 0) -> str:
    """A share 0-1 as ``33 %`` (a space before the sign, comma for decimals); ``–`` if missing."""
    if is_missing(share):
        return MISSING
    return f"{100 * float(share):.{decimals}f} %".replace(".", ",")  # type: ignore[arg-type]


def mean_text(value: object, decimals: int = 1) -> str:
    """A mean as ``2,3``; ``–`` if missing."""
    if is_missing(value):
        return MISSING
    return f"{float(value):.{decimals}f}".replace(".", ",")  # type: ignore[arg-type]


def number_text(value: object, kind: str = "count") -> str:
    """A figure as a reader expects it: ``kind`` ``share`` -> ``33 %``, ``mean`` -> ``2,3``,
    ``count`` -> ``4`` or ``12 345``; ``–`` when missing. Text that is no number passes through."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return yes_no(value)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if kind == "share":
        return percent(x)
    if kind == "mean":
        return mean_text(x)
    if math.isinf(x):
        return MISSING
    return f"{x:,.0f}".replace(",", " ")


def score_text(value: int | None, yes_no_scale: bool, *, missing: str = "ikke aktuelt") -> str:
    """A criterion's value as the form shows it: ``ja``/``nei`` on a yes/no scale, else the number;
    ``missing`` (``ikke aktuelt`` on the form, ``–`` in a table) when there is none."""
    if is_missing(value):
        return missing
    return yes_no(value) if yes_no_scale else number_text(value)  # 3.0 from a column with gaps reads "3"


def value_text(value: object, timezone: str = DEFAULT_TIMEZONE) -> str:
    """Any cell value as text: ``–`` for missing, ``ja``/``nei`` for booleans, whole floats without
    decimals, other floats with a decimal comma, times in Norwegian time."""
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime | date):
        return display_time(value, timezone) if isinstance(value, datetime) else display_date(value)
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.2f}".rstrip("0").replace(".", ",")
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value_text(value.item(), timezone)  # type: ignore[union-attr]
    return str(value)


def display_frame(
    frame: pd.DataFrame,
    timezone: str = DEFAULT_TIMEZONE,
    *,
    shares: Sequence[str] = (),
    means: Sequence[str] = (),
) -> pd.DataFrame:
    """A copy of ``frame`` that reads as the page should show it.

    Time columns become Norwegian time (``dd.mm.yyyy HH:MM``); yes/no columns ``ja``/``nei``;
    ``shares`` columns ``33 %`` and ``means`` columns ``2,3``; whole-number float columns become
    integers (text when some are missing); other decimals get a decimal comma; every missing
    value shows as ``–``. Numbers stay numbers where nothing is missing, so they still sort.
    """
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if name in shares:
            out[name] = column.map(percent)
        elif name in means:
            out[name] = column.map(mean_text)
        elif pd.api.types.is_datetime64_any_dtype(column):
            out[name] = column.map(lambda v: display_time(v, timezone))
        elif pd.api.types.is_bool_dtype(column):
            out[name] = column.map(yes_no)
        elif pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column):
            known = column.dropna()
            whole = bool(((known % 1) == 0).all())
            if whole and len(known) == len(column):
                out[name] = column.astype("int64")
            else:
                out[name] = column.map(lambda v, w=whole: number_text(v) if w else value_text(v, timezone))
        elif pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            out[name] = column.astype(object).map(
                lambda v: v if isinstance(v, list | tuple | dict) else value_text(v, timezone)
            )
    return out
