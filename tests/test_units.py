"""Units (legevakt or site): the metadata column, the schema upgrade, the admin's changes, ingest's
default unit, the dashboard by unit, and the command line."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from test_dashboard import LEDER, NORD, SOR, VEILEDER, build_dashboard_db

from lydlogg.access import AccessDenied, CallScope, call_scope
from lydlogg.auth import AuthError, User, authenticate, create_user, get_user
from lydlogg.cli import main
from lydlogg.db import connect, migrate
from lydlogg.db.migrations import LATEST_VERSION
from lydlogg.metadata import MetadataSettings, check_unit, read_metadata
from lydlogg.units import DEFAULT_UNIT
from lydlogg.users import UserAdminService
from review.dashboard import DashboardService

ADMIN = User("admin", "Admin", "admin")
HEADER = "call_id,started_at,service,operator_id,caller_number,patient_ref,urgency,audio_file,team,unit"


# --- the metadata column -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kept"),
    [("Nordby legevakt", "Nordby legevakt"), ("  Sørvik   legevakt ", "Sørvik legevakt"), ("LV-2.Øst", "LV-2.Øst"),
     ("St. Olav's", "St. Olav's")],
)  # fmt: skip
def test_a_unit_is_tidied_and_kept_as_written(raw, kept):
    assert check_unit(raw) == kept


@pytest.mark.parametrize("raw", ["", "   ", "-nord", "Nord/Sør", "a" * 65, "Nord\x07by", "<script>"])
def test_a_bad_unit_is_refused_with_what_is_accepted(raw):
    with pytest.raises(ValueError, match="unit must be 1-64 letters, digits, spaces or -_.'"):
        check_unit(raw)


def test_the_metadata_unit_column_is_read_and_a_bad_one_is_reported_without_its_value(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        f"{HEADER}\nc1,,lvs,op-anne,,,,,,Nordby legevakt\nc2,,lvs,,,,,,,Nord/Sør 40012345\nc3,,lvs,,,,,,,\n",
        encoding="utf-8",
    )
    rows, errors = read_metadata(path)
    assert [(r.call_id, r.unit) for r in rows] == [("c1", "Nordby legevakt"), ("c3", None)]
    (error,) = errors
    assert error.line == 3 and "unit must be" in error.reason and "40012345" not in error.reason


@pytest.mark.parametrize(("given", "kept"), [("Nordby legevakt", "Nordby legevakt"), ("", None)])
def test_the_default_unit_setting(given, kept):
    assert MetadataSettings(default_unit=given).default_unit == kept
    assert MetadataSettings().default_unit == DEFAULT_UNIT


def test_a_bad_default_unit_setting_is_refused():
    with pytest.raises(ValueError, match="unit must be"):
        MetadataSettings(default_unit="Nord/Sør")


# --- ingest ----------------------------------------------------------------------------------------


def test_ingest_stores_the_unit_and_gives_the_default_to_calls_without_one(tmp_path):
    from conftest import make_settings

    from lydlogg.ingest import ingest

    meta = tmp_path / "m.csv"
    meta.write_text(f"{HEADER}\nk1,,lvs,,,,,,,Nordby legevakt\nk2,,lvs,,,,,,,\n", encoding="utf-8")
    settings = make_settings(tmp_path)
    ingest(settings, [], metadata=meta)
    late = tmp_path / "late.csv"  # metadata arriving later gives k2 its real unit
    late.write_text(f"{HEADER}\nk2,,lvs,,,,,,,Sørvik legevakt\n", encoding="utf-8")
    unset = settings.model_copy(update={"metadata": MetadataSettings(default_unit="")})
    meta3 = tmp_path / "m3.csv"
    meta3.write_text(f"{HEADER}\nk3,,lvs,,,,,,,\n", encoding="utf-8")
    ingest(unset, [], metadata=meta3)
    with connect(settings.db_path) as con:
        before = dict(con.execute("SELECT call_id, unit FROM calls").fetchall())
    ingest(settings, [], metadata=late)
    with connect(settings.db_path) as con:
        after = dict(con.execute("SELECT call_id, unit FROM calls").fetchall())
    assert before == {"k1": "Nordby legevakt", "k2": DEFAULT_UNIT, "k3": None}
    assert after == {"k1": "Nordby legevakt", "k2": "Sørvik legevakt", "k3": None}


# --- the schema upgrade ------------------------------------------------------------------------------


def test_an_upgraded_database_puts_every_call_and_user_in_the_default_unit(tmp_path):
    db = tmp_path / "v24.duckdb"
    with duckdb.connect(str(db)) as con:
        migrate(con, up_to=24)
        con.execute("INSERT INTO calls (call_id, operator_id) VALUES ('c1', 'op-anne'), ('c2', NULL)")
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash, active)"
            " VALUES ('liv', 'Liv', 'leder', NULL, 'hash', true), ('anne', 'Anne', 'operator', 'op-anne', NULL, false)"
        )
        with pytest.raises(duckdb.ConstraintException):  # v24 knows no regional role
            con.execute(
                "INSERT INTO users (username, display_name, role) VALUES ('rita', 'Rita', 'regional')"
            )
        assert migrate(con) == LATEST_VERSION
        assert con.execute("SELECT call_id, unit FROM calls ORDER BY call_id").fetchall() == [
            ("c1", DEFAULT_UNIT), ("c2", DEFAULT_UNIT)
        ]  # fmt: skip
        assert con.execute("SELECT username, unit FROM user_units ORDER BY username").fetchall() == [
            ("anne", DEFAULT_UNIT), ("liv", DEFAULT_UNIT)
        ]  # fmt: skip
        assert con.execute(  # the users table was copied with every column
            "SELECT username, display_name, role, operator_id, password_hash, active FROM users ORDER BY username"
        ).fetchall() == [
            ("anne", "Anne", "operator", "op-anne", None, False),
            ("liv", "Liv", "leder", None, "hash", True),
        ]
        con.execute("INSERT INTO users (username, display_name, role) VALUES ('rita', 'Rita', 'regional')")
    with connect(db) as con:
        assert get_user(con, "liv").units == (DEFAULT_UNIT,)


# --- users and their units ----------------------------------------------------------------------------


@pytest.fixture
def users_db(tmp_path) -> Path:
    db = tmp_path / "users.duckdb"
    with connect(db) as con:
        create_user(con, "admin", "Admin", "admin", "admins-passord")
        create_user(con, "liv", "Liv", "leder", "livs-passord-1", units=[NORD])
    return db


def _audit(db: Path, action: str) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT username, object_id, detail FROM audit WHERE action = ? ORDER BY audit_id", [action]
        ).fetchall()


def test_a_new_user_gets_units_and_they_are_audited(users_db):
    admin = UserAdminService(users_db, ADMIN)
    created = admin.add("rita", "Rita", "regional", "ritas-passord", units=[SOR, NORD])
    assert created.units == (NORD, SOR)
    assert _audit(users_db, "set_units")[-1] == ("admin", "rita", f"- -> {NORD}, {SOR}")
    assert {r.username: r.units for r in admin.list()}["rita"] == (NORD, SOR)
    with pytest.raises(ValueError, match="at least one unit"):
        admin.add("tom", "Tom", "leder", "toms-passord-1", units=[])
    with pytest.raises(ValueError, match="unit must be"):
        admin.add("tom", "Tom", "leder", "toms-passord-1", units=["Nord/Sør"])
    with connect(users_db) as con:  # nothing half-made
        assert get_user(con, "tom") is None


def test_changing_units_is_audited_with_old_and_new_and_ends_sessions(users_db):
    from lydlogg.login_sessions import live_session, start_session

    with connect(users_db) as con:
        liv = authenticate(con, "liv", "livs-passord-1")
        token = start_session(con, liv)
    assert liv.units == (NORD,)
    admin = UserAdminService(users_db, ADMIN)
    assert admin.set_units("liv", [SOR, NORD]) is True
    assert admin.set_units("liv", [NORD, SOR]) is False  # the same set: nothing to audit
    assert _audit(users_db, "set_units")[-1] == ("admin", "liv", f"{NORD} -> {NORD}, {SOR}")
    assert len(_audit(users_db, "set_units")) == 3  # admin's and liv's at creation, this change
    with connect(users_db) as con:
        assert live_session(con, token, 15) is None  # the old session ended
        assert get_user(con, "liv").units == (NORD, SOR)
    with pytest.raises(AuthError, match="ingen bruker"):
        admin.set_units("nobody", [NORD])
    with pytest.raises(ValueError, match="at least one unit"):
        admin.set_units("liv", [])
    with pytest.raises(AccessDenied):
        UserAdminService(users_db, LEDER).set_units("liv", [SOR])


def test_the_cli_sets_and_lists_units(users_db):
    out = CliRunner().invoke(main, ["users", "units", "liv", SOR, "--db", str(users_db)])
    assert out.exit_code == 0, out.output
    listed = CliRunner().invoke(main, ["users", "list", "--db", str(users_db)])
    assert f"[{SOR}]" in listed.output
    bad = CliRunner().invoke(main, ["users", "units", "liv", "Nord/Sør", "--db", str(users_db)])
    assert bad.exit_code != 0 and "unit must be" in bad.output
    add = CliRunner().invoke(
        main, ["users", "add", "rita", "--role", "regional", "--name", "Rita", "--unit", NORD, "--unit", SOR,
               "--password-stdin", "--db", str(users_db)], input="ritas-passord\n",
    )  # fmt: skip
    assert add.exit_code == 0, add.output
    with connect(users_db) as con:
        rita = get_user(con, "rita")
    assert rita.role == "regional" and rita.units == (NORD, SOR)
    assert _audit(users_db, "set_units")[-2] == ("cli:" + getpass.getuser(), "liv", f"{NORD} -> {SOR}")


# --- the scope ------------------------------------------------------------------------------------------


def test_the_scope_of_each_kind_of_user():
    assert call_scope(None) == CallScope()  # the command line's service account: everything
    assert call_scope(User("rita", "Rita", "regional", units=(NORD,))) == CallScope()
    assert call_scope(LEDER) == CallScope(None, (NORD, SOR))
    assert call_scope(User("anne", "Anne", "operator", "op-anne", (NORD,))) == CallScope("op-anne", (NORD,))
    assert call_scope(User("liv", "Liv", "leder")).where("c") == ("false", [])
    assert CallScope(None, (NORD,)).where("x") == ("list_contains(?::VARCHAR[], x.unit)", [[NORD]])
    with pytest.raises(ValueError, match="not an SQL identifier"):
        CallScope().where("c; DROP TABLE calls")


# --- the dashboard by unit ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dash_db(tmp_path_factory) -> Path:
    return build_dashboard_db(tmp_path_factory.mktemp("units") / "dashboard.duckdb")


def test_figures_by_unit_add_up_to_the_whole(dash_db):
    overview = DashboardService(dash_db, LEDER, cache=False).overview()
    by_unit = overview.grouped(["unit"]).coverage.groupby("unit")["calls"].sum().to_dict()
    assert by_unit == {NORD: 5, SOR: 3}  # a* and l* calls are Nordby's, m* calls Sørvik's
    assert overview.grouped([]).coverage["calls"].sum() == 8


@pytest.mark.parametrize("cache", [False, True])
def test_a_leader_of_one_unit_sees_only_that_units_figures(dash_db, cache):
    nord_leader = User("nina", "Nina", "leder", units=(NORD,))
    overview = DashboardService(dash_db, nord_leader, cache=cache).overview()
    assert set(overview.coverage["unit"]) == {NORD} and overview.coverage["calls"].sum() == 5
    assert set(overview.trends["unit"]) == {NORD} and set(overview.recontacts["unit"]) == {NORD}
    figures = DashboardService(dash_db, nord_leader, cache=cache).operator_figures()
    assert set(figures["operator_id"].dropna()) == {"op-anne", "op-lise"}  # op-mari works in Sørvik
    sor_leader = User("siv", "Siv", "leder", units=(SOR,))
    assert DashboardService(dash_db, sor_leader, cache=cache).overview().coverage["calls"].sum() == 3
    # the reviews are of Nordby calls: Sørvik's leader sees no strictness and no scorer agreement
    assert DashboardService(dash_db, sor_leader, cache=cache).strictness().empty
    assert DashboardService(dash_db, sor_leader, cache=cache).scorer_agreement()["reviews"].sum() == 0
    everyone = DashboardService(dash_db, User("rita", "Rita", "regional"), cache=cache)
    assert everyone.overview().coverage["calls"].sum() == 8
    assert everyone.strictness().equals(DashboardService(dash_db, VEILEDER, cache=cache).strictness())
    assert DashboardService(dash_db, User("liv", "Liv", "leder"), cache=cache).overview().coverage.empty


def test_strictness_over_several_units_is_the_same_as_over_their_calls(dash_db):
    both = DashboardService(dash_db, LEDER, cache=False).strictness()
    nord = DashboardService(dash_db, User("nina", "Nina", "leder", units=(NORD,)), cache=False).strictness()
    assert both.reset_index(drop=True).equals(nord.reset_index(drop=True))  # every review is of a Nordby call
    assert list(both.columns) == ["reviewer", "scores", "calls", "mean_offset"]


def test_the_unit_filter_on_oversikt_narrows_reviewer_strictness_too(dash_db):
    overview = DashboardService(dash_db, LEDER, cache=False).overview()
    assert not overview.strictness.empty  # every review is of a Nordby call
    assert overview.in_units([NORD]).strictness.equals(overview.strictness)
    assert overview.in_units([SOR]).strictness.empty
    assert list(overview.in_units([SOR]).strictness.columns) == list(overview.strictness.columns)


def test_the_monthly_report_command_narrows_to_a_unit(dash_db, tmp_path):
    out = CliRunner().invoke(
        main,
        ["monthly-report", "2026-02", "--unit", SOR, "-o", str(tmp_path / "r.html"), "--db", str(dash_db)],
    )
    assert out.exit_code == 0, out.output
    bad = CliRunner().invoke(
        main,
        ["monthly-report", "2026-02", "--unit", "a/b", "-o", str(tmp_path / "r.html"), "--db", str(dash_db)],
    )
    assert bad.exit_code != 0 and "--unit: unit must be" in bad.output


def test_the_calls_command_narrows_to_a_unit(dash_db):
    out = CliRunner().invoke(main, ["calls", "--format", "json", "--unit", SOR, "--db", str(dash_db)])
    assert out.exit_code == 0, out.output
    assert {c["call_id"] for c in json.loads(out.output)} == {"m1", "m2", "m3"}
    every = CliRunner().invoke(main, ["calls", "--format", "json", "--db", str(dash_db)])
    assert len(json.loads(every.output)) == 8


# --- the Oversikt page ----------------------------------------------------------------------------------


def _oversikt(monkeypatch, db: Path, user: User, **query: str):
    from streamlit.testing.v1 import AppTest

    from review.service import ReviewService

    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "review" / "views" / "oversikt.py"),
                           default_timeout=60)  # fmt: skip
    at.session_state["service"] = ReviewService(db, user)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_the_page_groups_and_filters_by_unit_from_the_url(monkeypatch, dash_db):
    at = _oversikt(monkeypatch, dash_db, LEDER, per="enhet", enhet=SOR)
    assert not at.exception, at.exception
    assert at.multiselect(key="enhet").value == [SOR]
    coverage = at.tabs[1].dataframe[0].value
    assert set(coverage["Enhet"]) == {SOR} and coverage["Samtaler"].sum() == 3
    assert not at.tabs[3].dataframe and at.tabs[3].info  # every review is of a Nordby call
    at = _oversikt(monkeypatch, dash_db, LEDER, per="enhet")
    coverage = at.tabs[1].dataframe[0].value
    assert coverage.groupby("Enhet")["Samtaler"].sum().to_dict() == {NORD: 5, SOR: 3}
    assert len(at.tabs[3].dataframe[0].value) > 0  # reviewer strictness, over both units


def test_a_leader_of_one_unit_gets_no_unit_choice_and_only_their_figures(monkeypatch, dash_db):
    at = _oversikt(monkeypatch, dash_db, User("siv", "Siv", "leder", units=(SOR,)), enhet=NORD)
    assert not at.exception, at.exception
    assert not [m for m in at.multiselect if m.key == "enhet"]  # one unit: nothing to choose
    assert at.tabs[1].dataframe[0].value["Samtaler"].sum() == 3


# --- the app, as regional quality and as a leader of one unit ---------------------------------------------


def _signed_in(monkeypatch, db: Path, user: User, page: str | None = None, **query: str):
    from conftest import sign_in
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    sign_in(at, db, user)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"review/views/{page}.py").run()
    return at


def test_regional_quality_reads_every_units_calls_and_reviews_none(monkeypatch, reference_db, tmp_path):
    import shutil

    db = Path(shutil.copy(reference_db, tmp_path / "ref.duckdb"))
    with connect(db) as con:
        rita = get_user(con, "region")
        total = con.execute("SELECT count(*) FROM calls").fetchone()[0]
    at = _signed_in(monkeypatch, db, rita)
    assert not at.exception, at.exception
    assert at.title[0].value == "Innboks" and len(at.dataframe[0].value) == total
    assert "(regional kvalitet)" in at.sidebar.markdown[0].value
    at = _signed_in(monkeypatch, db, rita, "samtale", samtale="lvs-003-brystsmerter")  # a Sørvik call
    assert not at.exception, at.exception
    assert not at.error and not [b for b in at.button if "Lagre vurdering" in b.label]  # reads, never reviews
    with connect(db) as con:
        seen = con.execute(
            "SELECT action FROM audit WHERE username = 'region' AND object_id = 'lvs-003-brystsmerter'"
        ).fetchall()
    assert ("view_call",) in seen


def test_a_leader_of_one_unit_has_an_inbox_of_that_unit(monkeypatch, reference_db, tmp_path):
    import shutil

    db = Path(shutil.copy(reference_db, tmp_path / "ref.duckdb"))
    with connect(db) as con:
        create_user(con, "siv", "Siv", "leder", "sivs-passord-1", units=[SOR])
        siv = get_user(con, "siv")
        sorvik = {r[0] for r in con.execute("SELECT call_id FROM calls WHERE unit = ?", [SOR]).fetchall()}
    at = _signed_in(monkeypatch, db, siv)
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == len(sorvik) and 0 < len(sorvik) < 12
