"""The demo's corrected calls and its history (scripts/make_demo_extras.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from lydlogg.db import connect
from transcription.types import Segment

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def extras():
    name = "make_demo_extras"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.parametrize(
    ("text", "durations", "expected"),
    [
        ("hei på deg", [1.0], ["hei på deg"]),
        ("en to tre fire", [1.0, 1.0], ["en to", "tre fire"]),
        ("en to tre fire fem seks", [2.0, 1.0], ["en to tre fire", "fem seks"]),
        ("ja", [1.0, 1.0], ["ja", "…"]),
    ],
)
def test_a_turn_is_shared_over_its_segments_in_proportion(extras, text, durations, expected):
    assert extras.split_turn(text, durations) == expected


def test_corrections_follow_the_script_turn_by_turn_and_channel_by_channel(extras):
    reference = json.loads((REPO / "data/samples/reference/lvs-001-feber-barn.json").read_text())
    turns = reference["segments"][:3]
    segments = [
        Segment(turns[0]["start"], turns[0]["end"], "regge mokten", turns[0]["channel"]),
        Segment(turns[1]["start"], (turns[1]["start"] + turns[1]["end"]) / 2, "hai jeg", turns[1]["channel"]),
        Segment((turns[1]["start"] + turns[1]["end"]) / 2, turns[1]["end"], "binger", turns[1]["channel"]),
        Segment(turns[2]["start"], turns[2]["end"], "noe på feil kanal", 1 - turns[2]["channel"]),
    ]
    changes = extras.corrections(segments, reference)
    assert [(i, r) for i, _t, r in changes] == [
        (0, turns[0]["role"]),
        (1, turns[1]["role"]),
        (2, turns[1]["role"]),
    ]
    assert changes[0][1] == turns[0]["text"]
    assert f"{changes[1][1]} {changes[2][1]}" == turns[1]["text"]


def test_history_spreads_written_demo_calls_over_six_months_and_is_idempotent(extras, tmp_path, monkeypatch):
    db = tmp_path / "demo.duckdb"
    monkeypatch.setenv("LYDLOGG_KEY_FILE", str(tmp_path / "key"))
    assert extras.history(db) == 47
    assert extras.history(db) == 0
    with connect(db) as con:
        months = con.execute(
            "SELECT strftime(started_at, '%Y-%m') m, count(*), count(DISTINCT service) FROM calls GROUP BY m ORDER BY m"
        ).fetchall()
        sources = con.execute("SELECT DISTINCT metadata_source FROM calls").fetchall()
        ids = [r[0] for r in con.execute("SELECT call_id FROM calls").fetchall()]
        scored = con.execute(
            "SELECT count(DISTINCT call_id), count(*) FILTER (WHERE abstained) FROM suggestions"
        ).fetchone()
        no_audio = con.execute("SELECT count(*) FROM calls WHERE audio_sha256 IS NOT NULL").fetchone()[0]
    assert len(months) == 6 and all(n >= 7 for _m, n, _s in months)
    assert sum(s > 1 for _m, _n, s in months) >= 4  # services mixed over the months
    assert sources == [("demodata",)]
    assert all(i.startswith("demo-historikk-") for i in ids)
    assert scored == (47, 0)  # written text: every call scored, nothing abstains
    assert no_audio == 0

    # The demo accounts see the history on Oversikt, and it says that it is demo data.
    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
    from review.dashboard import DashboardService

    users = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
    demo = DashboardService(db, users["leder"]).demo_data()
    assert demo.calls == demo.of_calls == 47 and (demo.first_month, demo.last_month) == ("2025-09", "2026-02")
    assert len(demo.by_month) >= 6 and sum(n for _m, n in demo.by_month) == 47
    assert len(DashboardService(db, users["leder"]).coverage()) >= 6  # months of figures, not one dot
    with connect(db) as con:
        own = con.execute(
            "SELECT unit, count(*) FROM calls WHERE operator_id = 'op-anne' GROUP BY unit"
        ).fetchall()
    assert own and [u for u, _n in own] == list(DEMO_UNITS["anne"])  # her calls lie in her unit
    assert DashboardService(db, users["anne"]).demo_data().calls == own[0][1]
