"""Plain result types of the transcription stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Layout = Literal["mono", "stereo", "dual_mono"]


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span (seconds from the start of the call)."""

    start: float
    end: float
    text: str
    probability: float
    channel: int | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch of speech from one channel; speaker and role stay None until diarization."""

    start: float
    end: float
    text: str
    channel: int | None = None
    speaker: str | None = None
    role: str | None = None
    words: tuple[Word, ...] = ()
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@dataclass(frozen=True)
class Transcript:
    """The time-ordered segments of one call."""

    call_id: str
    language: str
    segments: tuple[Segment, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)
