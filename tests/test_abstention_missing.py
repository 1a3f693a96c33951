"""An abstention ("kan ikke vurderes automatisk – lytt") is missing wherever suggestions are
counted, never a zero: the inbox's count follows the scoring the call page shows, Oversikt's
figures and re-contact flags leave it out even where an older scoring said 0, and a calibration
round neither stores it as the suggested value nor counts it in the suggestions' agreement.

On the sample calls' reference transcripts (real DuckDB, real scoring, real services); the
abstentions are written into the newest scoring as ``lydlogg score`` stores one (value NULL,
``abstained`` true), since written text never abstains.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from review.calibration import CalibrationService
from review.dashboard import DashboardService
from review.service import ReviewService
from rubrics import load_rubrics

USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
RECONTACT = "ep1-c2-lvs"  # contact 2 of the episode; its suggested asks_prior_contact is 0


@pytest.fixture
def db(reference_db: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(reference_db, tmp_path / "abstain.duckdb"))


def abstain(db: Path, call_id: str, *criteria: str) -> None:
    """The newest scoring of the call's newest transcript abstained on ``criteria``."""
    with connect(db) as con:
        for criterion in criteria:
            con.execute(
                "UPDATE suggestions SET value = NULL, confidence = 0.0, abstained = true"
                " WHERE criterion_id = ? AND transcript_id ="
                " (SELECT transcript_id FROM latest_transcripts WHERE call_id = ?)",
                [criterion, call_id],
            )


def older_zero(db: Path, call_id: str, criterion: str) -> None:
    """An earlier scoring of the same transcript (another rubric version) that said 0."""
    with connect(db) as con:
        con.execute(
            "INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256,"
            " criterion_id, value, confidence, evidence_json, rationale, software_version, abstained, created_at)"
            " SELECT transcript_id, call_id, rubric_id, rubric_version - 1, 'earlier', criterion_id, 0, 0.7,"
            " '[]', '', software_version, false, created_at - INTERVAL 1 DAY"
            " FROM suggestions WHERE call_id = ? AND criterion_id = ?",
            [call_id, criterion],
        )


def inbox_row(db: Path, call_id: str) -> pd.Series:
    calls = ReviewService(db, USERS["leder"]).calls()
    return calls.set_index("call_id").loc[call_id]


def test_the_inbox_counts_the_abstentions_of_the_scoring_the_call_page_shows(db):
    call_id = "lvs-001-feber-barn"
    assert pd.isna(inbox_row(db, call_id)["abstained"])  # written text: nothing abstains
    abstain(db, call_id, "asks_prior_contact", "open_questions")
    assert inbox_row(db, call_id)["abstained"] == 2
    with connect(db) as con:  # the rubric edited and the call scored again: only one abstains now
        con.execute(
            "INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256,"
            " criterion_id, value, confidence, evidence_json, rationale, software_version, abstained, created_at)"
            " SELECT transcript_id, call_id, rubric_id, rubric_version + 1, 'edited', criterion_id,"
            " CASE WHEN criterion_id = 'open_questions' THEN NULL ELSE coalesce(value, 0) END, confidence,"
            " evidence_json, rationale, software_version, criterion_id = 'open_questions',"
            " created_at + INTERVAL 1 DAY FROM suggestions WHERE call_id = ?",
            [call_id],
        )
    _rubric, shown = ReviewService(db, USERS["leder"]).suggestions(call_id)
    assert [s.criterion_id for s in shown if s.abstained] == ["open_questions"]
    assert inbox_row(db, call_id)["abstained"] == 1  # not the earlier scoring's two


def _march_lvs(trends: pd.DataFrame, metric: str) -> tuple[float, int]:
    rows = trends[
        (trends["month"] == "2026-03")
        & (trends["service"] == "lvs")
        & (trends["metric"] == metric)
        & (trends["source"] == "suggestion")
    ]
    calls = int(rows["calls"].sum())
    return round(float((rows["value"] * rows["calls"]).sum() / calls), 4), calls


def test_oversikt_leaves_an_abstention_out_even_over_an_older_zero(db):
    before = _march_lvs(DashboardService(db, USERS["leder"]).trends(), "worsening_concrete")
    assert before == (0.5, 6)  # 4, 4, 1, 1, 1 and 3 (ep1-c3-lvs)
    abstain(db, "ep1-c3-lvs", "worsening_advice")
    older_zero(db, "ep1-c3-lvs", "worsening_advice")
    after = _march_lvs(DashboardService(db, USERS["leder"]).trends(), "worsening_concrete")
    assert after == (0.4, 5)  # a zero would give (0.3333, 6)


def test_an_abstained_prior_contact_question_is_not_an_unrecognised_recontact(db):
    def unrecognised() -> int:
        return int(DashboardService(db, USERS["leder"]).recontacts()["unrecognised"].sum())

    before = unrecognised()
    assert before >= 1 and bool(inbox_row(db, RECONTACT)["flagged"])
    abstain(db, RECONTACT, "asks_prior_contact")
    older_zero(db, RECONTACT, "asks_prior_contact")
    assert unrecognised() == before - 1
    assert not bool(inbox_row(db, RECONTACT)["flagged"])


def test_a_calibration_round_neither_stores_nor_counts_an_abstention(db):
    rubric = load_rubrics()["lvs_operator"].rubric
    calls = ["lvs-001-feber-barn", "lvs-003-brystsmerter"]
    abstain(db, calls[0], "worsening_advice")
    leder = CalibrationService(db, USERS["leder"])
    round_id = leder.create_round("Mars", "lvs_operator", calls, ["veileder", "leder"])
    top = {c.id: c.scale.values[-1] for c in rubric.criteria}
    review_id = CalibrationService(db, USERS["veileder"]).save_round_review(round_id, calls[0], top)
    CalibrationService(db, USERS["veileder"]).save_round_review(round_id, calls[1], top)
    for call_id in calls:
        leder.save_round_review(round_id, call_id, top)
    with connect(db) as con:
        stored = dict(
            con.execute(
                "SELECT criterion_id, suggested_value FROM review_scores WHERE review_id = ?", [review_id]
            ).fetchall()
        )
    assert stored["worsening_advice"] is None  # no suggested value: the reviewer's 4 overrides nothing
    assert stored["open_questions"] is not None
    report = leder.results(round_id).report
    figures = report.suggestions_per_criterion
    # the suggestions are compared on the one call that has a worsening-advice value, not on two
    assert figures["worsening_advice"].items == 1
    assert figures["open_questions"].items == 2
