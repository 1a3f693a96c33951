"""Spoken and written Norwegian numbers: words -> digit strings, and runs of them in a text.

Speech recognition writes a phone number in many ways: ``41 23 45 67``, ``41234567``,
``+47 412 34 567``, ``førti en tjuetre førtifem sekstisju``, ``fire hundre og tolv, trettifire``,
``fire en to tre fire fem seks sju`` or a mix of digits and words. What identifies a number is its
digit string, so every piece is turned into the digits a listener would write down, and adjacent
pieces are concatenated into a :class:`NumberRun`. Deciding what a run *is* (phone number, national
identity number, postcode) happens in :mod:`anonymise.text`.

What one word is worth and how two pieces join (``førti en``, ``hundre og tretten``) are the
shared rules of :mod:`norsk.numbers`, the same the rubric scorers read numbers with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from norsk.numbers import EDGE_PUNCT, NumberPiece, combine, ordinal_value, parse_number_word

__all__ = ["NumberPiece", "NumberRun", "ordinal_value", "parse_number_word", "find_number_runs"]

_EDGE_PUNCT = EDGE_PUNCT


@dataclass(frozen=True)
class NumberRun:
    """Adjacent number pieces in a text, with char offsets and the digits they spell."""

    start: int
    end: int
    digits: str
    pieces: int
    spoken: bool
    plus: bool


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
        merged = combine(pieces[-1], piece, pending_og) if pieces else None
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
