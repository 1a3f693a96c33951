"""Log-in back-off per source (no account lock-out), one message and one cost for every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lydlogg.auth import (
    REFUSED,
    AuthError,
    LoginSettings,
    TooManyAttempts,
    authenticate,
    backoff_wait,
    create_user,
    locked_until,
    session_expired,
    too_many_attempts_message,
)
from lydlogg.db import connect

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
RULES = LoginSettings(free_attempts=3, backoff_seconds=2, backoff_max_seconds=300)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "auth.duckdb"
    with connect(path) as con:
        create_user(con, "anne", "Anne", "operator", "riktig-passord", operator_id="op-anne")
        create_user(con, "vera", "Vera", "veileder", "veras-passord")
    return path


def _fail(con, username, at, times=1):
    """Fail ``times`` log-ins; a refusal is the one message until the free attempts are used up."""
    for _ in range(times):
        with pytest.raises(AuthError) as e:
            authenticate(con, username, "galt-passord", settings=RULES, now=at)
        assert isinstance(e.value, TooManyAttempts) or str(e.value) == REFUSED


def _actions(con, username):
    return [
        a
        for (a,) in con.execute(
            "SELECT action FROM audit WHERE username = ? ORDER BY audit_id", [username]
        ).fetchall()
    ]


def test_a_guessing_source_is_slowed_down_and_the_account_is_never_locked(db):
    with connect(db) as con:
        _fail(con, "anne", T0, times=3)  # the free attempts are used up
        with pytest.raises(
            TooManyAttempts
        ) as e:  # 1 s later: the source must wait 2 s, even with the right password
            authenticate(con, "anne", "riktig-passord", settings=RULES, now=T0 + timedelta(seconds=1))
        assert str(e.value) == too_many_attempts_message(1)  # says when, not whether the password was right
        # Anne herself, at her own PC, is not locked out by someone else's guessing
        assert authenticate(
            con, "anne", "riktig-passord", settings=RULES, now=T0, source="10.0.0.9"
        ).role == ("operator")
        assert (
            authenticate(
                con, "anne", "riktig-passord", settings=RULES, now=T0 + timedelta(seconds=2)
            ).username
            == "anne"
        )
        assert locked_until(con, "anne", T0) is None
        assert _actions(con, "anne") == [*["login_failed"] * 3, "login_throttled", "login", "login"]


@pytest.mark.parametrize(("failures", "wait"), [(0, 0), (2, 0), (3, 2), (4, 4), (5, 8), (12, 300), (50, 300)])
def test_the_wait_doubles_after_the_free_attempts_up_to_the_maximum(failures, wait):
    assert (
        backoff_wait(failures, LoginSettings(free_attempts=3, backoff_seconds=2, backoff_max_seconds=300))
        == wait
    )


def test_spraying_one_password_across_users_is_slowed_like_guessing_one(db):
    with connect(db) as con:
        for name in ("anne", "vera", "admin"):
            _fail(con, name, T0)
        with pytest.raises(TooManyAttempts):  # vera's right password, but from the sprayer
            authenticate(con, "vera", "veras-passord", settings=RULES, now=T0 + timedelta(seconds=1))
        assert _actions(con, "vera") == ["login_failed", "login_throttled"]


def test_after_the_free_attempts_every_refusal_says_so_and_when(db):
    with connect(db) as con:
        _fail(con, "anne", T0, times=2)
        with pytest.raises(TooManyAttempts) as last:  # the third failure uses up the free attempts
            authenticate(con, "anne", "galt-passord", settings=RULES, now=T0)
        assert (
            str(last.value)
            == "For mange mislykkede innlogginger fra denne nettleseren. Vent 2 sekunder før du prøver igjen."
        )
        later = T0 + timedelta(seconds=1)
        said = set()
        for name, password in (
            ("anne", "riktig-passord"),
            ("anne", "galt"),
            ("finnes-ikke", "x"),
            ("vera", "galt"),
        ):
            with pytest.raises(TooManyAttempts) as e:
                authenticate(con, name, password, settings=RULES, now=later)
            said.add(str(e.value))
        assert said == {too_many_attempts_message(1)}  # one message: no account is told apart
        with pytest.raises(AuthError) as other:  # another browser (address) has its own attempts
            authenticate(con, "finnes-ikke", "x", settings=RULES, now=later, source="10.0.0.7")
        assert str(other.value) == REFUSED


@pytest.mark.parametrize(
    ("seconds", "wait"),
    [(0.2, "1 sekund"), (2, "2 sekunder"), (59.5, "1 minutt"), (61, "2 minutter"), (300, "5 minutter")],
)
def test_the_wait_is_said_in_whole_seconds_or_minutes(seconds, wait):
    assert f"Vent {wait} før" in too_many_attempts_message(seconds)


def test_a_source_is_forgotten_after_a_quiet_hour(db):
    with connect(db) as con:
        _fail(con, "anne", T0, times=6)
        later = T0 + timedelta(minutes=61)
        assert authenticate(con, "anne", "riktig-passord", settings=RULES, now=later).username == "anne"


def test_every_refusal_costs_one_argon2_check_and_says_the_same(db):
    """Unknown name, wrong password, waiting source, demo password in production: one message, and
    the same work (an unknown name and a waiting source are checked against a hash too)."""
    import time

    from lydlogg.auth import create_user as add

    with connect(db) as con:
        add(con, "demo", "Demo", "leder", "demo-leder")
        cases = [
            dict(username="ukjent", password="x", source="a"),
            dict(username="anne", password="galt", source="b"),
            dict(username="vera", password="veras-passord", source="c", production=True),
            dict(username="demo", password="demo-leder", source="d", production=True),
        ]
        for _ in range(3):
            _fail(con, "anne", T0)  # "local" must now wait
        cases.append(dict(username="anne", password="riktig-passord", source="local"))
        times = []
        for case in cases:
            production = case.pop("production", False)
            started = time.perf_counter()
            try:
                authenticate(con, **case, settings=RULES, now=T0, production=production)
                outcome = "in"
            except AuthError as e:
                outcome = str(e)
            times.append(time.perf_counter() - started)
            expected = REFUSED if case["source"] != "local" else too_many_attempts_message(2)
            assert outcome == ("in" if case["username"] == "vera" else expected), case
    refused = [t for t, c in zip(times, cases, strict=True) if c["username"] != "vera"]
    assert max(refused) < 4 * min(refused)  # all pay for one argon2 verification


def test_production_refuses_demo_accounts_with_their_demo_passwords(db):
    from lydlogg.auth import DEMO_USERS, demo_accounts

    with connect(db) as con:
        assert demo_accounts(con) == []
        for username, name, role, operator_id, password in DEMO_USERS[:2]:
            create_user(con, username, name, role, password, operator_id=operator_id)
        assert demo_accounts(con) == ["admin", "leder"]
        con.execute("UPDATE users SET active = false WHERE username = 'admin'")
        assert demo_accounts(con) == ["leder"]


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


PRODUCTION = {
    "LYDLOGG_ENV": "production",
    "LYDLOGG_ENCRYPTION__ENABLED": "true",
    "LYDLOGG_DB_KEY": "ab" * 32,
    "LYDLOGG_BACKUP_KEY": "cd" * 32,
}


def _production_db(tmp_path, demo_user):
    from lydlogg.db import DatabaseKey

    db = tmp_path / "prod.duckdb"
    with connect(db, key=DatabaseKey(PRODUCTION["LYDLOGG_DB_KEY"])) as con:
        username, name, role, operator_id, password = demo_user
        create_user(con, username, name, role, password, operator_id=operator_id)
    return db


def test_serve_refuses_to_start_in_production_while_demo_accounts_exist(tmp_path):
    from click.testing import CliRunner

    from lydlogg.auth import DEMO_USERS
    from lydlogg.cli import main

    db = _production_db(tmp_path, DEMO_USERS[0])
    result = CliRunner().invoke(main, ["serve", "--db", str(db)], env=PRODUCTION)
    assert result.exit_code != 0 and "demo accounts admin" in result.output


def test_production_refuses_to_start_while_data_would_be_written_unencrypted(tmp_path):
    from click.testing import CliRunner

    from lydlogg.cli import main

    env = {"LYDLOGG_ENV": "production", "LYDLOGG_BACKUP__KEY_FILE": str(tmp_path / "none.key")}
    for command in (["serve"], ["backup", str(tmp_path / "b")]):
        result = CliRunner().invoke(main, [*command, "--db", str(tmp_path / "x.duckdb")], env=env)
        assert result.exit_code != 0, command
        assert "database is not encrypted" in result.output and "no backup key" in result.output
        assert "case library's audio" in result.output  # one key encrypts both, one rule refuses both


def test_the_app_refuses_to_serve_in_production_while_demo_accounts_exist(tmp_path, monkeypatch):
    from conftest import REPO
    from streamlit.testing.v1 import AppTest

    from lydlogg.auth import DEMO_USERS
    from lydlogg.db import register_key

    db = _production_db(tmp_path, DEMO_USERS[1])
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    try:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    finally:
        register_key(db, None)
    assert "demokontoer" in at.error[0].value and not at.text_input  # no log-in form at all
