"""Local user accounts: argon2id password hashes, roles, and the demo accounts.

Roles: ``admin`` (users and settings), ``leder`` (leader: everything about calls and reviews),
``veileder`` (supervisor/trainer), ``operator`` and ``lege`` (see and self-review only their own
calls, matched on ``operator_id``). What each role may do is decided in :mod:`review.access`.

After ``max_failed_logins`` wrong passwords in a row an account is locked for ``lock_minutes``;
the message a refused user sees is the same whether the name is unknown, the password wrong or
the account locked, so it tells an attacker nothing. Every attempt, lock and unlock is audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field

from lydlogg.audit import record
from lydlogg.db import transaction

__all__ = [
    "DEMO_USERS",
    "ROLES",
    "REFUSED",
    "UNKNOWN_USER",
    "AuthError",
    "LoginSettings",
    "User",
    "authenticate",
    "check_password",
    "create_user",
    "get_user",
    "hash_password",
    "list_users",
    "locked_until",
    "revoke_sessions",
    "session_expired",
]

log = logging.getLogger(__name__)

ROLES = ("admin", "leder", "veileder", "operator", "lege")
_hasher = PasswordHasher()

# (username, display name, role, operator_id, password): for `make demo` only.
DEMO_USERS = (
    ("admin", "Admin Demo", "admin", None, "demo-admin"),
    ("leder", "Liv Leder", "leder", None, "demo-leder"),
    ("veileder", "Vera Veileder", "veileder", None, "demo-veileder"),
    ("anne", "Anne (operatør)", "operator", "op-anne", "demo-anne-1"),
    ("lise", "Lise (operatør)", "operator", "op-lise", "demo-lise-1"),
)
_DEMO_PASSWORDS = frozenset(u[4] for u in DEMO_USERS)


REFUSED = "feil brukernavn eller passord"  # the one message for every refused log-in
UNKNOWN_USER = "(ukjent)"  # what the audit trail names a failed log-in by a name no account has


class AuthError(ValueError):
    """A user that cannot be created, or a refused log-in; the message is safe to show."""


class LoginSettings(BaseModel):
    """Log-in lock-out after repeated wrong passwords."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_failed_logins: int = Field(
        5, ge=1, le=100, description="Wrong passwords in a row that lock an account."
    )
    lock_minutes: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="How long a locked account stays locked (an admin can unlock it sooner).",
    )


def session_expired(last_activity: datetime, now: datetime, timeout_minutes: int = 15) -> bool:
    """Whether a session last active at ``last_activity`` has timed out at ``now``."""
    return now - last_activity >= timedelta(minutes=timeout_minutes)


def check_password(password: str, *, production: bool = False) -> None:
    """Raise :class:`AuthError` for a password that may not be set."""
    if len(password) < 10:
        raise AuthError("the password must have at least 10 characters")
    if production and password in _DEMO_PASSWORDS:
        raise AuthError("demo passwords are refused when LYDLOGG_ENV=production")


def hash_password(password: str, *, production: bool = False) -> str:
    """The argon2id hash of an acceptable password."""
    check_password(password, production=production)
    return _hasher.hash(password)


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    operator_id: str | None = None

    @property
    def own_calls_only(self) -> bool:
        return self.role in ("operator", "lege")


def create_user(
    con: duckdb.DuckDBPyConnection,
    username: str,
    display_name: str,
    role: str,
    password: str,
    *,
    operator_id: str | None = None,
    production: bool = False,
    by: str = "system",
) -> User:
    if role not in ROLES:
        raise AuthError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role in ("operator", "lege") and not operator_id:
        raise AuthError(f"a user with role {role!r} needs an operator_id (their id in the call metadata)")
    password_hash = hash_password(password, production=production)
    if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise AuthError(f"user {username!r} exists already")
    with transaction(con):
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash) VALUES (?, ?, ?, ?, ?)",
            [username, display_name, role, operator_id, password_hash],
        )
        record(con, by, "create_user", "user", username, f"role={role}")
    return User(username, display_name, role, operator_id)


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = con.execute(
        "SELECT username, display_name, role, operator_id FROM users WHERE username = ? AND active",
        [username],
    ).fetchone()
    return User(*row) if row else None


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    rows = con.execute(
        "SELECT username, display_name, role, operator_id FROM users ORDER BY username"
    ).fetchall()
    return [User(*r) for r in rows]


