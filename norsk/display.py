"""The two display rules domain text needs too: a position in a call and a yes/no answer.

The rest of the display rules (times, percentages, counts) live in :mod:`lydlogg.formatting`,
which re-exports these.
"""

from __future__ import annotations

__all__ = ["MISSING", "clock", "yes_no"]

MISSING = "–"
"""What a page or document shows for a missing value (an en dash)."""


def _missing(value: object) -> bool:
    try:
        return value is None or bool(value != value)
    except (TypeError, ValueError):  # pandas.NA
        return True


def clock(seconds: float | None) -> str:
    """A position in a call as ``m:ss`` (``75.9`` -> ``1:15``; whole seconds, cut, not rounded, so a
    time never shows a second before it is reached); ``–`` when missing."""
    if _missing(seconds):
        return MISSING
    minutes, secs = divmod(max(0, int(seconds)), 60)  # type: ignore[arg-type]
    return f"{minutes}:{secs:02d}"


def yes_no(value: object) -> str:
    """``ja`` for true or 1, ``nei`` for false or 0, ``–`` when missing."""
    if _missing(value):
        return MISSING
    return "ja" if value in (True, 1) else "nei"
