"""The admin's user page and the audit trail viewer: pure helpers, services and pages (AppTest)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lydlogg.access import AccessDenied
from lydlogg.auth import (
    DEMO_UNITS,
    DEMO_USERS,
    REFUSED,
    AuthError,
    LoginSettings,
    User,
    authenticate,
    create_user,
    get_user,
    hash_password,
)
from lydlogg.db import connect
from lydlogg.settings import Settings, load_settings
from lydlogg.sso import SsoIdentity, sso_login
from lydlogg.vocabulary import AUDIT_ACTION_LABELS
from review.audit_log import (
    DETAIL_MAX,
    AuditFilter,
    AuditLogService,
    audit_params,
    safe_detail,
    to_csv,
)
from review.service import ReviewService
from review.views.admin import (
    MIN_PASSWORD_LENGTH,
    in_norwegian,
    user_table,
    validate_new_user,
    validate_password,
)

REPO = Path(__file__).resolve().parent.parent
ADMIN_PAGE = str(REPO / "review" / "views" / "brukere.py")
AUDIT_PAGE = str(REPO / "review" / "views" / "revisjonslogg.py")
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


# --- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("the password must have at least 10 characters", "Passordet må ha minst 10 tegn."),
        (
            "demo passwords are refused when LYDLOGG_ENV=production",
            "Demo-passord er ikke tillatt i produksjon.",
        ),
        ("user 'anne' exists already", "Brukernavnet finnes allerede."),
        (
            "a user with role 'lege' needs an operator_id (their id in the call metadata)",
            "krever operatør-id",
        ),
        ("role 'sjef' is not one of admin, leder", "Ukjent rolle."),
        ("du kan ikke endre din egen rolle", "Du kan ikke endre din egen rolle"),
        ("ingen bruker 'x'", "Ingen bruker 'x'"),
    ],
)
def test_refusals_are_shown_in_norwegian(message, expected):
    assert expected in in_norwegian(AuthError(message))


@pytest.mark.parametrize(
    ("form", "problems"),
    [
        (("vera", "Vera V", "veileder", "", "langt-passord", "langt-passord"), []),
        (("lars", "Lars Lege", "lege", "lege-berg", "langt-passord", "langt-passord"), []),
        (("lars", "Lars Lege", "lege", " ", "langt-passord", "langt-passord"), ["operatør-id"]),
        (("Vera V", "Vera", "veileder", "", "langt-passord", "langt-passord"), ["Brukernavnet"]),
        (("v", "Vera", "veileder", "", "langt-passord", "langt-passord"), ["Brukernavnet"]),
        (("vera", "  ", "veileder", "", "langt-passord", "langt-passord"), ["Navn"]),
        (("vera", "Vera", "sjef", "", "langt-passord", "langt-passord"), ["rolle"]),
        (("vera", "Vera", "leder", "", "kort", "kort"), ["minst 10 tegn"]),
        (("vera", "Vera", "leder", "", "langt-passord", "langt-passorD"), ["ikke like"]),
        (("", "", "operator", "", "", "x"), ["Brukernavnet", "Navn", "operatør-id", "minst", "ikke like"]),
    ],
)
def test_the_new_user_form_says_every_problem(form, problems):
    errors = validate_new_user(*form)
    assert len(errors) == len(problems)
    for error, problem in zip(errors, problems, strict=True):
        assert problem in error


def test_the_page_minimum_is_the_rule_that_auth_enforces():
    assert validate_password("x" * MIN_PASSWORD_LENGTH, "x" * MIN_PASSWORD_LENGTH) == []
    assert validate_password("x" * (MIN_PASSWORD_LENGTH - 1), "x" * (MIN_PASSWORD_LENGTH - 1))
    hash_password("x" * MIN_PASSWORD_LENGTH)
    with pytest.raises(AuthError):
        hash_password("x" * (MIN_PASSWORD_LENGTH - 1))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, AuditFilter()),
        ({"bruker": "anne", "handling": "view_call"}, AuditFilter(username="anne", action="view_call")),
        ({"samtale": " lvs-001 ", "side": "3"}, AuditFilter(call_id="lvs-001", page=2)),
        (
            {"fra": "2026-03-01", "til": "2026-03-31"},
            AuditFilter(start=date(2026, 3, 1), end=date(2026, 3, 31)),
        ),
        (
            {"fra": "1. mars", "til": "2026-13-01", "side": "x"},
            AuditFilter(),
        ),  # what does not parse is ignored
        ({"side": "-4", "bruker": ""}, AuditFilter()),
    ],
)
def test_the_audit_filter_comes_from_the_url_and_goes_back(query, expected):
    wanted = AuditFilter.from_query(query)
    assert wanted == expected
    assert AuditFilter.from_query(wanted.to_query()) == wanted


@pytest.mark.parametrize(
    ("wanted", "limit", "expected"),
    [
        (AuditFilter(), 500, {"username": None, "start": None, "end": None, "limit": 500, "offset": 0}),
        (AuditFilter(page=2), 50, {"limit": 50, "offset": 100}),
        (
            AuditFilter(start=date(2026, 3, 1), end=date(2026, 3, 1)),
            500,
            {"start": datetime(2026, 3, 1), "end": datetime(2026, 3, 2)},  # the end day is included
        ),
    ],
)
def test_audit_parameters(wanted, limit, expected):
    params = audit_params(wanted, limit=limit)
    assert {k: params[k] for k in expected} == expected


def test_a_page_needs_a_positive_limit():
    with pytest.raises(ValueError, match="at least 1"):
        audit_params(AuditFilter(), limit=0)


@pytest.mark.parametrize(
    ("detail", "shown"),
    [
        (None, ""),
        (float("nan"), ""),
        ("peer 4f2a", "peer 4f2a"),
        ("segment 3:\n text", "segment 3: text"),
        ("x" * (DETAIL_MAX + 40), "x" * (DETAIL_MAX - 1) + "…"),
    ],
)
def test_audit_details_are_short(detail, shown):
    assert safe_detail(detail) == shown


# --- databases ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def users_template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("admin-users") / "users.duckdb"
    with connect(db) as con:
        for username, name, role, operator_id, password in DEMO_USERS:
            create_user(con, username, name, role, password, operator_id=operator_id)
    return db


@pytest.fixture
def users_db(users_template, tmp_path) -> Path:
    """A fresh copy of a database holding only the demo users (fast, for the admin page)."""
    db = tmp_path / "users.duckdb"
    shutil.copy(users_template, db)
    return db


@pytest.fixture(scope="module")
def calls_db(tmp_path_factory) -> Path:
    from conftest import build_reference_db

    return build_reference_db(tmp_path_factory.mktemp("admin-pages"))


@pytest.fixture
def fresh_calls_db(calls_db, tmp_path) -> Path:
    db = tmp_path / "calls.duckdb"
    shutil.copy(calls_db, db)
    return db


def _audit_rows(db: Path, action: str) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT username, object_id, detail FROM audit WHERE action = ? ORDER BY audit_id", [action]
        ).fetchall()


def page(script: str, db: Path, user: str | User, settings: Settings | None = None, **query: str) -> AppTest:
    """A page on its own, with the service the app would give it (``settings``: the app's)."""
    at = AppTest.from_file(script, default_timeout=30)
    at.session_state["service"] = ReviewService(db, USERS[user] if isinstance(user, str) else user, settings)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("title", "caption", "markdown", "error", "success", "info")
        for e in getattr(at, kind)
    ]
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


