"""Local user accounts: argon2id password hashes, roles, and the demo accounts.

Roles: ``admin`` (users and settings), ``leder`` (leader: everything about calls and reviews),
``veileder`` (supervisor/trainer), ``operator`` and ``lege`` (see and self-review only their own
calls, matched on ``operator_id``). What each role may do is decided in :mod:`review.access`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lydlogg.db import transaction

__all__ = [
    "DEMO_USERS",
    "ROLES",
    "AuthError",
    "User",
    "authenticate",
    "create_user",
    "get_user",
    "list_users",
]

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


class AuthError(ValueError):
    """A user that cannot be created, or a refused log-in; the message is safe to show."""


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
    if len(password) < 10:
        raise AuthError("the password must have at least 10 characters")
    if production and password in _DEMO_PASSWORDS:
        raise AuthError("demo passwords are refused when LYDLOGG_ENV=production")
    if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise AuthError(f"user {username!r} exists already")
    with transaction(con):
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash) VALUES (?, ?, ?, ?, ?)",
            [username, display_name, role, operator_id, _hasher.hash(password)],
        )
        con.execute(
            "INSERT INTO audit (username, action, object_type, object_id, detail) VALUES (?, 'create_user', 'user', ?, ?)",
            [by, username, f"role={role}"],
        )
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


def authenticate(
    con: duckdb.DuckDBPyConnection, username: str, password: str, *, production: bool = False
) -> User:
    """The user, when the password matches; every outcome is audited (never the password)."""
    row = con.execute(
        "SELECT username, display_name, role, operator_id, password_hash FROM users WHERE username = ? AND active",
        [username],
    ).fetchone()
    ok = False
    if row and row[4]:
        try:
            ok = _hasher.verify(row[4], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    refused_demo = ok and production and password in _DEMO_PASSWORDS
    action = "login" if ok and not refused_demo else "login_failed"
    con.execute("INSERT INTO audit (username, action) VALUES (?, ?)", [username[:64], action])
    if refused_demo:
        raise AuthError("demo-passord er ikke tillatt i produksjon")
    if not ok:
        raise AuthError("feil brukernavn eller passord")
    return User(*row[:4])
