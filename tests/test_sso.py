"""Single sign-on: claims to users (pure and in DuckDB), and the whole OIDC flow in a real browser
against a real OpenID Connect provider (panva/oidc-provider under Node.js, tests/oidc)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lydlogg.auth import AuthError, authenticate
from lydlogg.db import connect
from lydlogg.settings import SsoSettings, load_settings
from lydlogg.sso import SsoConfigError, claims_identity, sso_login, write_streamlit_secrets

ROLE_MAP = {
    "lydlogg-leder": "leder",
    "lydlogg-veileder": "veileder",
    "sykepleier": "operator",
    "kvalitet": "regional",
}
SSO = SsoSettings(enabled=True, role_map=ROLE_MAP)
OIDC = Path(__file__).resolve().parent / "oidc"
ISSUER = "https://idp.lv.test"


def token(sub: str = "sub-kari", iss: str = ISSUER, **claims: object) -> dict[str, object]:
    """ID-token claims: an issuer and a subject, and ``claims``."""
    return {"iss": iss, "sub": sub, **claims}


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (token(email="kari@lv.no", name="Kari", roles=["lydlogg-leder"]), ("kari@lv.no", "Kari", "leder", None)),
        (token(email="kari@lv.no", roles="lydlogg-veileder"), ("kari@lv.no", "kari@lv.no", "veileder", None)),
        (token(email="a@lv.no", roles=["sykepleier", "lydlogg-leder"]), ("a@lv.no", "a@lv.no", "leder", None)),
        (token(email="s@lv.no", roles=["sykepleier"]), ("s@lv.no", "s@lv.no", "operator", "s@lv.no")),
        (token(email="r@lv.no", roles=["kvalitet"]), ("r@lv.no", "r@lv.no", "regional", None)),
        (token(email="o@lv.no", roles=["andre"]), ("o@lv.no", "o@lv.no", None, None)),
        (token(email="o@lv.no", roles=7), ("o@lv.no", "o@lv.no", None, None)),
        (token(email=" o@lv.no "), ("o@lv.no", "o@lv.no", None, None)),
    ],
)  # fmt: skip
def test_claims_map_to_a_user_name_and_the_broadest_role(claims, expected):
    who = claims_identity(claims, SSO)
    assert (who.username, who.display_name, who.role, who.operator_id) == expected


@pytest.mark.parametrize(
    ("claims", "missing"),
    [
        ({}, "email"),
        (token(email=""), "email"),
        (token(email=["x"]), "email"),
        ({"sub": "kari"}, "email"),
        ({"email": "kari@lv.no", "iss": ISSUER}, "sub"),
        (token(sub=" ", email="kari@lv.no"), "sub"),
        ({"email": "kari@lv.no", "sub": "sub-kari"}, "iss"),
    ],
)
def test_an_identity_without_the_user_name_issuer_or_subject_is_refused(claims, missing):
    with pytest.raises(AuthError, match=f"ingen tilgang: identiteten mangler «{missing}»"):
        claims_identity(claims, SSO)


def admin_service(db: Path):
    """The user-admin service as an admin named ``root`` (a local account) sees it."""
    from lydlogg.auth import User
    from lydlogg.users import UserAdminService

    return UserAdminService(db, User("root", "Root", "admin", None))


def test_first_sso_login_creates_the_user_and_the_claims_set_the_role_at_every_log_in(tmp_path):
    db = tmp_path / "sso.duckdb"
    with connect(db) as con:
        user = sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
        assert user.role == "leder"
        # the provider moves her to another group: the next log-in follows it
        assert (
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-veileder"]), SSO)).role
            == "veileder"
        )
        assert con.execute("SELECT role FROM users WHERE username = 'kari@lv.no'").fetchone() == ("veileder",)
        with pytest.raises(AuthError):  # no password: an SSO account cannot log in locally
            authenticate(con, "kari@lv.no", "")
        # the role taken away at the provider: refused, and the stored role does not let her in
        with pytest.raises(AuthError, match="ingen rolle"):
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["andre"]), SSO))
        with pytest.raises(AuthError, match="ingen tilgang"):
            sso_login(con, claims_identity(token(sub="sub-ola", email="ola@lv.no", roles=["andre"]), SSO))
        con.execute("UPDATE users SET active = false WHERE username = 'kari@lv.no'")
        with pytest.raises(AuthError, match="deaktivert"):
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
        actions = con.execute(
            "SELECT action, detail FROM audit WHERE object_type = 'user' AND object_id = 'kari@lv.no'"
            " AND action IN ('create_user_sso', 'link_sso', 'login_sso', 'login_sso_refused', 'role_from_claims')"
            " ORDER BY audit_id"
        ).fetchall()
    assert actions == [
        ("create_user_sso", "role=leder; units=standard"), ("link_sso", f"issuer={ISSUER}"), ("login_sso", None),
        ("role_from_claims", "leder -> veileder"), ("login_sso", None),
        ("login_sso_refused", "no role"), ("login_sso_refused", "deactivated"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("unit_map", "claim", "expected"),
    [
        ({}, None, None),  # no unit claim configured
        ({}, "Nordby legevakt", ("Nordby legevakt",)),  # the values are the names
        ({}, ["Sørvik legevakt", "Nordby legevakt", 7, "x/y"], ("Nordby legevakt", "Sørvik legevakt")),
        ({"grp-n": "Nordby legevakt"}, ["grp-n", "grp-other"], ("Nordby legevakt",)),
        ({"grp-n": "Nordby legevakt"}, ["Nordby legevakt"], ()),  # a map: only mapped values count
    ],
)
def test_unit_claims_map_to_unit_names(unit_map, claim, expected):
    sso = SsoSettings(
        enabled=True, role_map=ROLE_MAP, unit_claim="" if claim is None else "units", unit_map=unit_map
    )
    claims = token(email="k@lv.no", roles=["lydlogg-leder"]) | ({} if claim is None else {"units": claim})
    assert claims_identity(claims, sso).units == expected


def test_units_follow_the_claims_at_every_log_in_and_none_is_refused(tmp_path):
    from lydlogg.login_sessions import live_session, start_session
    from lydlogg.units import user_units

    sso = SsoSettings(enabled=True, role_map=ROLE_MAP, unit_claim="groups")
    db = tmp_path / "sso.duckdb"

    def login(roles, groups, sub="sub-kari", email="kari@lv.no"):
        return sso_login(con, claims_identity(token(sub=sub, email=email, roles=roles, groups=groups), sso))

    with connect(db) as con:
        kari = login(["lydlogg-leder"], ["Nordby legevakt"])
        assert kari.units == ("Nordby legevakt",) and user_units(con, "kari@lv.no") == kari.units
        session = start_session(con, kari)
        assert login(["lydlogg-leder"], ["Nordby legevakt"]).units == ("Nordby legevakt",)
        assert live_session(con, session, 15, max_age_hours=12) is not None  # unchanged: the tab lives
        moved = login(["lydlogg-leder"], ["Sørvik legevakt", "Nordby legevakt"])
        assert moved.units == ("Nordby legevakt", "Sørvik legevakt")
        assert live_session(con, session, 15, max_age_hours=12) is None  # units changed: other tabs end
        with pytest.raises(AuthError, match="ikke til noen enhet"):  # taken out of every unit at the provider
            login(["lydlogg-leder"], [])
        assert user_units(con, "kari@lv.no") == (
            "Nordby legevakt",
            "Sørvik legevakt",
        )  # not let in, not changed
        with pytest.raises(AuthError, match="ikke til noen enhet"):  # a new account needs a unit too
            login(["sykepleier"], ["ukjent/enhet"], sub="sub-ola", email="ola@lv.no")
        assert con.execute("SELECT count(*) FROM users WHERE username = 'ola@lv.no'").fetchone() == (0,)
        rita = login(["kvalitet"], [], sub="sub-rita", email="rita@lv.no")  # regional: bound to no unit
        assert rita.role == "regional"
        actions = con.execute(
            "SELECT action, detail FROM audit WHERE object_id = 'kari@lv.no'"
            " AND action IN ('create_user_sso', 'units_from_claims', 'login_sso_refused') ORDER BY audit_id"
        ).fetchall()
    assert actions == [
        ("create_user_sso", "role=leder; units=Nordby legevakt"),
        ("units_from_claims", "Nordby legevakt -> Nordby legevakt, Sørvik legevakt"),
        ("login_sso_refused", "no unit"),
    ]


def test_an_admins_pinned_role_keeps_the_admins_units_too(tmp_path):
    from lydlogg.units import set_user_units

    sso = SsoSettings(enabled=True, role_map=ROLE_MAP, unit_claim="groups")
    db = tmp_path / "sso.duckdb"
    with connect(db) as con:
        sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"], groups=["A"]), sso))
    admin_service(db).change_role("kari@lv.no", "veileder", pin=True)
    with connect(db) as con:
        set_user_units(con, "kari@lv.no", ["B"], "root")
        user = sso_login(
            con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"], groups=[]), sso)
        )
    assert (user.role, user.units) == ("veileder", ("B",))


def test_a_role_change_from_the_claims_ends_the_accounts_other_sessions(tmp_path):
    from lydlogg.login_sessions import live_session, start_session

    db = tmp_path / "sso.duckdb"
    with connect(db) as con:
        leder = sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
        old = start_session(con, leder)
        assert live_session(con, old, 15, max_age_hours=12) is not None
        same = sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
        assert same.role == "leder" and live_session(con, old, 15, max_age_hours=12) is not None
        sso_login(con, claims_identity(token(email="kari@lv.no", roles=["sykepleier"]), SSO))
        assert live_session(con, old, 15, max_age_hours=12) is None  # the leder tab is gone
        assert con.execute("SELECT role, operator_id FROM users").fetchone() == ("operator", "kari@lv.no")


def test_an_admins_pinned_role_wins_over_the_claims_and_is_shown(tmp_path):
    db = tmp_path / "sso.duckdb"
    with connect(db) as con:
        sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
    admin = admin_service(db)
    admin.change_role("kari@lv.no", "veileder", pin=True)
    (row,) = admin.list()
    assert (row.role, row.sso, row.role_pinned) == ("veileder", True, True)
    with connect(db) as con:
        for roles in (["lydlogg-leder"], ["andre"]):  # neither a broader role nor none changes it
            assert (
                sso_login(con, claims_identity(token(email="kari@lv.no", roles=roles), SSO)).role
                == "veileder"
            )
    admin.unpin_role("kari@lv.no")
    assert admin.list()[0].role_pinned is False
    with pytest.raises(AuthError, match="ikke festet"):
        admin.unpin_role("kari@lv.no")
    with connect(db) as con:
        assert (
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO)).role
            == "leder"
        )
        audit = con.execute(
            "SELECT username, action, detail FROM audit WHERE action IN ('pin_role', 'unpin_role', 'change_role')"
            " ORDER BY audit_id"
        ).fetchall()
    assert audit == [
        ("root", "change_role", "leder -> veileder"), ("root", "pin_role", "role=veileder"), ("root", "unpin_role", None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("acr", "accepted"),
    [
        ("urn:lv:loa:high", True),
        ("urn:lv:loa:substantial", False),
        (None, False),  # no acr claim at all
        ("", False),
        ("URN:LV:LOA:HIGH", False),  # compared exactly
    ],
)
def test_a_required_assurance_level_refuses_other_and_missing_acr(tmp_path, acr, accepted):
    from lydlogg.sso import ACR_REFUSED

    claims = token(email="kari@lv.no", roles=["lydlogg-leder"], **({} if acr is None else {"acr": acr}))
    with connect(tmp_path / "sso.duckdb") as con:
        if accepted:
            user = sso_login(con, claims_identity(claims, SSO), accepted_acr=["urn:lv:loa:high"])
            assert user.role == "leder"
        else:
            with pytest.raises(AuthError) as refused:
                sso_login(con, claims_identity(claims, SSO), accepted_acr=["urn:lv:loa:high"])
            assert str(refused.value) == ACR_REFUSED
            assert con.execute("SELECT count(*) FROM users").fetchone() == (0,)  # nothing created or bound
            assert con.execute("SELECT count(*) FROM sso_identities").fetchone() == (0,)
            assert con.execute("SELECT detail FROM audit WHERE action = 'login_sso_refused'").fetchone() == (
                f"acr={acr or '-'}",
            )
        # without the setting acr is not looked at
        assert sso_login(con, claims_identity(claims, SSO)).username == "kari@lv.no"


def test_an_sso_account_never_takes_an_active_users_operator_id(tmp_path):
    from lydlogg.auth import create_user

    with connect(tmp_path / "sso.duckdb") as con:
        create_user(con, "anne", "Anne", "operator", "annes-password-1", operator_id="s@lv.no")
        with pytest.raises(AuthError, match="annen aktiv bruker"):  # a new account from the claims
            sso_login(con, claims_identity(token(email="s@lv.no", roles=["sykepleier"]), SSO))
        assert con.execute("SELECT count(*) FROM users").fetchone() == (1,)
        # an existing leder whose claims turn her into an operator with a taken id
        sso_login(con, claims_identity(token(sub="sub-t", email="t@lv.no", roles=["lydlogg-leder"]), SSO))
        con.execute("UPDATE users SET operator_id = 's@lv.no' WHERE username = 't@lv.no'")
        with pytest.raises(AuthError, match="annen aktiv bruker"):
            sso_login(con, claims_identity(token(sub="sub-t", email="t@lv.no", roles=["sykepleier"]), SSO))
        assert con.execute("SELECT role FROM users WHERE username = 't@lv.no'").fetchone() == ("leder",)


def test_an_admin_unlinks_an_identity_and_binds_another(tmp_path):
    """A user who gets a new identity at the provider (a new subject) keeps the account: the admin
    unlinks the old identity and binds the new one, or the next log-in with the account's name
    binds it. All audited; the old identity no longer gets in."""
    db = tmp_path / "sso.duckdb"
    leder = ["lydlogg-leder"]
    with connect(db) as con:
        sso_login(con, claims_identity(token(email="kari@lv.no", roles=leder), SSO))
    admin = admin_service(db)
    with pytest.raises(AuthError, match="allerede knyttet"):
        admin.bind_sso("kari@lv.no", ISSUER, "sub-kari-2")
    admin.unlink_sso("kari@lv.no")
    assert admin.list()[0].sso is False
    with pytest.raises(AuthError, match="ikke knyttet"):
        admin.unlink_sso("kari@lv.no")
    admin.bind_sso("kari@lv.no", ISSUER, "sub-kari-2")
    with connect(db) as con:
        assert (
            sso_login(
                con, claims_identity(token(sub="sub-kari-2", email="kari2@lv.no", roles=leder), SSO)
            ).username
            == "kari@lv.no"
        )
        with pytest.raises(AuthError, match="annen identitet"):  # the old subject
            sso_login(con, claims_identity(token(sub="sub-kari", email="kari@lv.no", roles=leder), SSO))
    admin.unlink_sso("kari@lv.no")
    with connect(db) as con:  # unlinked: the next log-in that names the account binds it
        assert (
            sso_login(
                con, claims_identity(token(sub="sub-kari-3", email="kari@lv.no", roles=leder), SSO)
            ).role
            == "leder"
        )
        assert con.execute("SELECT subject FROM sso_identities").fetchall() == [("sub-kari-3",)]
        audit = con.execute(
            "SELECT username, action FROM audit WHERE action IN ('link_sso', 'unlink_sso') ORDER BY audit_id"
        ).fetchall()
    assert audit == [("kari@lv.no", "link_sso"), ("root", "unlink_sso"), ("root", "link_sso"),
                     ("root", "unlink_sso"), ("kari@lv.no", "link_sso")]  # fmt: skip


def test_an_identity_is_bound_only_by_an_admin_to_an_account_without_a_password(tmp_path):
    from lydlogg.auth import create_user

    db = tmp_path / "sso.duckdb"
    with connect(db) as con:
        create_user(con, "per", "Per", "leder", "pers-password-1")
        sso_login(con, claims_identity(token(sub="sub-eva", email="eva@lv.no", roles=["lydlogg-leder"]), SSO))
        con.execute(
            "INSERT INTO users (username, display_name, role, password_hash) VALUES ('ida', 'Ida', 'leder', NULL)"
        )
    admin = admin_service(db)
    with pytest.raises(AuthError, match="lokal konto"):
        admin.bind_sso("per", ISSUER, "sub-per")
    with pytest.raises(AuthError, match="annen konto"):
        admin.bind_sso("ida", ISSUER, "sub-eva")
    with pytest.raises(AuthError, match="utsteder"):
        admin.bind_sso("ida", " ", "sub-ida")
    with pytest.raises(AuthError, match="egen"):
        admin_service(db).unlink_sso("root")
    from lydlogg.access import AccessDenied
    from lydlogg.auth import User
    from lydlogg.users import UserAdminService

    leder = UserAdminService(db, User("per", "Per", "leder", None))
    for change in (lambda: leder.unlink_sso("eva@lv.no"), lambda: leder.bind_sso("ida", ISSUER, "x"),
                   lambda: leder.unpin_role("eva@lv.no")):  # fmt: skip
        with pytest.raises(AccessDenied):
            change()
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM sso_identities").fetchone() == (1,)


def test_an_account_is_bound_to_the_issuer_and_subject_not_the_e_mail(tmp_path):
    """Once bound, the account follows ``iss`` + ``sub``: a new e-mail address keeps the account,
    and the same e-mail address from another subject or another issuer does not get it."""
    leder = ["lydlogg-leder"]
    with connect(tmp_path / "sso.duckdb") as con:
        assert (
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=leder), SSO)).username
            == "kari@lv.no"
        )
        renamed = claims_identity(token(email="kari.nordmann@lv.no", roles=leder), SSO)
        assert sso_login(con, renamed).username == "kari@lv.no"  # the provider changed her address
        for other in (token(sub="sub-mallory", email="kari@lv.no", roles=leder),
                      token(iss="https://evil.test", email="kari@lv.no", roles=leder)):  # fmt: skip
            with pytest.raises(AuthError, match="knyttet til en annen identitet"):
                sso_login(con, claims_identity(other, SSO))
        bindings = con.execute("SELECT issuer, subject, username FROM sso_identities").fetchall()
        refused = con.execute(
            "SELECT detail FROM audit WHERE action = 'login_sso_refused' ORDER BY audit_id"
        ).fetchall()
    assert bindings == [(ISSUER, "sub-kari", "kari@lv.no")]
    assert refused == [("account bound to another identity",)] * 2


def test_an_identity_is_never_bound_to_a_local_account(tmp_path):
    from lydlogg.auth import create_user

    with connect(tmp_path / "sso.duckdb") as con:
        create_user(con, "per@lv.no", "Per", "leder", "pers-password-1")
        with pytest.raises(AuthError, match="lokal konto"):
            sso_login(
                con, claims_identity(token(sub="sub-per", email="per@lv.no", roles=["lydlogg-leder"]), SSO)
            )
        assert con.execute("SELECT count(*) FROM sso_identities").fetchone() == (0,)
        assert authenticate(con, "per@lv.no", "pers-password-1").username == "per@lv.no"  # untouched


def test_an_account_without_a_password_is_bound_on_its_first_sso_login(tmp_path):
    """An account made for single sign-on (no password), e.g. before bindings existed, is bound
    to the first identity that logs in to it, and keeps its role when an admin pinned it."""
    with connect(tmp_path / "sso.duckdb") as con:
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash)"
            " VALUES ('eva@lv.no', 'Eva', 'veileder', NULL, NULL)"
        )
        con.execute("INSERT INTO role_pins (username, pinned_by) VALUES ('eva@lv.no', 'root')")
        user = sso_login(
            con, claims_identity(token(sub="sub-eva", email="eva@lv.no", roles=["lydlogg-leder"]), SSO)
        )
        assert (user.username, user.role) == ("eva@lv.no", "veileder")
        assert con.execute("SELECT subject FROM sso_identities WHERE username = 'eva@lv.no'").fetchone() == (
            "sub-eva",
        )
        con.execute("DELETE FROM users WHERE username = 'eva@lv.no'")
        with pytest.raises(AuthError, match="ingen tilgang"):  # bound to an account that is gone
            sso_login(
                con, claims_identity(token(sub="sub-eva", email="eva@lv.no", roles=["lydlogg-leder"]), SSO)
            )


def test_streamlit_secrets_are_written_private_and_missing_pieces_are_named(tmp_path):
    base = {"db_path": tmp_path / "x.duckdb", "key_file": tmp_path / "secrets" / "pseudonym.key"}
    settings = load_settings(None, **base, sso={"enabled": True, "client_id": "lydlogg",
                             "server_metadata_url": "https://idp.test/.well-known/openid-configuration",
                             "client_secret_file": str(tmp_path / "secrets" / "client")})  # fmt: skip
    with pytest.raises(SsoConfigError, match="client"):
        write_streamlit_secrets(settings)
    (tmp_path / "secrets").mkdir(exist_ok=True)
    (tmp_path / "secrets" / "client").write_text('se"cret\n')
    path = write_streamlit_secrets(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    import tomllib

    auth = tomllib.loads(path.read_text())["auth"]
    assert (
        auth["client_secret"] == 'se"cret'
        and auth["client_id"] == "lydlogg"
        and len(auth["cookie_secret"]) > 40
    )
    with pytest.raises(SsoConfigError, match="sso.server_metadata_url"):
        write_streamlit_secrets(load_settings(None, **base, sso={"enabled": True, "client_id": "x"}))


NODE = shutil.which("node")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (apt-get install nodejs npm)")
@pytest.mark.skipif(
    not (OIDC / "node_modules" / "oidc-provider").is_dir(), reason="run `npm ci` in tests/oidc"
)
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_single_sign_on_through_a_real_oidc_provider(tmp_path):
    from conftest import build_reference_db
    from playwright.sync_api import sync_playwright
    from test_browser import ARTIFACTS, CHROMIUM_FLAGS, free_port, wait_for_port

    db = build_reference_db(tmp_path / "db")
    idp_port, app_port = free_port(), free_port()
    app_url = f"http://localhost:{app_port}"
    (tmp_path / "client-secret").write_text("test-client-secret\n")
    config = tmp_path / "lydlogg.toml"
    config.write_text(
        f'db_path = "{db}"\nkey_file = "{tmp_path / "secrets" / "pseudonym.key"}"\n'
        f'[server]\naddress = "localhost"\nport = {app_port}\n'
        f'[sso]\nenabled = true\nclient_id = "lydlogg"\nclient_secret_file = "{tmp_path / "client-secret"}"\n'
        f'server_metadata_url = "http://localhost:{idp_port}/.well-known/openid-configuration"\n'
        f'redirect_uri = "{app_url}/oauth2callback"\nprompt = "login"\nmax_identity_age_seconds = 30\n'
        f'acr_values = ["urn:lv:loa:high"]\n'
        f'[sso.role_map]\n"lydlogg-leder" = "leder"\n"lydlogg-veileder" = "veileder"\n'
    )
    issuer = f"http://localhost:{idp_port}"
    with connect(db) as con:  # accounts bound earlier: Eva's role pinned by an admin, Tor's not
        con.execute(
            "INSERT INTO users (username, display_name, role, password_hash) VALUES"
            " ('eva@legevakt.test', 'Eva Nordmann', 'veileder', NULL),"
            " ('tor@legevakt.test', 'Tor Nordmann', 'leder', NULL)"
        )
        con.execute(
            "INSERT INTO sso_identities (issuer, subject, username) VALUES"
            " (?, 'eva', 'eva@legevakt.test'), (?, 'tor', 'tor@legevakt.test')",
            [issuer, issuer],
        )
        con.execute("INSERT INTO role_pins (username, pinned_by) VALUES ('eva@legevakt.test', 'admin')")
    idp = subprocess.Popen(
        [NODE, "provider.mjs", str(idp_port), f"{app_url}/oauth2callback", "test-client-secret"],
        cwd=OIDC, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    app = subprocess.Popen(
        [sys.executable, "-m", "lydlogg.cli", "serve", "--config", str(config)],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for_port(idp_port, idp)
        wait_for_port(app_port, app)
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            for who, expect in (("kari", "Innboks"), ("ola", "ingen tilgang"), ("per", "sikkerhetsnivå"),
                                ("eva", "Eva Nordmann"), ("tor", "Tor Nordmann")):  # fmt: skip
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(app_url, wait_until="domcontentloaded")
                page.get_by_role("button", name="Logg inn med Helse-ID / Entra ID").click(timeout=60_000)
                page.locator("input[name=login]").fill(who, timeout=30_000)  # the provider's own page
                page.locator("input[name=password]").fill("any")
                page.locator("button[type=submit]").click()
                page.locator("button[type=submit]").click(timeout=30_000)  # consent: "Continue"
                if expect == "Innboks":
                    page.get_by_role("heading", name="Innboks").wait_for(timeout=60_000)
                    page.get_by_text("Kari Nordmann").wait_for(timeout=10_000)
                    page.screenshot(path=str(ARTIFACTS / "sso-innboks.png"))
                    # The Lydlogg session ends (idle, lifetime, another tab) but Streamlit's identity
                    # cookie lives on: the next person at this PC must not come in as Kari.
                    page.context.clear_cookies(name="lydlogg_session")
                    time.sleep(35)  # past sso.max_identity_age_seconds
                    page.goto(app_url, wait_until="domcontentloaded")
                    # the stale identity is logged out, at the provider too: its sign-out page
                    page.wait_for_url("**/session/end**", timeout=60_000)
                    page.screenshot(path=str(ARTIFACTS / "sso-stale-identity.png"))
                    assert page.get_by_text("Kari Nordmann").count() == 0
                elif expect.endswith("Nordmann"):  # in, with the role the sidebar names
                    page.get_by_role("heading", name="Innboks").wait_for(timeout=60_000)
                    page.get_by_text(f"{expect} (veileder)").wait_for(timeout=10_000)
                else:
                    page.get_by_text(expect).first.wait_for(timeout=60_000)
                page.close()
            browser.close()
    finally:
        for proc in (app, idp):
            proc.terminate()
            proc.wait(timeout=20)
    with connect(db) as con:
        roles = dict(
            con.execute("SELECT username, role FROM users WHERE username LIKE '%@legevakt.test'").fetchall()
        )
        kari = con.execute(
            "SELECT role, display_name FROM users WHERE username = 'kari@legevakt.test'"
        ).fetchone()
        refused = dict(
            con.execute("SELECT username, detail FROM audit WHERE action = 'login_sso_refused'").fetchall()
        )
        changed = con.execute(
            "SELECT username, detail FROM audit WHERE action = 'role_from_claims'"
        ).fetchall()
    assert kari == ("leder", "Kari Nordmann")
    assert refused == {"ola@legevakt.test": "no role", "per@legevakt.test": "acr=urn:lv:loa:substantial"}
    # Eva's pinned role stood against her leder claim; Tor's role followed his veileder claim
    assert roles == {
        "kari@legevakt.test": "leder",
        "eva@legevakt.test": "veileder",
        "tor@legevakt.test": "veileder",
    }
    assert changed == [("tor@legevakt.test", "leder -> veileder")]


@pytest.mark.parametrize(
    ("claims", "fresh"),
    [
        ({"iat": 1_000_000}, True),
        ({"iat": 1_000_000 - 299}, True),
        ({"iat": 1_000_000 - 301}, False),  # older than max_identity_age_seconds
        ({"iat": 1_000_000 - 30 * 86400}, False),  # the 30-day cookie of the previous user
        ({"auth_time": 1_000_000 - 4000, "iat": 1_000_000}, False),  # a refreshed token, an old log-in
        ({"iat": 1_000_000 + 30}, True),  # small clock skew
        ({"iat": 1_000_000 + 3600}, False),
        ({}, False),
        ({"iat": "1000000"}, False),
        ({"iat": True}, False),
    ],
)
def test_only_a_fresh_identity_starts_a_session(claims, fresh):
    from lydlogg.sso import identity_fresh

    assert identity_fresh(claims, 1_000_000.0, 300) is fresh


def test_schema_v27_pins_the_roles_admins_gave_sso_accounts_before_it(tmp_path):
    """Before v27 an admin's role always won over the claims; the upgrade keeps that for every
    account without a password whose role an admin changed, and lets the claims set the others."""
    import duckdb

    from lydlogg.audit import record
    from lydlogg.db import migrate

    db = tmp_path / "v26.duckdb"
    with duckdb.connect(str(db)) as con:
        migrate(con, up_to=26)
        con.execute(
            "INSERT INTO users (username, display_name, role, password_hash) VALUES"
            " ('eva@lv.no', 'Eva', 'veileder', NULL), ('kari@lv.no', 'Kari', 'leder', NULL),"
            " ('per', 'Per', 'leder', 'hash')"
        )
        record(con, "root", "change_role", "user", "eva@lv.no", "leder -> veileder")
        record(con, "root", "change_role", "user", "per", "veileder -> leder")  # local: nothing to pin
        record(con, "root", "create_user_sso", "user", "kari@lv.no", "role=leder")
        assert migrate(con) >= 27
        assert con.execute("SELECT username, pinned_by FROM role_pins").fetchall() == [
            ("eva@lv.no", "schema v27")
        ]


def test_the_users_command_pins_unpins_unlinks_and_binds(tmp_path):
    from click.testing import CliRunner

    from lydlogg.cli import main

    db = tmp_path / "sso.duckdb"
    with connect(db) as con:
        sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))

    def run(*args: str):
        return CliRunner().invoke(main, ["users", *args, "--db", str(db)])

    out = run("pin-role", "kari@lv.no", "veileder")
    assert out.exit_code == 0 and "veileder (pinned)" in out.output
    with connect(db) as con:
        assert (
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO)).role
            == "veileder"
        )
    assert run("unpin-role", "kari@lv.no").exit_code == 0
    out = run("unpin-role", "kari@lv.no")
    assert out.exit_code != 0 and "ikke festet" in out.output
    assert run("unlink-sso", "kari@lv.no").exit_code == 0
    out = run("bind-sso", "kari@lv.no", "--issuer", ISSUER, "--subject", "sub-ny")
    assert out.exit_code == 0, out.output
    out = run("bind-sso", "kari@lv.no", "--issuer", ISSUER, "--subject", "sub-tredje")
    assert out.exit_code != 0 and "allerede knyttet" in out.output
    with connect(db) as con:
        assert con.execute("SELECT subject FROM sso_identities").fetchall() == [("sub-ny",)]
        actors = con.execute(
            "SELECT DISTINCT username FROM audit WHERE action IN ('pin_role', 'unpin_role', 'unlink_sso')"
        ).fetchall()
    assert len(actors) == 1 and actors[0][0].startswith("cli:")  # the OS account that ran it
