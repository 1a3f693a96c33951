"""Account lock-out after repeated wrong passwords, and the session timeout helper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lydlogg.auth import (
    REFUSED,
    AuthError,
    LoginSettings,
    authenticate,
    create_user,
    locked_until,
    session_expired,
)
from lydlogg.db import connect

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RULES = LoginSettings(max_failed_logins=3, lock_minutes=15)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "auth.duckdb"
    with connect(path) as con:
        create_user(con, "anne", "Anne", "operator", "riktig-passord", operator_id="op-anne")
        create_user(con, "vera", "Vera", "veileder", "veras-passord")
    return path


def _fail(con, username, at, times=1):
    for _ in range(times):
        with pytest.raises(AuthError) as e:
            authenticate(con, username, "galt-passord", settings=RULES, now=at)
        assert str(e.value) == REFUSED


def _actions(con, username):
    return [
        a
        for (a,) in con.execute(
            "SELECT action FROM audit WHERE username = ? ORDER BY audit_id", [username]
        ).fetchall()
    ]


def test_the_nth_wrong_password_locks_the_account_and_even_the_right_one_is_refused(db):
    with connect(db) as con:
        _fail(con, "anne", T0, times=3)
        assert locked_until(con, "anne", T0) == T0 + timedelta(minutes=15)
        with pytest.raises(AuthError) as e:
            authenticate(con, "anne", "riktig-passord", settings=RULES, now=T0 + timedelta(minutes=14))
        assert str(e.value) == REFUSED  # the same words as a wrong password: nothing to learn from it
        assert authenticate(
            con, "anne", "riktig-passord", settings=RULES, now=T0 + timedelta(minutes=15)
        ).role == ("operator")
        assert _actions(con, "anne") == [*["login_failed"] * 3, "account_locked", "login_locked", "login"]
        rows = con.execute("SELECT * FROM audit").fetchall()
        assert not [r for r in rows if "passord" in " ".join(map(str, r))]  # no password in any column


def test_a_good_log_in_resets_the_count(db):
    with connect(db) as con:
        _fail(con, "anne", T0, times=2)
        authenticate(con, "anne", "riktig-passord", settings=RULES, now=T0)
        _fail(con, "anne", T0, times=2)
        assert locked_until(con, "anne", T0) is None
        _fail(con, "anne", T0)
        assert locked_until(con, "anne", T0) is not None


def test_unknown_users_get_the_same_message_and_lock_nobody(db):
    with connect(db) as con:
        _fail(con, "ukjent", T0, times=5)
        _fail(con, "", T0)
        assert con.execute("SELECT count(*) FROM login_state").fetchone()[0] == 0
        assert _actions(con, "(ukjent)") == ["login_failed"] * 6  # the typed name is not kept
        assert _actions(con, "ukjent") == []
        assert authenticate(con, "vera", "veras-passord", settings=RULES, now=T0).username == "vera"


def test_one_users_failures_do_not_lock_another(db):
    with connect(db) as con:
        _fail(con, "anne", T0, times=3)
        assert authenticate(con, "vera", "veras-passord", settings=RULES, now=T0).username == "vera"


def test_default_rules_are_five_tries_and_fifteen_minutes():
    assert (LoginSettings().max_failed_logins, LoginSettings().lock_minutes) == (5, 15)


@pytest.mark.parametrize(
    ("idle", "timeout", "expired"),
    [
        (timedelta(0), 15, False),
        (timedelta(minutes=14, seconds=59), 15, False),
        (timedelta(minutes=15), 15, True),
        (timedelta(hours=3), 15, True),
        (timedelta(minutes=29), 30, False),
        (timedelta(minutes=-1), 15, False),  # a clock that went backwards never logs anyone out
    ],
)
def test_session_expired(idle, timeout, expired):
    assert session_expired(T0, T0 + idle, timeout) is expired


def test_session_expired_defaults_to_fifteen_minutes():
    assert session_expired(T0, T0 + timedelta(minutes=15)) and not session_expired(
        T0, T0 + timedelta(minutes=10)
    )


def test_a_password_typed_into_the_user_name_field_never_lands_in_the_audit_trail(db):
    with connect(db) as con:
        _fail(con, "Sommer2026!hemmelig", T0)
        _fail(con, "anne", T0)  # a real account's name is kept
        rows = con.execute("SELECT username, object_id, detail FROM audit").fetchall()
    assert not [r for r in rows if "Sommer2026" in " ".join(map(str, r))]
    assert ("anne", "anne", None) in rows and ("(ukjent)", None, "unknown user name") in rows
