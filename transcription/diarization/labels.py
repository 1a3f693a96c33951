"""The labelling step after diarization: words to speakers, then speakers to roles (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from norsk.vocabulary import STAFF_ROLES
from transcription.diarization.assign import assign_segments
from transcription.diarization.roles import apply_roles, channel_roles, infer_roles
from transcription.diarization.settings import DiarizationSettings
from transcription.diarization.types import Diarization, SpeakerRole
from transcription.types import Segment

__all__ = ["Labelled", "label"]


@dataclass(frozen=True)
class Labelled:
    """Segments with speaker and role, every speaker's role, and the diarization behind them."""

    segments: tuple[Segment, ...]
    roles: tuple[SpeakerRole, ...]
    diarization: Diarization


def label(
    segments: Sequence[Segment],
    diarization: Diarization,
    settings: DiarizationSettings,
    service: str | None = None,
) -> Labelled:
    """Give each segment a speaker (splitting where it changes) and each speaker a role."""
    assigned = assign_segments(segments, diarization)
    if diarization.strategy == "channels" and settings.channel_roles != "auto":
        roles = channel_roles(settings.channel_roles, diarization.channel_speakers)
    else:
        roles = infer_roles(assigned, service)
    known = {r.speaker for r in roles}
    silent = [s for s in diarization.speakers if s not in known]
    if diarization.strategy == "channels" and len(roles) == 1 and len(silent) == 1:
        only = roles[0]
        other = "caller" if only.role in STAFF_ROLES else "operator"
        roles = (*roles, SpeakerRole(silent[0], other, only.confidence, ()))
    else:
        roles = (*roles, *(SpeakerRole(s, "other", 0.0, ()) for s in silent))
    roles = tuple(sorted(roles, key=lambda r: r.speaker))
    return Labelled(apply_roles(assigned, roles), roles, diarization)
