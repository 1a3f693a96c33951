"""Local user accounts: argon2id password hashes, roles, and the demo accounts.

Roles: ``admin`` (users and settings), ``leder`` (leader: everything about calls and reviews),
``veileder`` (supervisor/trainer), ``operator`` and ``lege`` (see and self-review only their own
calls, matched on ``operator_id``), ``regional`` (regional quality: reads every unit's calls and
figures). Each user belongs to one or more units (``User.units``, from ``user_units``). What each
role may do, and in which units, is decided in :mod:`lydlogg.access`.

Guessing is slowed per *source* (the client's address, or the OS account on the command line),
not by locking accounts: after ``free_attempts`` failed log-ins from one source, each further
attempt from it must wait twice as long as the one before (up to ``backoff_max_seconds``), for
every user name alike, so spraying one password across many accounts is slowed as much as
guessing one. Nobody can keep another user (``admin``) locked out. Every path costs one argon2
verification (unknown name, wrong password, waiting source, demo password in production), and
every refusal shows the same message, so neither timing nor words tell an attacker anything.
Every attempt is audited; a name no account has is not stored (it may be a password).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field

from lydlogg.audit import record
from lydlogg.db import transaction
from lydlogg.units import DEFAULT_UNIT, check_units, set_user_units, user_units
from lydlogg.vocabulary import USER_ROLES

__all__ = [
    "DEMO_UNITS",
    "DEMO_USERS",
    "ROLES",
    "REFUSED",
    "TooManyAttempts",
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
    "too_many_attempts_message",
    "operator_id_free",
    "backoff_wait",
    "demo_accounts",
    "revoke_sessions",
    "session_expired",
    "with_units",
]

log = logging.getLogger(__name__)

ROLES = USER_ROLES
_hasher = PasswordHasher()

# (username, display name, role, operator_id, password): for `make demo` only.
DEMO_USERS = (
    ("admin", "Admin Demo", "admin", None, "demo-admin"),
    ("leder", "Liv Leder", "leder", None, "demo-leder"),
    ("veileder", "Vera Veileder", "veileder", None, "demo-veileder"),
    ("anne", "Anne (operatør)", "operator", "op-anne", "demo-anne-1"),
    ("lise", "Lise (operatør)", "operator", "op-lise", "demo-lise-1"),
    ("region", "Rita Regional", "regional", None, "demo-region"),
)
_DEMO_PASSWORDS = frozenset(u[4] for u in DEMO_USERS)
DEMO_UNITS_ALL = ("Nordby legevakt", "Sørvik legevakt")  # the two units of the sample calls
DEMO_UNITS: dict[str, tuple[str, ...]] = {
    **{u[0]: DEMO_UNITS_ALL for u in DEMO_USERS},
    "anne": ("Nordby legevakt",),
    "lise": ("Sørvik legevakt",),
}
"""Each demo account's units: the operators one each, everyone else both."""


REFUSED = "feil brukernavn eller passord"  # the one message for every refused log-in
UNKNOWN_USER = "(ukjent)"  # what the audit trail names a failed log-in by a name no account has


class AuthError(ValueError):
    """A user that cannot be created, or a refused log-in; the message is safe to show."""


class TooManyAttempts(AuthError):
    """A log-in refused because its source has failed too often; ``retry_after_s`` until the next try.

    Raised for every refusal from that source once it has used its free attempts, whatever the
    user name and password, so that it tells nothing about whether the account exists.
    """

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = max(1.0, float(retry_after_s))
        super().__init__(too_many_attempts_message(self.retry_after_s))


def too_many_attempts_message(seconds: float) -> str:
    """The refusal shown once a browser has used its free attempts (pure; bokmål)."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        wait = f"{whole} sekund" if whole == 1 else f"{whole} sekunder"
    else:
        minutes = math.ceil(whole / 60)
        wait = f"{minutes} minutt" if minutes == 1 else f"{minutes} minutter"
    return f"For mange mislykkede innlogginger fra denne nettleseren. Vent {wait} før du prøver igjen."


class LoginSettings(BaseModel):
    """Back-off after failed log-ins, per source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    free_attempts: int = Field(
        5, ge=1, le=100, description="Failed log-ins from one source (address) before it must wait."
    )
    backoff_seconds: float = Field(
        2, gt=0, le=600, description="First wait after the free attempts; each further failure doubles it."
    )
    backoff_max_seconds: float = Field(
        300, gt=0, le=24 * 3600, description="Longest wait between two attempts from one source."
    )
    forget_minutes: float = Field(
        60, gt=0, le=7 * 24 * 60, description="A source with no failed log-in for this long starts afresh."
    )


def session_expired(last_activity: datetime, now: datetime, timeout_minutes: float = 15) -> bool:
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
    units: tuple[str, ...] = ()  # the units (legevakt, site) whose calls the user may see

    @property
    def own_calls_only(self) -> bool:
        return self.role in ("operator", "lege")


def with_units(con: duckdb.DuckDBPyConnection, user: User) -> User:
    """``user`` with the units the database gives them (``user_units``)."""
    return dataclasses.replace(user, units=user_units(con, user.username))


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
    units: Sequence[str] = (DEFAULT_UNIT,),
) -> User:
    """A new active account in ``units`` (at least one; ignored by the roles that see every unit)."""
    if role not in ROLES:
        raise AuthError(f"role {role!r} is not one of {', '.join(ROLES)}")
    units = check_units(units)  # ValueError before anything is written
    if role in ("operator", "lege") and not operator_id:
        raise AuthError(f"a user with role {role!r} needs an operator_id (their id in the call metadata)")
    password_hash = hash_password(password, production=production)
    if con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise AuthError(f"user {username!r} exists already")
    operator_id_free(con, operator_id, username)
    with transaction(con):
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash) VALUES (?, ?, ?, ?, ?)",
            [username, display_name, role, operator_id, password_hash],
        )
        record(con, by, "create_user", "user", username, f"role={role}")
        _old, new = set_user_units(con, username, units, by)
        record(con, by, "set_units", "user", username, f"- -> {', '.join(new)}")
    return User(username, display_name, role, operator_id, new)


