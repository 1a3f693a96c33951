"""The admin's user management: every change checked against manage_users and audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lydlogg.access import AccessDenied
from lydlogg.auth import REFUSED, AuthError, LoginSettings, User, authenticate, create_user
from lydlogg.db import connect
from lydlogg.sso import SsoIdentity, sso_login
from lydlogg.users import UserAdminService

ADMIN = User("admin", "Admin", "admin")
LEDER = User("leder", "Liv Leder", "leder")
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "users.duckdb"
    with connect(path) as con:
        create_user(con, "admin", "Admin", "admin", "admin-passord")
        create_user(con, "anne", "Anne", "operator", "annes-passord", operator_id="op-anne")
    return path


def _audit(db, action):
    with connect(db) as con:
        return con.execute(
            "SELECT username, object_type, object_id, detail FROM audit WHERE action = ? ORDER BY audit_id",
            [action],
        ).fetchall()


def test_add_change_role_deactivate_are_audited(db):
    admin = UserAdminService(db, ADMIN)
    admin.add("vera", "Vera", "veileder", "veras-passord")
    admin.change_role("vera", "leder")
    admin.deactivate("anne")
    rows = {u.username: u for u in admin.list()}
    assert rows["vera"].role == "leder" and rows["anne"].active is False
    assert _audit(db, "create_user")[-1] == ("admin", "user", "vera", "role=veileder")
    assert _audit(db, "change_role") == [("admin", "user", "vera", "veileder -> leder")]
    assert _audit(db, "deactivate_user") == [("admin", "user", "anne", None)]
    with connect(db) as con, pytest.raises(AuthError):
        authenticate(con, "anne", "annes-passord")
    admin.set_active("anne", True)
    with connect(db) as con:
        assert authenticate(con, "anne", "annes-passord").username == "anne"


def test_reset_password_replaces_the_hash_and_clears_the_failure_count(db):
    rules = LoginSettings(free_attempts=2)
    with connect(db) as con:
        for _ in range(2):
            with pytest.raises(AuthError):
                authenticate(con, "anne", "feil-passord", settings=rules, now=NOW, source="elsewhere")
    admin = UserAdminService(db, ADMIN)
    anne = next(u for u in admin.list(now=NOW) if u.username == "anne")
    assert anne.failed_logins == 2 and anne.locked_until is None  # counted, never locked
    admin.reset_password("anne", "nytt-langt-passord")
    with connect(db) as con:
        with pytest.raises(AuthError, match=REFUSED):
            authenticate(con, "anne", "annes-passord", now=NOW)
        assert authenticate(con, "anne", "nytt-langt-passord", now=NOW).username == "anne"
        hashes = [h for (h,) in con.execute("SELECT password_hash FROM users").fetchall()]
    assert all(h.startswith("$argon2id$") and "nytt" not in h for h in hashes)
    assert _audit(db, "reset_password") == [("admin", "user", "anne", None)]


def test_unlock_clears_the_failure_count(db):
    rules = LoginSettings(free_attempts=1)
    with connect(db) as con, pytest.raises(AuthError):
        authenticate(con, "anne", "feil-passord", settings=rules, now=NOW, source="elsewhere")
    UserAdminService(db, ADMIN).unlock("anne")
    assert (
        next(u for u in UserAdminService(db, ADMIN).list(now=NOW) if u.username == "anne").failed_logins == 0
    )
    with connect(db) as con:
        assert authenticate(con, "anne", "annes-passord", settings=rules, now=NOW).username == "anne"
    assert _audit(db, "unlock_user") == [("admin", "user", "anne", None)]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.list(),
        lambda s: s.add("x", "X", "leder", "long-enough-pw"),
        lambda s: s.change_role("anne", "leder"),
        lambda s: s.deactivate("anne"),
        lambda s: s.reset_password("anne", "long-enough-pw"),
        lambda s: s.unlock("anne"),
        lambda s: s.login_methods(),
    ],
)
def test_only_admins_manage_users(db, call):
    with pytest.raises(AccessDenied):
        call(UserAdminService(db, LEDER))
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM audit WHERE username = 'leder'").fetchone()[0] == 0


def test_login_methods_tell_local_from_single_sign_on_accounts(db):
    with connect(db) as con:
        sso_login(
            con, SsoIdentity("kari@hf.no", "Kari SSO", "veileder", None, "https://idp.hf.test", "sub-kari")
        )
    assert UserAdminService(db, ADMIN).login_methods() == {
        "admin": "local",
        "anne": "local",
        "kari@hf.no": "sso",
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.deactivate("admin"), "deg selv"),
        (lambda s: s.change_role("admin", "leder"), "egen rolle"),
        (lambda s: s.change_role("anne", "sjef"), "finnes ikke"),
        (lambda s: s.change_role("nobody", "leder"), "ingen bruker"),
        (lambda s: s.reset_password("anne", "kort"), "at least 10"),
        (lambda s: s.add("anne", "Anne", "operator", "long-enough-pw", operator_id="x"), "exists already"),
    ],
)
def test_refused_changes_say_why_and_change_nothing(db, call, message):
    with pytest.raises(AuthError, match=message):
        call(UserAdminService(db, ADMIN))
    rows = {u.username: (u.role, u.active) for u in UserAdminService(db, ADMIN).list()}
    assert rows == {"admin": ("admin", True), "anne": ("operator", True)}


def test_demo_passwords_are_refused_in_production(db):
    with pytest.raises(AuthError, match="production"):
        UserAdminService(db, ADMIN, production=True).reset_password("anne", "demo-anne-1")


def test_an_operator_id_belongs_to_one_active_user(db):
    admin = UserAdminService(db, ADMIN)
    anne_id = next(u.operator_id for u in admin.list() if u.username == "anne")
    with pytest.raises(AuthError, match="annen aktiv bruker"):
        admin.add("anne2", "Anne to", "operator", "et-langt-passord", operator_id=anne_id)
    admin.add("ola", "Ola", "operator", "et-langt-passord", operator_id="op-ola")
    with pytest.raises(AuthError, match="annen aktiv bruker"):
        admin.change_role("ola", "lege", operator_id=anne_id)
    admin.deactivate("anne")
    admin.change_role("ola", "operator", operator_id=anne_id)  # Anne left: her id may pass on
    with pytest.raises(AuthError, match="annen aktiv bruker"):
        admin.set_active("anne", True)


def test_operator_ids_shared_by_active_users_are_reported(db, monkeypatch):
    from click.testing import CliRunner

    from lydlogg.cli import main

    admin = UserAdminService(db, ADMIN)
    assert admin.shared_operator_ids() == {}
    with connect(db) as con:  # written by hand, or from before the rule: every path refuses it now
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash)"
            " VALUES ('anne2', 'Anne to', 'operator', 'op-anne', NULL)"
        )
    assert admin.shared_operator_ids() == {"op-anne": ("anne", "anne2")}
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    out = CliRunner().invoke(main, ["users", "list"])
    assert out.exit_code == 0 and "operator id op-anne is held by 2 active users (anne, anne2)" in out.output
    with pytest.raises(AccessDenied):
        UserAdminService(db, LEDER).shared_operator_ids()
    admin.deactivate("anne2")
    assert admin.shared_operator_ids() == {}
