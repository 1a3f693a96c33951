"""Search every call's transcript: stems, roles, "nobody said", filters, access, audit, CLI."""

import json
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import clear_reviews

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, User
from lydlogg.cli import main
from lydlogg.db import connect
from lydlogg.search_index import refresh_search_index
from review.search import SearchQuery, search_calls

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "samples" / "reference"
DOCS = {p.stem: json.loads(p.read_text()) for p in sorted(REFERENCE.glob("*.json"))}
STAFF = ("operator", "doctor")
PUST = re.compile(r"\bpust(?:e|er|et|en)?\b", re.IGNORECASE)  # the inflections Snowball stems to "pust"


def oracle(*, role=None, without=None):
    """Call ids with a segment saying a form of 'puste' (by ``role``) and no staff segment with ``without``."""
    out = set()
    for call_id, doc in DOCS.items():
        segs = doc["segments"]
        if without and any(without in s["text"] for s in segs if s["role"] in STAFF):
            continue
        if any(PUST.search(s["text"]) and (role is None or s["role"] == role) for s in segs):
            out.add(call_id)
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory, reference_db):
    path = tmp_path_factory.mktemp("search") / "db.duckdb"
    shutil.copy(reference_db, path)
    with duckdb.connect(str(path)) as con:
        clear_reviews(con)
        con.execute("UPDATE calls SET operator_id = 'op-lise'")
        con.execute(
            "UPDATE calls SET operator_id = 'op-anne' WHERE call_id IN ('ep1-c4-amk', 'lvs-003-brystsmerter')"
        )
    return path


def run(db, query, user=None):
    with connect(db) as con:
        return search_calls(con, user, query, who=user.username if user else "test")


def test_the_index_is_built_when_transcripts_are_imported(db):
    with duckdb.connect(str(db), read_only=True) as con:
        segments = con.execute(
            "SELECT count(*) FROM segments s JOIN transcripts t USING (transcript_id) WHERE trim(s.text) <> ''"
        ).fetchone()[0]
        assert con.execute("SELECT count(*) FROM search_segments").fetchone()[0] == segments
        assert (
            con.execute(
                "SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'fts_main_search_segments'"
            ).fetchone()[0]
            == 1
        )


def test_norwegian_stems_find_every_inflection(db):
    hits = run(db, SearchQuery("puster"))
    assert set(hits["call_id"]) == oracle() and len(oracle()) >= 6
    assert hits["text"].str.contains(PUST).all()


def test_caller_said_it_and_no_staff_member_said_113(db):
    hits = run(db, SearchQuery("puste", role="caller", without="113"))
    expected = oracle(role="caller", without="113")
    assert set(hits["call_id"]) == expected and expected < oracle(role="caller")
    assert set(hits["role"]) == {"caller"}


def test_filters_narrow_by_service_period_operator_and_review(db):
    lvs = run(db, SearchQuery("puster", service="lvs"))
    assert set(lvs["service"]) == {"lvs"} and 0 < len(set(lvs["call_id"])) < len(oracle())
    with duckdb.connect(str(db), read_only=True) as con:
        day = con.execute("SELECT started_at::DATE FROM calls WHERE call_id = 'ep1-c4-amk'").fetchone()[0]
    one_day = run(db, SearchQuery("puster", since=day, until=day))
    assert "ep1-c4-amk" in set(one_day["call_id"]) and set(one_day["call_id"]) < oracle()
    assert set(run(db, SearchQuery("puster", operator_id="op-anne"))["call_id"]) == {
        "ep1-c4-amk",
        "lvs-003-brystsmerter",
    }
    assert run(db, SearchQuery("puster", reviewed=True)).empty  # nothing is reviewed in this database
    assert set(run(db, SearchQuery("puster", reviewed=False))["call_id"]) == oracle()


