"""Transcript serialisation: the JSON exchange shape, WebVTT, SRT, RTTM and plain text.

The JSON shape is the contract read back by import and scoring commands::

    {"call_id": str, "language": str,
     "segments": [{"start": s, "end": s, "channel": int|null, "speaker": str|null,
                   "role": str|null, "text": str,
                   "words": [{"start": s, "end": s, "text": str, "probability": p}]}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from norsk.vocabulary import SPEAKER_ROLES
from transcription.diarization.types import SpeakerTurn
from transcription.types import Segment, Transcript, Word

__all__ = [
    "TRANSCRIPT_FORMATS",
    "TranscriptFormatError",
    "from_json",
    "render",
    "to_json",
    "to_rttm",
    "to_srt",
    "to_txt",
    "to_vtt",
    "turns_from_segments",
]

TRANSCRIPT_FORMATS = ("json", "vtt", "srt", "txt", "rttm")

ROLES = SPEAKER_ROLES


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


def _one_line(text: str) -> str:
    """Cue text on one line: a blank line would end the cue early."""
    return " ".join(text.split())


def _vtt_escape(text: str) -> str:
    """WebVTT cue text: ``&``, ``<`` and ``>`` as character references (so ``-->`` cannot appear)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(t: Transcript) -> str:
    """WebVTT with one cue per segment, the speaker as a voice tag when known; text escaped."""
    lines = ["WEBVTT", ""]
    for i, s in enumerate(t.segments, start=1):
        label = _label(s)
        text = _vtt_escape(_one_line(s.text))
        lines += [
            str(i),
            f"{_vtt_time(s.start)} --> {_vtt_time(s.end)}",
            f"<v {_vtt_escape(_one_line(label))}>{text}" if label else text,
            "",
        ]
    return "\n".join(lines)


def _srt_escape(text: str) -> str:
    """SRT has no escapes: players read ``<i>``-style tags and ``{\\an8}`` overrides, so the
    brackets become look-alike angle quotes and braces parentheses (so ``-->`` cannot appear)."""
    text = _one_line(text)
    return text.translate(str.maketrans({"<": "‹", ">": "›", "{": "(", "}": ")"}))


def to_srt(t: Transcript) -> str:
    """SubRip: numbered cues, ``hh:mm:ss,mmm`` times, the speaker as a ``label:`` prefix."""
    blocks = []
    for i, s in enumerate(t.segments, start=1):
        label = _label(s)
        text = _srt_escape(s.text)
        times = f"{_vtt_time(s.start).replace('.', ',')} --> {_vtt_time(s.end).replace('.', ',')}"
        blocks.append(f"{i}\n{times}\n{_srt_escape(label) + ': ' if label else ''}{text}\n")
    return "\n".join(blocks)


def turns_from_segments(t: Transcript) -> list[SpeakerTurn]:
    """Speaker turns read off the segments (speaker, else role, else channel), neighbours merged."""
    turns: list[SpeakerTurn] = []
    for s in sorted(t.segments, key=lambda s: s.start):
        who = s.speaker or s.role or (f"ch{s.channel}" if s.channel is not None else None)
        if who is None or s.end <= s.start:
            continue
        if turns and turns[-1].speaker == who and s.start <= turns[-1].end + 0.01:
            turns[-1] = SpeakerTurn(turns[-1].start, max(turns[-1].end, s.end), who)
        else:
            turns.append(SpeakerTurn(s.start, s.end, who))
    return turns


_RTTM_NAME = re.compile(r"\s+")


def to_rttm(file_id: str, turns: Sequence[SpeakerTurn]) -> str:
    """NIST RTTM, the diarization field's exchange format: one ``SPEAKER`` line per turn."""
    fid = _RTTM_NAME.sub("_", file_id)
    return "".join(
        f"SPEAKER {fid} 1 {turn.start:.3f} {turn.end - turn.start:.3f} <NA> <NA> "
        f"{_RTTM_NAME.sub('_', turn.speaker)} <NA> <NA>\n"
        for turn in sorted(turns, key=lambda turn: turn.start)
    )


def to_txt(t: Transcript) -> str:
    """One line per segment: ``[mm:ss] label: text``."""
    out = []
    for s in t.segments:
        minutes, seconds = divmod(int(s.start), 60)
        label = _label(s)
        out.append(f"[{minutes:02d}:{seconds:02d}] {label + ': ' if label else ''}{s.text.strip()}")
    return "\n".join(out) + ("\n" if out else "")


def render(t: Transcript, fmt: str, turns: Sequence[SpeakerTurn] | None = None) -> str:
    """``t`` as text in one of :data:`TRANSCRIPT_FORMATS`; RTTM uses ``turns`` when given."""
    import json

    if fmt == "json":
        return json.dumps(to_json(t), ensure_ascii=False, indent=2) + "\n"
    if fmt == "vtt":
        return to_vtt(t)
    if fmt == "srt":
        return to_srt(t)
    if fmt == "txt":
        return to_txt(t)
    if fmt == "rttm":
        return to_rttm(t.call_id, turns if turns else turns_from_segments(t))
    raise ValueError(f"format {fmt!r} is not one of {', '.join(TRANSCRIPT_FORMATS)}")
