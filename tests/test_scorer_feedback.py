"""Override reasons: stored with a saved review, exported for rubric authors with the evidence span."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import clear_reviews

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from review.scorer_feedback import scorer_feedback
from review.service import ReviewService

USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
LEDER = next(name for name, u in USERS.items() if u.role == "leder")
OPERATOR = next(name for name, u in USERS.items() if u.role == "operator")


@pytest.fixture
def db(tmp_path, reference_db):
    target = tmp_path / "fb.duckdb"
    shutil.copy(reference_db, target)
    return target


def _call_with_suggestions(db):
    with connect(db, read_only=True) as con:
        call_id, rubric_id, sha = con.execute(
            "SELECT call_id, rubric_id, rubric_sha256 FROM suggestions WHERE value IS NOT NULL"
            " AND evidence_json <> '[]' ORDER BY call_id LIMIT 1"
        ).fetchone()
        rows = con.execute(
            "SELECT criterion_id, value FROM suggestions WHERE call_id = ? AND rubric_sha256 = ?",
            [call_id, sha],
        ).fetchall()
    return call_id, rubric_id, sha, dict(rows)


def test_an_override_with_a_reason_is_exported_with_its_evidence_and_audited(db):
    call_id, rubric_id, sha, suggested = _call_with_suggestions(db)
    overridden = next(c for c, v in suggested.items() if v is not None)
    agreed = next(c for c in suggested if c != overridden)
    values = dict(suggested)
    values[overridden] = 0 if suggested[overridden] else 1
    leder = ReviewService(db, USERS[LEDER])
    leder.save_review(
        call_id, kind="peer", rubric_id=rubric_id, rubric_version=1, rubric_sha256=sha, values=values,
        suggested=suggested, reasons={overridden: "  sa det   til kollega ", agreed: "ignored: no override"},
    )  # fmt: skip
    rows = scorer_feedback(db, USERS[LEDER])
    assert len(rows) == 1
    row = rows[0]
    assert row["criterion_id"] == overridden and row["reason"] == "sa det til kollega"
    assert row["suggested_value"] == suggested[overridden] and row["reviewer_value"] == values[overridden]
    assert row["evidence"] and {"text", "start", "end"} <= set(row["evidence"][0])
    with connect(db, read_only=True) as con:
        stored = dict(
            con.execute(
                "SELECT criterion_id, override_reason FROM review_scores WHERE override_reason IS NOT NULL"
            ).fetchall()
        )
        audited = con.execute(
            "SELECT count(*) FROM audit WHERE action = 'export' AND object_type = 'scorer_feedback'"
        ).fetchone()[0]
    assert stored == {overridden: "sa det til kollega"}
    assert audited == 1

    with pytest.raises(AccessDenied):
        scorer_feedback(db, USERS[OPERATOR])

    from lydlogg.auth import DEMO_USERS
    from lydlogg.cli import main

    password = {u[0]: u[4] for u in DEMO_USERS}
    args = ["export", "scorer-feedback", "--db", str(db), "--as"]
    wrong = CliRunner().invoke(main, [*args, LEDER], input="feil\n")
    assert wrong.exit_code != 0 and f"--as {LEDER}" in wrong.output
    out = CliRunner().invoke(main, [*args, LEDER], input=password[LEDER] + "\n")
    assert out.exit_code == 0, out.output
    assert [json.loads(line)["reason"] for line in out.stdout.splitlines()] == ["sa det til kollega"]
    denied = CliRunner().invoke(main, [*args, OPERATOR], input=password[OPERATOR] + "\n")
    assert denied.exit_code != 0 and "may not export" in denied.output


def test_a_second_save_replaces_the_first_in_the_export(db):
    call_id, rubric_id, sha, suggested = _call_with_suggestions(db)
    crit = next(c for c, v in suggested.items() if v is not None)
    leder = ReviewService(db, USERS[LEDER])
    wrong = {**suggested, crit: 0 if suggested[crit] else 1}
    kw = dict(kind="peer", rubric_id=rubric_id, rubric_version=1, rubric_sha256=sha, suggested=suggested)
    leder.save_review(call_id, values=wrong, reasons={crit: "dialekt"}, **kw)
    assert [r["reason"] for r in scorer_feedback(db, USERS[LEDER])] == ["dialekt"]
    leder.save_review(call_id, values=dict(suggested), reasons={crit: "dialekt"}, **kw)  # changed their mind
    assert scorer_feedback(db, USERS[LEDER]) == []


def test_the_call_page_saves_the_reason_typed_under_an_overridden_suggestion(monkeypatch, db):
    from test_app import app

    with connect(db) as con:
        clear_reviews(con)
    call_id, _rubric_id, _sha, suggested = _call_with_suggestions(db)
    crit = next(c for c, v in suggested.items() if v is not None)
    other = 0 if suggested[crit] else 1
    at = app(monkeypatch, db, LEDER, "samtale", samtale=call_id)
    assert not at.exception, at.exception
    at.radio(key=f"crit-{call_id}-{crit}").set_value(other)
    at.text_input(key=f"why-{call_id}-{crit}").input("sa det til kollega")
    at.button(key="lagre-topp").click().run()
    assert not at.exception and "lagret" in at.success[0].value
    with connect(db, read_only=True) as con:
        saved = con.execute(
            "SELECT s.criterion_id, s.value, s.suggested_value, s.override_reason FROM review_scores s"
            " JOIN reviews r USING (review_id) WHERE r.call_id = ? AND s.override_reason IS NOT NULL",
            [call_id],
        ).fetchall()
    assert saved == [(crit, other, suggested[crit], "sa det til kollega")]


def test_a_value_given_where_the_suggestion_abstained_is_marked_and_has_spans_to_listen_to(db):
    """An abstention is no "no": the export says it abstained and gives its spans as the stretches
    to listen to, never as evidence."""
    call_id, rubric_id, sha, suggested = _call_with_suggestions(db)
    crit = next(c for c, v in suggested.items() if v is not None)
    with connect(db) as con:
        con.execute(
            "UPDATE suggestions SET value = NULL, confidence = 0.0, abstained = true"
            " WHERE call_id = ? AND rubric_sha256 = ? AND criterion_id = ?",
            [call_id, sha, crit],
        )
        listen = json.loads(
            con.execute(
                "SELECT evidence_json FROM suggestions WHERE call_id = ? AND rubric_sha256 = ? AND criterion_id = ?",
                [call_id, sha, crit],
            ).fetchone()[0]
        )
    values = {**suggested, crit: 1}
    shown = {**suggested, crit: None}  # the form offered no value for the abstained criterion
    ReviewService(db, USERS[LEDER]).save_review(
        call_id, kind="peer", rubric_id=rubric_id, rubric_version=1, rubric_sha256=sha, values=values,
        suggested=shown, reasons={crit: "hørte det på opptaket"},
    )  # fmt: skip
    (row,) = scorer_feedback(db, USERS[LEDER])
    assert row["criterion_id"] == crit and row["abstained"] is True
    assert row["suggested_value"] is None and row["reviewer_value"] == 1
    assert row["evidence"] == [] and row["listen_to"] == listen
    others = [r for r in scorer_feedback(db, USERS[LEDER]) if not r["abstained"]]
    assert others == []