# --- the admin page ------------------------------------------------------------------------------------


def test_the_admin_sees_every_user_and_how_they_log_in_but_no_hash(users_db):
    with connect(users_db) as con:
        sso_login(
            con, SsoIdentity("kari@hf.no", "Kari SSO", "veileder", None, "https://idp.hf.test", "sub-kari")
        )
    at = page(ADMIN_PAGE, users_db, "admin")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert set(table["Brukernavn"]) == {u[0] for u in DEMO_USERS} | {"kari@hf.no"}
    assert dict(zip(table["Brukernavn"], table["Enheter"], strict=True))["kari@hf.no"] == "standard"
    assert dict(zip(table["Brukernavn"], table["Innlogging"], strict=True))["kari@hf.no"] == "SSO"
    assert set(table.loc[table["Brukernavn"] != "kari@hf.no", "Innlogging"]) == {"lokal"}
    assert table.loc[table["Brukernavn"] == "anne", "Rolle"].item() == "Operatør"
    assert "argon2" not in _texts(at) and "password" not in " ".join(table.columns).lower()


@pytest.mark.parametrize("who", ["leder", "veileder", "anne"])
def test_others_get_no_access_to_the_admin_page(users_db, who):
    at = page(ADMIN_PAGE, users_db, who)
    assert not at.exception and at.error[0].value == "ingen tilgang"
    assert not at.dataframe and not at.text_input
    with connect(users_db) as con:
        assert con.execute("SELECT count(*) FROM audit WHERE username = ?", [who]).fetchone()[0] == 0


