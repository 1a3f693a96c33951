"""Transcript serialisation: the JSON exchange shape, WebVTT and plain text.

The JSON shape is the contract read back by import and scoring commands::

    {"call_id": str, "language": str,
     "segments": [{"start": s, "end": s, "channel": int|null, "speaker": str|null,
                   "role": str|null, "text": str,
                   "words": [{"start": s, "end": s, "text": str, "probability": p}]}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from transcription.types import Segment, Transcript, Word

__all__ = ["TranscriptFormatError", "from_json", "to_json", "to_txt", "to_vtt"]

ROLES = ("operator", "doctor", "caller", "other")


class TranscriptFormatError(ValueError):
    """A transcript document that does not have the accepted shape."""


def to_json(t: Transcript) -> dict[str, Any]:
    return {
        "call_id": t.call_id,
        "language": t.language,
        "segments": [
            {
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "channel": s.channel,
                "speaker": s.speaker,
                "role": s.role,
                "text": s.text,
                "words": [
                    {
                        "start": round(w.start, 3),
                        "end": round(w.end, 3),
                        "text": w.text,
                        "probability": round(w.probability, 4),
                    }
                    for w in s.words
                ],
            }
            for s in t.segments
        ],
    }


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptFormatError(f"{where}: expected a number of seconds, got {value!r}")
    return float(value)


def from_json(doc: Mapping[str, Any], *, call_id: str | None = None) -> Transcript:
    """Read the JSON exchange shape; ``call_id`` fills in a document that has none."""
    if not isinstance(doc, Mapping):
        raise TranscriptFormatError("expected a JSON object with 'language' and 'segments'")
    cid = doc.get("call_id") or call_id
    if not cid:
        raise TranscriptFormatError("'call_id' is missing")
    raw_segments = doc.get("segments")
    if not isinstance(raw_segments, list):
        raise TranscriptFormatError("'segments' must be a list of objects with start, end and text")
    segments = []
    for i, raw in enumerate(raw_segments):
        where = f"segments[{i}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("text"), str):
            raise TranscriptFormatError(f"{where}: needs 'start', 'end' and a string 'text'")
        start, end = _number(raw.get("start"), f"{where}.start"), _number(raw.get("end"), f"{where}.end")
        if end < start:
            raise TranscriptFormatError(f"{where}: end {end} is before start {start}")
        role = raw.get("role")
        if role is not None and role not in ROLES:
            raise TranscriptFormatError(f"{where}.role: {role!r} is not one of {', '.join(ROLES)}")
        channel = raw.get("channel")
        words = tuple(
            Word(
                start=_number(w.get("start"), f"{where}.words[{j}].start"),
                end=_number(w.get("end"), f"{where}.words[{j}].end"),
                text=str(w.get("text", "")),
                probability=float(w.get("probability", 1.0)),
                channel=channel,
            )
            for j, w in enumerate(raw.get("words") or [])
        )
        segments.append(
            Segment(
                start=start,
                end=end,
                text=raw["text"],
                channel=channel,
                speaker=raw.get("speaker"),
                role=role,
                words=words,
            )
        )
    return Transcript(call_id=str(cid), language=str(doc.get("language") or "no"), segments=tuple(segments))


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _label(s: Segment) -> str | None:
    if s.role or s.speaker:
        return s.role or s.speaker
    if s.channel is not None:
        return f"kanal {s.channel + 1}"
    return None


def to_vtt(t: Transcript) -> str:
    """WebVTT with one cue per segment, the speaker as a voice tag when known."""
    lines = ["WEBVTT", ""]
    for i, s in enumerate(t.segments, start=1):
        label = _label(s)
        text = s.text.strip().replace("-->", "->")
        lines += [
            str(i),
            f"{_vtt_time(s.start)} --> {_vtt_time(s.end)}",
            f"<v {label}>{text}" if label else text,
            "",
        ]
    return "\n".join(lines)


def to_txt(t: Transcript) -> str:
    """One line per segment: ``[mm:ss] label: text``."""
    out = []
    for s in t.segments:
        minutes, seconds = divmod(int(s.start), 60)
        label = _label(s)
        out.append(f"[{minutes:02d}:{seconds:02d}] {label + ': ' if label else ''}{s.text.strip()}")
    return "\n".join(out) + ("\n" if out else "")
