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

ROLE_MAP = {"lydlogg-leder": "leder", "lydlogg-veileder": "veileder", "sykepleier": "operator"}
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


def test_first_sso_login_creates_the_user_and_an_admins_role_wins_later(tmp_path):
    with connect(tmp_path / "sso.duckdb") as con:
        user = sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
        assert user.role == "leder"
        con.execute("UPDATE users SET role = 'veileder' WHERE username = 'kari@lv.no'")  # the admin decides
        assert (
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO)).role
            == "veileder"
        )
        with pytest.raises(AuthError):  # no password: an SSO account cannot log in locally
            authenticate(con, "kari@lv.no", "")
        with pytest.raises(AuthError, match="ingen tilgang"):
            sso_login(con, claims_identity(token(sub="sub-ola", email="ola@lv.no", roles=["andre"]), SSO))
        con.execute("UPDATE users SET active = false WHERE username = 'kari@lv.no'")
        with pytest.raises(AuthError, match="deaktivert"):
            sso_login(con, claims_identity(token(email="kari@lv.no", roles=["lydlogg-leder"]), SSO))
        actions = con.execute(
            "SELECT action FROM audit WHERE object_type = 'user' AND action LIKE '%sso%' ORDER BY audit_id"
        ).fetchall()
    assert [a[0] for a in actions] == [
        "create_user_sso", "link_sso", "login_sso", "login_sso", "login_sso_refused", "login_sso_refused",
    ]  # fmt: skip


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
    to the first identity that logs in to it, and keeps its role."""
    with connect(tmp_path / "sso.duckdb") as con:
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash)"
            " VALUES ('eva@lv.no', 'Eva', 'veileder', NULL, NULL)"
        )
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
        f'[sso.role_map]\n"lydlogg-leder" = "leder"\n'
    )
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
            for who, expect in (("kari", "Innboks"), ("ola", "ingen tilgang")):
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
                else:
                    page.get_by_text("ingen tilgang").first.wait_for(timeout=60_000)
                page.close()
            browser.close()
    finally:
        for proc in (app, idp):
            proc.terminate()
            proc.wait(timeout=20)
    with connect(db) as con:
        kari = con.execute(
            "SELECT role, display_name FROM users WHERE username = 'kari@legevakt.test'"
        ).fetchone()
        refused = con.execute(
            "SELECT count(*) FROM audit WHERE username = 'ola@legevakt.test' AND action = 'login_sso_refused'"
        ).fetchone()[0]
    assert kari == ("leder", "Kari Nordmann") and refused == 1


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
