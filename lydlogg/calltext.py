"""From a transcript to the :class:`~rubrics.types.CallText` scorers read, settling who is staff.

The seam between two domain libraries (transcription and rubrics), so it lives in the core.

Roles come from the speakers stage when present. Without them: on a stereo call the channel
whose words look most like the operator's (a service greeting, most questions, advice) is staff;
on a mono call with speaker labels the same test picks a speaker; with neither, every segment is
read as staff and the result says so.
"""

from __future__ import annotations

from collections import defaultdict

from rubrics.types import CallText, Utterance
from transcription.diarization.roles import staff_score
from transcription.quality import segment_quality
from transcription.types import Transcript

__all__ = ["build_call_text"]


def build_call_text(transcript: Transcript, service: str | None = None) -> CallText:
    segments = transcript.segments
    if any(s.role for s in segments):
        utterances = tuple(
            Utterance(i, s.start, s.end, s.text, s.role, s.speaker, s.channel, segment_quality(s))
            for i, s in enumerate(segments)
        )
        return CallText(transcript.call_id, utterances, service)

    key = "channel" if any(s.channel is not None for s in segments) else "speaker"
    groups: dict[object, list[str]] = defaultdict(list)
    for s in segments:
        groups[getattr(s, key)].append(s.text)
    usable = {k: v for k, v in groups.items() if k is not None}
    if len(usable) >= 2:
        first_key = next(getattr(s, key) for s in segments if getattr(s, key) is not None)
        staff_key = max(usable, key=lambda k: staff_score(usable[k], k == first_key))
        utterances = tuple(
            Utterance(i, s.start, s.end, s.text, "operator" if getattr(s, key) == staff_key else "caller",
                      s.speaker, s.channel, segment_quality(s))
            for i, s in enumerate(segments)
        )  # fmt: skip
        note = f"roller gjettet: {key} {staff_key} er operatør"
        return CallText(transcript.call_id, utterances, service, roles_inferred=True, notes=(note,))
    utterances = tuple(
        Utterance(i, s.start, s.end, s.text, "operator", s.speaker, s.channel, segment_quality(s))
        for i, s in enumerate(segments)
    )
    return CallText(transcript.call_id, utterances, service, roles_inferred=True,
                    notes=("roller ukjent: hele samtalen lest som operatørens",))  # fmt: skip
