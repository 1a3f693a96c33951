"""The loop end to end on real sample calls transcribed by the real model: a reviewer corrects a
segment (marking it free of identifiers) and overrides a suggestion with a reason; asr-eval, the
agreement figures on Oversikt and both exports show it."""

from __future__ import annotations

import csv
import json
import shutil

from click.testing import CliRunner

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from lydlogg.settings import DashboardSettings
from review.dashboard import DashboardService
from review.scorer_agreement import LAST
from review.service import ReviewService


def test_correct_override_then_measure_and_export(tmp_path, app_db, bundled_model):
    from conftest import clear_reviews, make_settings

    from lydlogg.cli import main

    db = tmp_path / "loop.duckdb"
    shutil.copy(app_db, db)
    with connect(db) as con:  # the session's app database may hold reviews other tests saved
        clear_reviews(con)
    users = {u[2]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
    password = {u[2]: u[4] + "\n" for u in DEMO_USERS}  # what --as asks for
    leder = ReviewService(db, users["leder"])
    with connect(db, read_only=True) as con:
        call_id, index, text = con.execute(
            "SELECT t.call_id, s.segment_index, s.text FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE t.call_id IN (SELECT call_id FROM suggestions) AND s.role = 'operator'"
            " ORDER BY t.call_id, s.end_s - s.start_s DESC LIMIT 1"
        ).fetchone()
        rubric_id, sha = con.execute(
            "SELECT rubric_id, rubric_sha256 FROM suggestions WHERE call_id = ? LIMIT 1", [call_id]
        ).fetchone()
    corrected = text.rstrip(".") + " Ring 113 hvis det blir verre."
    # rescoring follows the correction; the reviewer marks the new text free of identifiers
    leder.correct_segment(call_id, index, text=corrected, free_of_identifiers=True)
    with connect(db, read_only=True) as con:
        sha = con.execute(
            "SELECT rubric_sha256 FROM suggestions WHERE call_id = ? AND rubric_id = ? ORDER BY created_at DESC"
            " LIMIT 1",
            [call_id, rubric_id],
        ).fetchone()[0]
        suggested = dict(
            con.execute(
                "SELECT criterion_id, value FROM suggestions s JOIN transcripts t USING (transcript_id)"
                " WHERE s.call_id = ? AND s.rubric_sha256 = ?"
                " AND t.created_at = (SELECT max(created_at) FROM transcripts WHERE call_id = ?)",
                [call_id, sha, call_id],
            ).fetchall()
        )
    crit = next(c for c, v in suggested.items() if v is not None)
    values = {**suggested, crit: 0 if suggested[crit] else 1}
    leder.save_review(call_id, kind="peer", rubric_id=rubric_id, rubric_version=1, rubric_sha256=sha,
                      values=values, suggested=suggested, reasons={crit: "feil bevis"})  # fmt: skip

    env = {"LYDLOGG_ASR__MODELS_DIR": str(make_settings(tmp_path).asr.models_dir)}
    runner = CliRunner()
    out = runner.invoke(main, ["asr-eval", "--db", str(db), "--format", "json"], env=env)
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["segments"] == 1
    assert {r["modell"] for r in doc["rows"] if r["tjeneste"] == "alle"} == {"transkripsjon", "bundled-base"}

    figures = DashboardService(db, users["leder"], DashboardSettings(), cache=False).scorer_agreement()
    row = figures[(figures["criterion_id"] == crit) & (figures["period"] == LAST)].iloc[0]
    assert row["reviews"] == 1 and row["exact"] == 0.0 and bool(row["under_grense"])

    fb = runner.invoke(
        main,
        ["export", "scorer-feedback", "--db", str(db), "--as", users["veileder"].username],
        input=password["veileder"],
    )
    assert fb.exit_code == 0, fb.output
    lines = [json.loads(line) for line in fb.stdout.splitlines()]
    assert [(r["call_id"], r["criterion_id"], r["reason"]) for r in lines] == [(call_id, crit, "feil bevis")]

    ds = runner.invoke(main, ["export", "asr-dataset", "--db", str(db), "--as", users["veileder"].username,
                              "-o", str(tmp_path / "ds")], env=env, input=password["veileder"])  # fmt: skip
    assert ds.exit_code == 0, ds.output
    with open(tmp_path / "ds" / "train" / "metadata.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["transcription"] == corrected  # marked: exported as it is
    assert rows[0]["free_of_identifiers"] == "True" and rows[0]["anonymised"] == "False"
