"""Log-in sessions that survive a reload: tokens, idle timeout, deactivation, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lydlogg.auth import User, create_user
from lydlogg.db import connect
from lydlogg.login_sessions import (
    SessionCookie,
    end_session,
    idle_expired,
    live_session,
    resume_session,
    session_cookie,
    start_session,
    touch_session,
)
from lydlogg.units import DEFAULT_UNIT

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
ANNE = User("anne", "Anne", "operator", "op-anne", (DEFAULT_UNIT,))  # create_user's default unit


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "s.duckdb") as con:
        create_user(con, "anne", "Anne", "operator", "a-long-password-1", operator_id="op-anne")
        yield con


@pytest.mark.parametrize(
    ("idle_minutes", "expired"), [(0, False), (14.9, False), (15, True), (15.01, True), (600, True)]
)
def test_idle_expiry_at_the_timeout_agrees_with_session_expired(idle_minutes, expired):
    assert idle_expired(T0, T0 + timedelta(minutes=idle_minutes), 15) is expired


def test_a_session_resumes_with_its_token_and_only_the_hash_is_stored(con):
    token = start_session(con, ANNE, T0)
    assert resume_session(con, token, 15, T0 + timedelta(minutes=5)) == ANNE
    stored = con.execute("SELECT token_sha256 FROM login_sessions").fetchall()
    assert len(stored) == 1 and token not in stored[0][0]
    assert resume_session(con, token + "x", 15, T0) is None


def test_an_idle_session_is_gone_but_activity_keeps_it_alive(con):
    token = start_session(con, ANNE, T0)
    touch_session(con, token, T0 + timedelta(minutes=14))
    assert resume_session(con, token, 15, T0 + timedelta(minutes=28)) == ANNE
    assert resume_session(con, token, 15, T0 + timedelta(minutes=60)) is None
    assert con.execute("SELECT count(*) FROM login_sessions").fetchone()[0] == 0


def test_a_deactivated_account_cannot_resume(con):
    token = start_session(con, ANNE, T0)
    con.execute("UPDATE users SET active = false WHERE username = 'anne'")
    assert resume_session(con, token, 15, T0) is None


def test_a_changed_role_applies_on_resume(con):
    token = start_session(con, ANNE, T0)
    con.execute("UPDATE users SET role = 'veileder' WHERE username = 'anne'")
    assert resume_session(con, token, 15, T0).role == "veileder"


def test_log_out_ends_the_session_and_everything_is_audited(con):
    token = start_session(con, ANNE, T0)
    resume_session(con, token, 15, T0)
    end_session(con, token, ANNE)
    assert resume_session(con, token, 15, T0) is None
    actions = [
        r[0]
        for r in con.execute("SELECT action FROM audit WHERE username = 'anne' ORDER BY audit_id").fetchall()
    ]
    assert actions[-3:] == ["session_start", "session_resume", "logout"]


@pytest.mark.parametrize(
    ("token", "max_age_s", "expected"),
    [
        ("abc_-1", 60, SessionCookie("lydlogg_session", "abc_-1", 60)),
        (None, 60, SessionCookie("lydlogg_session", "", 0)),  # clears it
        ("abc", -5, SessionCookie("lydlogg_session", "abc", 0)),
    ],
)
def test_the_session_cookie_sets_and_clears_a_token(token, max_age_s, expected):
    assert session_cookie(token, max_age_s) == expected


@pytest.mark.parametrize("token", ["x'; alert(1); '", "a b", "a;b", "", "tøken", "a\nb", "ab=cd"])
def test_the_session_cookie_refuses_anything_but_a_token(token):
    with pytest.raises(ValueError, match="not a session token"):
        session_cookie(token, 60)


# --- sessions are re-checked and revoked (security round two, finding 1) ------------------------

ADMIN = User("admin", "Admin", "admin")


@pytest.fixture
def site(tmp_path):
    """A database file with an admin and Anne, for the user-administration service."""
    db = tmp_path / "site.duckdb"
    with connect(db) as con:
        create_user(con, "admin", "Admin", "admin", "an-admin-password")
        create_user(con, "anne", "Anne", "operator", "a-long-password-1", operator_id="op-anne")
    return db


def test_a_session_ends_at_its_absolute_lifetime_however_active(con):
    token = start_session(con, ANNE, T0)
    for minutes in range(10, 12 * 60, 10):
        assert live_session(con, token, 15, T0 + timedelta(minutes=minutes), max_age_hours=12) == ANNE
    assert live_session(con, token, 15, T0 + timedelta(hours=12, minutes=5), max_age_hours=12) is None
    assert con.execute("SELECT count(*) FROM login_sessions").fetchone()[0] == 0


def test_live_session_rereads_the_user_and_writes_no_audit_row(con):
    token = start_session(con, ANNE, T0)
    before = con.execute("SELECT count(*) FROM audit").fetchone()[0]
    con.execute("UPDATE users SET role = 'veileder' WHERE username = 'anne'")
    assert live_session(con, token, 15, T0 + timedelta(seconds=5)).role == "veileder"
    assert con.execute("SELECT count(*) FROM audit").fetchone()[0] == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.deactivate("anne"), "user deactivated"),
        (lambda s: s.change_role("anne", "lege"), "role changed"),
        (lambda s: s.reset_password("anne", "a-new-password-2"), "password reset"),
    ],
)
def test_an_admins_change_ends_every_session_of_the_user(site, change, reason):
    from lydlogg.users import UserAdminService

    with connect(site) as con:
        tokens = [start_session(con, ANNE, T0 + timedelta(minutes=i)) for i in range(3)]  # three tabs
        start_session(con, ADMIN, T0)
    change(UserAdminService(site, ADMIN))
    with connect(site) as con:
        assert all(live_session(con, t, 15, T0 + timedelta(minutes=4)) is None for t in tokens)
        assert con.execute("SELECT username FROM login_sessions").fetchall() == [("admin",)]
        detail = con.execute(
            "SELECT username, detail FROM audit WHERE action = 'revoke_sessions' AND object_id = 'anne'"
        ).fetchone()
    assert detail == ("admin", f"{reason}; 3 session(s)")


def test_log_out_in_one_tab_ends_the_other_tabs(con):
    token = start_session(con, ANNE, T0)  # both tabs carry the same cookie
    end_session(con, token, ANNE)
    assert live_session(con, token, 15, T0 + timedelta(seconds=1)) is None
