"""Result types of rubric scoring and the call text scorers read."""

from __future__ import annotations

from dataclasses import dataclass, field

from norsk.vocabulary import STAFF_ROLES

__all__ = ["STAFF_ROLES", "CallText", "CriterionScore", "Evidence", "Utterance"]


@dataclass(frozen=True)
class Evidence:
    """Words a suggestion rests on: a character span of one segment's text, with its times."""

    segment_index: int
    start_char: int
    end_char: int
    start: float
    end: float
    text: str

    def as_dict(self) -> dict[str, object]:
        return {
            "segment_index": self.segment_index,
            "start_char": self.start_char,
            "end_char": self.end_char,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
        }


@dataclass(frozen=True)
class CriterionScore:
    """A suggested value (None = not applicable) with its confidence, evidence and rationale (bokmål).

    ``abstained`` is True when no value could be suggested because it would rest on not finding
    something in speech the recogniser did not hear well; the value is then None (missing, never
    a zero) and the evidence holds the stretches to listen to.
    """

    criterion_id: str
    value: int | None
    confidence: float
    evidence: tuple[Evidence, ...] = ()
    rationale: str = ""
    abstained: bool = False

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "evidence": [e.as_dict() for e in self.evidence],
            "rationale": self.rationale,
        }
        if self.abstained:
            out["abstained"] = True
        return out


@dataclass(frozen=True)
class Utterance:
    """One transcript segment as scorers see it; ``index`` is the segment's position in the call.

    ``quality`` is the recogniser's estimated word accuracy (:mod:`transcription.quality`); None
    for written or corrected text, which is trusted as written.
    """

    index: int
    start: float
    end: float
    text: str
    role: str | None = None
    speaker: str | None = None
    channel: int | None = None
    quality: float | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def evidence(self, start_char: int = 0, end_char: int | None = None) -> Evidence:
        end_char = len(self.text) if end_char is None else end_char
        return Evidence(
            self.index, start_char, end_char, self.start, self.end, self.text[start_char:end_char]
        )


@dataclass(frozen=True)
class CallText:
    """A call's utterances in time order, with the roles settled (see :func:`lydlogg.calltext.build_call_text`).

    ``roles_inferred`` is True when the transcript carried no roles and they were guessed, so
    scorers can lower their confidence.
    """

    call_id: str
    utterances: tuple[Utterance, ...]
    service: str | None = None
    roles_inferred: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def staff(self) -> tuple[Utterance, ...]:
        return tuple(u for u in self.utterances if u.is_staff)

    @property
    def callers(self) -> tuple[Utterance, ...]:
        return tuple(u for u in self.utterances if u.role == "caller")
