"""One home for the fixed lists and their Norwegian labels: services, urgencies, user roles and
speaker roles.

The codes are what the database, files, exports and the CLI use; the labels are what a page or a
document shows. Services and speaker roles are also needed by the domain libraries, so their
codes live in :mod:`norsk.vocabulary` and are re-exported here; everything else starts here.
Import from this module, never spell a list out again.
"""

from __future__ import annotations

from typing import Literal, get_args

from norsk.vocabulary import (
    DOCTOR_SERVICES,
    SERVICES,
    SPEAKER_ROLES,
    STAFF_ROLES,
    Service,
    StaffRole,
)
from norsk.vocabulary import (
    Role as SpeakerRoleCode,
)

__all__ = [
    "AUDIT_ACTION_LABELS",
    "DOCTOR_SERVICES",
    "OWN_CALLS_ROLES",
    "SEARCH_ROLES",
    "SERVICES",
    "SERVICE_LABELS",
    "SERVICE_NAMES",
    "SPEAKER_ROLES",
    "SPEAKER_ROLE_LABELS",
    "STAFF_ROLES",
    "URGENCIES",
    "URGENCY_LABELS",
    "URGENCY_WORDS",
    "USER_ROLES",
    "USER_ROLE_LABELS",
    "Service",
    "SpeakerRoleCode",
    "StaffRole",
    "Urgency",
    "UserRole",
]

SERVICE_LABELS: dict[str, str] = {
    "lvs": "LVS",
    "amk": "AMK",
    "legevaktlege": "Legevaktlege",
    "fastlege": "Fastlege",
}
"""Short service names for tables and filters."""

SERVICE_NAMES: dict[str, str] = {**SERVICE_LABELS, "lvs": "Legevaktsentral"}
"""Full service names for printed documents (reports, episode summaries)."""

Urgency = Literal["red", "yellow", "green"]
URGENCIES: tuple[str, ...] = get_args(Urgency)
"""The triage colours of the Norwegian index for emergency medical help, as stored."""

URGENCY_LABELS: dict[str, str] = {"red": "rød", "yellow": "gul", "green": "grønn"}
URGENCY_WORDS: dict[str, str] = {**{u: u for u in URGENCIES}, **{v: k for k, v in URGENCY_LABELS.items()}}
"""Every accepted spelling in metadata files (lower case) -> the stored code."""

UserRole = Literal["admin", "leder", "veileder", "operator", "lege", "regional"]
USER_ROLES: tuple[str, ...] = get_args(UserRole)
"""Roles of app users: administrator, leader, supervisor/trainer, operator (LVS nurse), doctor,
and regional quality (reads every unit's calls and figures, changes nothing)."""

USER_ROLE_LABELS: dict[str, str] = {
    "admin": "Administrator",
    "leder": "Leder",
    "veileder": "Veileder",
    "operator": "Operatør",
    "lege": "Lege",
    "regional": "Regional kvalitet",
}
OWN_CALLS_ROLES: tuple[str, ...] = ("operator", "lege")
"""User roles that see only their own calls and so need an operator id."""

SPEAKER_ROLE_LABELS: dict[str, str] = {
    "operator": "Operatør",
    "doctor": "Lege",
    "caller": "Innringer",
    "other": "Annen",
}

AUDIT_ACTION_LABELS: dict[str, str] = {
    "activate_user": "aktiverte bruker",
    "agreed_interpretation": "registrerte felles tolkning",
    "apply_retention": "slettet etter lagringsregler",
    "audit_verify": "kontrollerte revisjonsloggen",
    "backup": "tok sikkerhetskopi",
    "case_draft": "lagret kasusutkast",
    "cli_episode_summary": "skrev episodeoppsummering (kommandolinje)",
    "cli_list_calls": "listet samtaler (kommandolinje)",
    "cli_monthly_report": "skrev månedsrapport (kommandolinje)",
    "cli_recontacts": "listet rekontakter (kommandolinje)",
    "change_role": "endret rolle",
    "close_round": "avsluttet kalibreringsrunde",
    "correct_contact_reason": "rettet kontaktårsak",
    "correct_transcript": "rettet transkripsjon",
    "create_round": "opprettet kalibreringsrunde",
    "create_user": "opprettet bruker",
    "create_user_sso": "opprettet bruker (SSO)",
    "deactivate_user": "deaktiverte bruker",
    "download": "lastet ned",
    "export": "eksporterte",
    "export_audit": "lastet ned revisjonslogg",
    "export_case": "eksporterte kasus",
    "feedback_note": "skrev møtenotat",
    "import_case": "importerte kasus",
    "link_sso": "knyttet konto til SSO-identitet",
    "login": "logget inn",
    "mark_identifiers": "merket rettet segment fritt for identifikatorer eller ikke",
    "pin_role": "festet rolle",
    "login_failed": "mislykket innlogging",
    "login_sso": "logget inn (SSO)",
    "login_sso_refused": "avvist innlogging (SSO)",
    "login_throttled": "innlogging sperret (for mange forsøk)",
    "logout": "logget ut",
    "migrate_database": "oppgraderte databasen",
    "plan_retention": "planla sletting etter lagringsregler",
    "play_audio": "spilte av lyd",
    "publish_case": "publiserte kasus",
    "read_case": "leste kasus",
    "reset_password": "satte nytt passord",
    "restore": "gjenopprettet sikkerhetskopi",
    "revoke_sessions": "avsluttet økter",
    "role_from_claims": "fikk rolle fra identitetstjenesten",
    "sampling_plan": "laget utvalgsplan",
    "save_review": "lagret vurdering",
    "save_round_review": "lagret kalibreringsvurdering",
    "search": "søkte",
    "session_expired": "økten utløp",
    "session_resume": "fortsatte økt",
    "session_start": "startet økt",
    "set_team": "satte lag",
    "set_units": "endret enheter",
    "units_from_claims": "fikk enheter fra identitetstjenesten",
    "unlock_user": "låste opp bruker",
    "unlink_sso": "fjernet SSO-kobling",
    "unpin_role": "løsnet festet rolle",
    "view_audit": "så revisjonsloggen",
    "view_call": "åpnet samtale",
    "view_dashboard": "så oversikten",
    "view_episode": "så episode",
    "view_round_scores": "så kalibreringsresultater",
    "view_transcript": "leste transkripsjon",
}
"""Norwegian labels for the audit trail's action codes, for the pages; the trail and its exports
keep the codes. An unknown code is shown as it is."""

SEARCH_ROLES: dict[str, tuple[str, ...]] = {
    "operator": ("operator",),
    "doctor": ("doctor",),
    "caller": ("caller",),
    "staff": STAFF_ROLES,
}
"""Whose words a transcript search looks in: one speaker role, or ``staff`` for both staff roles."""