def _new_user(at: AppTest, username: str, name: str, role: str, operator_id: str, password: str, again=None):
    at.text_input(key="ny-brukernavn").input(username)
    at.text_input(key="ny-navn").input(name)
    at.selectbox(key="ny-rolle").set_value(role)
    at.text_input(key="ny-operator").input(operator_id)
    at.text_input(key="ny-passord").input(password)
    at.text_input(key="ny-passord-igjen").input(password if again is None else again)
    return at.button(key="FormSubmitter:ny-bruker-Opprett bruker").click().run()


def test_a_new_user_starts_with_the_fewest_rights(users_db):
    at = page(ADMIN_PAGE, users_db, "admin")
    assert not at.exception, at.exception
    assert at.selectbox(key="ny-rolle").value == "operator"  # own calls only, not Administrator
    at.text_input(key="ny-brukernavn").input("nina")
    at.text_input(key="ny-navn").input("Nina Ny")
    at.text_input(key="ny-operator").input("op-nina")
    at.text_input(key="ny-passord").input("ninas-passord")
    at.text_input(key="ny-passord-igjen").input("ninas-passord")
    at.button(key="FormSubmitter:ny-bruker-Opprett bruker").click().run()
    assert not at.exception, at.exception
    assert _audit_rows(users_db, "create_user")[-1] == ("admin", "nina", "role=operator")


def test_the_admin_adds_a_user_who_can_then_log_in(users_db):
    at = _new_user(
        page(ADMIN_PAGE, users_db, "admin"), "Lars", "Lars Lege", "lege", "lege-berg", "larss-passord"
    )
    assert not at.exception, at.exception
    assert "lars er opprettet" in at.success[0].value
    assert "lars" in set(at.dataframe[0].value["Brukernavn"])
    assert _audit_rows(users_db, "create_user")[-1] == ("admin", "lars", "role=lege")
    with connect(users_db) as con:
        assert authenticate(con, "lars", "larss-passord") == User(
            "lars", "Lars Lege", "lege", "lege-berg", ("standard",)
        )  # the form's default unit


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (("vera", "Vera", "veileder", "", "kort-pw"), "minst 10 tegn"),
        (("anne", "Anne igjen", "operator", "op-anne", "langt-passord"), "finnes allerede"),
        (("lars", "Lars", "lege", "", "langt-passord"), "krever operatør-id"),
    ],
)
def test_a_refused_new_user_says_why_in_norwegian_and_adds_nothing(users_db, form, message):
    at = _new_user(page(ADMIN_PAGE, users_db, "admin"), *form)
    assert not at.exception, at.exception
    assert any(message in e.value for e in at.error)
    assert not at.success
    with connect(users_db) as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == len(DEMO_USERS)


def test_demo_passwords_are_refused_on_a_production_page(users_db, monkeypatch):
    monkeypatch.setenv("LYDLOGG_ENV", "production")  # read once, as the app does, and passed down
    production = load_settings(None, db_path=users_db)
    at = _new_user(
        page(ADMIN_PAGE, users_db, "admin", production), "vera2", "Vera", "veileder", "", "demo-leder"
    )
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["Demo-passord er ikke tillatt i produksjon."]


def _sso_account(db: Path) -> None:
    """kari@hf.no: made by her first SSO log-in as veileder, bound to her identity."""
    with connect(db) as con:
        sso_login(
            con, SsoIdentity("kari@hf.no", "Kari SSO", "veileder", None, "https://idp.hf.test", "sub-kari")
        )