def operator_id_free(con: duckdb.DuckDBPyConnection, operator_id: str | None, username: str) -> None:
    """Raise :class:`AuthError` when another active user has ``operator_id``: two accounts with
    one id would each see the other's calls and reviews."""
    if (
        operator_id
        and con.execute(
            "SELECT 1 FROM users WHERE operator_id = ? AND active AND username <> ?", [operator_id, username]
        ).fetchone()
    ):
        raise AuthError(f"operatør-id {operator_id!r} tilhører en annen aktiv bruker")


def shared_operator_ids(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    """Operator ids held by more than one active user, with those users (sorted). Every way of
    adding or changing a user refuses this (:func:`operator_id_free`), but a database from before
    that rule, or rows written by hand, may have it: each such user sees the others' calls."""
    rows = con.execute(
        "SELECT operator_id, list(username ORDER BY username) FROM users"
        " WHERE active AND operator_id IS NOT NULL GROUP BY operator_id HAVING count(*) > 1 ORDER BY operator_id"
    ).fetchall()
    return {op: tuple(names) for op, names in rows}


def get_user(con: duckdb.DuckDBPyConnection, username: str) -> User | None:
    row = con.execute(
        "SELECT username, display_name, role, operator_id FROM users WHERE username = ? AND active",
        [username],
    ).fetchone()
    return with_units(con, User(*row)) if row else None


def list_users(con: duckdb.DuckDBPyConnection) -> list[User]:
    rows = con.execute(
        "SELECT username, display_name, role, operator_id FROM users ORDER BY username"
    ).fetchall()
    return [with_units(con, User(*r)) for r in rows]


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


def backoff_wait(failures: int, settings: LoginSettings) -> float:
    """Seconds a source with ``failures`` recent failed log-ins must wait before the next (pure)."""
    if failures < settings.free_attempts:
        return 0.0
    return min(
        settings.backoff_seconds * 2 ** (failures - settings.free_attempts), settings.backoff_max_seconds
    )


def _source_failures(
    con: duckdb.DuckDBPyConnection, source: str, settings: LoginSettings, now: datetime
) -> tuple[int, datetime | None]:
    row = con.execute(
        "SELECT failures, last_failure FROM login_throttle WHERE source = ?", [source]
    ).fetchone()
    if row is None or now - row[1] > timedelta(minutes=settings.forget_minutes):
        return 0, None
    return row[0], row[1]


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
    """The user, when the password matches and the source need not wait.

    Every outcome is audited (never the password): ``login``, ``login_failed`` and
    ``login_throttled`` (an attempt from a source that has to wait: refused, though its password
    is still checked so that it takes as long as any other). A refusal raises :class:`AuthError`
    with :data:`REFUSED`; once the source has used its free attempts, every refusal raises
    :class:`TooManyAttempts` instead (the same for a known or unknown name, a right or wrong
    password), saying how long to wait.
    """
    settings = settings or LoginSettings()
    now = now or datetime.now(UTC)
    row = con.execute(
        "SELECT username, display_name, role, operator_id, password_hash FROM users WHERE username = ? AND active",
        [username],
    ).fetchone()
    failures, last = _source_failures(con, source, settings, now)
    waiting = last is not None and (now - last).total_seconds() < backoff_wait(failures, settings)
    ok = _verify(row[4] if row else None, password)  # always: the same argon2 cost on every path
    refused_demo = ok and production and password in _DEMO_PASSWORDS
    known = con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone() is not None
    with transaction(con):
        if ok and not refused_demo and not waiting:
            _audit_login(con, username, "login")
            con.execute("DELETE FROM login_state WHERE username = ?", [username])
            return with_units(con, User(*row[:4]))
        action = "login_throttled" if waiting else "login_failed"
        detail = "demo password refused in production" if refused_demo and not waiting else None
        if known:
            # the per-user count is shown to admins; it never locks the account
            _audit_login(con, username, action, detail)
            con.execute(
                "INSERT INTO login_state (username, failed_logins, updated_at) VALUES (?, 1, ?)"
                " ON CONFLICT (username) DO UPDATE SET failed_logins = login_state.failed_logins + 1,"
                " updated_at = excluded.updated_at",
                [username, now],
            )
        else:
            # A name no account has may be a password typed into the wrong field: never stored.
            record(con, UNKNOWN_USER, action, "user", None, "unknown user name")
        if not waiting:
            con.execute(
                "INSERT INTO login_throttle (source, failures, last_failure) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET failures = excluded.failures,"
                " last_failure = excluded.last_failure",
                [source, failures + 1, now],
            )
            if failures + 1 == settings.free_attempts:
                log.warning("a source reached the log-in back-off after %d failed log-ins", failures + 1)
    if waiting:
        raise TooManyAttempts(backoff_wait(failures, settings) - (now - last).total_seconds())
    if failures + 1 >= settings.free_attempts:  # this failure used the last free attempt
        raise TooManyAttempts(backoff_wait(failures + 1, settings))
    raise AuthError(REFUSED)


def demo_accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Active accounts that still have their demo password (production refuses to start with any)."""
    found = []
    for username, _name, _role, _op, password in DEMO_USERS:
        row = con.execute(
            "SELECT password_hash FROM users WHERE username = ? AND active", [username]
        ).fetchone()
        if row and _verify(row[0], password):
            found.append(username)
    return found
