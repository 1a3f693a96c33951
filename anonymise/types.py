"""Plain result types of anonymisation: what was found in a text, and where it sits in time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

__all__ = ["KINDS", "PLACEHOLDERS", "Kind", "Redaction", "WordRedaction"]

Kind = Literal["NAVN", "TELEFON", "FØDSELSNUMMER", "ADRESSE", "DATO", "STED"]
KINDS: tuple[Kind, ...] = get_args(Kind)
PLACEHOLDERS: dict[str, str] = {kind: f"[{kind}]" for kind in KINDS}


@dataclass(frozen=True, order=True)
class Redaction:
    """A stretch ``text[start:end]`` to replace with the placeholder of ``kind``.

    ``text`` is the matched text, kept in memory only so that a trainer can see what is hidden;
    it is left out of ``repr`` so that it never reaches a log line. A trainer's own redaction may
    leave it empty. ``source`` names the rule that found it (``manual`` for a trainer's).
    """

    start: int
    end: int
    kind: Kind
    text: str = field(default="", repr=False, compare=False)
    source: str = field(default="manual", compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; accepted: {', '.join(KINDS)}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"a redaction needs 0 <= start < end, got {self.start}..{self.end}")

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True)
class WordRedaction:
    """The time span (seconds from the start of the call) of one redaction in one segment.

    ``estimated`` is True where the segment carried no word timings and the span was
    interpolated from character positions (widen the audio margin for those).
    """

    segment_index: int
    start_s: float
    end_s: float
    kind: Kind
    channel: int | None = None
    estimated: bool = False