def test_the_admin_pins_an_sso_accounts_role_sees_it_and_unpins_it(users_db):
    _sso_account(users_db)
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "kari@hf.no")
    roles = dict(
        zip(at.dataframe[0].value["Brukernavn"], at.dataframe[0].value["Rollen settes av"], strict=True)
    )
    assert roles["kari@hf.no"] == "identitetstjenesten" and roles["anne"] == "admin"
    assert "rollen settes av identitetstjenesten" in _texts(at)
    at.selectbox(key="endre-rolle-valg-kari@hf.no").set_value("leder")
    at = at.button(key="FormSubmitter:endre-rolle-Lagre rolle").click().run()
    assert not at.exception and "endret til leder og festet" in at.success[0].value
    roles = dict(
        zip(at.dataframe[0].value["Brukernavn"], at.dataframe[0].value["Rollen settes av"], strict=True)
    )
    assert roles["kari@hf.no"] == "admin (festet)"
    assert _audit_rows(users_db, "pin_role") == [("admin", "kari@hf.no", "role=leder")]
    at = _choose(at, "kari@hf.no").button(key="løs-rolle").click().run()
    assert not at.exception and "settes av identitetstjenesten" in at.success[0].value
    assert _audit_rows(users_db, "unpin_role") == [("admin", "kari@hf.no", None)]


def test_a_local_account_has_no_pin_or_sso_controls(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "lise")
    assert not at.checkbox and not [b for b in at.button if b.key in ("løs-rolle", "fjern-sso")]


def test_the_admin_unlinks_an_sso_identity_and_binds_another_on_the_page(users_db):
    _sso_account(users_db)
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "kari@hf.no").button(key="fjern-sso").click().run()
    assert not at.exception and "SSO-koblingen til kari@hf.no er fjernet" in at.success[0].value
    assert _audit_rows(users_db, "unlink_sso") == [("admin", "kari@hf.no", "issuer=https://idp.hf.test")]
    at = _choose(at, "kari@hf.no")
    at.text_input(key="knytt-iss-kari@hf.no").input("https://idp.hf.test")
    at.text_input(key="knytt-sub-kari@hf.no").input("sub-kari-ny")
    at = at.button(key="FormSubmitter:knytt-sso-Knytt SSO-identitet").click().run()
    assert not at.exception and "knyttet til SSO-identiteten" in at.success[0].value
    with connect(users_db) as con:
        assert con.execute(
            "SELECT issuer, subject FROM sso_identities WHERE username = 'kari@hf.no'"
        ).fetchall() == [("https://idp.hf.test", "sub-kari-ny")]


def _choose(at: AppTest, username: str) -> AppTest:
    return at.selectbox(key="endre-bruker").set_value(username).run()


def test_the_admin_sets_a_users_units_on_the_page(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "lise")
    assert at.multiselect(key="endre-enheter-lise").value == ["standard"]
    at.multiselect(key="endre-enheter-lise").set_value([])
    at.text_input(key="endre-enhet-annen-lise").input("Sørvik legevakt")
    at = at.button(key="FormSubmitter:endre-enheter-Lagre enheter").click().run()
    assert not at.exception and "Sørvik legevakt" in at.success[0].value
    assert _audit_rows(users_db, "set_units")[-1] == ("admin", "lise", "standard -> Sørvik legevakt")
    at.text_input(key="endre-enhet-annen-lise").input("Nord/Sør")  # refused, in bokmål, nothing saved
    at = at.button(key="FormSubmitter:endre-enheter-Lagre enheter").click().run()
    assert [e.value for e in at.error] == [
        "En enhet har 1–64 tegn: bokstaver, sifre, mellomrom og - _ . ', og begynner med bokstav eller siffer."
    ]
    with connect(users_db) as con:
        assert get_user(con, "lise").units == ("Sørvik legevakt",)


def test_the_admin_changes_a_role_and_operator_id(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "lise")
    at.selectbox(key="endre-rolle-valg-lise").set_value("lege")
    at.text_input(key="endre-operator-lise").input("lege-berg")
    at = at.button(key="FormSubmitter:endre-rolle-Lagre rolle").click().run()
    assert not at.exception and "endret til lege" in at.success[0].value
    assert _audit_rows(users_db, "change_role") == [("admin", "lise", "operator -> lege")]
    with connect(users_db) as con:
        assert con.execute("SELECT role, operator_id FROM users WHERE username = 'lise'").fetchone() == (
            "lege",
            "lege-berg",
        )


