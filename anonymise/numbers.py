"""Spoken and written Norwegian numbers: words -> digit strings, and runs of them in a text.

Speech recognition writes a phone number in many ways: ``41 23 45 67``, ``41234567``,
``+47 412 34 567``, ``førti en tjuetre førtifem sekstisju``, ``fire hundre og tolv, trettifire``,
``fire en to tre fire fem seks sju`` or a mix of digits and words. What identifies a number is its
digit string, so every piece is turned into the digits a listener would write down, and adjacent
pieces are concatenated into a :class:`NumberRun`. Deciding what a run *is* (phone number, national
identity number, postcode) happens in :mod:`anonymise.text`.

Numbers are read the modern way (``førtifem`` = 45); the old "fem og førti" order is not parsed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["NumberPiece", "NumberRun", "ordinal_value", "parse_number_word", "find_number_runs"]

_UNITS = {
    "null": 0, "en": 1, "én": 1, "ett": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
    "sju": 7, "syv": 7, "åtte": 8, "ni": 9,
}  # fmt: skip
_TEENS = {
    "ti": 10, "elleve": 11, "tolv": 12, "tretten": 13, "fjorten": 14, "femten": 15, "seksten": 16,
    "sytten": 17, "atten": 18, "nitten": 19,
}  # fmt: skip
_TENS = {
    "tjue": 20, "tyve": 20, "tretti": 30, "tredve": 30, "førti": 40, "femti": 50, "seksti": 60,
    "sytti": 70, "åtti": 80, "nitti": 90,
}  # fmt: skip
_ORDINAL_UNITS = {
    "første": 1, "andre": 2, "tredje": 3, "fjerde": 4, "femte": 5, "sjette": 6, "sjuende": 7,
    "syvende": 7, "åttende": 8, "niende": 9,
}  # fmt: skip
_ORDINAL_TEENS = {
    "tiende": 10, "ellevte": 11, "tolvte": 12, "trettende": 13, "fjortende": 14, "femtende": 15,
    "sekstende": 16, "syttende": 17, "attende": 18, "nittende": 19,
}  # fmt: skip


def _alt(words: Sequence[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_NONZERO_UNITS = [w for w, v in _UNITS.items() if v]
_WORD = re.compile(
    rf"^(?:(?P<thousand_mult>{_alt(_NONZERO_UNITS)})?(?P<thousand>tusen)(?:og)?)?"
    rf"(?:(?P<hundred_mult>{_alt(_NONZERO_UNITS)})?(?P<hundred>hundre)(?:og)?)?"
    rf"(?:(?P<tens>{_alt(_TENS)})(?P<tens_unit>{_alt(_NONZERO_UNITS)})?"
    rf"|(?P<teen>{_alt(_TEENS)})|(?P<unit>{_alt(_UNITS)}))?$"
)
_ORDINAL = re.compile(
    rf"^(?:(?P<tens>{_alt(_TENS)})(?:(?P<unit>{_alt(_ORDINAL_UNITS)})|(?P<bare>e?nde)))?$"
    rf"|^(?P<only_unit>{_alt(_ORDINAL_UNITS)})$|^(?P<teen>{_alt(_ORDINAL_TEENS)})$"
)
_DIGITS = re.compile(r"^\+?\d+(?:-\d+)*$")
_EDGE_PUNCT = ".,;:!?\"'()"


@dataclass(frozen=True)
class NumberPiece:
    """One number word or digit group: its value, the digits it stands for, and its shape.

    ``shape`` is ``digits`` (written), ``unit`` (0-9), ``teen`` (10-19), ``tens`` (a bare 20, 30 ..),
    ``compound`` (21-99 in one word), ``hundred`` (contains hundre or tusen).
    """

    value: int
    digits: str
    shape: str


@dataclass(frozen=True)
class NumberRun:
    """Adjacent number pieces in a text, with char offsets and the digits they spell."""

    start: int
    end: int
    digits: str
    pieces: int
    spoken: bool
    plus: bool


def parse_number_word(word: str) -> NumberPiece | None:
    """The number a single word or digit group stands for, or None.

    >>> parse_number_word("førtifem").digits
    '45'
    >>> parse_number_word("firehundreogtolv").value
    412
    """
    w = word.strip(_EDGE_PUNCT).lower().replace("-", "")
    if not w:
        return None
    raw = word.strip(_EDGE_PUNCT)
    if _DIGITS.match(raw):
        digits = raw.replace("-", "").lstrip("+")
        return NumberPiece(int(digits), digits, "digits")
    century = re.match(r"^(nitten|atten)(?!hundre)(?=.)", w)
    if century and w not in _TEENS and w not in _TENS:
        rest = parse_number_word(w[len(century.group(1)) :])
        if rest is not None and rest.value < 100 and rest.shape != "digits":
            year = 100 * _TEENS[century.group(1)] + rest.value
            return NumberPiece(year, str(year), "year")
    m = _WORD.match(w)
    if not m or not any(m.group(g) for g in ("thousand", "hundred", "tens", "teen", "unit")):
        return None
    value = 0
    if m.group("thousand"):
        value += 1000 * (_UNITS[m.group("thousand_mult")] if m.group("thousand_mult") else 1)
    if m.group("hundred"):
        value += 100 * (_UNITS[m.group("hundred_mult")] if m.group("hundred_mult") else 1)
    if m.group("tens"):
        value += _TENS[m.group("tens")] + (_UNITS[m.group("tens_unit")] if m.group("tens_unit") else 0)
    elif m.group("teen"):
        value += _TEENS[m.group("teen")]
    elif m.group("unit"):
        value += _UNITS[m.group("unit")]
    if m.group("thousand") or m.group("hundred"):
        shape = "hundred"
    elif m.group("tens"):
        shape = "compound" if m.group("tens_unit") else "tens"
    elif m.group("teen"):
        shape = "teen"
    else:
        shape = "unit"
    return NumberPiece(value, str(value), shape)


def ordinal_value(word: str) -> int | None:
    """Day of the month from an ordinal word or ``12.``: ``tolvte`` -> 12, ``trettiførste`` -> 31."""
    raw = word.strip(",;:!?\"'()")
    if re.fullmatch(r"\d{1,2}\.", raw):
        return int(raw[:-1])
    m = _ORDINAL.match(raw.lower().rstrip("."))
    if not m or not any(m.groups()):
        return None
    if m.group("only_unit"):
        return _ORDINAL_UNITS[m.group("only_unit")]
    if m.group("teen"):
        return _ORDINAL_TEENS[m.group("teen")]
    if m.group("tens"):
        return _TENS[m.group("tens")] + (_ORDINAL_UNITS[m.group("unit")] if m.group("unit") else 0)
    return None


def _combine(prev: NumberPiece, cur: NumberPiece, joined_by_og: bool) -> NumberPiece | None:
    """Two spoken pieces that form one number: ``førti en`` = 41, ``fire hundre og tolv`` = 412."""
    if prev.shape == "tens" and cur.shape == "unit" and cur.value and not joined_by_og:
        return NumberPiece(prev.value + cur.value, str(prev.value + cur.value), "compound")
    if prev.shape == "unit" and prev.value and cur.shape == "hundred" and cur.value in (100, 1000):
        return NumberPiece(prev.value * cur.value, str(prev.value * cur.value), "hundred")
    if prev.shape == "hundred" and cur.shape != "digits" and cur.value < 100 and prev.value % 100 == 0:
        return NumberPiece(prev.value + cur.value, str(prev.value + cur.value), "hundred")
    return None


def find_number_runs(tokens: Sequence[tuple[int, str]]) -> list[NumberRun]:
    """Runs of adjacent number pieces in ``tokens`` (``(char offset, text)`` pairs, in order).

    Pieces join across whitespace, commas and hyphens; ``og`` joins only inside a hundred
    (``hundre og tretten``); a full stop, any other word or a comma-separated ``og`` ends a run.
    ``pluss`` or ``+`` before a run marks an international prefix.
    """
    runs: list[NumberRun] = []
    pieces: list[NumberPiece] = []
    start = end = 0
    spoken = plus = False
    pending_og = False

    def close() -> None:
        nonlocal pieces, spoken, plus
        if pieces:
            runs.append(NumberRun(start, end, "".join(p.digits for p in pieces), len(pieces), spoken, plus))
        pieces, spoken, plus = [], False, False

    for i, (offset, text) in enumerate(tokens):
        low = text.lower()
        if low in {",", "-", "–"} and pieces:
            continue
        if low == "og" and pieces and pieces[-1].shape == "hundred":
            pending_og = True
            continue
        if low in {"pluss", "+"} and not pieces:
            nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
            if parse_number_word(nxt) is not None:
                close()
                start, plus = offset, True
                pending_og = False
                continue
        piece = parse_number_word(text)
        if piece is None:
            close()
            pending_og = False
            continue
        if not pieces and not plus:
            start = offset
        plus = plus or text.startswith("+")
        merged = _combine(pieces[-1], piece, pending_og) if pieces else None
        if pending_og and merged is None:
            close()
            start = offset
        pending_og = False
        if merged is not None:
            pieces[-1] = merged
        else:
            pieces.append(piece)
        spoken = spoken or piece.shape != "digits"
        stripped = text.rstrip(_EDGE_PUNCT)
        end = offset + len(stripped)
        if (
            text.endswith((".", "!", "?"))
            and piece.shape == "digits"
            and not re.fullmatch(r"\d{1,2}\.", text)
        ):
            close()  # "41234567." ends the sentence
    close()
    return runs
