"""Standard worsening advice on stored calls: a real DuckDB file, the CLI, corrections and the SMS draft."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import yaml
from click.testing import CliRunner

from lydlogg.advice import call_advice, correct_reason, library_for, written_advice
from lydlogg.cli import main
from lydlogg.db import connect
from lydlogg.scoring import score_stored
from lydlogg.settings import AdviceSettings, load_settings
from rubrics.advice_library import ADVICE_DIR, load_advice_library

SET = Path(__file__).resolve().parent / "data" / "rubric_set" / "calls"
CALLS = ["rs-lvs-021", "rs-lvs-002", "rs-lvs-005"]  # breathing, urinary tract, toothache (no reason)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _imported(tmp_path: Path) -> Path:
    db = tmp_path / "x.duckdb"
    out = invoke("import-transcript", *[str(SET / f"{c}.json") for c in CALLS], "--db", str(db))
    assert out.exit_code == 0, out.output
    return db


def _rows(db: Path) -> dict[str, tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT call_id, reason_id, reason_source, library_sha256, meets_standard FROM advice_results"
            ).fetchall()
        }


def _edited_library(tmp_path: Path) -> Path:
    folder = tmp_path / "advice"
    shutil.copytree(ADVICE_DIR, folder)
    path = folder / "urinveier.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["tegn"].append(
        {"id": "lukt", "tekst": "sterk lukt", "fraser": ["lukter sterkt"], "handling": "legevakt"}
    )
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


def test_scoring_stores_advice_and_a_library_edit_redoes_only_what_depends_on_it(tmp_path):
    db = _imported(tmp_path)
    settings = load_settings(None, db_path=db)
    first = score_stored(settings)
    assert (first.scored, first.advice_analysed) == (3, 3)
    rows = _rows(db)
    assert {c: r[0] for c, r in rows.items()} == {
        "rs-lvs-021": "tungpust",
        "rs-lvs-002": "urinveier",
        "rs-lvs-005": None,
    }
    assert rows["rs-lvs-021"][3] is True and rows["rs-lvs-002"][3] is False
    again = score_stored(settings)
    assert (again.scored, again.already, again.advice_analysed) == (0, 3, 0)

    edited = settings.model_copy(update={"advice": AdviceSettings(library_dir=_edited_library(tmp_path))})
    with duckdb.connect(str(db), read_only=True) as con:
        before = con.execute("SELECT count(*), count(DISTINCT rubric_sha256) FROM suggestions").fetchone()
        transcripts = con.execute("SELECT count(*) FROM transcripts").fetchone()[0]
    redo = score_stored(edited)
    assert (redo.scored, redo.advice_analysed) == (3, 3)  # both rubrics read the library
    with duckdb.connect(str(db), read_only=True) as con:
        after = con.execute("SELECT count(*), count(DISTINCT rubric_sha256) FROM suggestions").fetchone()
        assert con.execute("SELECT count(*) FROM transcripts").fetchone()[0] == transcripts
        libraries = con.execute("SELECT count(DISTINCT library_sha256) FROM advice_results").fetchone()[0]
    assert after[0] == 2 * before[0] and after[1] == 2 * before[1] and libraries == 2
    assert score_stored(edited).advice_analysed == 0


def test_a_rubric_that_does_not_read_the_library_is_not_rescored(tmp_path):
    from lydlogg.scoring import scoring_key
    from rubrics import load_rubrics

    rubrics = load_rubrics()
    lib, other = load_advice_library(), load_advice_library(_edited_library(tmp_path))
    loaded = rubrics["lvs_operator"]
    assert scoring_key(loaded, lib) != scoring_key(loaded, other)
    off = loaded.rubric.model_copy(
        update={
            "criteria": tuple(
                c.model_copy(
                    update={"scorer": c.scorer.model_copy(update={"params": {"advice_library": False}})}
                )
                if c.scorer.type in ("worsening_advice", "safety_netting")
                else c
                for c in loaded.rubric.criteria
            )
        }
    )
    plain = type(loaded)(off, loaded.path, loaded.sha256)
    assert scoring_key(plain, lib) == scoring_key(plain, other) == loaded.sha256


def test_a_reviewers_correction_is_kept_audited_and_survives_a_library_change(tmp_path):
    db = _imported(tmp_path)
    settings = load_settings(None, db_path=db)
    score_stored(settings)
    library = library_for(settings.advice)
    with connect(db) as con:
        advice, call = call_advice(con, "rs-lvs-005", library)
        assert advice.reason_id is None
        tid = con.execute("SELECT transcript_id FROM transcripts WHERE call_id = 'rs-lvs-005'").fetchone()[0]
        fixed = correct_reason(con, "rs-lvs-005", ("magesmerter",), "vera", library, call, tid)
        assert fixed.reason_id == "magesmerter" and fixed.coverage is not None
        audit = con.execute("SELECT username, action, object_id, detail FROM audit").fetchall()
        assert ("vera", "correct_contact_reason", "rs-lvs-005", "magesmerter") in audit
        try:
            correct_reason(con, "rs-lvs-005", ("tannpine",), "vera", library)
        except ValueError as e:
            assert "accepted: allergisk_reaksjon" in str(e)
        else:
            raise AssertionError("an unknown reason was accepted")
        assert call_advice(con, "rs-lvs-005", library)[0].reason_id == "magesmerter"
    assert _rows(db)["rs-lvs-005"][:2] == ("magesmerter", "correction")
    score_stored(
        settings.model_copy(update={"advice": AdviceSettings(library_dir=_edited_library(tmp_path))})
    )
    with duckdb.connect(str(db), read_only=True) as con:
        latest = con.execute(
            "SELECT reason_id, reason_source FROM advice_results WHERE call_id = 'rs-lvs-005' ORDER BY created_at DESC"
        ).fetchall()
    assert all(r == ("magesmerter", "correction") for r in latest)


def test_the_sms_draft_goes_through_the_anonymiser_and_keeps_the_service_number(tmp_path):
    folder = tmp_path / "advice"
    shutil.copytree(ADVICE_DIR, folder)
    path = folder / "tungpust.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["sms"] = "Hilsen sykepleier Kari Nordmann. " + doc["sms"] + " Eller ring 41 23 45 67."
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    settings = AdviceSettings(library_dir=folder, service_number="55 12 34 56")
    library = library_for(settings)
    db = _imported(tmp_path)
    with connect(db, read_only=True) as con:
        advice, _ = call_advice(con, "rs-lvs-021", library)
    sms = written_advice(advice, library, settings)
    assert "Kari Nordmann" not in sms and "41 23 45 67" not in sms and "[NAVN]" in sms
    assert "55 12 34 56" in sms and "blå lepper" in sms


def test_cli_advice_prints_coverage_the_notice_and_the_sms(tmp_path):
    db = _imported(tmp_path)
    out = invoke("advice", "rs-lvs-021", "--db", str(db))
    assert out.exit_code == 0, out.output
    assert "NB: Rådbiblioteket er ikke godkjent" in out.output
    assert "Kontaktårsak funnet: Tung pust" in out.output and "✓ tegn: blå lepper" in out.output
    assert "✗ tegn: huden trekker seg inn" in out.output
    assert "Slik kunne rådet på SMS ha sett ut" in out.output and "116117" in out.output
    doc = json.loads(invoke("advice", "rs-lvs-021", "--format", "json", "--db", str(db)).output)
    assert doc["reason_ids"] == ["tungpust"] and doc["coverage"]["meets_standard"] is True
    assert doc["library_approved"] is False and len(doc["sms_draft"]) <= 480
    missing = invoke("advice", "nope", "--db", str(db))
    assert missing.exit_code == 2 and "no call 'nope'" in missing.output


def test_a_corrected_transcript_is_analysed_again(tmp_path):
    from lydlogg.auth import User
    from review.service import ReviewService

    db = _imported(tmp_path)
    score_stored(load_settings(None, db_path=db))
    assert _rows(db)["rs-lvs-002"][0] == "urinveier"
    service = ReviewService(db, User("vera", "Vera", "veileder", None, ("standard",)))
    transcript = service.transcript("rs-lvs-002")
    for i, seg in enumerate(transcript.segments):
        if seg.role == "caller":
            service.correct_segment(
                "rs-lvs-002", i, text="jeg har fått vondt i brystet og det trykker i brystet"
            )
    assert _rows(db)["rs-lvs-002"][0] == "brystsmerter"


def test_every_shipped_draft_passes_the_anonymiser_unchanged():
    """The library's own wording holds no names or numbers, and the anonymiser leaves it readable."""
    from anonymise import anonymise_text
    from rubrics.advice_library import sms_draft

    for std in load_advice_library().standards:
        draft = sms_draft(std, service_number="{nummer}")
        assert anonymise_text(draft) == draft, std.id


