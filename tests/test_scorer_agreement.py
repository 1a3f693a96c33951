"""Suggestion against the reviewer's saved value, per criterion over time, with the drift warning."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from conftest import clear_reviews

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from lydlogg.settings import DashboardSettings
from review.dashboard import DashboardService
from review.scorer_agreement import LAST, ScoredReview, suggestion_agreement
from review.service import ReviewService

T0 = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _rows(
    criterion: str, pairs: list[tuple[int | None, int | None]], start: datetime = T0
) -> list[ScoredReview]:
    return [ScoredReview(criterion, start + timedelta(days=i), s, v) for i, (s, v) in enumerate(pairs)]


def test_agreement_per_month_and_the_last_n_with_a_warning_below_the_threshold():
    march = _rows("a", [(1, 1), (2, 2), (3, 3), (0, 0)])  # all agree in March
    april = _rows("a", [(1, 2), (2, 0), (3, 3)], start=T0 + timedelta(days=30))  # drifts in April
    steady = _rows("b", [(1, 1)] * 5)
    figures = {(f.criterion_id, f.period): f for f in suggestion_agreement(march + april + steady, last_n=3,
                                                                            threshold=0.7)}  # fmt: skip
    assert figures[("a", "2026-03")].exact == 1.0 and figures[("a", "2026-03")].reviews == 4
    april_fig = figures[("a", "2026-04")]
    assert april_fig.reviews == 3 and april_fig.exact == pytest.approx(1 / 3)
    assert april_fig.within_one == pytest.approx(2 / 3)
    last = figures[("a", LAST)]
    assert last.reviews == 3 and last.below_threshold
    assert not figures[("b", LAST)].below_threshold and figures[("b", LAST)].exact == 1.0
    # a longer window takes March's agreement in and lifts the figure over the threshold
    wide = {
        (f.criterion_id, f.period): f for f in suggestion_agreement(march + april, last_n=7, threshold=0.7)
    }
    assert wide[("a", LAST)].exact == pytest.approx(5 / 7) and not wide[("a", LAST)].below_threshold


def test_months_follow_the_site_timezone():
    late = [ScoredReview("a", datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 1, 1)]  # 00:30 on 1 April in Oslo
    assert {f.period for f in suggestion_agreement(late, last_n=5, threshold=0.5)} == {"2026-04", LAST}


def test_oversikt_shows_the_agreement_of_saved_reviews(tmp_path, reference_db, monkeypatch):
    db = tmp_path / "agree.duckdb"
    shutil.copy(reference_db, db)
    with connect(db) as con:
        clear_reviews(con)
    users = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
    leder = next(u for u in users.values() if u.role == "leder")
    operator = next(u for u in users.values() if u.role == "operator")
    with connect(db, read_only=True) as con:
        calls = con.execute(
            "SELECT call_id, rubric_id, rubric_sha256 FROM suggestions WHERE criterion_id = 'introduces_self'"
            " AND value IS NOT NULL ORDER BY call_id LIMIT 2"
        ).fetchall()
    service = ReviewService(db, leder)
    for i, (call_id, rubric_id, sha) in enumerate(calls):
        with connect(db, read_only=True) as con:
            suggested = dict(con.execute("SELECT criterion_id, value FROM suggestions WHERE call_id = ?"
                                         " AND rubric_sha256 = ?", [call_id, sha]).fetchall())  # fmt: skip
        values = dict(suggested)
        if i == 1:  # the second review overrides introduces_self
            values["introduces_self"] = 0 if suggested["introduces_self"] else 1
        service.save_review(call_id, kind="peer", rubric_id=rubric_id, rubric_version=1, rubric_sha256=sha,
                            values=values, suggested=suggested)  # fmt: skip
    settings = DashboardSettings(scorer_agreement_min=0.9, scorer_agreement_last_n=10)
    figures = DashboardService(db, leder, settings, cache=False).scorer_agreement()
    last = figures[(figures["criterion_id"] == "introduces_self") & (figures["period"] == LAST)].iloc[0]
    assert last["reviews"] == 2 and last["exact"] == 0.5 and bool(last["under_grense"])
    assert set(figures[figures["under_grense"]]["criterion_id"]) == {"introduces_self"}
    with pytest.raises(AccessDenied):
        DashboardService(db, operator, settings, cache=False).scorer_agreement()

    # the page, with the installation's threshold setting: the warning names the criterion
    from streamlit.testing.v1 import AppTest
    from test_dashboard_page import PAGE

    from lydlogg.settings import load_settings

    def oversikt(threshold: float) -> AppTest:
        monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
        at = AppTest.from_file(PAGE, default_timeout=60)
        installed = load_settings(None, db_path=db, dashboard={"scorer_agreement_min": threshold})
        at.session_state["service"] = ReviewService(db, leder, installed)
        at.run()
        assert not at.exception, at.exception
        return next(t for t in at.tabs if t.label == "Forslag mot vurdering")

    tab = oversikt(0.6)
    assert [w.value for w in tab.warning] == [
        "introduces_self: forslaget stemmer med vurderingen i bare 50% av de siste 2 vurderingene (grense 60%)."
    ]
    shown = tab.dataframe[0].value
    assert {"Kriterium", "Periode", "Vurderinger", "Eksakt", "Innen én", "Kappa", "Under grense"} <= set(
        shown
    )
    assert not oversikt(0.4).warning  # 50 % is above 40 %
