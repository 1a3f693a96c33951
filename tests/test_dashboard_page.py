"""The Oversikt page through Streamlit's AppTest, on the hand-built database of test_dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_dashboard import ANNE, LEDER, build_dashboard_db, build_team_db

from lydlogg.auth import User
from lydlogg.db import connect
from review.service import ReviewService

PAGE = str(Path(__file__).resolve().parent.parent / "review" / "views" / "oversikt.py")


@pytest.fixture(scope="module")
def page_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dashboard_db(tmp_path_factory.mktemp("oversikt") / "dashboard.duckdb")


def page(monkeypatch, db: Path, user: User, **query: str) -> AppTest:
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["service"] = ReviewService(db, user)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    return at


def test_leader_sees_every_tab_with_charts_tables_and_downloads(monkeypatch, page_db):
    at = page(monkeypatch, page_db, LEDER)
    assert not at.exception, at.exception
    assert at.title[0].value == "Oversikt"
    assert [t.label for t in at.tabs] == [
        "Kvalitet", "Vurderingsdekning", "Rekontakter", "Vurderernes strenghet", "Per operatør", "Samtalemål",
        "Månedsrapport", "Data", "Forslag mot vurdering",
    ]  # fmt: skip
    assert len(at.get("vega_lite_chart")) == 5
    coverage = at.tabs[1].dataframe[0].value
    assert coverage["Samtaler"].sum() == len(["a1", "a2", "l1", "l2", "l3", "m1", "m2", "m3"])
    assert coverage.loc[coverage["Måned"] == "2026-01", "Trukket ut"].tolist() == [2]
    assert set(at.tabs[4].dataframe[0].value["Operatør"]) - {"–"} == {"op-anne", "op-lise", "op-mari"}
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Last ned CSV") == 5 and labels.count("Last ned Parquet") == 5
    assert "Last ned månedsrapport (HTML)" in labels
    assert {"CSV", "CSV for Excel (;)", "XLSX", "Parquet"} <= set(labels)  # the Data tab's datasets
    assert at.selectbox(key="rapportmaned").value == "2026-02"  # newest month first


def test_every_chart_reaches_the_browser_with_the_norwegian_locale(monkeypatch, page_db):
    at = page(monkeypatch, page_db, LEDER)
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert len(specs) == 5
    for spec in specs:
        locale = spec["config"]["locale"]
        assert (locale["number"]["decimal"], locale["number"]["percent"]) == (",", "\u00a0%")
        assert locale["time"]["periods"] == ["", ""] and locale["time"]["months"][2] == "mars"


def test_service_filter_narrows_the_tables_and_lives_in_the_url(monkeypatch, page_db):
    at = page(monkeypatch, page_db, LEDER, tjeneste="amk")
    assert not at.exception, at.exception
    assert at.multiselect(key="tjeneste").value == ["amk"]
    assert set(at.tabs[1].dataframe[0].value["Tjeneste"]) == {"AMK"}
    at.multiselect(key="tjeneste").set_value(["lvs"]).run()
    assert set(at.tabs[2].dataframe[0].value["Tjeneste"]) == {"LVS"}
    assert at.query_params["tjeneste"] == "lvs"


@pytest.fixture(scope="module")
def team_page_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_team_db(tmp_path_factory.mktemp("oversikt-lag") / "teams.duckdb")


def test_figures_by_team_and_a_team_filter_live_in_the_url(monkeypatch, team_page_db):
    at = page(monkeypatch, team_page_db, LEDER, per="lag")
    assert not at.exception, at.exception
    assert at.radio(key="per").value == "lag"
    coverage = at.tabs[1].dataframe[0].value
    assert "Tjeneste" not in coverage
    january = coverage[coverage["Måned"] == "2026-01"].set_index("Lag")
    assert january["Samtaler"].to_dict() == {"Lag A": 3, "Lag B": 1}
    assert set(coverage["Lag"]) == {"Lag A", "Lag B", "Uten lag"}
    at.multiselect(key="lag").set_value(["Lag B"]).run()
    assert at.query_params["lag"] == "Lag B" and at.query_params["per"] == "lag"
    assert set(at.tabs[2].dataframe[0].value["Lag"]) == {"Lag B"}
    at.radio(key="per").set_value("begge").run()
    both = at.tabs[1].dataframe[0].value
    assert set(zip(both["Tjeneste"], both["Lag"], strict=True)) == {("LVS", "Lag B")}
    at.radio(key="per").set_value("tjeneste").run()
    by_service = at.tabs[1].dataframe[0].value
    assert "Lag" not in by_service and by_service["Samtaler"].sum() == 2  # l1 in January, l3 in February


def test_a_link_with_teams_opens_the_same_view(monkeypatch, team_page_db):
    at = page(monkeypatch, team_page_db, LEDER, per="begge", lag="Uten lag")
    assert not at.exception, at.exception
    coverage = at.tabs[1].dataframe[0].value
    assert set(zip(coverage["Tjeneste"], coverage["Lag"], strict=True)) == {("AMK", "Uten lag")}


def test_operator_sees_only_own_figures_and_no_median_of_two(monkeypatch, page_db):
    at = page(monkeypatch, page_db, ANNE)
    assert not at.exception, at.exception
    assert not at.tabs
    table = at.dataframe[0].value
    assert set(table["Operatør"].dropna()) == {"op-anne"}
    assert sorted(table["Rad"]) == ["Operatør"]  # Anne's team has two: the median would show Lise's
    with connect(page_db) as con:
        seen = con.execute(
            "SELECT object_id FROM audit WHERE username = 'anne' AND action = 'view_dashboard'"
        ).fetchall()
    assert ("op-anne",) in seen


def test_roles_without_the_dashboard_are_told_so(monkeypatch, page_db):
    at = page(monkeypatch, page_db, User("admin", "Admin", "admin"))
    assert not at.exception
    assert at.info[0].value == "Denne rollen har ikke tilgang til oversikten."


def test_page_without_a_database(monkeypatch, tmp_path):
    at = page(monkeypatch, tmp_path / "none.duckdb", LEDER)
    assert not at.exception
    assert "Ingen samtaler er lest inn ennå" in at.info[0].value and "`" not in at.info[0].value


def test_page_on_the_scored_sample_calls(monkeypatch, reference_db):
    at = page(monkeypatch, reference_db, LEDER)
    assert not at.exception, at.exception
    recontacts = at.tabs[2].dataframe[0].value
    assert recontacts["Rekontakter"].sum() >= 5


def test_an_operator_without_calls_is_told_so(monkeypatch, page_db):
    at = page(monkeypatch, page_db, User("per", "Per", "lege", "op-per"))
    assert not at.exception, at.exception
    assert at.info[0].value == "Ingen samtaler med dine tall ennå."


def test_parquet_download_holds_the_table(page_db):
    import io

    import pandas as pd

    from review.dashboard import DashboardService
    from review.views.dashboard import _parquet

    coverage = DashboardService(page_db, LEDER).coverage()
    assert pd.read_parquet(io.BytesIO(_parquet(coverage))).equals(coverage)


def test_the_conversation_tab_shows_measures_by_operator_and_service(monkeypatch, tmp_path, reference_db):
    import shutil

    from review.views.dashboard import CONVERSATION_LABELS

    db = Path(shutil.copy(reference_db, tmp_path / "ref.duckdb"))
    at = page(monkeypatch, db, LEDER)
    assert not at.exception, at.exception
    (tab,) = [t for t in at.tabs if t.label == "Samtalemål"]
    shown = tab.dataframe[0].value
    assert list(shown.columns) == list(CONVERSATION_LABELS.values())
    with connect(db) as con:
        transcribed = con.execute("SELECT count(DISTINCT call_id) FROM transcripts").fetchone()[0]
        pairs = con.execute(
            "SELECT count(DISTINCT (operator_id, service)) FROM calls"
            " WHERE call_id IN (SELECT call_id FROM transcripts)"
        ).fetchone()[0]
    assert shown["samtaler"].sum() == transcribed and len(shown) == pairs
    assert 0 < shown["stereo (eksakt)"].sum() < transcribed  # the mono calls are estimated, and said so
    assert "anslått" in tab.caption[0].value


def test_demo_history_is_labelled_as_demo_data_above_the_figures(monkeypatch, tmp_path):
    from test_dashboard import NORD

    from review.dashboard import DashboardService, DemoData

    db = build_dashboard_db(tmp_path / "demo.duckdb")
    at = page(monkeypatch, db, LEDER)
    assert not any("Demodata" in i.value for i in at.info)  # real calls only: no label
    with connect(db) as con:  # two of the eight calls are the demo's invented history
        con.execute("UPDATE calls SET metadata_source = 'demodata' WHERE call_id IN ('a1', 'm2')")
    months = (("2026-01", 1), ("2026-02", 1))
    assert DashboardService(db, LEDER).demo_data() == DemoData(2, 8, "2026-01", "2026-02", months)
    nord = User("nina", "Nina Leder", "leder", units=(NORD,))
    assert DashboardService(db, nord).demo_data() == DemoData(
        1, 5, "2026-01", "2026-01", months[:1]
    )  # m2 is Sørvik's
    assert DashboardService(db, ANNE).demo_data() == DemoData(
        1, 2, "2026-01", "2026-01", months[:1]
    )  # her a1 and a2
    at = page(monkeypatch, db, LEDER)
    assert not at.exception, at.exception
    (note,) = [i.value for i in at.info if "Demodata" in i.value]
    assert note.startswith("Demodata: 2 av 8 samtaler i oversikten (januar 2026 – februar 2026)")
    at = page(monkeypatch, db, ANNE)  # an operator's own figures carry the label too
    assert any(i.value.startswith("Demodata: 1 av 2 samtaler") for i in at.info)


def test_the_monthly_report_says_how_many_of_the_months_calls_are_demo_data(tmp_path):
    from review.dashboard import DashboardService
    from review.monthly_report import monthly_html

    db = build_dashboard_db(tmp_path / "demo.duckdb")
    with connect(db) as con:
        con.execute("UPDATE calls SET metadata_source = 'demodata' WHERE call_id = 'a1'")
    service = DashboardService(db, LEDER)
    demo, overview = service.demo_data(), service.overview()
    month_calls = overview.coverage.groupby("month")["calls"].sum()
    assert demo.in_month("2026-01") == 1 and demo.in_month("2026-02") == 0
    html = monthly_html(overview, "2026-01", demo_calls=demo.in_month("2026-01"))
    assert f"Demodata: 1 av {month_calls['2026-01']} samtaler denne måneden" in html
    assert "Demodata" not in monthly_html(overview, "2026-02", demo_calls=demo.in_month("2026-02"))


@pytest.mark.parametrize(
    ("demo", "expected"),
    [((0, 10, None, None), None),
     ((3, 1234, "2025-12", "2025-12"), "Demodata: 3 av 1 234 samtaler i oversikten (desember 2025) "),
     ((47, 59, "2025-09", "2026-02"), "Demodata: 47 av 59 samtaler i oversikten (september 2025 – februar 2026) ")],
)  # fmt: skip
def test_the_demo_note_reads_as_a_sentence(demo, expected):
    from review.dashboard import DemoData
    from review.views.dashboard import demo_note

    note = demo_note(DemoData(*demo))
    assert note is None if expected is None else note.startswith(expected) and "None" not in note