def test_a_criterion_value_filter_uses_the_suggestion_without_a_review(db):
    with duckdb.connect(str(db), read_only=True) as con:
        criterion, value = con.execute(
            "SELECT criterion_id, value FROM suggestions WHERE call_id = 'lvs-003-brystsmerter' ORDER BY criterion_id LIMIT 1"
        ).fetchone()
        having = {r[0] for r in con.execute(
            "SELECT DISTINCT call_id FROM suggestions WHERE criterion_id = ? AND value IS NOT DISTINCT FROM ?",
            [criterion, value]).fetchall()}  # fmt: skip
    hits = run(db, SearchQuery("puster", criterion_id=criterion, criterion_value=value))
    assert set(hits["call_id"]) == oracle() & having and "lvs-003-brystsmerter" in set(hits["call_id"])


def test_operators_only_ever_find_their_own_calls_and_every_search_is_audited(db):
    anne = User("anne", "Anne", "operator", "op-anne", DEMO_UNITS["leder"])  # both sample units
    assert set(run(db, SearchQuery("puster"), anne)["call_id"]) == {"ep1-c4-amk", "lvs-003-brystsmerter"}
    assert run(db, SearchQuery("puster"), User("x", "X", "operator")).empty
    with pytest.raises(AccessDenied):
        run(db, SearchQuery("puster"), User("admin", "Admin", "admin"))
    with duckdb.connect(str(db), read_only=True) as con:
        detail = con.execute(
            "SELECT detail FROM audit WHERE username = 'anne' AND action = 'search'"
        ).fetchone()[0]
    assert "puster" not in detail and detail.startswith("5 hits")  # segments of her two calls


def test_search_finds_only_the_calls_of_the_searchers_units(db):
    nordby, sorvik = DEMO_UNITS["leder"]  # lvs-003 and ep1-c4-amk are Sørvik's, lvs-001 Nordby's
    anne = User("anne", "Anne", "operator", "op-anne", (nordby,))
    assert run(db, SearchQuery("puster"), anne).empty  # her own calls, but in another unit
    leader = User("liv", "Liv", "leder", units=(nordby,))
    found = set(run(db, SearchQuery("feber"), leader)["call_id"]) | set(
        run(db, SearchQuery("puster"), leader)["call_id"]
    )
    with duckdb.connect(str(db), read_only=True) as con:
        units = dict(con.execute("SELECT call_id, unit FROM calls").fetchall())
    assert found and {units[c] for c in found} == {nordby}
    regional = User("rita", "Rita", "regional")
    assert {units[c] for c in run(db, SearchQuery("puster"), regional)["call_id"]} == {nordby, sorvik}
    assert run(db, SearchQuery("puster"), User("liv", "Liv", "leder")).empty  # no unit: no call


def test_cli_search_and_a_rebuild_after_a_new_transcript(db, tmp_path):
    copy = tmp_path / "db.duckdb"
    shutil.copy(db, copy)
    out = CliRunner().invoke(main, ["search", "puster", "--role", "caller", "--without", "113", "--service", "lvs",
                                    "--format", "json", "--db", str(copy)], catch_exceptions=False)  # fmt: skip
    assert out.exit_code == 0, out.output
    hits = json.loads(out.output)
    with duckdb.connect(str(copy), read_only=True) as con:
        lvs = {r[0] for r in con.execute("SELECT call_id FROM calls WHERE service = 'lvs'").fetchall()}
    assert {h["call_id"] for h in hits} == oracle(role="caller", without="113") & lvs != set()
    assert all(h["service"] == "lvs" and h["role"] == "caller" for h in hits)
    table = CliRunner().invoke(main, ["search", "andpusten", "--role", "caller", "--db", str(copy)]).output
    assert table.splitlines()[1].startswith("ep1-c3-lvs [00:07] caller: Hei. Jeg har ringt før.")
    with connect(copy) as con:
        con.execute("UPDATE segments SET text = 'Jeg er tungpust.' WHERE segment_index = 0 AND transcript_id ="
                    " (SELECT transcript_id FROM transcripts WHERE call_id = 'lvs-002-urinveis')")  # fmt: skip
        assert search_calls(con, None, SearchQuery("tungpust"), who="t").empty  # a snapshot until rebuilt
        refresh_search_index(con)
        assert list(search_calls(con, None, SearchQuery("tungpust"), who="t")["call_id"]) == [
            "lvs-002-urinveis"
        ]
    bad = CliRunner().invoke(main, ["search", "--criterion", "x", "puster", "--db", str(copy)])
    assert bad.exit_code == 2 and "ID=VALUE" in bad.output


