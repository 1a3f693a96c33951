"""Plain result types of speaker diarization, shared by every strategy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from norsk.vocabulary import Role

Strategy = Literal["channels", "pyannote", "embeddings", "builtin"]


@dataclass(frozen=True)
class SpeakerTurn:
    """One stretch of time (seconds from the start of the call) in which ``speaker`` talks."""

    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Diarization:
    """Who spoke when in one call, and which strategy found it.

    ``channel_speakers`` maps a channel number to its speaker when each channel is one party
    (strategy ``channels``); ``notes`` says, in plain words, anything a reviewer should know
    (a silent channel, a call too short to tell voices apart).
    """

    strategy: Strategy
    turns: tuple[SpeakerTurn, ...] = field(default_factory=tuple)
    channel_speakers: tuple[tuple[int, str], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted({t.speaker for t in self.turns} | {s for _c, s in self.channel_speakers}))


@dataclass(frozen=True)
class RoleEvidence:
    """One observation behind a role: which segment, which cue, and its weight."""

    segment_index: int
    cue: str
    weight: float


@dataclass(frozen=True)
class SpeakerRole:
    """The role given to one speaker, how sure we are (0..1), and why."""

    speaker: str
    role: Role
    confidence: float
    evidence: tuple[RoleEvidence, ...] = ()
    source: Literal["words", "channel_setting", "corrected"] = "words"
