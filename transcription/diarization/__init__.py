"""Who spoke when, and in which role.

The stage, in order: :func:`diarize` (decoded audio -> speaker turns, by the strategy the
:class:`DiarizationSettings` ask for: one party per channel, pyannote, or the built-in method),
then :func:`label` (pure: words to speakers by time overlap, segments split where the speaker
changes, and a role with confidence and evidence for every speaker).

Importing the package stays light (no scikit-learn or audio libraries) until :func:`diarize` is
used, so text-only code such as ``lydlogg.calltext`` can use the role scoring.
"""

from typing import Any

from transcription.diarization.assign import assign_segments, speaker_for
from transcription.diarization.labels import Labelled, label
from transcription.diarization.roles import apply_roles, channel_roles, infer_roles, staff_score
from transcription.diarization.settings import DiarizationSettings
from transcription.diarization.types import (
    Diarization,
    Role,
    RoleEvidence,
    SpeakerRole,
    SpeakerTurn,
    Strategy,
)

__all__ = [
    "Diarization",
    "DiarizationError",
    "DiarizationSettings",
    "Labelled",
    "Role",
    "RoleEvidence",
    "SpeakerRole",
    "SpeakerTurn",
    "Strategy",
    "apply_roles",
    "assign_segments",
    "channel_roles",
    "diarize",
    "infer_roles",
    "label",
    "speaker_for",
    "staff_score",
]


def __getattr__(name: str) -> Any:
    if name in ("diarize", "DiarizationError"):
        from transcription.diarization import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
