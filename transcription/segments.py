"""Pure reshaping of recognised segments: split at pauses, and map joint passes back to channels.

Whisper's segments follow its own windows, not the conversation: one segment can run from 0:00
to 0:37 on the operator's channel while the caller speaks in its gaps, and the batched decoder
returns one segment per 30-second chunk. Splitting where the words pause makes each segment one
stretch of talk, so segments of two channels interleave as the conversation did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from transcription.types import Segment, Word

__all__ = ["ChannelSpan", "shift_segment", "split_at_pauses", "split_by_channel"]


def _joined(words: Sequence[Word]) -> str:
    return " ".join(w.text for w in words)


def split_at_pauses(segment: Segment, pause_s: float) -> list[Segment]:
    """``segment`` cut wherever one word ends ``pause_s`` or more before the next begins.

    Each piece keeps the segment's channel and recogniser scores; its text is its words. A
    segment without words, or ``pause_s <= 0``, comes back whole.
    """
    words = segment.words
    if pause_s <= 0 or len(words) < 2:
        return [segment]
    groups: list[list[Word]] = [[words[0]]]
    for prev, word in zip(words, words[1:], strict=False):
        if word.start - prev.end >= pause_s:
            groups.append([])
        groups[-1].append(word)
    if len(groups) == 1:
        return [segment]
    return [
        replace(segment, start=g[0].start, end=g[-1].end, text=_joined(g), words=tuple(g)) for g in groups
    ]


@dataclass(frozen=True)
class ChannelSpan:
    """Where one channel's audio sits in a joint array: ``[offset, offset + length)`` seconds.

    ``origin`` is the call time of the span's first sample (a block may start mid-call).
    """

    channel: int | None
    offset: float
    length: float
    origin: float = 0.0

    def holds(self, t: float) -> bool:
        return self.offset <= t < self.offset + self.length

    def to_call_time(self, t: float) -> float:
        return round(t - self.offset + self.origin, 3)


def shift_segment(segment: Segment, span: ChannelSpan) -> Segment:
    """``segment`` (times within the joint array) in call time, on ``span``'s channel."""
    words = tuple(
        replace(w, start=span.to_call_time(w.start), end=span.to_call_time(w.end), channel=span.channel)
        for w in segment.words
    )
    return replace(
        segment,
        start=span.to_call_time(segment.start),
        end=span.to_call_time(segment.end),
        channel=span.channel,
        words=words,
    )


def _span_of(t: float, spans: Sequence[ChannelSpan]) -> ChannelSpan:
    for span in spans:
        if span.holds(t):
            return span
    return min(spans, key=lambda s: min(abs(t - s.offset), abs(t - s.offset - s.length)))


def split_by_channel(segment: Segment, spans: Sequence[ChannelSpan]) -> list[Segment]:
    """A segment decoded from a joint array, as one segment per channel its words fall in.

    A decoder chunk may run over the silent gap between two channels' audio; each word belongs to
    the span its start lies in. Without words, the segment's start decides.
    """
    if not segment.words:
        return [shift_segment(segment, _span_of(segment.start, spans))]
    runs: list[tuple[ChannelSpan, list[Word]]] = []
    for word in segment.words:
        span = _span_of(word.start, spans)
        if not runs or runs[-1][0] is not span:
            runs.append((span, []))
        runs[-1][1].append(word)
    if len(runs) == 1:
        return [shift_segment(segment, runs[0][0])]
    pieces = [
        replace(segment, start=ws[0].start, end=ws[-1].end, text=_joined(ws), words=tuple(ws))
        for _, ws in runs
    ]
    return [shift_segment(piece, span) for piece, (span, _) in zip(pieces, runs, strict=True)]
