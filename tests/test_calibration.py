"""Calibration rounds through the service layer, on a real database built from the sample calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import build_reference_db

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User, create_user
from lydlogg.db import connect
from review.calibration import CalibrationService, guidance, hidden_review_ids
from review.service import ReviewService
from rubrics import load_rubrics

USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
USERS["vilde"] = User("vilde", "Vilde Veileder", "veileder", units=DEMO_UNITS["veileder"])
USERS["lars"] = User("lars", "Lars Leder", "leder", units=DEMO_UNITS["leder"])
CALLS = ["lvs-001-feber-barn", "lvs-003-brystsmerter"]
RUBRIC = "lvs_operator"


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = build_reference_db(tmp_path_factory.mktemp("calibration"))
    with connect(db) as con:
        create_user(con, "vilde", "Vilde Veileder", "veileder", "demo-vilde-1", units=DEMO_UNITS["veileder"])
        create_user(con, "lars", "Lars Leder", "leder", "demo-lars-12", units=DEMO_UNITS["leder"])
    return db


@pytest.fixture
def db(built_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the calibration database for each test."""
    return Path(shutil.copy(built_db, tmp_path / "calibration.duckdb"))


def svc(db: Path, name: str) -> CalibrationService:
    return CalibrationService(db, USERS[name])


def full_values(**changes: int | None) -> dict[str, int | None]:
    """A value for every criterion of the LVS rubric (the top of each scale), with ``changes``."""
    values = {c.id: c.scale.values[-1] for c in load_rubrics()[RUBRIC].rubric.criteria}
    values.update(changes)
    return values


def make_round(db: Path) -> str:
    return svc(db, "leder").create_round("Mars", RUBRIC, CALLS, ["veileder", "vilde"])


def test_a_member_sees_only_their_own_scores_until_they_have_saved(db):
    round_id = make_round(db)
    svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values(worsening_advice=2))
    assert svc(db, "vilde").scores(round_id) == []  # blind: veileder's scores are not shown
    assert [s.reviewer for s in svc(db, "veileder").scores(round_id)] == ["veileder"]  # only her own
    assert [s.values["worsening_advice"] for s in svc(db, "veileder").mine(round_id)] == [2]
    svc(db, "vilde").save_round_review(round_id, CALLS[0], full_values(worsening_advice=3))
    seen = svc(db, "vilde").scores(round_id, CALLS[0])
    assert sorted(s.reviewer for s in seen) == ["veileder", "vilde"]
    assert {s.reviewer: s.values["worsening_advice"] for s in seen} == {"veileder": 2, "vilde": 3}
    with connect(db) as con:
        audited = con.execute(
            "SELECT username, object_id FROM audit WHERE action = 'view_round_scores'"
        ).fetchall()
        saved = con.execute("SELECT count(*) FROM audit WHERE action = 'save_round_review'").fetchone()[0]
    assert audited == [("vilde", round_id)] and saved == 2


def test_blind_rule_hides_reviews_from_the_review_service_too(db):
    round_id = make_round(db)
    review_id = svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values())
    # a review of the same call saved outside the round stays visible to everyone
    outside = ReviewService(db, USERS["lars"]).save_review(
        CALLS[0],
        kind="peer",
        rubric_id=RUBRIC,
        rubric_version=1,
        rubric_sha256="x",
        values={"introduces_self": 1},
    )
    with connect(db) as con:
        assert hidden_review_ids(con, USERS["vilde"]) == {review_id}  # member, not saved yet
        assert hidden_review_ids(con, USERS["leder"]) == set()  # the round's manager sees all
        assert hidden_review_ids(con, USERS["lars"]) == {review_id}  # outsider: not the round's reviews
        assert hidden_review_ids(con, USERS["veileder"]) == set()  # saved her own
    # an open round does not make the call look unreviewed (Publiser kasus counted 0 peer reviews)
    assert [r.review_id for r in ReviewService(db, USERS["vilde"]).reviews(CALLS[0])] == [outside]
    from review.cases import CaseLibraryService

    assert CaseLibraryService(db, USERS["vilde"]).draft(CALLS[0]).peer_reviews == 1
    svc(db, "vilde").save_round_review(round_id, CALLS[0], full_values())
    with connect(db) as con:
        assert hidden_review_ids(con, USERS["vilde"]) == set()
    svc(db, "leder").close_round(round_id)
    with connect(db) as con:
        assert hidden_review_ids(con, USERS["lars"]) == set()  # closed: ordinary reviews for everyone