def test_who_approved_the_library_and_when_is_said_once_every_standard_is_approved(tmp_path):
    from lydlogg.advice import approval_line, approval_notice

    folder = tmp_path / "advice"
    shutil.copytree(ADVICE_DIR, folder)
    paths = sorted(folder.glob("*.yaml"))
    for i, path in enumerate(paths):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if i:  # the first file stays an example
            doc.update(status="godkjent", godkjent_av="Overlege Olsen", godkjent_dato="2026-11-30")
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    partly = load_advice_library(folder)
    assert approval_line(partly) is None and "1 av 11 standardråd" in approval_notice(partly)
    doc = yaml.safe_load(paths[0].read_text(encoding="utf-8"))
    doc.update(status="godkjent", godkjent_av="Overlege Berg", godkjent_dato="2026-12-01")
    paths[0].write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    approved = load_advice_library(folder)
    assert approval_notice(approved) is None
    assert approval_line(approved) == (
        "Rådbiblioteket er godkjent av Overlege Olsen 30.11.2026 (10 av 11); Overlege Berg 01.12.2026 (1 av 11)."
    )
    db = _imported(tmp_path)
    env = {"LYDLOGG_ADVICE__LIBRARY_DIR": str(folder)}
    out = CliRunner().invoke(main, ["advice", "rs-lvs-021", "--db", str(db)], env=env, catch_exceptions=False)
    assert out.exit_code == 0 and "NB:" not in out.output
    assert out.output.splitlines()[0] == approval_line(approved)
    out = CliRunner().invoke(main, ["advice", "rs-lvs-021", "--format", "json", "--db", str(db)], env=env)
    doc = json.loads(out.output)
    assert doc["library_approved"] is True and doc["library_approval"] == approval_line(approved)


def test_advice_sends_nothing_anywhere(tmp_path, monkeypatch):
    """The CLI and the service draft the SMS and open no network connection (Lydlogg sends nothing)."""
    import socket

    tried = []

    def refuse(*args, **kwargs):
        tried.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    db = _imported(tmp_path)
    for fmt in ("text", "json"):
        out = invoke("advice", "rs-lvs-021", "--format", fmt, "--db", str(db))
        assert out.exit_code == 0 and "116117" in out.output
    settings = load_settings(None, db_path=db)
    score_stored(settings)
    library = library_for(settings.advice)
    with connect(db, read_only=True) as con:
        advice, _ = call_advice(con, "rs-lvs-021", library)
    assert written_advice(advice, library, settings.advice) and tried == []
