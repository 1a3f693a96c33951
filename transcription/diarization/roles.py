"""Roles from words: which speaker is staff (operator or doctor), which the caller, who else.

Evidence per speaker, each with a weight:

* a staff cue (a service greeting such as "Legevakten, du snakker med ...", "legevaktsentralen",
  "AMK", "medisinsk nødtelefon", "hva kan jeg hjelpe deg med", 113 / 116 117): +3 each;
* advice ("du bør", "jeg anbefaler", "ring igjen", "ta med"): +1.5 each;
* a question (a question mark or a question word first): +1 each;
* a caller's phrase ("jeg ringer om", "sønnen min", "jeg har vondt"): -2 each;
* how the speaker talks to the other: staff address the caller ("har du", "kan du", "deg",
  "din"), a caller talks about themselves and their family ("jeg", "meg", "min"). Each segment
  with more second-person than first-person forms leans "du", one with more first-person forms
  leans "jeg"; the speaker gets ``6 * (du - jeg) / (du + jeg + 2)`` over their leaning segments,
  spread over those segments as evidence (at most +-6 a speaker, so long talk does not outweigh
  a greeting). Short function words survive a poor recognition better than service words, and
  counting segments rather than words keeps a recogniser's repetition loop ("at jeg er ... at
  jeg er ...") to one vote;
* speaking first in the call: +1.5, for an opening of at most 6 s (the first speaker's turn before
  anyone else speaks), falling to 0 at 12 s: a staff member answers with a short greeting, and a
  first turn much longer than that is most often a greeting run together with the caller's reply
  by the diarization, which says nothing about who answered.

A segment that is a recogniser's repetition loop (:func:`_looping`) gives no evidence at all.

The speaker with the highest score is staff: a doctor when a doctor cue ("legevaktlege",
"legevikar", "lege") is in their first segments or the service is a doctor's, else the operator.
The other speaker with the most words is the caller; any further speaker is ``other`` (a
conferenced party). Confidence grows with the margin between the best and second-best staff
score: 0.5 at a tie, 0.82 at 4 points, 0.97 at 12. :func:`staff_score` is the same scoring over
plain texts, for transcripts imported without words (``lydlogg.calltext``; no times, so speaking
first counts in full).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from norsk.vocabulary import DOCTOR_SERVICES, SPEAKER_ROLES
from transcription.diarization.types import Role, RoleEvidence, SpeakerRole
from transcription.types import Segment

__all__ = ["address_evidence", "apply_roles", "channel_roles", "infer_roles", "opening_weight", "staff_score"]

_STAFF = re.compile(
    r"legevakt\w*|lage ?vakt\w*|du snakker med|mitt navn er|sykepleier|hva kan jeg hjelpe|kva kan eg hjelpe|"
    r"hva gjelder det|medisinsk nødtelefon|\bamk\b|116 ?117|\b113\b",
    re.IGNORECASE,
)
_ADVICE = re.compile(
    r"jeg anbefaler|du bør|du må|ring(?:e|er)? (?:oss|igjen|113)|ta med|kom (?:inn|hit)|vi sender|"
    r"legg (?:ham|henne|han|ho)|ambulansen er på vei",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\?|^\s*(hva|hvordan|hvor|når|har|er|kan|kva|korleis|kor)\b", re.IGNORECASE)
_CALLER = re.compile(
    r"jeg ringer (?:om|for|fordi)|(?:sønnen|datteren|mannen|faren|moren|gutten|jenta) min|kona mi|"
    r"barnet mitt|jeg har (?:vondt|feber|skåret)|takk for hjelpen",
    re.IGNORECASE,
)
_DOCTOR = re.compile(r"\b(?:legevaktlege|legevikar|lege|doktor|fastlege)\b", re.IGNORECASE)
_WEIGHTS = (("staff", _STAFF, 3.0), ("advice", _ADVICE, 1.5), ("caller", _CALLER, -2.0))
_YOU = re.compile(r"\b(?:du|deg|din|ditt|dine)\b", re.IGNORECASE)
_SELF = re.compile(r"\b(?:jeg|eg|meg|min|mitt|mine)\b", re.IGNORECASE)
_ADDRESS = 6.0  # the most the address balance gives or takes
_ADDRESS_PRIOR = 2.0  # damps the balance of a speaker with few leaning segments
_FIRST = 1.5
_OPENING_S = 6.0  # an opening up to this long counts in full as the first speech; none from twice it
_LOOP_WORDS, _LOOP_DISTINCT = 8, 0.4  # a segment this long with fewer distinct words is a loop


def _evidence(index: int, text: str) -> list[RoleEvidence]:
    found = [
        RoleEvidence(index, f"{kind}: {m.group(0).lower()}", weight)
        for kind, pattern, weight in _WEIGHTS
        for m in pattern.finditer(text)
    ]
    if _QUESTION.search(text):
        found.append(RoleEvidence(index, "spørsmål", 1.0))
    return found


def _looping(text: str) -> bool:
    """True for a recogniser's repetition loop ("gøy gøy gøy ...", "at jeg er løpet at jeg er
    løpet ..."): at least 8 words, under 40 % of them distinct. Such a segment was not heard, so
    none of its words count as evidence (its words still count towards the speaker's share)."""
    tokens = text.lower().split()
    return len(tokens) >= _LOOP_WORDS and len(set(tokens)) < _LOOP_DISTINCT * len(tokens)


def _leaning(text: str) -> int:
    """+1 when ``text`` addresses the other (more "du" forms), -1 when it speaks of oneself, else 0."""
    you, me = len(_YOU.findall(text)), len(_SELF.findall(text))
    return (you > me) - (you < me)


def address_evidence(indexed_texts: Sequence[tuple[int, str]]) -> list[RoleEvidence]:
    """One speaker's address balance, as evidence on each of their segments that leans.

    ``indexed_texts``: the speaker's (segment index, text). The weights sum to
    ``_ADDRESS * (du - jeg) / (du + jeg + _ADDRESS_PRIOR)`` over the leaning segments."""
    leaning = [(i, v) for i, t in indexed_texts if (v := _leaning(t))]
    if not leaning:
        return []
    share = _ADDRESS / (len(leaning) + _ADDRESS_PRIOR)
    return [RoleEvidence(i, "tiltale: du" if v > 0 else "om seg selv: jeg", v * share) for i, v in leaning]


def opening_weight(duration_s: float) -> float:
    """The weight of speaking first for an opening turn of ``duration_s`` seconds."""
    return _FIRST * min(1.0, max(0.0, (2 * _OPENING_S - duration_s) / _OPENING_S))


def staff_score(texts: Sequence[str], first: bool) -> float:
    """How much ``texts`` (one speaker's utterances) sound like staff; ``first``: spoke first."""
    heard = [(i, t) for i, t in enumerate(texts) if not _looping(t)]
    cues = sum(e.weight for i, t in heard for e in _evidence(i, t))
    address = sum(e.weight for e in address_evidence(heard))
    return cues + address + (_FIRST if first else 0.0)


def _opening(segments: Sequence[Segment]) -> tuple[str, int, float] | None:
    """The first speaker, the index of their first segment and how long they speak before anyone
    else does (on a stereo call a channel's segment may run on past the other's reply)."""
    first: tuple[str, int, float] | None = None
    end = 0.0
    for i, seg in enumerate(segments):
        if seg.speaker is None:
            continue
        if first is None:
            first, end = (seg.speaker, i, seg.start), seg.end
        elif seg.speaker != first[0]:
            end = min(end, max(seg.start, first[2]))
            break
        else:
            end = max(end, seg.end)
    return None if first is None else (first[0], first[1], end - first[2])


def _confidence(margin: float) -> float:
    return round(1.0 - 0.5 * math.exp(-max(margin, 0.0) / 4.0), 3)


def infer_roles(segments: Sequence[Segment], service: str | None = None) -> tuple[SpeakerRole, ...]:
    """A role for every speaker of ``segments`` (segments without a speaker are ignored)."""
    evidence: dict[str, list[RoleEvidence]] = defaultdict(list)
    words: dict[str, int] = defaultdict(int)
    firsts: dict[str, list[int]] = defaultdict(list)
    texts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    opening = _opening(segments)
    if opening is None:
        return ()
    speaker, index, duration = opening
    if (weight := opening_weight(duration)) > 0:
        evidence[speaker].append(RoleEvidence(index, "snakker først", round(weight, 3)))
    for i, seg in enumerate(segments):
        if seg.speaker is None:
            continue
        words[seg.speaker] += len(seg.words) or len(seg.text.split())
        if len(firsts[seg.speaker]) < 2:
            firsts[seg.speaker].append(i)
        if not _looping(seg.text):
            evidence[seg.speaker].extend(_evidence(i, seg.text))
            texts[seg.speaker].append((i, seg.text))
    for s, said in texts.items():
        evidence[s].extend(address_evidence(said))
    score = {s: sum(e.weight for e in evidence[s]) for s in words}
    ranked = sorted(words, key=lambda s: (-score[s], s))
    staff = ranked[0]
    margin = score[staff] - score[ranked[1]] if len(ranked) > 1 else score[staff]
    confidence = _confidence(margin)
    doctor_cues = [
        RoleEvidence(i, f"lege: {m.group(0).lower()}", 0.0)
        for i in firsts[staff]
        for m in _DOCTOR.finditer(segments[i].text)
    ]
    staff_role: Role = "doctor" if doctor_cues or service in DOCTOR_SERVICES else "operator"
    if len(ranked) == 1:
        role: Role = staff_role if score[staff] > 0 else "caller"
        return (SpeakerRole(staff, role, 0.5, tuple(evidence[staff] + doctor_cues)),)
    roles = [SpeakerRole(staff, staff_role, confidence, tuple(evidence[staff] + doctor_cues))]
    rest = sorted(ranked[1:], key=lambda s: (-words[s], s))
    roles.append(SpeakerRole(rest[0], "caller", confidence, tuple(evidence[rest[0]])))
    roles.extend(SpeakerRole(s, "other", 0.5, tuple(evidence[s])) for s in rest[1:])
    return tuple(sorted(roles, key=lambda r: r.speaker))


def channel_roles(setting: str, channel_speakers: Sequence[tuple[int, str]]) -> tuple[SpeakerRole, ...]:
    """Roles fixed by the ``channel_roles`` setting (e.g. ``operator,caller``), confidence 1."""
    names = [r.strip() for r in setting.split(",")]
    if len(names) != 2 or not all(n in SPEAKER_ROLES for n in names):
        raise ValueError(f"channel_roles {setting!r}: expected 'auto' or two roles such as 'operator,caller'")
    return tuple(
        SpeakerRole(speaker, names[channel], 1.0, (), source="channel_setting")  # type: ignore[arg-type]
        for channel, speaker in channel_speakers
        if channel < 2
    )


def apply_roles(segments: Sequence[Segment], roles: Sequence[SpeakerRole]) -> tuple[Segment, ...]:
    """``segments`` with each speaker's role filled in."""
    by_speaker = {r.speaker: r.role for r in roles}
    return tuple(replace(s, role=by_speaker.get(s.speaker)) if s.speaker else s for s in segments)
