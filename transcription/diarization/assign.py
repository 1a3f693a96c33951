"""Words to speakers: plain interval arithmetic, no model.

Every word goes to the turn it overlaps most; a word that overlaps no turn (or ties) goes to the
nearest turn in time. On a channel-per-party call a word's channel decides. A segment whose
words change speaker is split at each change, so each segment has one speaker and its words
carry that speaker.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from transcription.diarization.types import Diarization, SpeakerTurn
from transcription.types import Segment, Word

__all__ = ["TurnIndex", "assign_segments", "speaker_for"]


class TurnIndex:
    """Turns sorted by start, with the running maximum end, for quick look-ups over long calls."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
        self._starts = [t.start for t in self.turns]
        self._max_end: list[float] = []
        running = float("-inf")
        for t in self.turns:
            running = max(running, t.end)
            self._max_end.append(running)

    def speaker_for(self, start: float, end: float) -> str | None:
        """The speaker overlapping ``[start, end]`` most; else the nearest turn's; None without turns."""
        if not self.turns:
            return None
        hi = bisect.bisect_right(self._starts, end)
        lo = bisect.bisect_left(self._max_end, start)  # first turn that may reach ``start``
        overlap: dict[str, float] = {}
        for t in self.turns[lo:hi]:
            o = min(end, t.end) - max(start, t.start)
            if o > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
        if overlap:
            ranked = sorted(overlap.items(), key=lambda kv: -kv[1])
            if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
                return ranked[0][0]
        mid = 0.5 * (start + end)
        near = self.turns[max(0, lo - 1) : min(len(self.turns), hi + 1)]
        pool = near if near else self.turns
        if overlap:  # a tie: the tied turn whose centre is nearest decides
            pool = [t for t in pool if t.speaker in overlap] or pool
        best = min(
            pool, key=lambda t: (max(t.start - mid, mid - t.end, 0.0), abs(0.5 * (t.start + t.end) - mid))
        )
        return best.speaker


def speaker_for(turns: Sequence[SpeakerTurn], start: float, end: float) -> str | None:
    """The speaker of ``[start, end]`` among ``turns`` (see :class:`TurnIndex`)."""
    return TurnIndex(turns).speaker_for(start, end)


def _split(segment: Segment, speakers: list[str | None]) -> list[Segment]:
    """Pieces of ``segment``, one per run of words with the same speaker; the first piece keeps
    the segment's start and the last its end."""
    runs: list[tuple[str | None, list[Word]]] = []
    for word, speaker in zip(segment.words, speakers, strict=True):
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(word)
        else:
            runs.append((speaker, [word]))
    pieces = []
    for i, (speaker, words) in enumerate(runs):
        pieces.append(
            replace(
                segment,
                start=segment.start if i == 0 else words[0].start,
                end=segment.end if i == len(runs) - 1 else words[-1].end,
                text=" ".join(w.text for w in words),
                speaker=speaker,
                words=tuple(words),
            )
        )
    return pieces


def assign_segments(segments: Sequence[Segment], diarization: Diarization) -> tuple[Segment, ...]:
    """``segments`` with a speaker each, split where the speaker changes inside one."""
    by_channel = dict(diarization.channel_speakers)
    index = TurnIndex(diarization.turns)
    out: list[Segment] = []
    for segment in segments:
        if segment.channel is not None and segment.channel in by_channel:
            speaker = by_channel[segment.channel]
            out.append(replace(segment, speaker=speaker))
            continue
        if not segment.words:
            out.append(replace(segment, speaker=index.speaker_for(segment.start, segment.end)))
            continue
        speakers = [index.speaker_for(w.start, w.end) for w in segment.words]
        if len(set(speakers)) == 1:
            out.append(replace(segment, speaker=speakers[0]))
            continue
        out.extend(_split(segment, speakers))
    out.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
    return tuple(out)
