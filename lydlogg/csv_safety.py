"""Cells a spreadsheet would run as a formula, made inert (CSV/formula injection).

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken as a
formula by Excel and LibreOffice; a caller's text, a user name or an audit detail can hold one.
Norwegian Excel splits a comma-separated file on semicolons, so a cell is also dangerous when
any piece after a ``,``, ``;``, tab or line break begins so. Such a cell gets a leading
apostrophe, which spreadsheets show as text and do not evaluate (OWASP's advice).

Pure functions: every CSV (and spreadsheet) export of Lydlogg goes through :func:`safe_cell`,
usually by :func:`safe_csv`.
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["FORMULA_STARTS", "is_formula", "safe_cell", "safe_csv", "safe_frame"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PIECES = re.compile(r"[,;\t\r\n]")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could read ``text``, or a piece of it, as a formula."""
    if text.startswith(FORMULA_STARTS):
        return True
    return any(piece.lstrip(" ").startswith(FORMULA_STARTS[:4]) for piece in _PIECES.split(text)[1:])


def safe_cell(value: object) -> object:
    """``value`` unchanged, unless it is text a spreadsheet would evaluate: then ``'`` + value."""
    if isinstance(value, str) and is_formula(value):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names are safe to open in a spreadsheet."""
    return df.map(safe_cell).rename(columns=lambda c: safe_cell(str(c)))


def safe_csv(df: pd.DataFrame, **options: object) -> str:
    """``df`` as CSV (no index), every cell made safe with :func:`safe_cell`; ``options`` go to
    :meth:`pandas.DataFrame.to_csv` (``sep=";"``, ``decimal=","`` for Norwegian Excel)."""
    return safe_frame(df).to_csv(index=False, **options)