def test_round_reviews_are_ordinary_peer_reviews_that_count(db):
    round_id = make_round(db)
    for name in ("veileder", "vilde"):
        svc(db, name).save_round_review(
            round_id, CALLS[1], full_values(), criterion_comments={"summarises": "ok"}
        )
    with connect(db) as con:
        kinds = con.execute("SELECT kind, rubric_id FROM reviews WHERE call_id = ?", [CALLS[1]]).fetchall()
    assert kinds == [("peer", RUBRIC), ("peer", RUBRIC)]
    reviews = ReviewService(db, USERS["leder"]).reviews(CALLS[1])
    assert sorted(r.reviewer for r in reviews) == ["veileder", "vilde"]
    calls = ReviewService(db, USERS["leder"]).calls().set_index("call_id")
    assert calls.loc[CALLS[1], "peer_reviews"] == 2


def test_a_second_save_keeps_the_first_as_history(db):
    round_id = make_round(db)
    first = svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values(open_questions=1))
    svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values(open_questions=3))
    (current,) = svc(db, "veileder").scores(round_id)
    assert current.values["open_questions"] == 3 and current.review_id != first
    assert [h[0] for h in ReviewService(db, USERS["leder"]).history(CALLS[0])][0] == first


def test_the_manager_sees_everything_and_gets_agreement_and_disagreements(db):
    round_id = make_round(db)
    svc(db, "veileder").save_round_review(
        round_id,
        CALLS[0],
        full_values(worsening_advice=2),
        criterion_comments={"worsening_advice": "Bare «ved forverring»."},
    )
    svc(db, "vilde").save_round_review(
        round_id,
        CALLS[0],
        full_values(worsening_advice=4),
        criterion_comments={"worsening_advice": "Konkret nok."},
    )
    svc(db, "veileder").save_round_review(round_id, CALLS[1], full_values())
    svc(db, "vilde").save_round_review(round_id, CALLS[1], full_values())
    results = svc(db, "leder").results(round_id)
    assert set(results.calls_shown) == set(CALLS) and len(results.scores) == 4
    worsening = results.report.per_criterion["worsening_advice"]
    # two calls: (2, 4) and (4, 4) -> exact 1/2, within one 1/2; veileder 2 below the mean of 3 on one call
    assert (worsening.exact, worsening.within_one) == (0.5, 0.5)
    assert worsening.strictness == {"veileder": -0.5, "vilde": 0.5}
    assert results.report.per_criterion["introduces_self"].exact == 1.0
    (only,) = results.disagreements
    assert (only.call_id, only.criterion_id, only.values) == (
        CALLS[0],
        "worsening_advice",
        {"veileder": 2, "vilde": 4},
    )
    assert only.comments == {"veileder": "Bare «ved forverring».", "vilde": "Konkret nok."}
    assert only.suggestion is not None and only.suggestion.rationale
    assert "worsening_advice" in results.report.suggestions_per_criterion


def test_a_member_gets_results_only_for_the_calls_they_have_scored(db):
    round_id = make_round(db)
    svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values())
    svc(db, "veileder").save_round_review(round_id, CALLS[1], full_values(summarises=0))
    svc(db, "vilde").save_round_review(round_id, CALLS[0], full_values(summarises=1))
    results = svc(db, "vilde").results(round_id)
    assert results.calls_shown == (CALLS[0],)
    assert {s.call_id for s in results.scores} == {
        CALLS[0]
    }  # veileder's score of the second call stays hidden


@pytest.mark.parametrize(
    ("user", "action"),
    [
        ("anne", lambda s, r: s.rounds()),  # operators take no part
        ("anne", lambda s, r: s.scores(r)),
        ("lars", lambda s, r: s.scores(r)),  # a leader who is neither member nor manager
        ("lars", lambda s, r: s.close_round(r)),
        ("veileder", lambda s, r: s.close_round(r)),  # a member, not the manager
        (
            "leder",
            lambda s, r: s.save_round_review(r, CALLS[0], full_values()),
        ),  # the manager is not a member
        ("veileder", lambda s, r: s.save_round_review(r, "ep1-c2-lvs", full_values())),  # not a round call
        ("anne", lambda s, r: s.record_interpretation(RUBRIC, "summarises", "Tekst")),
    ],
)
def test_refused(db, user, action):
    round_id = make_round(db)
    with pytest.raises(AccessDenied):
        action(svc(db, user), round_id)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (full_values(worsening_advice=7), "worsening_advice: 7 is not one of"),
        ({"introduces_self": 1}, "summarises: missing"),
        (full_values(introduces_self=None), "introduces_self: «ikke aktuelt» is not allowed"),
        ({**full_values(), "nope": 1}, "not in rubric lvs_operator: nope"),
    ],
)
def test_a_round_review_must_fit_the_rubric(db, values, message):
    round_id = make_round(db)
    with pytest.raises(ValueError, match=message):
        svc(db, "veileder").save_round_review(round_id, CALLS[0], values)


