from datetime import datetime

import pandas as pd
import pytest

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from lydlogg.units import set_user_units
from review.sampling import SamplingPlan, assign, draw
from review.service import ReviewService

USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}


def calls_frame() -> pd.DataFrame:
    rows = []
    for op in ("op-a", "op-b"):
        for day in range(1, 8):
            rows.append(
                (
                    f"{op}-{day}",
                    datetime.fromisoformat(f"2026-03-{day:02d}T12:00:00+01:00"),
                    op,
                    "transcribed",
                )
            )
    rows.append(("op-a-april", datetime.fromisoformat("2026-04-01T12:00:00+02:00"), "op-a", "transcribed"))
    rows.append(("op-b-pending", datetime.fromisoformat("2026-03-10T12:00:00+01:00"), "op-b", "pending"))
    rows.append(("nobody", datetime.fromisoformat("2026-03-10T12:00:00+01:00"), None, "transcribed"))
    return pd.DataFrame(rows, columns=["call_id", "started_at", "operator_id", "status"])


def test_draw_is_reproducible_capped_per_operator_and_inside_the_month():
    plan = SamplingPlan("2026-03", 3, seed=7)
    first = draw(calls_frame(), plan)
    assert first == draw(calls_frame().sample(frac=1, random_state=1), plan)  # row order does not matter
    assert len(first) == 6 and sum(c.startswith("op-a") for c in first) == 3
    assert not {"op-a-april", "op-b-pending", "nobody"} & set(first)
    assert draw(calls_frame(), SamplingPlan("2026-03", 3, seed=8)) != first
    assert len(draw(calls_frame(), SamplingPlan("2026-03", 50, seed=1))) == 14  # everyone's all, no more


@pytest.mark.parametrize("month", ["2026-3", "2026-13", "march", "2026/03"])
def test_bad_months_are_refused(month):
    with pytest.raises(ValueError, match="YYYY-MM"):
        SamplingPlan(month, 2, 1)


def test_reviewers_take_calls_in_turn():
    assert assign(["a", "b", "c"], ["leder", "veileder"]) == [
        ("a", "leder"),
        ("b", "veileder"),
        ("c", "leder"),
    ]
    with pytest.raises(ValueError, match="at least one reviewer"):
        assign(["a"], [])


def test_a_call_goes_only_to_a_reviewer_of_its_unit():
    units = {"a": "Nordby", "b": "Sørvik", "c": "Nordby", "d": "Nordby"}
    reviewers = {"leder": ("Nordby", "Sørvik"), "vera": ("Nordby",), "siv": ("Sørvik",)}
    assert assign(
        ["a", "b", "c", "d"], ["vera", "siv", "leder"], call_units=units, reviewer_units=reviewers
    ) == [
        ("a", "vera"),
        ("b", "siv"),
        ("c", "leder"),  # Nordby's calls in turn among Nordby's reviewers
        ("d", "vera"),
    ]
    with pytest.raises(ValueError, match="no chosen reviewer belongs to the unit Sørvik"):
        assign(["a", "b"], ["vera"], call_units=units, reviewer_units=reviewers)


def test_draw_keeps_calls_without_a_rubric_out():
    calls = calls_frame().assign(service=["lvs"] * 7 + ["amk"] * 7 + ["lvs", "lvs", "lvs"])
    drawn = draw(calls, SamplingPlan("2026-03", 50, seed=1), services={"lvs", "legevaktlege"})
    assert drawn == [f"op-a-{day}" for day in range(1, 8)]  # op-b's calls are all AMK: no task
    assert len(draw(calls, SamplingPlan("2026-03", 50, seed=1))) == 14  # without the filter: all


def test_a_leader_creates_tasks_once_and_reviewers_see_theirs(tmp_path):
    from conftest import build_reference_db

    reference_db = build_reference_db(tmp_path)  # its own: other tests add reviews to the shared one
    plan = SamplingPlan("2026-03", 1, seed=3)
    leder = ReviewService(reference_db, USERS["leder"])
    tasks = leder.create_sampling_plan(plan, ["veileder", "leder"])
    assert tasks and len(tasks) == len({c for c, _ in tasks})
    # AMK and fastlege calls have no rubric, so no reviewer is handed one
    assert not [c for c, _ in tasks if "amk" in c or "fastlege" in c]
    everything = ReviewService(reference_db, USERS["leder"]).calls()
    assert {"amk", "fastlege"} <= set(everything["service"])  # they were there to be drawn
    assert (
        leder.create_sampling_plan(plan, ["veileder", "leder"]) == tasks
    )  # same plan, same draw, no new rows
    mine = ReviewService(reference_db, USERS["veileder"]).tasks()
    assert set(mine["call_id"]) == {c for c, r in tasks if r == "veileder"} and not mine["done"].any()
    with pytest.raises(AccessDenied):
        ReviewService(reference_db, USERS["veileder"]).create_sampling_plan(plan, ["veileder"])
    with pytest.raises(ValueError, match="not active leaders or supervisors: anne"):
        leder.create_sampling_plan(plan, ["anne"])
    with connect(reference_db) as con:  # a supervisor of one unit gets only that unit's calls
        set_user_units(con, "veileder", ["Nordby legevakt"], by="admin")
        unit_of = dict(con.execute("SELECT call_id, unit FROM calls").fetchall())
    other = SamplingPlan("2026-03", 1, seed=4)
    tasks = leder.create_sampling_plan(other, ["veileder", "leder"])
    assert {unit_of[c] for c, r in tasks if r == "veileder"} == {"Nordby legevakt"}
    assert {unit_of[c] for c, r in tasks if r == "leder"} >= {"Sørvik legevakt"}
    with pytest.raises(ValueError, match="no chosen reviewer belongs to the unit Sørvik legevakt"):
        leder.create_sampling_plan(SamplingPlan("2026-03", 1, seed=5), ["veileder"])
