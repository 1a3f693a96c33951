"""Who may do what: the rules the service layer enforces (the UI only mirrors them).

Every action is checked here, by role, and for ``operator`` and ``lege`` also by ownership:
they may touch only calls whose ``operator_id`` is their own.
"""

from __future__ import annotations

from lydlogg.auth import User

__all__ = ["ACTIONS", "PERMISSIONS", "AccessDenied", "allowed", "check"]

ACTIONS = (
    "list_calls",
    "view_call",
    "play_audio",
    "export",
    "peer_review",
    "self_review",
    "correct_transcript",
    "manage_users",
    "view_audit",
    "view_episodes",
    "plan_sampling",
    "calibrate",  # take part in a calibration round (blind scoring)
    "manage_calibration",  # create rounds, see everyone's scores, record agreed interpretations
    "run_feedback",  # lead a feedback session (tilbakemeldingsmøte) and save its notes
    "view_dashboard",  # leader's overview; operators and doctors see only their own figures
    "publish_case",  # anonymise a reviewed call and publish it to the case library
    "read_cases",  # read published, anonymised cases (the roles that take part in training)
    "export_case",  # export or import a case package
    "manage_retention",  # apply retention rules, back up and restore
)

_ALL_CALL_WORK = {
    "list_calls",
    "view_call",
    "play_audio",
    "export",
    "peer_review",
    "correct_transcript",
    "view_episodes",
}
_TRAINING = {"calibrate", "manage_calibration", "run_feedback", "publish_case", "export_case"}
_OWN_WORK = {"list_calls", "view_call", "play_audio", "self_review", "view_dashboard"}
# The case library is training material: the roles that take part in training read it, those who
# train others (leder, veileder: publish, export, import) and those trained with it (operator,
# lege). Administering accounts, the audit trail and retention is no part of training, so admin
# does not read cases (docs/security.md, "Case library").
_TRAINED = {"read_cases"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"manage_users", "view_audit", "manage_retention"}),
    "leder": frozenset(
        _ALL_CALL_WORK | _TRAINING | {"view_audit", "plan_sampling", "view_dashboard", "read_cases"}
    ),
    "veileder": frozenset(_ALL_CALL_WORK | _TRAINING | {"view_dashboard", "read_cases"}),
    "operator": frozenset(_OWN_WORK | _TRAINED),
    "lege": frozenset(_OWN_WORK | _TRAINED),
}


class AccessDenied(PermissionError):
    """Raised for any refused action; the message is the one the user sees."""

    def __init__(self) -> None:
        super().__init__("ingen tilgang")


def allowed(
    user: User, action: str, call_operator_id: str | None = None, *, call_known: bool = False
) -> bool:
    """Whether ``user`` may do ``action`` (on a call owned by ``call_operator_id`` when ``call_known``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action not in PERMISSIONS.get(user.role, frozenset()):
        return False
    if call_known and user.own_calls_only:
        return call_operator_id is not None and call_operator_id == user.operator_id
    return True


def check(user: User, action: str, call_operator_id: str | None = None, *, call_known: bool = False) -> None:
    if not allowed(user, action, call_operator_id, call_known=call_known):
        raise AccessDenied()
