"""Who may do what: the rules the service layer enforces (the UI only mirrors them).

Every action is checked here, by role, and on a call also by two rules:

- ownership: ``operator`` and ``lege`` may touch only calls whose ``operator_id`` is their own;
- unit: ``leder``, ``veileder``, ``operator`` and ``lege`` may touch only calls of one of their own
  units (``User.units``); a call without a unit belongs to nobody's unit. ``regional`` (regional
  quality) and ``admin`` are not bound to units; ``regional`` reads every unit's calls and figures
  but writes nothing, and ``admin`` sees no calls at all, as before.

:func:`check_call` decides for one call (an unknown call is refused like a forbidden one), and
:func:`call_scope` gives the same rules as a filter for every query that lists calls, so a list
never shows a call that would be refused when opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from lydlogg.auth import User

__all__ = [
    "ACTIONS",
    "ALL_UNITS_ROLES",
    "OWNER_SQL",
    "PERMISSIONS",
    "AccessDenied",
    "CallScope",
    "allowed",
    "call_scope",
    "check",
    "check_call",
    "sees_all_units",
]

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
    # regional quality: reads every unit's calls, figures and cases as a leader would, changes nothing
    "regional": frozenset(
        {"list_calls", "view_call", "play_audio", "export", "view_episodes", "view_dashboard", "read_cases"}
    ),
}
ALL_UNITS_ROLES = frozenset({"regional", "admin"})
"""Roles that are not bound to units (admin has no call actions, so this gives it no calls)."""

OWNER_SQL = "SELECT operator_id, unit FROM calls WHERE call_id = ?"
"""What the rules need to know about one call: its operator and its unit (no row: unknown call)."""


class AccessDenied(PermissionError):
    """Raised for any refused action; the message is the one the user sees."""

    def __init__(self) -> None:
        super().__init__("ingen tilgang")


def sees_all_units(user: User) -> bool:
    """Whether ``user`` is bound to no unit (regional quality, admin)."""
    return user.role in ALL_UNITS_ROLES


@dataclass(frozen=True)
class CallScope:
    """The calls a user may see at all: one operator's (or anyone's) within some units (or all).

    ``operator_id`` None: any operator's calls; ``units`` None: every unit's calls and those
    without a unit; ``units`` empty: no call at all.
    """

    operator_id: str | None = None
    units: tuple[str, ...] | None = None

    @property
    def everything(self) -> bool:
        return self.operator_id is None and self.units is None

    def admits(self, operator_id: str | None, unit: str | None) -> bool:
        """Whether a call of ``operator_id`` in ``unit`` is in scope."""
        if self.operator_id is not None and operator_id != self.operator_id:
            return False
        return self.units is None or (unit is not None and unit in self.units)

    def where(self, alias: str = "c") -> tuple[str, list[object]]:
        """A SQL condition on the calls table (as ``alias``) and its parameters, for ``?`` placeholders."""
        if not alias.isidentifier():
            raise ValueError(f"alias {alias!r} is not an SQL identifier")
        clauses: list[str] = []
        params: list[object] = []
        if self.operator_id is not None:
            clauses.append(f"{alias}.operator_id = ?")
            params.append(self.operator_id)
        if self.units is not None:
            if not self.units:
                return "false", []
            clauses.append(f"list_contains(?::VARCHAR[], {alias}.unit)")
            params.append(list(self.units))
        return " AND ".join(clauses) or "true", params


def call_scope(user: User | None) -> CallScope:
    """The calls ``user`` may see (None: the command line's service account, every call).

    Only the scope: whether the role may list calls at all is :func:`check`'s to say.
    """
    if user is None:
        return CallScope()
    own = (user.operator_id or "\x00no-operator-id") if user.own_calls_only else None
    return CallScope(own, None if sees_all_units(user) else tuple(user.units))


def allowed(
    user: User,
    action: str,
    call_operator_id: str | None = None,
    *,
    call_known: bool = False,
    call_unit: str | None = None,
) -> bool:
    """Whether ``user`` may do ``action`` (when ``call_known``: on a call of ``call_operator_id``
    in ``call_unit``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action not in PERMISSIONS.get(user.role, frozenset()):
        return False
    if call_known:
        return call_scope(user).admits(call_operator_id, call_unit)
    return True


def check(user: User, action: str, call_operator_id: str | None = None, *, call_known: bool = False,
          call_unit: str | None = None) -> None:  # fmt: skip
    if not allowed(user, action, call_operator_id, call_known=call_known, call_unit=call_unit):
        raise AccessDenied()


def check_call(user: User, action: str, owner: tuple[str | None, str | None] | None) -> None:
    """Refuse ``action`` on a call whose (operator_id, unit) is ``owner`` (the row of
    :data:`OWNER_SQL`; None: no such call, refused like a forbidden one)."""
    if owner is None:
        raise AccessDenied()
    check(user, action, owner[0], call_known=True, call_unit=owner[1])
