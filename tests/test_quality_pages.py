"""Transcript quality and abstentions in the review app (AppTest, real model, real database)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from test_app import app, call_ids, transcript_page

from lydlogg.db import connect

REPO = Path(__file__).resolve().parent.parent


def _extras():
    name = "make_demo_extras"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def quality_db(app_db, tmp_path) -> Path:
    db = tmp_path / "q.duckdb"
    shutil.copy(app_db, db)
    return db


@pytest.mark.model
def test_inbox_shows_transcript_quality_and_abstentions_and_filters_by_quality(monkeypatch, quality_db):
    at = app(monkeypatch, quality_db, "leder")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert {"Transkripsjon", "Kan ikke vurderes"} <= set(table.columns)
    with connect(quality_db) as con:
        levels = con.execute("SELECT quality FROM transcript_quality").fetchall()
        abstained = dict(
            con.execute(
                "SELECT call_id, count(*) FILTER (WHERE abstained) FROM suggestions GROUP BY call_id"
            ).fetchall()
        )
    assert len(levels) == 2
    # the synthetic voices through Whisper base are heard badly: the demo shows abstentions, and
    # the inbox counts them per call as the database holds them
    assert sum(abstained.values()) > 0
    counts = [
        int(str(c).split()[0]) if str(c).strip() and str(c)[0].isdigit() else 0
        for c in table["Kan ikke vurderes"]
    ]
    assert sorted(c for c in counts if c) == sorted(n for n in abstained.values() if n)
    assert all(
        any(w in cell for w in ("god", "usikker", "dårlig")) and "% ord" in cell
        for cell in table["Transkripsjon"]
    )
    first_level = table["Transkripsjon"].iloc[0].split(" ")[0]
    at = app(monkeypatch, quality_db, "leder", kvalitet=first_level)  # the filter comes from the URL
    assert not at.exception, at.exception
    shown = at.dataframe[0].value
    assert 1 <= len(shown) <= 2 and all(c.startswith(first_level) for c in shown["Transkripsjon"])
    at = app(monkeypatch, quality_db, "leder", kvalitet="skrevet")  # no written transcript here
    assert not at.exception and at.dataframe[0].value.empty


@pytest.mark.model
def test_a_call_corrected_from_its_script_is_marked_rettet_and_scored_on_the_corrected_text(
    monkeypatch, quality_db
):
    first = call_ids(quality_db)[0]
    assert _extras().correct_samples(quality_db, (first,)) == 1
    at = app(monkeypatch, quality_db, "veileder", "samtale", samtale=first)
    assert not at.exception, at.exception
    page = transcript_page(at)
    assert 'class="mark rettet"' in page
    with connect(quality_db) as con:
        abstained = con.execute(
            "SELECT count(*) FROM suggestions s JOIN transcripts t USING (transcript_id) WHERE t.call_id = ? AND s.abstained",
            [first],
        ).fetchone()[0]
        quality = con.execute(
            "SELECT q.quality FROM transcript_quality q JOIN transcripts t USING (transcript_id) WHERE t.call_id = ?",
            [first],
        ).fetchone()
    assert abstained == 0  # corrected text is trusted as written
    assert quality is None or quality[0] is not None
    assert any("Transkripsjonskvalitet" in c.value for c in at.caption)


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [(0.333333, "share", "33 %"), (1.0, "share", "100 %"), (2.25, "mean", "2,2"), (1.0, "mean", "1,0"),
     (4.0, "count", "4"), (float("nan"), "share", "–"), (None, "mean", "–")],
)  # fmt: skip
def test_figures_read_as_numbers(value, kind, text):
    from lydlogg.formatting import number_text

    assert number_text(value, kind) == text


@pytest.mark.parametrize(
    ("level", "quality", "text"),
    [("dårlig", 0.3, "dårlig – lytt (30 % ord)"), ("god", 0.914, "god (91 % ord)"),
     ("skrevet", None, "skrevet/rettet"), ("usikker", float("nan"), "usikker"), (None, 0.5, "")],
)  # fmt: skip
def test_the_inbox_quality_cell_reads_as_the_call_page_does(level, quality, text):
    from review.views.common import quality_cell

    assert quality_cell(level, quality) == text


def test_the_call_pages_quality_line_gives_the_estimate_as_a_share_and_the_poor_segments():
    from lydlogg.settings import TranscriptQualitySettings
    from review.views.call import _quality_marks
    from transcription.types import Segment, Word

    heard = Segment(0.0, 4.0, "hei", words=tuple(Word(i, i + 1, "ord", 0.99) for i in range(4)))
    garbled = Segment(4.0, 8.0, "hm", words=tuple(Word(4 + i, 5 + i, "ord", 0.05) for i in range(4)))
    levels, line = _quality_marks([heard, garbled, garbled], set(), TranscriptQualitySettings())
    assert levels[1][0] == "dårlig" and levels[0][0] != "dårlig"
    assert line is not None and " %" in line and "1,0" not in line and "0." not in line
    assert line.endswith("2 av 3 segmenter hørt dårlig")
    levels, line = _quality_marks([heard, garbled], {0, 1}, TranscriptQualitySettings())
    assert levels == {} and line == "skrevet eller rettet tekst"  # corrected text has no estimate