def test_the_admin_puts_an_operator_in_a_team_and_takes_them_out(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "anne")
    at.text_input(key="endre-lag-anne").input("  Lag   A ")
    at = at.button(key="FormSubmitter:endre-lag-Lagre lag").click().run()
    assert not at.exception and at.success[0].value == "op-anne har nå laget Lag A."
    table = at.dataframe[0].value
    assert dict(zip(table["Brukernavn"], table["Lag"], strict=True))["anne"] == "Lag A"
    at = _choose(at, "anne")
    assert at.text_input(key="endre-lag-anne").value == "Lag A"  # as saved, not as typed
    assert _choose(at, "lise").text_input(key="endre-lag-lise").value == ""
    at = _choose(at, "anne")
    at.text_input(key="endre-lag-anne").input("")
    at = at.button(key="FormSubmitter:endre-lag-Lagre lag").click().run()
    assert at.success[0].value == "op-anne har nå ikke noe lag."
    assert _audit_rows(users_db, "set_team") == [
        ("admin", "op-anne", "- -> Lag A"),
        ("admin", "op-anne", "Lag A -> -"),
    ]


def test_only_users_with_an_operator_id_have_a_team_form(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "leder")
    assert not [t for t in at.text_input if t.key.startswith("endre-lag-")]


def test_the_edit_form_shows_the_chosen_users_values(users_db):
    """Choosing another user must not carry the previous user's role or operator id into the form,
    where saving would give it to the new user."""
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "anne")
    assert at.selectbox(key="endre-rolle-valg-anne").value == "operator"
    assert at.text_input(key="endre-operator-anne").value == "op-anne"
    at = _choose(at, "leder")
    assert at.selectbox(key="endre-rolle-valg-leder").value == "leder"
    assert at.text_input(key="endre-operator-leder").value == ""
    at = at.button(key="FormSubmitter:endre-rolle-Lagre rolle").click().run()
    with connect(users_db) as con:
        assert con.execute("SELECT role FROM users WHERE username = 'leder'").fetchone() == ("leder",)


def test_the_admin_cannot_change_their_own_role(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "admin")
    at.selectbox(key="endre-rolle-valg-admin").set_value("leder")
    at = at.button(key="FormSubmitter:endre-rolle-Lagre rolle").click().run()
    assert at.error[0].value == "Du kan ikke endre din egen rolle"
    assert _audit_rows(users_db, "change_role") == []


def test_deactivate_then_reactivate(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "anne")
    at = at.button(key="deaktiver").click().run()
    assert "anne er deaktivert" in at.success[0].value
    with connect(users_db) as con, pytest.raises(AuthError, match=REFUSED):
        authenticate(con, "anne", "demo-anne-1")
    at = _choose(at, "anne").button(key="aktiver").click().run()
    assert "aktivert igjen" in at.success[0].value
    assert [r[1] for r in _audit_rows(users_db, "deactivate_user")] == ["anne"]
    assert [r[1] for r in _audit_rows(users_db, "activate_user")] == ["anne"]
    with connect(users_db) as con:
        assert authenticate(con, "anne", "demo-anne-1").username == "anne"


def test_the_admin_cannot_deactivate_themselves(users_db):
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "admin").button(key="deaktiver").click().run()
    assert "deaktivere deg selv" in at.error[0].value
    assert _audit_rows(users_db, "deactivate_user") == []


def test_unlock_and_reset_password(users_db):
    rules = LoginSettings(free_attempts=2)
    with connect(users_db) as con:
        for _ in range(2):
            with pytest.raises(AuthError):
                authenticate(con, "lise", "feil-passord", settings=rules, source="elsewhere")
    at = _choose(page(ADMIN_PAGE, users_db, "admin"), "lise")
    assert at.dataframe[0].value.set_index("Brukernavn").loc["lise", "Låst til"] == ""  # never locked
    at = at.button(key="opphev").click().run()  # clears the failure count
    assert "Sperringen av lise er opphevet" in at.success[0].value
    at = _choose(at, "lise")
    at.text_input(key="nytt-passord").input("kort")
    at.text_input(key="nytt-passord-igjen").input("kort")
    at = at.button(key="FormSubmitter:nytt-passord-Sett nytt passord").click().run()
    assert "minst 10 tegn" in at.error[0].value and _audit_rows(users_db, "reset_password") == []
    at.text_input(key="nytt-passord").input("lises-nye-passord")
    at.text_input(key="nytt-passord-igjen").input("lises-nye-passord")
    at = at.button(key="FormSubmitter:nytt-passord-Sett nytt passord").click().run()
    assert "Nytt passord er satt for lise" in at.success[0].value
    assert _audit_rows(users_db, "unlock_user") == [("admin", "lise", None)]
    assert _audit_rows(users_db, "reset_password") == [("admin", "lise", None)]
    with connect(users_db) as con:
        assert authenticate(con, "lise", "lises-nye-passord").username == "lise"


