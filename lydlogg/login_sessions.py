"""Log-in sessions that survive a browser reload, and the inactivity timeout.

A Streamlit session ends when the browser reloads the page. After a successful log-in the app
therefore stores a random token in a cookie; a new browser session that presents a token whose
session is still alive continues as the same user, without asking for the password again.

Only the token's SHA-256 is kept in the database, so a copy of the database does not let anyone
take over a session. A session ends at log-out (in every tab that shares the cookie), when it has
been idle for longer than the timeout (``server.session_timeout_minutes``), when it is older than
the absolute lifetime (``server.session_max_hours``), or when an admin deactivates the user,
changes their role or resets their password, or the account is locked (all of these revoke
every session of the user, :func:`lydlogg.auth.revoke_sessions`). The app checks the session row
and re-reads the user on every rerun (:func:`live_session`), so a change applies at the next click.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from lydlogg.audit import record
from lydlogg.auth import User, revoke_sessions, session_expired, with_units

__all__ = [
    "COOKIE",
    "SessionCookie",
    "end_session",
    "idle_expired",
    "live_session",
    "resume_session",
    "revoke_sessions",
    "session_cookie",
    "start_session",
    "touch_session",
]

COOKIE = "lydlogg_session"
_TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most this often


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_expired(last_activity: datetime, now: datetime, timeout_minutes: float) -> bool:
    """Whether a session last active at ``last_activity`` has timed out by ``now``: the one rule,
    :func:`lydlogg.auth.session_expired` (idle for the whole timeout or longer)."""
    return session_expired(last_activity, now, timeout_minutes)


def start_session(con: duckdb.DuckDBPyConnection, user: User, now: datetime | None = None) -> str:
    """Record a new session for ``user`` and return its token (to be kept in the browser only)."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    con.execute(
        "INSERT INTO login_sessions (token_sha256, username, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
        [_digest(token), user.username, now, now],
    )
    record(con, user.username, "session_start", "user", user.username)
    return token


def live_session(
    con: duckdb.DuckDBPyConnection,
    token: str,
    timeout_minutes: float,
    now: datetime | None = None,
    *,
    max_age_hours: float = 12,
) -> User | None:
    """The user of a live session with this token, read afresh, or None.

    None when the token is unknown (logged out, revoked), the session has been idle too long or
    is older than ``max_age_hours``, or the user is deactivated; a dead session row is deleted.
    Called on every rerun of the app, so it writes ``last_seen_at`` at most once a minute and
    writes no audit row.
    """
    now = now or datetime.now(UTC)
    row = con.execute(
        "SELECT s.created_at, s.last_seen_at, u.username, u.display_name, u.role, u.operator_id, u.active"
        " FROM login_sessions s JOIN users u USING (username) WHERE s.token_sha256 = ?",
        [_digest(token)],
    ).fetchone()
    if row is None:
        return None
    created, last_seen, username, display_name, role, operator_id, active = row
    too_old = now - created > timedelta(hours=max_age_hours)
    if not active or too_old or idle_expired(last_seen, now, timeout_minutes):
        con.execute("DELETE FROM login_sessions WHERE token_sha256 = ?", [_digest(token)])
        return None
    if now - last_seen > _TOUCH_EVERY:
        con.execute(
            "UPDATE login_sessions SET last_seen_at = ? WHERE token_sha256 = ?", [now, _digest(token)]
        )
    return with_units(con, User(username, display_name, role, operator_id))


def resume_session(
    con: duckdb.DuckDBPyConnection,
    token: str,
    timeout_minutes: float,
    now: datetime | None = None,
    *,
    max_age_hours: float = 12,
) -> User | None:
    """:func:`live_session` for a new browser session (a reload); a resumed session is audited."""
    user = live_session(con, token, timeout_minutes, now, max_age_hours=max_age_hours)
    if user is not None:
        record(con, user.username, "session_resume", "user", user.username)
    return user


def touch_session(con: duckdb.DuckDBPyConnection, token: str, now: datetime | None = None) -> None:
    """Note activity in a live session, so that a reload after long use is still recognised."""
    con.execute(
        "UPDATE login_sessions SET last_seen_at = ? WHERE token_sha256 = ?",
        [now or datetime.now(UTC), _digest(token)],
    )


@dataclass(frozen=True)
class SessionCookie:
    """What the browser's session cookie is to become: ``value`` for ``max_age_s`` seconds, or
    cleared (an empty value and age 0). Set by a fixed script in the app's page
    (``review.app.session_cookie``); never built into script or HTML text."""

    name: str
    value: str
    max_age_s: int


def session_cookie(token: str | None, max_age_s: int) -> SessionCookie:
    """The cookie that carries ``token`` (None: the cookie that clears it); anything but a token
    (letters, digits, ``-`` and ``_``) is refused."""
    if token is not None and not (token and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)):
        raise ValueError("not a session token: letters, digits, '-' and '_' only")
    if token is None:
        return SessionCookie(COOKIE, "", 0)
    return SessionCookie(COOKIE, token, max(0, int(max_age_s)))


def end_session(con: duckdb.DuckDBPyConnection, token: str | None, user: User) -> None:
    """Forget the session (log-out); audited."""
    if token:
        con.execute("DELETE FROM login_sessions WHERE token_sha256 = ?", [_digest(token)])
    record(con, user.username, "logout", "user", user.username)
