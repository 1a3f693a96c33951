"""The search index refresh is incremental: only changed calls' rows are replaced, the index is
rebuilt only when something changed, and search answers exactly as after a full rebuild."""

import shutil

import duckdb
import pandas as pd
import pytest

from lydlogg.db import connect
from lydlogg.db.fts import load_fts
from lydlogg.search_index import refresh_search_index
from review.search import SearchQuery, search_calls

QUERIES = [
    SearchQuery("puster"),
    SearchQuery("puste", role="caller", without="113"),
    SearchQuery("tungpust"),
    SearchQuery("smerter"),
    SearchQuery("vondt", service="lvs"),
]
COLUMNS = "call_id, transcript_id, segment_index, start_s, role, text"


@pytest.fixture
def db(tmp_path, reference_db):
    path = tmp_path / "db.duckdb"
    shutil.copy(reference_db, path)
    return path


def index_tables(con):
    """The table oids of the fts index: new ones every time the index is rebuilt."""
    return sorted(
        con.execute(
            "SELECT table_name, table_oid FROM duckdb_tables() WHERE schema_name = 'fts_main_search_segments'"
        ).fetchall()
    )


def rows(con):
    sql = f"SELECT {COLUMNS} FROM search_segments ORDER BY call_id, segment_index"  # noqa: S608 - constant
    return con.execute(sql).fetchall()


def doc_ids(con, call_id):
    return [r[0] for r in con.execute(
        "SELECT doc_id FROM search_segments WHERE call_id = ? ORDER BY segment_index", [call_id]).fetchall()]  # fmt: skip


def answers(con):
    return [search_calls(con, None, q, who="test") for q in QUERIES]


def change_two_calls(con):
    """A correction in one call, a newer transcript of another (its old text no longer searchable)."""
    con.execute(
        "INSERT INTO segment_corrections (transcript_id, segment_index, text, corrected_by)"
        " SELECT transcript_id, 0, 'Hun er tungpust og blek.', 'test' FROM latest_transcripts"
        " WHERE call_id = 'lvs-002-urinveis'"
    )
    con.execute(
        "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,"
        " layout, channels_transcribed, duration_s, speech_s, asr_seconds, created_at)"
        " SELECT 'newer', call_id, 'x', 'test', 'test', '', 'no', 'stereo', 2, 60, 50, 0,"
        "        now() + INTERVAL 1 HOUR FROM latest_transcripts WHERE call_id = 'lvs-003-brystsmerter';"
        "INSERT INTO segments (transcript_id, segment_index, channel, start_s, end_s, text, speaker, role)"
        " VALUES ('newer', 0, 0, 0.0, 2.0, 'Legevakten, hva gjelder det?', NULL, 'operator'),"
        "        ('newer', 1, 1, 2.0, 5.0, 'Mannen min er tungpust og har smerter.', NULL, 'caller'),"
        "        ('newer', 2, 1, 5.0, 6.0, '   ', NULL, 'caller')"
    )


def test_a_refresh_with_nothing_changed_keeps_rows_and_index(db):
    with connect(db) as con:
        before, tables = rows(con), index_tables(con)
        assert before and tables
        ids = doc_ids(con, "lvs-003-brystsmerter")
        assert refresh_search_index(con) == len(before)
        assert rows(con) == before and index_tables(con) == tables  # no rebuild
        assert doc_ids(con, "lvs-003-brystsmerter") == ids


def test_only_changed_calls_are_replaced_and_search_equals_a_full_rebuild(db, tmp_path):
    with connect(db) as con:
        untouched = doc_ids(con, "ep1-c4-amk")
        tables = index_tables(con)
        change_two_calls(con)
        assert search_calls(con, None, SearchQuery("tungpust"), who="t").empty  # a snapshot until refreshed
        refresh_search_index(con)
        assert index_tables(con) != tables  # rebuilt, since rows changed
        assert doc_ids(con, "ep1-c4-amk") == untouched  # other calls' rows stay as they were
        incremental_rows, incremental = rows(con), answers(con)
        assert ("lvs-003-brystsmerter", "newer", 1) in {r[:3] for r in incremental_rows}
        assert {r[1] for r in incremental_rows if r[0] == "lvs-003-brystsmerter"} == {"newer"}
        assert set(incremental[2]["call_id"]) == {"lvs-002-urinveis", "lvs-003-brystsmerter"}
        refresh_search_index(con, full=True)
        assert rows(con) == incremental_rows
        for got, want in zip(incremental, answers(con), strict=True):
            pd.testing.assert_frame_equal(got, want)


def test_a_call_whose_transcripts_are_gone_leaves_the_index(db):
    with connect(db) as con:
        con.execute(
            "DELETE FROM segments WHERE transcript_id IN (SELECT transcript_id FROM transcripts"
            " WHERE call_id = 'ep1-c4-amk')"
        )
        con.execute("DELETE FROM transcripts WHERE call_id = 'ep1-c4-amk'")
        refresh_search_index(con)
        assert doc_ids(con, "ep1-c4-amk") == []
        assert "ep1-c4-amk" not in set(search_calls(con, None, SearchQuery("puster"), who="t")["call_id"])


def test_a_missing_index_is_built_even_when_the_rows_are_in_step(db):
    with connect(db) as con:
        before = rows(con)
        load_fts(con)
        con.execute("PRAGMA drop_fts_index('search_segments')")
        assert index_tables(con) == []
        refresh_search_index(con)
        assert rows(con) == before and index_tables(con)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT doc_id) = count(*) FROM search_segments").fetchone()[0]