def test_the_user_table_has_no_hash_column():
    from lydlogg.users import UserRow

    table = user_table([UserRow("anne", "Anne", "operator", "op-anne", True, NOW, 0)], {"anne": "lokal"})
    assert list(table.columns) == [
        "Brukernavn",
        "Navn",
        "Rolle",
        "Operatør-id",
        "Lag",
        "Enheter",
        "Aktiv",
        "Låst til",
        "Mislykkede innlogginger",
        "Innlogging",
        "Rollen settes av",
    ]
    assert table.iloc[0].tolist() == [
        "anne",
        "Anne",
        "Operatør",
        "op-anne",
        "",
        "",  # no units given to this row
        "ja",
        "01.03.2026 03:00",  # locked until 02:00 UTC, shown in Norwegian time
        0,
        "lokal",
        "admin",
    ]


# --- the audit trail -----------------------------------------------------------------------------------


def _rows(db: Path, *rows: tuple[str, str, str, str, datetime]) -> None:
    with connect(db) as con:
        con.executemany(
            "INSERT INTO audit (username, action, object_type, object_id, occurred_at) VALUES (?, ?, ?, ?, ?)",
            list(rows),
        )


def test_the_trail_filters_newest_first_and_audits_each_view(users_db):
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    _rows(
        users_db,
        ("anne", "view_call", "call", "lvs-001", day),
        ("anne", "play_audio", "call", "lvs-001", day + timedelta(minutes=1)),
        ("leder", "view_call", "call", "lvs-001", day + timedelta(days=1)),
        ("leder", "view_call", "call", "lvs-003", day + timedelta(days=2)),
        ("leder", "view_round_scores", "round", "lvs-001", day + timedelta(days=2)),  # not a call id
    )
    trail = AuditLogService(users_db, USERS["leder"])
    calls = trail.entries(AuditFilter(call_id="lvs-001"))
    assert calls.total == 3 and calls.rows["action"].tolist() == ["view_call", "play_audio", "view_call"]
    assert calls.rows["username"].tolist() == ["leder", "anne", "anne"]
    assert trail.entries(AuditFilter(username="anne", action="view_call")).total == 1
    one_day = trail.entries(AuditFilter(start=date(2026, 3, 11), end=date(2026, 3, 11)))
    assert one_day.rows["object_id"].tolist() == ["lvs-001"]
    assert trail.entries(AuditFilter(start=date(2026, 3, 13), end=date(2026, 3, 20))).total == 0
    views = _audit_rows(users_db, "view_audit")
    assert len(views) == 4 and all(who == "leder" for who, _o, _d in views)
    assert views[0][2] == "samtale=lvs-001; 3 of 3 rows"


def test_the_trail_comes_a_page_at_a_time(users_db):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    _rows(
        users_db,
        *[("anne", "view_call", "call", f"c{i:02d}", start + timedelta(minutes=i)) for i in range(25)],
    )
    trail = AuditLogService(users_db, USERS["admin"])
    first = trail.entries(AuditFilter(action="view_call"), limit=10)
    last = trail.entries(AuditFilter(action="view_call", page=2), limit=10)
    assert (first.total, first.pages) == (25, 3)
    assert first.rows["object_id"].tolist() == [f"c{i:02d}" for i in range(24, 14, -1)]
    assert last.rows["object_id"].tolist() == [f"c{i:02d}" for i in range(4, -1, -1)]
    assert to_csv(first.rows).splitlines()[0] == "occurred_at,username,action,object_type,object_id,detail"
    trail.record_download(first.wanted, len(first.rows))
    assert _audit_rows(users_db, "export_audit") == [("admin", None, "handling=view_call; 10 rows")]


