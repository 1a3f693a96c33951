"""Linking contacts into episodes: window edges, time zones, missing and shared numbers, flags."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import pytest
from conftest import SAMPLES, make_settings

from lydlogg.db import connect
from lydlogg.episodes import link_episodes, summarise
from lydlogg.ingest import ingest
from lydlogg.scoring import import_transcripts, score_stored

T0 = datetime.fromisoformat("2026-03-09T10:00:00+01:00")


def linked(tmp_path, contacts, window=72.0):
    """contacts: (call_id, started_at, caller, patient); returns {call_id: (episode_id, number)}."""
    with connect(tmp_path / "e.duckdb") as con:
        con.executemany(
            "INSERT INTO calls (call_id, started_at, service, caller_pseudonym, patient_pseudonym) VALUES (?, ?, 'lvs', ?, ?)",
            contacts,
        )
        df = link_episodes(con, window)
    return {r.call_id: (r.episode_id, r.contact_number) for r in df.itertuples()}


def same_episode(result, *ids) -> bool:
    return len({result[i][0] for i in ids}) == 1


@pytest.mark.parametrize(
    ("gap", "together"),
    [(timedelta(hours=72), True), (timedelta(hours=72, seconds=1), False), (timedelta(minutes=5), True)],
)
def test_window_edge(tmp_path, gap, together):
    r = linked(tmp_path, [("a", T0, "pho_1", None), ("b", T0 + gap, "pho_1", None)])
    assert same_episode(r, "a", "b") is together


def test_window_is_measured_in_real_hours_across_daylight_saving(tmp_path):
    # Norway moves to summer time on 2026-03-29: 71.5 real hours separate these, 72.5 on the wall clock
    first = datetime.fromisoformat("2026-03-28T23:00:00+01:00")
    second = datetime.fromisoformat("2026-03-31T23:30:00+02:00")
    r = linked(tmp_path, [("a", first, "pho_1", None), ("b", second, "pho_1", None)])
    assert same_episode(r, "a", "b") and r["b"][1] == 2


def test_offsets_do_not_matter_only_instants(tmp_path):
    utc = datetime.fromisoformat("2026-03-09T09:00:00+00:00")
    oslo = datetime.fromisoformat("2026-03-12T09:00:00+01:00")  # 71 h later
    r = linked(tmp_path, [("a", utc, "pho_1", None), ("b", oslo, "pho_1", None)])
    assert same_episode(r, "a", "b")


def test_a_chain_links_beyond_one_window(tmp_path):
    r = linked(tmp_path, [("a", T0, "pho_1", None), ("b", T0 + timedelta(hours=60), "pho_1", None),
                          ("c", T0 + timedelta(hours=120), "pho_1", None)])  # fmt: skip
    assert same_episode(r, "a", "b", "c") and [r[i][1] for i in "abc"] == [1, 2, 3]


def test_missing_numbers_link_nothing(tmp_path):
    r = linked(tmp_path, [("a", T0, None, None), ("b", T0 + timedelta(hours=1), None, None)])
    assert not same_episode(r, "a", "b")


def test_the_same_patient_from_two_phones(tmp_path):
    r = linked(
        tmp_path, [("a", T0, "pho_mother", "pat_1"), ("b", T0 + timedelta(hours=5), "pho_partner", "pat_1")]
    )
    assert same_episode(r, "a", "b")


def test_two_callers_sharing_a_phone_about_different_patients(tmp_path):
    r = linked(
        tmp_path, [("a", T0, "pho_home", "pat_1"), ("b", T0 + timedelta(hours=2), "pho_home", "pat_2")]
    )
    assert not same_episode(r, "a", "b")


def test_a_phone_and_a_patient_bridge_into_one_episode(tmp_path):
    r = linked(tmp_path, [
        ("a", T0, "pho_1", None),
        ("b", T0 + timedelta(hours=3), "pho_1", "pat_1"),
        ("c", T0 + timedelta(hours=9), "pho_2", "pat_1"),
        ("d", T0 + timedelta(hours=20), "pho_2", None),
    ])  # fmt: skip
    assert same_episode(r, "a", "b", "c", "d")


def test_withheld_numbers_are_not_pseudonymised_into_a_link(tmp_path):
    csv_path = tmp_path / "m.csv"
    csv_path.write_text(
        "call_id,started_at,service,caller_number\n"
        f"w1,{T0.isoformat()},lvs,ukjent\nw2,{(T0 + timedelta(hours=1)).isoformat()},lvs,Skjult\n"
    )
    settings = make_settings(tmp_path)
    report = ingest(settings, [], metadata=csv_path)
    assert report.without_audio == ["w1", "w2"] and not report.failures
    with connect(settings.db_path) as con:
        df = link_episodes(con)
    assert df["episode_id"].nunique() == 2


def test_window_must_be_positive(tmp_path):
    with connect(tmp_path / "e.duckdb") as con, pytest.raises(ValueError, match="positive"):
        link_episodes(con, 0)


def test_the_sample_episode_links_and_its_unrecognised_recontacts_are_flagged(tmp_path):
    """Reference transcripts of the sample calls, scored, then their metadata arriving late."""
    settings = make_settings(tmp_path)
    docs = [(p.stem, json.loads(p.read_text())) for p in sorted((SAMPLES / "reference").glob("*.json"))]
    assert len(import_transcripts(settings, docs).imported) == len(docs)
    rows = list(csv.DictReader((SAMPLES / "metadata.csv").read_text(encoding="utf-8").splitlines()))
    late = tmp_path / "late.csv"
    with open(late, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "audio_file": ""} for r in rows)  # another service's log: no audio
    report = ingest(settings, [], metadata=late)
    assert len(report.metadata_updated) == len(rows)
    score_stored(settings)  # the rubric follows the service the late metadata brought
    with connect(settings.db_path) as con:
        df = link_episodes(con).set_index("call_id")
    episode = df[df["episode_size"] > 1]
    assert len(episode) == 6 and episode["episode_id"].nunique() == 1
    assert set(episode["services"].iloc[0].split(",")) == {"fastlege", "lvs", "amk", "legevaktlege"}
    flagged = set(df.index[df["flagged"].fillna(False).astype(bool)])
    assert flagged and flagged <= set(episode.index) - {"ep1-c1-fastlege"}
    assert len(flagged) >= 4
    for good in ("lvs-001-feber-barn", "lvs-002-urinveis"):
        assert not df.loc[good, "flagged"]
    counts = summarise(df.reset_index())
    assert counts["episodes"] == 1 and counts["recontacts"] == 5 and counts["unrecognised"] == len(flagged)


def test_a_reviewers_yes_overrides_a_suggested_no(tmp_path):
    from lydlogg.auth import User
    from review.service import ReviewService

    settings = make_settings(tmp_path)
    doc = json.loads((SAMPLES / "reference" / "ep1-c2-lvs.json").read_text())
    first = json.loads((SAMPLES / "reference" / "ep1-c1-fastlege.json").read_text())
    import_transcripts(settings, [("c1", first), ("c2", doc)], service="lvs")
    score_stored(settings)
    with connect(settings.db_path) as con:
        con.execute(
            "UPDATE calls SET caller_pseudonym = 'pho_1', started_at = ? WHERE call_id = 'ep1-c1-fastlege'",
            [T0],
        )
        con.execute("UPDATE calls SET caller_pseudonym = 'pho_1', started_at = ? WHERE call_id = 'ep1-c2-lvs'",
                    [T0 + timedelta(hours=10)])  # fmt: skip
        before = link_episodes(con).set_index("call_id")
    assert before.loc["ep1-c2-lvs", "flagged"]
    ReviewService(settings.db_path, User("v", "V", "veileder", units=("standard",))).save_review(
        "ep1-c2-lvs", kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
        values={"asks_prior_contact": 1},
    )  # fmt: skip
    with connect(settings.db_path) as con:
        after = link_episodes(con).set_index("call_id")
    assert not after.loc["ep1-c2-lvs", "flagged"]


def test_recontacts_command_prints_a_summary_and_csv(tmp_path):
    from click.testing import CliRunner
    from conftest import build_reference_db

    from lydlogg.cli import main

    db = str(build_reference_db(tmp_path))
    runner = CliRunner()
    out = runner.invoke(main, ["recontacts", "--db", db], catch_exceptions=False)
    assert out.exit_code == 0 and "episodes with re-contacts 1, re-contacts 5" in out.output
    assert "rekontakt ikke fanget opp: ep1-c2-lvs" in out.output
    table = runner.invoke(main, ["recontacts", "--db", db, "--format", "csv"], catch_exceptions=False).output
    rows = list(csv.DictReader(table.splitlines()))
    assert {"call_id", "episode_id", "contact_number", "hours_since_previous", "services", "flagged"} <= set(
        rows[0]
    )
    assert len(rows) == 12
    narrow = runner.invoke(
        main, ["recontacts", "--db", db, "--window-hours", "6"], catch_exceptions=False
    ).output
    assert "re-contacts 0" in narrow  # the episode's contacts are 7 to 17 hours apart
