"""User administration for the admin page: list, add, change or pin a role, deactivate, reset
password, unlock, unlink or bind a single sign-on identity. Every change is checked against
``manage_users`` and written to the audit trail.

An account that logs in through single sign-on takes its role from the identity token's claims at
every log-in (:mod:`lydlogg.sso`); an admin who wants another role pins it (``change_role(...,
pin=True)``), and :meth:`UserAdminService.unpin_role` gives the role back to the claims.

Users are never deleted (the audit trail and reviews name them); deactivating one ends their
log-ins. Deactivating, changing the role and resetting the password end every live session of the
user at once (:func:`lydlogg.auth.revoke_sessions`). An admin cannot deactivate or demote themselves, so an installation keeps an admin.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from lydlogg.access import check
from lydlogg.audit import record
from lydlogg.auth import (
    ROLES,
    AuthError,
    User,
    create_user,
    hash_password,
    operator_id_free,
    revoke_sessions,
    shared_operator_ids,
)
from lydlogg.db import connect, transaction
from lydlogg.sso import role_pinned
from lydlogg.teams import assign_team, operator_teams
from lydlogg.units import DEFAULT_UNIT, known_units, set_user_units

__all__ = ["UserAdminService", "UserRow"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    role: str
    operator_id: str | None
    active: bool
    locked_until: datetime | None
    failed_logins: int
    team: str | None = None
    sso: bool = False  # bound to a single sign-on identity (issuer + subject)
    role_pinned: bool = False  # an admin pinned the role: the claims do not change it
    units: tuple[str, ...] = ()


class UserAdminService:
    def __init__(self, db_path: Path, user: User, *, production: bool = False) -> None:
        self.db_path = Path(db_path)
        self.user = user
        self.production = production

    def _audit(
        self, con: duckdb.DuckDBPyConnection, action: str, username: str, detail: str | None = None
    ) -> None:
        record(con, self.user.username, action, "user", username, detail)

    def _existing(self, con: duckdb.DuckDBPyConnection, username: str) -> tuple[str, bool]:
        row = con.execute("SELECT role, active FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise AuthError(f"ingen bruker {username!r}")
        return row

    def list(self, now: datetime | None = None) -> list[UserRow]:
        """Every user, active or not, with lock-out state."""
        check(self.user, "manage_users")
        now = now or datetime.now(UTC)
        with connect(self.db_path) as con:
            rows = con.execute(
                "SELECT u.username, u.display_name, u.role, u.operator_id, u.active,"
                " CASE WHEN l.locked_until > ? THEN l.locked_until END, coalesce(l.failed_logins, 0), t.team,"
                " s.username IS NOT NULL, p.username IS NOT NULL"
                " FROM users u LEFT JOIN login_state l USING (username)"
                " LEFT JOIN operator_teams t ON t.operator_id = u.operator_id"
                " LEFT JOIN sso_identities s ON s.username = u.username"
                " LEFT JOIN role_pins p ON p.username = u.username ORDER BY u.username",
                [now],
            ).fetchall()
            units = dict(
                con.execute(
                    "SELECT username, list(unit ORDER BY unit) FROM user_units GROUP BY username"
                ).fetchall()
            )
        return [UserRow(*r, units=tuple(units.get(r[0], ()))) for r in rows]

    def shared_operator_ids(self) -> dict[str, tuple[str, ...]]:
        """Operator ids that more than one active user holds (:func:`lydlogg.auth.shared_operator_ids`)."""
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            return shared_operator_ids(con)

    def login_methods(self) -> dict[str, str]:
        """Per username, how the account logs in: ``"sso"`` (no local password) or ``"local"``;
        never the hash."""
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            rows = con.execute(
                "SELECT username, password_hash IS NULL FROM users ORDER BY username"
            ).fetchall()
        return {name: "sso" if sso else "local" for name, sso in rows}

    def add(
        self,
        username: str,
        display_name: str,
        role: str,
        password: str,
        *,
        operator_id: str | None = None,
        units: Sequence[str] = (DEFAULT_UNIT,),
    ) -> User:
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            return create_user(
                con,
                username,
                display_name,
                role,
                password,
                operator_id=operator_id,
                production=self.production,
                by=self.user.username,
                units=units,
            )

    def known_units(self) -> tuple[str, ...]:
        """Every unit a call or a user names (what the unit choice offers)."""
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            return known_units(con)

    def set_units(self, username: str, units: Sequence[str]) -> bool:
        """Make ``units`` (at least one) the units of ``username``; whether anything changed.

        Audited with the old and the new units; the user's live sessions end, so that a session
        cannot keep seeing a unit the account has left.
        """
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            self._existing(con, username)
            with transaction(con):
                old, new = set_user_units(con, username, units, self.user.username)
                if old == new:
                    return False
                self._audit(con, "set_units", username, f"{', '.join(old) or '-'} -> {', '.join(new)}")
                revoke_sessions(con, username, "units changed", by=self.user.username)
        return True

    def change_role(
        self, username: str, role: str, *, operator_id: str | None = None, pin: bool = False
    ) -> None:
        """Give ``username`` another role (and operator id); ``pin``: the role stays even when the
        account logs in through single sign-on with claims that say otherwise."""
        check(self.user, "manage_users")
        if role not in ROLES:
            raise AuthError(f"rollen {role!r} finnes ikke; velg en av {', '.join(ROLES)}")
        if username == self.user.username:
            raise AuthError("du kan ikke endre din egen rolle")
        with connect(self.db_path) as con:
            old, _active = self._existing(con, username)
            current = con.execute("SELECT operator_id FROM users WHERE username = ?", [username]).fetchone()[
                0
            ]
            operator_id = operator_id or current
            if role in ("operator", "lege") and not operator_id:
                raise AuthError(f"rollen {role!r} krever operatør-id")
            operator_id_free(con, operator_id, username)
            with transaction(con):
                if (role, operator_id) != (old, current):
                    con.execute(
                        "UPDATE users SET role = ?, operator_id = ? WHERE username = ?",
                        [role, operator_id, username],
                    )
                    self._audit(con, "change_role", username, f"{old} -> {role}")
                    revoke_sessions(con, username, "role changed", by=self.user.username)
                if pin and not role_pinned(con, username):
                    con.execute(
                        "INSERT INTO role_pins (username, pinned_by) VALUES (?, ?)",
                        [username, self.user.username],
                    )
                    self._audit(con, "pin_role", username, f"role={role}")

    def unpin_role(self, username: str) -> None:
        """Let the identity token's claims set the role again from the account's next SSO log-in."""
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            self._existing(con, username)
            if not role_pinned(con, username):
                raise AuthError(f"rollen til {username!r} er ikke festet")
            with transaction(con):
                con.execute("DELETE FROM role_pins WHERE username = ?", [username])
                self._audit(con, "unpin_role", username)

    def unlink_sso(self, username: str) -> None:
        """Remove the account's single sign-on identity (the account stays, its sessions end).

        The account is then bound again at the next SSO log-in whose user-name claim names it, or
        to the identity an admin gives :meth:`bind_sso`."""
        check(self.user, "manage_users")
        if username == self.user.username:
            raise AuthError("du kan ikke fjerne din egen SSO-identitet")
        with connect(self.db_path) as con:
            self._existing(con, username)
            row = con.execute("SELECT issuer FROM sso_identities WHERE username = ?", [username]).fetchone()
            if row is None:
                raise AuthError(f"{username!r} er ikke knyttet til noen SSO-identitet")
            with transaction(con):
                con.execute("DELETE FROM sso_identities WHERE username = ?", [username])
                self._audit(con, "unlink_sso", username, f"issuer={row[0][:200]}")
                revoke_sessions(con, username, "SSO identity unlinked", by=self.user.username)

    def bind_sso(self, username: str, issuer: str, subject: str) -> None:
        """Bind the identity ``issuer`` + ``subject`` (the ID token's ``iss`` and ``sub``) to an
        account without a password that has no identity yet."""
        check(self.user, "manage_users")
        issuer, subject = issuer.strip(), subject.strip()
        if not issuer or not subject:
            raise AuthError("oppgi både utsteder (iss) og subjekt (sub) fra identitetstjenesten")
        with connect(self.db_path) as con:
            self._existing(con, username)
            local, bound = con.execute(
                "SELECT password_hash IS NOT NULL,"
                " EXISTS (SELECT 1 FROM sso_identities s WHERE s.username = users.username)"
                " FROM users WHERE username = ?",
                [username],
            ).fetchone()
            if local:
                raise AuthError(
                    f"{username!r} er en lokal konto med passord; SSO knyttes bare til kontoer uten passord"
                )
            if bound:
                raise AuthError(f"{username!r} er allerede knyttet til en SSO-identitet; fjern den først")
            other = con.execute(
                "SELECT username FROM sso_identities WHERE issuer = ? AND subject = ?", [issuer, subject]
            ).fetchone()
            if other is not None:
                raise AuthError("identiteten er allerede knyttet til en annen konto")
            with transaction(con):
                con.execute(
                    "INSERT INTO sso_identities (issuer, subject, username) VALUES (?, ?, ?)",
                    [issuer, subject, username],
                )
                self._audit(con, "link_sso", username, f"issuer={issuer[:200]}; by admin")

    def set_active(self, username: str, active: bool) -> None:
        """Deactivate (no more log-ins) or reactivate a user."""
        check(self.user, "manage_users")
        if username == self.user.username and not active:
            raise AuthError("du kan ikke deaktivere deg selv")
        with connect(self.db_path) as con:
            self._existing(con, username)
            if active:
                operator_id_free(
                    con,
                    con.execute("SELECT operator_id FROM users WHERE username = ?", [username]).fetchone()[0],
                    username,
                )
            with transaction(con):
                con.execute("UPDATE users SET active = ? WHERE username = ?", [active, username])
                self._audit(con, "activate_user" if active else "deactivate_user", username)
                if not active:
                    revoke_sessions(con, username, "user deactivated", by=self.user.username)

    def deactivate(self, username: str) -> None:
        self.set_active(username, False)

    def reset_password(self, username: str, password: str) -> None:
        """Set a new password (the admin hands it over; the user should change it) and unlock."""
        check(self.user, "manage_users")
        password_hash = hash_password(password, production=self.production)
        with connect(self.db_path) as con:
            self._existing(con, username)
            with transaction(con):
                con.execute(
                    "UPDATE users SET password_hash = ? WHERE username = ?", [password_hash, username]
                )
                con.execute("DELETE FROM login_state WHERE username = ?", [username])
                self._audit(con, "reset_password", username)
                revoke_sessions(con, username, "password reset", by=self.user.username)

    def teams(self) -> dict[str, str]:
        """Every operator's team, by operator id."""
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            return operator_teams(con)

    def set_teams(self, assignments: Sequence[tuple[str, str | None]]) -> int:
        """Put each operator id in its team (None: in none), all or nothing; the number changed.

        An operator id need not belong to a user account: call metadata names operators who may
        never log in. Each change is audited with the old and the new team.
        """
        check(self.user, "manage_users")
        changed = 0
        with connect(self.db_path) as con, transaction(con):
            for operator_id, team in assignments:
                old, new = assign_team(con, operator_id, team, self.user.username)
                if old != new:
                    record(con, self.user.username, "set_team", "operator", operator_id,
                           f"{old or '-'} -> {new or '-'}")  # fmt: skip
                    changed += 1
        log.info("team assignments changed: %d", changed)
        return changed

    def unlock(self, username: str) -> None:
        """Lift a lock-out and clear the failed log-in count."""
        check(self.user, "manage_users")
        with connect(self.db_path) as con:
            self._existing(con, username)
            with transaction(con):
                con.execute("DELETE FROM login_state WHERE username = ?", [username])
                self._audit(con, "unlock_user", username)
