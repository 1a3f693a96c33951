"""Log-in sessions that survive a reload: tokens, idle timeout, deactivation, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lydlogg.auth import User, create_user
from lydlogg.db import connect
from review.login_sessions import (
    cookie_script,
    end_session,
    idle_expired,
    resume_session,
    start_session,
    touch_session,
)

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
ANNE = User("anne", "Anne", "operator", "op-anne")


@pytest.fixture
def con(tmp_path):
    with connect(tmp_path / "s.duckdb") as con:
        create_user(con, "anne", "Anne", "operator", "a-long-password-1", operator_id="op-anne")
        yield con


@pytest.mark.parametrize(
    ("idle_minutes", "expired"), [(0, False), (14.9, False), (15, False), (15.01, True), (600, True)]
)
def test_idle_expiry_is_strictly_after_the_timeout(idle_minutes, expired):
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


def test_cookie_script_sets_and_clears_and_refuses_anything_but_a_token():
    assert "lydlogg_session=abc_-1; path=/; max-age=60; SameSite=Strict" in cookie_script("abc_-1", 60)
    assert "lydlogg_session=; path=/; max-age=0" in cookie_script(None, 60)
    with pytest.raises(ValueError):
        cookie_script("x'; alert(1); '", 60)
