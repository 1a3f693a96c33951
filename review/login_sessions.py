"""Log-in sessions that survive a browser reload, and the inactivity timeout.

A Streamlit session ends when the browser reloads the page. After a successful log-in the app
therefore stores a random token in a cookie; a new browser session that presents a token whose
session is still alive continues as the same user, without asking for the password again.

Only the token's SHA-256 is kept in the database, so a copy of the database does not let anyone
take over a session. A session ends at log-out, or when it has been idle for longer than the
timeout (``server.session_timeout_minutes``); an account that has been deactivated or changed
role since is looked up afresh on every resume.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import duckdb

from lydlogg.audit import record
from lydlogg.auth import User

__all__ = [
    "COOKIE",
    "cookie_script",
    "end_session",
    "idle_expired",
    "resume_session",
    "start_session",
    "touch_session",
]

COOKIE = "lydlogg_session"
_TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most this often


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_expired(last_activity: datetime, now: datetime, timeout_minutes: float) -> bool:
    """Whether a session last active at ``last_activity`` has timed out by ``now``."""
    return now - last_activity > timedelta(minutes=timeout_minutes)


def start_session(con: duckdb.DuckDBPyConnection, user: User, now: datetime | None = None) -> str:
    """Record a new session for ``user`` and return its token (to be kept in the browser only)."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    con.execute("INSERT INTO login_sessions VALUES (?, ?, ?, ?)", [_digest(token), user.username, now, now])
    record(con, user.username, "session_start", "user", user.username)
    return token


def resume_session(
    con: duckdb.DuckDBPyConnection, token: str, timeout_minutes: float, now: datetime | None = None
) -> User | None:
    """The user of a live session with this token, or None (unknown, idle too long, or deactivated)."""
    now = now or datetime.now(UTC)
    row = con.execute(
        "SELECT s.last_seen_at, u.username, u.display_name, u.role, u.operator_id, u.active"
        " FROM login_sessions s JOIN users u USING (username) WHERE s.token_sha256 = ?",
        [_digest(token)],
    ).fetchone()
    if row is None:
        return None
    last_seen, username, display_name, role, operator_id, active = row
    if not active or idle_expired(last_seen, now, timeout_minutes):
        con.execute("DELETE FROM login_sessions WHERE token_sha256 = ?", [_digest(token)])
        return None
    if now - last_seen > _TOUCH_EVERY:
        con.execute(
            "UPDATE login_sessions SET last_seen_at = ? WHERE token_sha256 = ?", [now, _digest(token)]
        )
    record(con, username, "session_resume", "user", username)
    return User(username, display_name, role, operator_id)


def touch_session(con: duckdb.DuckDBPyConnection, token: str, now: datetime | None = None) -> None:
    """Note activity in a live session, so that a reload after long use is still recognised."""
    con.execute(
        "UPDATE login_sessions SET last_seen_at = ? WHERE token_sha256 = ?",
        [now or datetime.now(UTC), _digest(token)],
    )


def cookie_script(token: str | None, max_age_s: int) -> str:
    """A page whose script sets (or, for None, clears) the session cookie on the app's own document."""
    if token is not None and not all(c.isalnum() or c in "-_" for c in token):
        raise ValueError("not a session token")
    value, age = (token, max_age_s) if token else ("", 0)
    return (
        "<script>const secure = window.parent.location.protocol === 'https:' ? '; Secure' : '';"
        f"window.parent.document.cookie = '{COOKIE}={value}; path=/; max-age={age}; SameSite=Strict' + secure;"
        "</script>"
    )


def end_session(con: duckdb.DuckDBPyConnection, token: str | None, user: User) -> None:
    """Forget the session (log-out); audited."""
    if token:
        con.execute("DELETE FROM login_sessions WHERE token_sha256 = ?", [_digest(token)])
    record(con, user.username, "logout", "user", user.username)
