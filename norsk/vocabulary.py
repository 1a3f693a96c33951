"""The fixed lists every layer agrees on: services and speaker roles.

These are codes, stored in the database and written in files, never shown to a user as they are
(the Norwegian labels live in :mod:`lydlogg.vocabulary`). They sit in the bottom layer because the
domain libraries need them too: a rubric names the services it applies to, role labelling makes
the staff speaker a doctor on a doctor's line, and a transcript file names each segment's role.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["DOCTOR_SERVICES", "SERVICES", "SPEAKER_ROLES", "STAFF_ROLES", "Service", "Role", "StaffRole"]

Service = Literal["lvs", "amk", "legevaktlege", "fastlege"]
SERVICES: tuple[str, ...] = get_args(Service)
"""Legevaktsentral (LVS nurses), AMK (medical emergency dispatch), the on-call doctor, the GP."""

DOCTOR_SERVICES: tuple[str, ...] = ("legevaktlege", "fastlege")
"""Services on which the staff speaker is a doctor."""

Role = Literal["operator", "doctor", "caller", "other"]
SPEAKER_ROLES: tuple[str, ...] = get_args(Role)
"""Who a speaker in a call is."""

StaffRole = Literal["operator", "doctor"]
STAFF_ROLES: tuple[str, ...] = get_args(StaffRole)
"""The speaker roles that are staff: their words are the ones a rubric scores."""