def test_the_search_page_finds_calls_and_links_each_hit_to_its_segment(monkeypatch, db, tmp_path):
    from test_app import app

    copy = tmp_path / "db.duckdb"
    shutil.copy(db, copy)
    at = app(monkeypatch, copy, "leder", "sok")
    assert not at.exception, at.exception
    at.text_input[0].input("puster")
    at.selectbox[0].select("caller")
    at.text_input[1].input("113")
    at.button[0].click().run()
    assert not at.exception, at.exception
    (table,) = at.dataframe
    shown = table.value
    assert set(shown["Samtale"]) == oracle(role="caller", without="113")
    assert set(shown["Hvem"]) == {"Innringer"}
    first = shown.iloc[0]
    assert first["Åpne"].startswith(f"samtale?samtale={first['Samtale']}&t=")
    with connect(copy) as con:  # her two calls here are Sørvik's: she works in both units
        con.execute("INSERT INTO user_units (username, unit, updated_by) VALUES ('anne', ?, 'test')",
                    [DEMO_UNITS["lise"][0]])  # fmt: skip
    anne = app(monkeypatch, copy, "anne", "sok")
    anne.text_input[0].input("puster")
    anne.button[0].click().run()
    assert set(anne.dataframe[0].value["Samtale"]) == {"ep1-c4-amk", "lvs-003-brystsmerter"}
    assert len(anne.text_input) == 5  # no operator field for an operator: words, without, dates, criterion