@pytest.mark.parametrize(
    ("title", "calls", "reviewers", "message"),
    [
        ("", CALLS, ["veileder", "vilde"], "title"),
        ("R", [], ["veileder", "vilde"], "at least one call"),
        ("R", CALLS, ["veileder"], "at least two reviewers"),
        ("R", CALLS, ["veileder", "anne"], "may calibrate: anne"),
        ("R", ["nope"], ["veileder", "vilde"], "no such calls: nope"),
    ],
)
def test_a_round_must_make_sense(db, title, calls, reviewers, message):
    with pytest.raises(ValueError, match=message):
        svc(db, "leder").create_round(title, RUBRIC, calls, reviewers)


def test_a_closed_round_takes_no_more_reviews(db):
    round_id = make_round(db)
    svc(db, "leder").close_round(round_id)
    with pytest.raises(ValueError, match="closed"):
        svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values())


def test_agreed_interpretation_becomes_guidance_newest_first(db):
    leader = svc(db, "leder")
    leader.record_interpretation(RUBRIC, "worsening_advice", "Første tekst.")
    round_id = make_round(db)
    leader.record_interpretation(
        RUBRIC, "worsening_advice", "Minst ett konkret tegn gir 2.", round_id=round_id
    )
    leader.record_interpretation(RUBRIC, "summarises", "Oppsummering må komme før rådene.")
    with connect(db) as con:
        assert guidance(con, RUBRIC) == {
            "summarises": "Oppsummering må komme før rådene.",
            "worsening_advice": "Minst ett konkret tegn gir 2.",
        }
        assert guidance(con, "legevaktlege_telefon") == {}
        audited = con.execute(
            "SELECT object_type, object_id FROM audit WHERE action = 'agreed_interpretation'"
        ).fetchall()
    assert len(audited) == 3 and audited[0] == ("criterion", "lvs_operator/worsening_advice")
    history = svc(db, "veileder").interpretations(RUBRIC)
    assert [i.text for i in history][-1] == "Første tekst." and history[1].round_id == round_id
    with pytest.raises(ValueError, match="no criterion"):
        leader.record_interpretation(RUBRIC, "nope", "Tekst")
    with pytest.raises(ValueError, match="empty"):
        leader.record_interpretation(RUBRIC, "summarises", "  ")


def test_rounds_lists_what_the_user_takes_part_in_or_manages(db):
    round_id = make_round(db)
    assert [r.round_id for r in svc(db, "vilde").rounds()] == [round_id]
    assert [r.round_id for r in svc(db, "leder").rounds()] == [round_id]
    assert svc(db, "lars").rounds() == []
    found = svc(db, "leder").round(round_id)
    assert found.call_ids == tuple(CALLS) and found.reviewers == ("veileder", "vilde") and found.is_open


def _service_applies_the_blind_rule() -> bool:
    import inspect

    import review.service

    return "hidden_review_ids" in inspect.getsource(review.service)


@pytest.mark.skipif(
    not _service_applies_the_blind_rule(),
    reason="ReviewService.reviews does not call review.calibration.hidden_review_ids yet (see the issue 7 report)",
)
def test_the_call_page_service_keeps_the_blind_rule(db):
    round_id = make_round(db)
    svc(db, "veileder").save_round_review(round_id, CALLS[0], full_values())
    assert ReviewService(db, USERS["vilde"]).reviews(CALLS[0]) == []
    assert [r.reviewer for r in ReviewService(db, USERS["leder"]).reviews(CALLS[0])] == ["veileder"]
    svc(db, "vilde").save_round_review(round_id, CALLS[0], full_values())
    assert sorted(r.reviewer for r in ReviewService(db, USERS["vilde"]).reviews(CALLS[0])) == [
        "veileder",
        "vilde",
    ]


def test_calibration_guidance_needs_access_to_calls(tmp_path):
    from lydlogg.access import AccessDenied
    from lydlogg.auth import User
    from review.calibration import CalibrationService

    with pytest.raises(AccessDenied):
        CalibrationService(tmp_path / "g.duckdb", User("admin", "Admin", "admin")).guidance("lvs_operator")
    assert (
        CalibrationService(tmp_path / "g.duckdb", User("liv", "Liv", "leder")).guidance("lvs_operator") == {}
    )
