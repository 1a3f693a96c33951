"""The review app through Streamlit's AppTest, against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lydlogg.db import connect

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def run_app(monkeypatch, db: Path, **query: str) -> AppTest:
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.model
def test_calls_page_lists_calls_and_shows_a_transcript(monkeypatch, processed_db):
    at = run_app(monkeypatch, processed_db)
    assert not at.exception
    assert at.title[0].value == "Samtaler"
    table = at.dataframe[0].value
    assert len(table) == 2 and set(table["Status"]) == {"transkribert"}
    chosen = at.selectbox[0].value
    with connect(processed_db, read_only=True) as con:
        texts = [r[0] for r in con.execute(
            "SELECT s.text FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE t.call_id = ? ORDER BY s.segment_index", [chosen]).fetchall()]  # fmt: skip
    shown = [t.value for t in at.text]
    assert texts and shown == texts


@pytest.mark.model
def test_query_parameter_selects_the_call(monkeypatch, processed_db):
    with connect(processed_db, read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY started_at").fetchall()]
    at = run_app(monkeypatch, processed_db, samtale=ids[1])
    assert at.selectbox[0].value == ids[1]


def test_app_without_a_database_says_what_to_do(monkeypatch, tmp_path):
    at = run_app(monkeypatch, tmp_path / "none.duckdb")
    assert not at.exception
    assert "lydlogg ingest" in at.info[0].value