def test_the_search_page_reads_norwegian_dates_and_refuses_others(monkeypatch, db, tmp_path):
    from test_app import app

    copy = tmp_path / "db.duckdb"
    shutil.copy(db, copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        day = con.execute("SELECT started_at::DATE FROM calls WHERE call_id = 'ep1-c4-amk'").fetchone()[0]
    at = app(monkeypatch, copy, "leder", "sok")
    assert not at.exception, at.exception
    assert at.text_input(key="sok-fra").label == "Fra dato (dd.mm.åååå)"
    at.text_input[0].input("puster")
    at.button[0].click().run()
    everything = set(at.dataframe[0].value["Samtale"])
    at.text_input(key="sok-fra").input(f"{day.day}.{day.month}.{day.year}")
    at.text_input(key="sok-til").input(day.strftime("%d.%m.%Y"))
    at.button[0].click().run()
    assert not at.exception and not at.error, at.exception
    shown = set(at.dataframe[0].value["Samtale"])
    assert shown == set(run(copy, SearchQuery("puster", since=day, until=day))["call_id"])
    assert "ep1-c4-amk" in shown and shown < everything
    at.text_input(key="sok-til").input(day.isoformat())
    at.button[0].click().run()
    assert not at.dataframe
    assert at.error[0].value.startswith("Til dato:") and "dd.mm.åååå" in at.error[0].value


@pytest.mark.model
def test_a_processing_run_rebuilds_the_index(processed_db, tmp_path):
    copy = tmp_path / "processed.duckdb"
    shutil.copy(processed_db, copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        indexed = con.execute("SELECT count(*), count(DISTINCT call_id) FROM search_segments").fetchone()
        newest = con.execute(
            "SELECT count(*), count(DISTINCT t.call_id) FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE trim(s.text) <> ''"
        ).fetchone()
        word = con.execute(
            "SELECT split_part(trim(text), ' ', 1) FROM search_segments WHERE length(split_part(trim(text), ' ', 1)) > 4"
            " LIMIT 1"
        ).fetchone()[0]
    assert indexed == newest and indexed[1] == 2
    with connect(copy) as con:
        assert not search_calls(con, None, SearchQuery(word.strip(".,?!")), who="t").empty


def test_a_hit_opens_the_call_page_at_its_own_segment(monkeypatch, db, tmp_path):
    from urllib.parse import parse_qs, urlparse

    from test_app import app

    from review.views.search_page import hits_table

    copy = tmp_path / "db.duckdb"
    shutil.copy(db, copy)
    hits = run(copy, SearchQuery("puster"))
    links = hits_table(hits)["Åpne"]
    assert len(links) == len(hits) > 3
    with duckdb.connect(str(copy), read_only=True) as con:
        for link, call_id, index in zip(links, hits["call_id"], hits["segment_index"], strict=True):
            query = parse_qs(urlparse(link).query)
            assert query["samtale"] == [call_id]
            t = float(query["t"][0])
            at_t = con.execute(
                "SELECT list(s.segment_index) FROM segments s JOIN latest_transcripts l USING (transcript_id)"
                " WHERE l.call_id = ? AND s.start_s <= ? AND ? < s.end_s",
                [call_id, t, t],
            ).fetchone()[0]
            assert at_t == [index], link  # the time lands in the matching segment, not before it
    first = parse_qs(urlparse(links.iloc[0]).query)
    at = app(monkeypatch, copy, "leder", "samtale", samtale=first["samtale"][0], t=first["t"][0])
    assert not at.exception, at.exception
    (player,) = [e for e in at.main if e.type == "bidi_component"]
    assert json.loads(player.proto.json)["start"] == float(first["t"][0])


def test_the_flag_filter_keeps_only_re_contacts_nobody_recognised(monkeypatch, db, tmp_path):
    from test_app import app

    from lydlogg.episodes import read_episodes

    with connect(db) as con:
        episodes = read_episodes(con)
    flagged = set(episodes.loc[episodes["flagged"].fillna(False).astype(bool), "call_id"])
    everything = set(run(db, SearchQuery("feber"))["call_id"])
    hits = set(run(db, SearchQuery("feber", flagged=True))["call_id"])
    assert hits == everything & flagged and 0 < len(hits) < len(everything)
    assert hits == {"ep1-c2-lvs", "ep1-c3-lvs", "ep1-c5-legevaktlege"}  # contacts 2, 3 and 5 of episode 1
    with duckdb.connect(str(db), read_only=True) as con:
        detail = con.execute(
            "SELECT detail FROM audit WHERE action = 'search' ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()[0]
    assert detail.endswith("filters: flagged")
    copy = tmp_path / "db.duckdb"
    shutil.copy(db, copy)
    out = CliRunner().invoke(main, ["search", "feber", "--flagged", "--format", "json", "--db", str(copy)])
    assert out.exit_code == 0, out.output
    assert {h["call_id"] for h in json.loads(out.output)} == hits
    at = app(monkeypatch, copy, "leder", "sok")
    at.text_input[0].input("feber")
    at.checkbox(key="sok-rekontakt").check()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["Samtale"]) == hits


def test_the_flag_filter_combines_with_call_filters(db):
    """The flag's parameter and the call filters' parameters must each reach their own placeholder."""
    flagged = set(run(db, SearchQuery("feber", flagged=True))["call_id"])
    lvs = set(run(db, SearchQuery("feber", service="lvs"))["call_id"])
    both = set(run(db, SearchQuery("feber", service="lvs", flagged=True))["call_id"])
    assert both == flagged & lvs == {"ep1-c2-lvs", "ep1-c3-lvs"}
    day = date(2026, 3, 10)
    assert set(run(db, SearchQuery("feber", since=day, until=day, flagged=True))["call_id"]) == {"ep1-c3-lvs"}


POOR = {"lvs-003-brystsmerter", "ep1-c4-amk", "lvs-002-urinveis"}  # heard badly in the copy below


def _with_quality(db, path):
    """A copy of ``db`` whose POOR calls' segments are estimated at 45 % right words, the rest at 90 %."""
    shutil.copy(db, path)
    with duckdb.connect(str(path)) as con:
        con.execute("DELETE FROM segment_quality")
        con.execute(
            "INSERT INTO segment_quality (transcript_id, segment_index, quality) SELECT s.transcript_id, s.segment_index,"
            " CASE WHEN list_contains(?, l.call_id) THEN 0.45 ELSE 0.9 END"
            " FROM segments s JOIN latest_transcripts l USING (transcript_id)",
            [sorted(POOR)],
        )
    return path


def test_the_poor_quality_filter_keeps_the_calls_the_inbox_marks_heard_badly(monkeypatch, db, tmp_path):
    from test_app import app

    from lydlogg.settings import TranscriptQualitySettings
    from review.service import ReviewService

    copy = _with_quality(db, tmp_path / "db.duckdb")
    inbox = ReviewService(copy, User("leder", "Leder", "leder", None, DEMO_UNITS["leder"])).calls()
    assert set(inbox.loc[inbox["quality_level"] == "dårlig", "call_id"]) == POOR  # the inbox's own mark
    everything = set(run(copy, SearchQuery("puster"))["call_id"])
    hits = set(run(copy, SearchQuery("puster", poor_quality=True))["call_id"])
    assert hits == everything & POOR and 0 < len(hits) < len(everything)
    with duckdb.connect(str(copy), read_only=True) as con:
        detail = con.execute(
            "SELECT detail FROM audit WHERE action = 'search' ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()[0]
    assert detail.endswith("filters: poor_quality") and "puster" not in detail
    both = set(run(copy, SearchQuery("feber", flagged=True, poor_quality=True))["call_id"])
    assert both == set(run(copy, SearchQuery("feber", flagged=True))["call_id"]) & POOR
    with connect(copy) as con:  # the threshold is the setting's, as in the inbox
        stricter = TranscriptQualitySettings(poor_below=0.4)
        assert search_calls(
            con, None, SearchQuery("puster", poor_quality=True), who="t", marks=stricter
        ).empty
    out = CliRunner().invoke(
        main, ["search", "puster", "--poor-quality", "--format", "json", "--db", str(copy)]
    )
    assert out.exit_code == 0, out.output
    assert {h["call_id"] for h in json.loads(out.output)} == hits
    strict = CliRunner().invoke(
        main,
        ["search", "puster", "--poor-quality", "--format", "json", "--db", str(copy)],
        env={"LYDLOGG_TRANSCRIPT_QUALITY__POOR_BELOW": "0.4"},
    )
    assert strict.exit_code == 0 and json.loads(strict.output) == []
    at = app(monkeypatch, copy, "leder", "sok")
    at.text_input[0].input("puster")
    at.checkbox(key="sok-kvalitet").check()
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["Samtale"]) == hits


@pytest.mark.parametrize(
    ("quality", "status", "poor_below", "expected"),
    [
        (0.45, "transcribed", 0.5, "dårlig"),
        (0.45, "transcribed", 0.4, "usikker"),  # the threshold is the setting's
        (0.95, "transcribed", 0.5, "god"),
        (float("nan"), "transcribed", 0.5, "skrevet"),  # no estimate: written or corrected by a person
        (None, "pending", 0.5, None),
    ],
)
def test_one_rule_marks_a_calls_transcript_quality(quality, status, poor_below, expected):
    from lydlogg.settings import TranscriptQualitySettings
    from review.quality_marks import call_quality_mark

    marks = TranscriptQualitySettings(poor_below=poor_below, uncertain_below=0.75)
    assert call_quality_mark(quality, status, marks) == expected