_dummy_hash: list[str] = []


def _verify(password_hash: str | None, password: str) -> bool:
    """Check a password; an unknown user costs the same time as a known one."""
    known = bool(password_hash)
    if not known:
        if not _dummy_hash:
            _dummy_hash.append(_hasher.hash("lydlogg-timing-equaliser"))
        password_hash = _dummy_hash[0]
    try:
        return _hasher.verify(password_hash, password) and known
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def locked_until(
    con: duckdb.DuckDBPyConnection, username: str, now: datetime | None = None
) -> datetime | None:
    """Until when ``username`` is locked out, or None when the account is open."""
    now = now or datetime.now(UTC)
    row = con.execute(
        "SELECT locked_until FROM login_state WHERE username = ? AND locked_until > ?", [username, now]
    ).fetchone()
    return row[0] if row else None


def revoke_sessions(con: duckdb.DuckDBPyConnection, username: str, reason: str, *, by: str = "system") -> int:
    """End every log-in session of ``username`` (every tab, every browser); audited with ``reason``.

    Called when a user is deactivated, changes role, gets a new password or is locked out, so a
    live session cannot keep rights the account no longer has. Returns the number ended.
    """
    ended = con.execute(
        "DELETE FROM login_sessions WHERE username = ? RETURNING token_sha256", [username]
    ).fetchall()
    record(con, by, "revoke_sessions", "user", username, f"{reason}; {len(ended)} session(s)")
    return len(ended)


def _audit_login(
    con: duckdb.DuckDBPyConnection, username: str, action: str, detail: str | None = None
) -> None:
    record(con, username[:64], action, "user", username[:64], detail)


def authenticate(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    production: bool = False,
    settings: LoginSettings | None = None,
    now: datetime | None = None,
    source: str = "local",
) -> User:
    """The user, when the password matches and the account is not locked.

    Every outcome is audited (never the password): ``login``, ``login_failed``, ``login_locked``
    (an attempt on a locked account, not even checked) and ``account_locked``.
    """
    settings = settings or LoginSettings()
    now = now or datetime.now(UTC)
    row = con.execute(
        "SELECT username, display_name, role, operator_id, password_hash FROM users WHERE username = ? AND active",
        [username],
    ).fetchone()
    if row and locked_until(con, row[0], now):
        _audit_login(con, username, "login_locked")
        raise AuthError(REFUSED)
    ok = _verify(row[4] if row else None, password)
    refused_demo = ok and production and password in _DEMO_PASSWORDS
    with transaction(con):
        if ok and not refused_demo:
            _audit_login(con, username, "login")
            con.execute("DELETE FROM login_state WHERE username = ?", [username])
        else:
            # A name that belongs to no account may be a password typed into the wrong field:
            # it is never stored.
            known = con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone()
            if known:
                _audit_login(con, username, "login_failed")
            else:
                record(con, UNKNOWN_USER, "login_failed", "user", None, "unknown user name")
            if row and not refused_demo:
                _count_failure(con, row[0], settings, now)
    if refused_demo:
        raise AuthError("demo-passord er ikke tillatt i produksjon")
    if not ok:
        raise AuthError(REFUSED)
    return User(*row[:4])


def _count_failure(
    con: duckdb.DuckDBPyConnection, username: str, settings: LoginSettings, now: datetime
) -> None:
    failed = con.execute(
        "INSERT INTO login_state (username, failed_logins, updated_at) VALUES (?, 1, ?)"
        " ON CONFLICT (username) DO UPDATE SET failed_logins = login_state.failed_logins + 1,"
        " updated_at = excluded.updated_at RETURNING failed_logins",
        [username, now],
    ).fetchone()[0]
    if failed >= settings.max_failed_logins:
        until = now + timedelta(minutes=settings.lock_minutes)
        con.execute(
            "UPDATE login_state SET failed_logins = 0, locked_until = ? WHERE username = ?", [until, username]
        )
        _audit_login(
            con, username, "account_locked", f"{failed} failed log-ins; locked {settings.lock_minutes} min"
        )
        revoke_sessions(con, username, "account locked")
        log.warning("an account was locked after %d failed log-ins", failed)
