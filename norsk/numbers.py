"""Spoken Norwegian numbers: the number words, one word's value, and how pieces join.

Speech recognition writes numbers as digits, as words (``førtifem``, ``fire hundre og tolv``) or a
mix. Both the anonymiser (phone and identity numbers as digit strings) and the rubric scorers
(``hundre og tretten`` means the emergency number) read them with the rules here, so that the two
never disagree on what a word is worth:

* :func:`parse_number_word`: one word or digit group -> :class:`NumberPiece` (value and shape);
  compounds such as ``firehundreogtolv``, ``tjueen``, ``nittenåtti`` (a year) are one word.
* :func:`combine`: two adjacent pieces that form one number (``førti en`` = 41, ``fire hundre`` =
  400, ``hundre og tretten`` = 113), or None.
* :func:`parse_cardinal`: a whole spoken cardinal (``en tusen to hundre og trettifire``) -> int,
  up to the millions.
* :func:`ordinal_value`: a day of the month from an ordinal (``tolvte`` -> 12).

Numbers are read the modern way (``førtifem`` = 45); the old "fem og førti" order is not parsed.
Bokmål and common nynorsk/dialect forms are accepted (``syv``/``sju``, ``tyve``, ``tredve``,
``søtti``, ``ein``/``eitt`` inside compounds).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ARTICLE_ONES",
    "EDGE_PUNCT",
    "ORDINAL_TEENS",
    "ORDINAL_UNITS",
    "TEENS",
    "TENS",
    "UNITS",
    "NumberPiece",
    "combine",
    "ordinal_value",
    "parse_cardinal",
    "parse_number_word",
]

UNITS: dict[str, int] = {
    "null": 0, "en": 1, "én": 1, "ett": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
    "sju": 7, "syv": 7, "åtte": 8, "ni": 9,
}  # fmt: skip
"""Words for 0-9 standing alone or inside a compound."""

ARTICLE_ONES = frozenset({"en", "ett", "ein", "eitt", "ei", "et"})
"""Forms of "one" that are far more often the indefinite article; a reader decides by context."""

_COMPOUND_ONES = {"ein": 1, "eitt": 1}  # nynorsk "one", accepted only after a tens word (tjueein)

TEENS: dict[str, int] = {
    "ti": 10, "elleve": 11, "tolv": 12, "tretten": 13, "fjorten": 14, "femten": 15, "seksten": 16,
    "sytten": 17, "atten": 18, "nitten": 19,
}  # fmt: skip
TENS: dict[str, int] = {
    "tjue": 20, "tyve": 20, "tretti": 30, "tredve": 30, "førti": 40, "femti": 50, "seksti": 60,
    "sytti": 70, "søtti": 70, "åtti": 80, "nitti": 90,
}  # fmt: skip
ORDINAL_UNITS: dict[str, int] = {
    "første": 1, "andre": 2, "tredje": 3, "fjerde": 4, "femte": 5, "sjette": 6, "sjuende": 7,
    "syvende": 7, "åttende": 8, "niende": 9,
}  # fmt: skip
ORDINAL_TEENS: dict[str, int] = {
    "tiende": 10, "ellevte": 11, "tolvte": 12, "trettende": 13, "fjortende": 14, "femtende": 15,
    "sekstende": 16, "syttende": 17, "attende": 18, "nittende": 19,
}  # fmt: skip
_MILLIONS = frozenset({"million", "millioner", "millionar"})


def _alt(words: Sequence[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_NONZERO_UNITS = [w for w, v in UNITS.items() if v]
_WORD = re.compile(
    rf"^(?:(?P<thousand_mult>{_alt(_NONZERO_UNITS)})?(?P<thousand>tusen)(?:og)?)?"
    rf"(?:(?P<hundred_mult>{_alt(_NONZERO_UNITS)})?(?P<hundred>hundre)(?:og)?)?"
    rf"(?:(?P<tens>{_alt(list(TENS))})(?P<tens_unit>{_alt([*_NONZERO_UNITS, *_COMPOUND_ONES])})?"
    rf"|(?P<teen>{_alt(list(TEENS))})|(?P<unit>{_alt(list(UNITS))}))?$"
)
_ORDINAL = re.compile(
    rf"^(?:(?P<tens>{_alt(list(TENS))})(?:(?P<unit>{_alt(list(ORDINAL_UNITS))})|(?P<bare>e?nde)))?$"
    rf"|^(?P<only_unit>{_alt(list(ORDINAL_UNITS))})$|^(?P<teen>{_alt(list(ORDINAL_TEENS))})$"
)
_DIGITS = re.compile(r"^\+?\d+(?:-\d+)*$")
_CENTURY = re.compile(r"^(nitten|atten)(?!hundre)(?=.)")
EDGE_PUNCT = ".,;:!?\"'()"


@dataclass(frozen=True)
class NumberPiece:
    """One number word or digit group: its value, the digits it stands for, and its shape.

    ``shape`` is ``digits`` (written), ``unit`` (0-9), ``teen`` (10-19), ``tens`` (a bare 20, 30 ..),
    ``compound`` (21-99 in one word), ``hundred`` (contains hundre or tusen), ``year``
    (``nittenåtti``).
    """

    value: int
    digits: str
    shape: str


def parse_number_word(word: str) -> NumberPiece | None:
    """The number a single word or digit group stands for, or None.

    >>> parse_number_word("førtifem").digits
    '45'
    >>> parse_number_word("firehundreogtolv").value
    412
    """
    raw = word.strip(EDGE_PUNCT)
    if _DIGITS.match(raw):
        digits = raw.replace("-", "").lstrip("+")
        return NumberPiece(int(digits), digits, "digits")
    return _spoken_piece(raw.lower().replace("-", ""))


@lru_cache(maxsize=8192)
def _spoken_piece(w: str) -> NumberPiece | None:
    if not w:
        return None
    century = _CENTURY.match(w)
    if century and w not in TEENS and w not in TENS:
        rest = _spoken_piece(w[len(century.group(1)) :])
        if rest is not None and rest.value < 100:
            year = 100 * TEENS[century.group(1)] + rest.value
            return NumberPiece(year, str(year), "year")
    m = _WORD.match(w)
    if not m or not any(m.group(g) for g in ("thousand", "hundred", "tens", "teen", "unit")):
        return None
    value = 0
    if m.group("thousand"):
        value += 1000 * (UNITS[m.group("thousand_mult")] if m.group("thousand_mult") else 1)
    if m.group("hundred"):
        value += 100 * (UNITS[m.group("hundred_mult")] if m.group("hundred_mult") else 1)
    if m.group("tens"):
        unit = m.group("tens_unit")
        value += TENS[m.group("tens")] + (UNITS.get(unit) or _COMPOUND_ONES.get(unit, 0) if unit else 0)
    elif m.group("teen"):
        value += TEENS[m.group("teen")]
    elif m.group("unit"):
        value += UNITS[m.group("unit")]
    if m.group("thousand") or m.group("hundred"):
        shape = "hundred"
    elif m.group("tens"):
        shape = "compound" if m.group("tens_unit") else "tens"
    elif m.group("teen"):
        shape = "teen"
    else:
        shape = "unit"
    return NumberPiece(value, str(value), shape)


def combine(prev: NumberPiece, cur: NumberPiece, joined_by_og: bool) -> NumberPiece | None:
    """Two spoken pieces that form one number, or None.

    ``førti en`` = 41 (a bare tens word, then a unit, no ``og`` between), ``fire hundre`` = 400 and
    ``fire tusen`` = 4000 (a unit times a bare scale word), ``hundre og tretten`` = 113 (a round
    hundred or thousand, then a spoken number below 100).
    """
    if prev.shape == "tens" and cur.shape == "unit" and cur.value and not joined_by_og:
        return NumberPiece(prev.value + cur.value, str(prev.value + cur.value), "compound")
    if prev.shape == "unit" and prev.value and cur.shape == "hundred" and cur.value in (100, 1000):
        return NumberPiece(prev.value * cur.value, str(prev.value * cur.value), "hundred")
    if prev.shape == "hundred" and cur.shape != "digits" and cur.value < 100 and prev.value % 100 == 0:
        return NumberPiece(prev.value + cur.value, str(prev.value + cur.value), "hundred")
    return None


def _fits(current: int, value: int) -> bool:
    """Whether ``value`` may be added below ``current`` (``tre hundre`` + ``fem``, not ``fem`` + ``tre``)."""
    if current == 0:
        return True
    if value < 10:
        return current % 10 == 0 and current % 100 != 10
    if value < 100:
        return current % 100 == 0
    return current % 1000 == 0 and value < 1000


def parse_cardinal(words: str | Sequence[str]) -> int | None:
    """The value of a whole spoken cardinal number, or None if the words are not one number.

    >>> parse_cardinal("en tusen to hundre og trettifire")
    1234
    >>> parse_cardinal("tjueen tusen tre hundre og førtifem")
    21345
    >>> parse_cardinal("to tre") is None
    True

    ``og`` may stand after ``hundre``/``tusen``; scale words multiply what precedes them
    (``ni hundre og nittini tusen``); ``million`` ends a group of millions.
    """
    tokens = words.split() if isinstance(words, str) else list(words)
    total = 0  # completed millions and thousands
    current = 0  # the group being read (below one thousand, or a one-word "tretusen")
    seen = after_scale = False
    for token in tokens:
        w = token.strip(EDGE_PUNCT).lower()
        if w == "og":
            if not after_scale:
                return None
            continue
        after_scale = False
        if w in _MILLIONS:
            if total or not current and seen:
                return None
            total, current, after_scale = (current or 1) * 1_000_000, 0, True
            continue
        piece = _spoken_piece(w.replace("-", ""))
        if piece is None or piece.shape == "year":
            return None
        seen = True
        if w == "hundre":
            if current >= 10:
                return None
            current, after_scale = (current or 1) * 100, True
        elif w == "tusen":
            if total % 1_000_000 or current >= 1000:
                return None
            total, current, after_scale = total + (current or 1) * 1000, 0, True
        elif piece.value >= 1000:  # one word holding "tusen": "tretusen", "tusenogfem"
            if current or total % 1_000_000:
                return None
            total, current = total + piece.value // 1000 * 1000, piece.value % 1000
            after_scale = current % 100 == 0
        else:
            if not _fits(current, piece.value):
                return None
            current += piece.value
            after_scale = piece.shape == "hundred" and piece.value % 100 == 0
    if not seen:
        return None
    return total + current


def ordinal_value(word: str) -> int | None:
    """Day of the month from an ordinal word or ``12.``: ``tolvte`` -> 12, ``trettiførste`` -> 31."""
    raw = word.strip(",;:!?\"'()")
    if re.fullmatch(r"\d{1,2}\.", raw):
        return int(raw[:-1])
    m = _ORDINAL.match(raw.lower().rstrip("."))
    if not m or not any(m.groups()):
        return None
    if m.group("only_unit"):
        return ORDINAL_UNITS[m.group("only_unit")]
    if m.group("teen"):
        return ORDINAL_TEENS[m.group("teen")]
    if m.group("tens"):
        return TENS[m.group("tens")] + (ORDINAL_UNITS[m.group("unit")] if m.group("unit") else 0)
    return None