@pytest.mark.parametrize("who", ["veileder", "anne", "lise"])
def test_only_admins_and_leaders_read_the_trail(users_db, who):
    trail = AuditLogService(users_db, USERS[who])
    for attempt in (lambda: trail.entries(AuditFilter()), trail.choices,
                    lambda: trail.record_download(AuditFilter(), 1)):  # fmt: skip
        with pytest.raises(AccessDenied):
            attempt()
    at = page(AUDIT_PAGE, users_db, who)
    assert not at.exception and at.error[0].value == "ingen tilgang" and not at.dataframe
    with connect(users_db) as con:
        assert con.execute("SELECT count(*) FROM audit WHERE username = ?", [who]).fetchone()[0] == 0


def test_the_trail_page_takes_its_filter_from_the_url(users_db):
    _rows(
        users_db,
        ("anne", "view_call", "call", "lvs-001", datetime(2026, 3, 10, tzinfo=UTC)),
        ("lise", "view_call", "call", "lvs-003", datetime(2026, 3, 11, tzinfo=UTC)),
    )
    at = page(AUDIT_PAGE, users_db, "admin", bruker="lise")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["Bruker"].tolist() == ["lise"] and table["Objekt"].tolist() == ["lvs-003"]
    assert "Visningen er selv logget" in at.caption[0].value
    at.selectbox(key="revisjon-bruker").set_value("")
    at.text_input(key="revisjon-samtale").input("lvs-001")
    at = at.run()
    assert at.dataframe[0].value["Objekt"].tolist() == ["lvs-001"]
    assert at.query_params["samtale"] in ("lvs-001", ["lvs-001"]) and "bruker" not in at.query_params
    assert [d for _u, _o, d in _audit_rows(users_db, "view_audit")][-1] == "samtale=lvs-001; 1 of 1 rows"


def test_the_trail_page_takes_norwegian_dates_and_keeps_iso_dates_in_the_url(users_db):
    _rows(
        users_db,
        ("anne", "view_call", "call", "lvs-001", datetime(2026, 3, 10, 12, tzinfo=UTC)),
        ("lise", "view_call", "call", "lvs-003", datetime(2026, 3, 11, 12, tzinfo=UTC)),
        ("lise", "view_call", "call", "lvs-004", datetime(2026, 3, 12, 12, tzinfo=UTC)),
    )
    at = page(AUDIT_PAGE, users_db, "admin", fra="2026-03-11")
    assert not at.exception, at.exception
    field = at.text_input(key="revisjon-fra")
    assert (field.label, field.value) == ("Fra dato (dd.mm.åååå)", "11.03.2026")
    assert "lvs-001" not in set(at.dataframe[0].value["Objekt"])
    at.text_input(key="revisjon-til").input("11.3.2026")
    at = at.run()
    assert not at.error and at.dataframe[0].value["Objekt"].tolist() == ["lvs-003"]
    assert at.query_params["til"] in ("2026-03-11", ["2026-03-11"])
    at.text_input(key="revisjon-til").input("2026-03-11")
    at = at.run()
    assert (
        not at.dataframe and at.error[0].value.startswith("Til dato:") and "dd.mm.åååå" in at.error[0].value
    )
    at.text_input(key="revisjon-til").input("31.02.2026")
    at = at.run()
    assert not at.dataframe and "finnes ikke" in at.error[0].value


def test_the_trail_never_shows_transcript_or_note_text(fresh_calls_db):
    from review.feedback import FeedbackService

    db, call = fresh_calls_db, "lvs-003-brystsmerter"
    secret_fix, secret_note, secret_comment = (
        "Pasienten heter Ola Nordmann",
        "Notat om fødselsnummer",
        "Hemmelig",
    )
    leder = ReviewService(db, USERS["leder"])
    spoken = [s.text for s in leder.transcript(call).segments]
    leder.correct_segment(call, 1, text=secret_fix, role="caller")
    leder.save_review(call, kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
                      values={"introduces_self": 1}, overall_comment=secret_comment,
                      comments=[(2, 8.0, secret_comment)])  # fmt: skip
    FeedbackService(db, USERS["leder"]).save_note(call, secret_note, segment_index=1)
    at = page(AUDIT_PAGE, db, "leder", samtale=call)
    assert not at.exception, at.exception
    shown = _texts(at)
    labels = {AUDIT_ACTION_LABELS[a] for a in ("correct_transcript", "save_review", "feedback_note")}
    assert labels <= set(at.dataframe[0].value["Handling"])  # the page shows Norwegian labels
    for text in (secret_fix, secret_note, secret_comment, *[s for s in spoken if len(s) > 12]):
        assert text not in shown
