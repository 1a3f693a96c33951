"""Redaction of a :class:`~transcription.types.Transcript`: placeholders in the text, time spans out.

Redactions are char offsets into ``transcript.text`` (the segment texts joined by one space), so
a whole call is searched at once (a question in one turn is the cue for the answer in the next)
and a trainer edits one flat list. Each redaction is mapped to the words it touches; the words
are replaced by one placeholder word spanning their time, and the span is returned as a
:class:`~anonymise.types.WordRedaction` for :func:`anonymise.audio.redact_audio`. A segment without
word timings gets a span interpolated from character positions (``estimated=True``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from anonymise.text import apply_redactions, find_identifiers
from anonymise.types import Redaction, WordRedaction

if TYPE_CHECKING:  # only named in annotations: at run time anonymise imports nothing else of ours
    from transcription.types import Segment, Transcript, Word

__all__ = ["find_transcript_identifiers", "redact_transcript", "segment_offsets"]

logger = logging.getLogger(__name__)


def segment_offsets(transcript: Transcript) -> list[tuple[int, int]]:
    """Char span of each segment's text inside ``transcript.text``."""
    spans, pos = [], 0
    for seg in transcript.segments:
        spans.append((pos, pos + len(seg.text)))
        pos += len(seg.text) + 1
    return spans


def find_transcript_identifiers(transcript: Transcript) -> list[Redaction]:
    """Identifiers in the whole call, as offsets into ``transcript.text``."""
    return find_identifiers(transcript.text)


def _word_chars(seg: Segment) -> list[tuple[int, int] | None]:
    """Char span of each word inside ``seg.text`` (None where a word cannot be found)."""
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for w in seg.words:
        token = w.text.strip()
        at = seg.text.find(token, cursor) if token else -1
        if at < 0:
            spans.append(None)
            continue
        spans.append((at, at + len(token)))
        cursor = at + len(token)
    return spans


def _interpolate(seg: Segment, a: int, b: int) -> tuple[float, float]:
    length = max(1, len(seg.text))
    duration = seg.end - seg.start
    return seg.start + duration * a / length, seg.start + duration * b / length


def redact_transcript(
    transcript: Transcript, redactions: Sequence[Redaction] | None = None
) -> tuple[Transcript, list[WordRedaction]]:
    """The transcript with identifiers replaced by placeholders, and the time span of each.

    ``redactions`` (offsets into ``transcript.text``) defaults to what :func:`find_identifiers`
    finds; pass a trainer's edited list to apply that instead.
    """
    if redactions is None:
        redactions = find_transcript_identifiers(transcript)
    total = len(transcript.text)
    for r in redactions:
        if r.end > total:
            raise ValueError(f"redaction {r.start}..{r.end} runs past the transcript text ({total} chars)")
    segments: list[Segment] = []
    spans: list[WordRedaction] = []
    for index, (seg, (s0, s1)) in enumerate(
        zip(transcript.segments, segment_offsets(transcript), strict=True)
    ):
        local = [
            dataclasses.replace(r, start=max(r.start, s0) - s0, end=min(r.end, s1) - s0)
            for r in redactions
            if r.start < s1 and r.end > s0
        ]
        if not local:
            segments.append(seg)
            continue
        word_chars = _word_chars(seg)
        new_words: list[Word] = []
        done: set[int] = set()
        for w, chars in zip(seg.words, word_chars, strict=True):
            hit = next(
                (
                    k
                    for k, r in enumerate(local)
                    if chars is not None and chars[0] < r.end and chars[1] > r.start
                ),
                None,
            )
            if hit is None:
                new_words.append(w)
                continue
            if hit in done:
                last = new_words[-1]
                new_words[-1] = dataclasses.replace(
                    last, end=max(last.end, w.end), probability=min(last.probability, w.probability)
                )
                continue
            done.add(hit)
            new_words.append(dataclasses.replace(w, text=" " + local[hit].placeholder))
        for k, r in enumerate(local):
            if k in done:
                words = [
                    w
                    for w, c in zip(seg.words, word_chars, strict=True)
                    if c and c[0] < r.end and c[1] > r.start
                ]
                spans.append(
                    WordRedaction(
                        index, min(w.start for w in words), max(w.end for w in words), r.kind, seg.channel
                    )
                )
            else:
                start_s, end_s = _interpolate(seg, r.start, r.end)
                spans.append(WordRedaction(index, start_s, end_s, r.kind, seg.channel, estimated=True))
        segments.append(
            dataclasses.replace(seg, text=apply_redactions(seg.text, local), words=tuple(new_words))
        )
    logger.debug("redacted %d spans in %d segments", len(spans), len(segments))
    return dataclasses.replace(transcript, segments=tuple(segments)), spans
