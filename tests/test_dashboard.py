"""The leader's overview: figures on a small hand-built database whose answers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lydlogg.access import AccessDenied
from lydlogg.auth import User
from lydlogg.db import connect
from lydlogg.episodes import link_episodes, summarise, update_episodes
from lydlogg.settings import DashboardSettings
from lydlogg.users import UserAdminService
from review.dashboard import DashboardService, regroup, team_view
from review.monthly_report import monthly_html

NORD, SOR = "Nordby legevakt", "Sørvik legevakt"  # a* and l* calls are Nordby's, m* calls Sørvik's
LEDER = User("liv", "Liv Leder", "leder", units=(NORD, SOR))
VEILEDER = User("vera", "Vera Veileder", "veileder", units=(NORD, SOR))
ANNE = User("anne", "Anne", "operator", "op-anne", units=(NORD,))
ADMIN = User("admin", "Admin", "admin")

# call_id, started_at (UTC), service, operator, caller, patient
CALLS = [
    ("a1", "2026-01-10 10:00", "lvs", "op-anne", "pho1", "pat1"),
    ("a2", "2026-01-11 09:00", "lvs", "op-anne", "pho2", "pat1"),  # same patient 23 h later: re-contact
    ("l1", "2026-01-12 10:00", "lvs", "op-lise", "pho3", None),
    ("l2", "2026-01-20 10:00", "lvs", "op-lise", "pho3", None),  # same phone 8 days later: new episode
    ("l3", "2026-01-31 23:30", "lvs", "op-lise", "pho4", None),  # February in Oslo
    ("m1", "2026-02-02 10:00", "amk", "op-mari", "pho4", None),  # same phone 34.5 h later: re-contact
    ("m2", "2026-02-03 10:00", "amk", "op-mari", "pho5", "pat9"),
    ("m3", "2026-02-03 12:00", "amk", "op-mari", "pho5", "pat8"),  # shared phone, other patient: not linked
]
# worsening_advice, open_questions, safety_netting, asks_prior_contact (suggestions of the newest transcript)
SUGGESTED = {
    "a1": (4, 2, 3, 1),
    "a2": (1, 4, 1, 1),
    "l1": (3, 1, 2, 0),
    "l2": (None, 3, 4, 1),
    "l3": (2, 0, 0, 0),
    "m1": (3, 2, 3, 0),
    "m2": (0, 4, 4, 1),
    "m3": (4, 3, 3, 1),
}
CRITERIA = ("worsening_advice", "open_questions", "safety_netting", "asks_prior_contact")
# review_id, call, reviewer, kind, replaces, created_at, values
REVIEWS = [
    ("r1", "a1", "vera", "peer", None, "2026-03-01 10:00", (2, 2, 3, 1)),
    ("r2", "a1", "liv", "peer", None, "2026-03-01 11:00", (4, 3, 3, 1)),
    ("r3", "a2", "vera", "peer", None, "2026-03-01 12:00", (4, 4, 4, 1)),  # superseded by r4
    ("r4", "a2", "vera", "peer", "r3", "2026-03-02 12:00", (2, 3, 2, 0)),
    ("r5", "a1", "anne", "self", None, "2026-03-03 12:00", (4, 4, 4, 1)),  # self-reviews are not figures
]


def build_dashboard_db(db: Path) -> Path:
    with connect(db) as con:
        for call_id, started, service, operator, caller, patient in CALLS:
            con.execute(
                "INSERT INTO calls (call_id, started_at, service, operator_id, caller_pseudonym, patient_pseudonym,"
                " unit) VALUES (?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?)",
                [
                    call_id,
                    started + ":00+00",
                    service,
                    operator,
                    caller,
                    patient,
                    SOR if call_id[0] == "m" else NORD,
                ],
            )
        transcripts = [(c, f"t-{c}", "2026-03-01 00:00") for c in SUGGESTED] + [
            ("a1", "t-a1-old", "2026-02-01 00:00")
        ]
        for call_id, tid, created in transcripts:
            con.execute(
                "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash,"
                " language, layout, channels_transcribed, duration_s, speech_s, asr_seconds, created_at)"
                " VALUES (?, ?, ?, 'run', 'model', 'opts', 'no', 'mono', 1, 60, 50, 5, ?::TIMESTAMPTZ)",
                [tid, call_id, tid, created + ":00+00"],
            )
        rows = [
            (f"t-{c}", c, crit, v)
            for c, values in SUGGESTED.items()
            for crit, v in zip(CRITERIA, values, strict=True)
        ]
        rows += [("t-a1-old", "a1", crit, 0) for crit in CRITERIA]  # an older transcript's suggestions
        con.executemany(
            "INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256, criterion_id,"
            " value, confidence, evidence_json, rationale, software_version)"
            " VALUES (?, ?, 'lvs_operator', 1, 'sha', ?, ?, 0.9, '[]', '', 'test')",
            rows,
        )
        for review_id, call_id, reviewer, kind, replaces, created, values in REVIEWS:
            con.execute(
                "INSERT INTO reviews (review_id, call_id, rubric_id, rubric_version, rubric_sha256, reviewer, kind,"
                " replaces, created_at) VALUES (?, ?, 'lvs_operator', 1, 'sha', ?, ?, ?, ?::TIMESTAMPTZ)",
                [review_id, call_id, reviewer, kind, replaces, created + ":00+00"],
            )
            con.executemany(
                "INSERT INTO review_scores (review_id, criterion_id, value) VALUES (?, ?, ?)",
                [(review_id, crit, v) for crit, v in zip(CRITERIA, values, strict=True)],
            )
        con.executemany(
            "INSERT INTO review_tasks (task_id, plan_id, call_id, assigned_to, created_by, plan)"
            " VALUES (?, 'plan', ?, 'vera', 'liv', '{}')",
            [(f"task-{c}", c) for c in ("a1", "l1", "m1")],
        )
        update_episodes(con, 72.0)  # as ingest does when calls arrive
    return db


@pytest.fixture(scope="module")
def dashboard_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the read-only tests; a test that checks what was written builds its own."""
    return build_dashboard_db(tmp_path_factory.mktemp("dashboard") / "dashboard.duckdb")


def figure(trends: pd.DataFrame, month: str, service: str, metric: str, source: str) -> tuple[float, int]:
    row = trends[
        (trends["month"] == month)
        & (trends["service"] == service)
        & (trends["metric"] == metric)
        & (trends["source"] == source)
    ]
    assert len(row) == 1, row
    return round(float(row["value"].iloc[0]), 4), int(row["calls"].iloc[0])


@pytest.mark.parametrize(
    ("metric", "source", "expected"),
    [
        ("worsening_concrete", "suggestion", (0.6667, 3)),  # a1 4, a2 1, l1 3; l2 not applicable
        ("open_questions", "suggestion", (2.5, 4)),
        ("safety_netting", "suggestion", (0.5, 4)),
        ("asks_prior_contact", "suggestion", (0.75, 4)),
        ("worsening_concrete", "review", (0.5, 2)),  # a1: mean of 2 and 4 is 3; a2: the newer review's 2
        ("open_questions", "review", (2.75, 2)),
        ("safety_netting", "review", (0.5, 2)),
        ("asks_prior_contact", "review", (0.5, 2)),
        ("worsening_concrete", "combined", (0.6667, 3)),
        ("open_questions", "combined", (2.375, 4)),  # 2.5, 3, 1, 3
        ("safety_netting", "combined", (0.5, 4)),
        ("asks_prior_contact", "combined", (0.5, 4)),
    ],
)
def test_trends_of_january_lvs(dashboard_db, metric, source, expected):
    trends = DashboardService(dashboard_db, LEDER).trends()
    assert figure(trends, "2026-01", "lvs", metric, source) == expected


def test_months_follow_oslo_time_and_unreviewed_months_have_no_review_rows(dashboard_db):
    trends = DashboardService(dashboard_db, VEILEDER).trends()
    assert figure(trends, "2026-02", "lvs", "open_questions", "suggestion") == (0.0, 1)  # l3, 00:30 in Oslo
    assert trends[(trends["month"] == "2026-02") & (trends["source"] == "review")].empty
    utc = DashboardService(dashboard_db, LEDER, DashboardSettings(timezone="UTC")).trends()
    assert figure(utc, "2026-01", "lvs", "open_questions", "suggestion") == (2.0, 5)


def test_threshold_setting_changes_the_worsening_share(dashboard_db):
    strict = DashboardService(dashboard_db, LEDER, DashboardSettings(worsening_concrete_min=4)).trends()
    assert figure(strict, "2026-01", "lvs", "worsening_concrete", "suggestion") == (0.3333, 3)


def test_coverage_counts_sampled_and_reviewed_calls(dashboard_db):
    coverage = DashboardService(dashboard_db, LEDER).coverage().set_index(["month", "service"])
    assert coverage.loc[("2026-01", "lvs")].to_dict() == {
        "calls": 4, "sampled": 2, "reviewed": 2, "sampled_reviewed": 1, "self_reviewed": 1,
    }  # fmt: skip
    assert coverage.loc[("2026-02", "amk")].to_dict() == {
        "calls": 3, "sampled": 1, "reviewed": 0, "sampled_reviewed": 0, "self_reviewed": 0,
    }  # fmt: skip


def test_recontacts_by_month(dashboard_db):
    recontacts = DashboardService(dashboard_db, LEDER).recontacts().set_index(["month", "service"])
    assert recontacts[["calls", "recontacts", "unrecognised"]].to_dict("index") == {
        ("2026-01", "lvs"): {"calls": 4, "recontacts": 1, "unrecognised": 1},  # a2: the newer review says 0
        ("2026-02", "amk"): {"calls": 3, "recontacts": 1, "unrecognised": 1},  # m1, across services
        ("2026-02", "lvs"): {"calls": 1, "recontacts": 0, "unrecognised": 0},
    }
    assert recontacts.loc[("2026-01", "lvs"), "recontact_rate"] == 0.25
    assert pd.isna(recontacts.loc[("2026-02", "lvs"), "unrecognised_share"])


def test_recontact_query_agrees_with_episode_linking(dashboard_db):
    recontacts = DashboardService(dashboard_db, LEDER).recontacts()
    with connect(dashboard_db) as con:
        linked = summarise(link_episodes(con, 72.0))
    assert recontacts["recontacts"].sum() == linked["recontacts"] == 2
    assert recontacts["unrecognised"].sum() == linked["unrecognised"]


def test_a_shorter_window_finds_fewer_recontacts(tmp_path):
    db = build_dashboard_db(tmp_path / "dashboard.duckdb")
    with connect(db) as con:
        assert update_episodes(con, 24.0).full  # another window relinks every contact
    recontacts = DashboardService(db, LEDER, window_hours=24).recontacts()
    assert recontacts["recontacts"].sum() == 1  # a2 (23 h); m1 came 34.5 h after l3


def test_the_dashboard_reads_the_stored_episodes(tmp_path):
    """The dashboard counts what the episodes table says, not a linking rule of its own."""
    db = build_dashboard_db(tmp_path / "dashboard.duckdb")
    service = DashboardService(db, LEDER, cache=False)
    assert service.recontacts()["recontacts"].sum() == 2
    with connect(db) as con:
        con.execute("UPDATE episodes SET contact_number = 1")
    assert service.recontacts()["recontacts"].sum() == 0


def test_strictness_is_the_mean_offset_from_the_other_reviews_of_the_call(dashboard_db):
    strictness = DashboardService(dashboard_db, LEDER).strictness()
    assert strictness.to_dict("records") == [
        {"reviewer": "vera", "scores": 4, "calls": 1, "mean_offset": -0.375},  # -1, -0.5, 0, 0
        {"reviewer": "liv", "scores": 4, "calls": 1, "mean_offset": 0.375},
    ]


def test_leader_sees_every_operator_beside_the_team_median(dashboard_db):
    figures = DashboardService(dashboard_db, LEDER).operator_figures()
    january = figures[(figures["month"] == "2026-01") & (figures["service"] == "lvs")].set_index(
        "row", append=True
    )
    assert sorted(figures.loc[figures["row"] == "operator", "operator_id"].unique()) == [
        "op-anne", "op-lise", "op-mari",
    ]  # fmt: skip
    anne = january[january["operator_id"] == "op-anne"].iloc[0]
    lise = january[january["operator_id"] == "op-lise"].iloc[0]
    median = january[january["operator_id"].isna()].iloc[0]
    assert (anne["calls"], anne["reviewed"], anne["worsening_concrete"], anne["open_questions"]) == (
        2,
        2,
        0.5,
        2.75,
    )
    assert (lise["calls"], lise["reviewed"], lise["worsening_concrete"], lise["open_questions"]) == (
        2,
        0,
        1.0,
        2.0,
    )
    assert (median["worsening_concrete"], median["open_questions"]) == (0.75, 2.375)


def test_operator_sees_only_own_figures_and_no_median_of_two(dashboard_db):
    figures = DashboardService(dashboard_db, ANNE).operator_figures()
    assert set(figures["operator_id"].dropna()) == {"op-anne"}
    # the median of Anne (0.5) and Lise (1.0) would tell Anne Lise's figure: hidden below three people
    assert figures["row"].tolist() == ["operator"]


def test_an_operators_figures_use_a_peer_review_only_after_their_self_review(tmp_path):
    """Anne's a2 has a supervisor's review (r4) but no self-review of hers: her own figures use the
    suggestion for a2 (as the call page hides r4 from her) until she saves one; the leader's view
    uses r4 throughout."""
    db = build_dashboard_db(tmp_path / "dashboard.duckdb")

    def january(user: User) -> tuple:
        figures = DashboardService(db, user).operator_figures("op-anne" if user is ANNE else None)
        row = figures[(figures["month"] == "2026-01") & (figures["operator_id"] == "op-anne")].iloc[0]
        return row["reviewed"], row["worsening_concrete"], row["open_questions"]

    assert january(ANNE) == (1, 0.5, 3.25)  # a1 from its peer reviews (3, 2.5), a2 suggested (1, 4)
    assert january(LEDER) == (2, 0.5, 2.75)  # a2 from r4 (2, 3)
    with connect(db) as con:
        con.execute(
            "INSERT INTO reviews (review_id, call_id, rubric_id, rubric_version, rubric_sha256, reviewer, kind)"
            " VALUES ('r6', 'a2', 'lvs_operator', 1, 'sha', 'anne', 'self')"
        )
    assert january(ANNE) == (2, 0.5, 2.75)  # her own judgement first, then the supervisor's


@pytest.mark.parametrize(
    ("user", "call"),
    [
        (ANNE, lambda s: s.operator_figures("op-lise")),
        (ANNE, lambda s: s.trends()),
        (ANNE, lambda s: s.coverage()),
        (ANNE, lambda s: s.recontacts()),
        (ANNE, lambda s: s.strictness()),
        (ANNE, lambda s: s.overview()),
        (ADMIN, lambda s: s.operator_figures()),
        (ADMIN, lambda s: s.trends()),
        (User("per", "Per", "lege", None), lambda s: s.operator_figures()),
    ],
)
def test_refused_views(dashboard_db, user, call):
    with pytest.raises(AccessDenied):
        call(DashboardService(dashboard_db, user))


def test_per_operator_views_are_audited(tmp_path):
    dashboard_db = build_dashboard_db(tmp_path / "audited.duckdb")
    DashboardService(dashboard_db, LEDER).operator_figures("op-lise")
    DashboardService(dashboard_db, ANNE).operator_figures()
    with connect(dashboard_db) as con:
        rows = con.execute(
            "SELECT username, action, object_type, object_id FROM audit WHERE action = 'view_dashboard' ORDER BY audit_id"
        ).fetchall()
    assert rows == [
        ("liv", "view_dashboard", "operator", "op-lise"),
        ("anne", "view_dashboard", "operator", "op-anne"),
    ]


@pytest.mark.parametrize(
    ("operator_id", "rows"),
    [
        (
            None,
            [("2026-01", "a", "operator"), ("2026-01", "b", "operator"), ("2026-01", None, "team_median")],
        ),
        ("a", [("2026-01", "a", "operator"), ("2026-01", None, "team_median")]),
        ("c", []),
    ],
)
def test_team_view(operator_id, rows):
    per_operator = pd.DataFrame(
        {
            "month": ["2026-01", "2026-01"],
            "service": ["lvs", "lvs"],
            "team": [None, None],
            "operator_id": ["a", "b"],
            "calls": [1, 3],
            "reviewed": [0, 1],
            "worsening_concrete": [0.0, 1.0],
            "open_questions": [1.0, 2.0],
            "safety_netting": [0.5, 0.5],
            "asks_prior_contact": [1.0, 0.0],
        }
    )
    out = team_view(per_operator, operator_id)
    assert [
        (m, o if isinstance(o, str) else None, r)
        for m, o, r in out[["month", "operator_id", "row"]].itertuples(index=False)
    ] == rows
    if rows:
        assert out.loc[out["row"] == "team_median", ["calls", "worsening_concrete"]].iloc[0].tolist() == [
            2.0,
            0.5,
        ]


def test_monthly_report_has_the_month_figures_and_escapes_text(dashboard_db):
    overview = DashboardService(dashboard_db, LEDER).overview()
    page = monthly_html(overview, "2026-01", title="Legevakt <Bergen>")
    assert "Legevakt &lt;Bergen&gt;" in page and "<Bergen>" not in page
    assert "Januar 2026" in page
    assert "67 %" in page  # concrete worsening advice, LVS, suggestions
    assert "2,38" in page  # open questions, LVS, combined
    with pytest.raises(ValueError, match="2026-05"):
        monthly_html(overview, "2026-05")


def test_monthly_report_as_pdf(dashboard_db):
    from lydlogg.documents import PdfUnavailableError
    from review.monthly_report import monthly_pdf

    overview = DashboardService(dashboard_db, LEDER).overview()
    try:
        pdf = monthly_pdf(overview, "2026-01")
    except PdfUnavailableError as e:
        pytest.skip(f"WeasyPrint cannot run here: {e}")
    assert pdf.startswith(b"%PDF")


def test_remembered_figures_follow_a_saved_review_and_changed_metadata(tmp_path, monkeypatch):
    import review.dashboard
    from review.service import ReviewService

    db = build_dashboard_db(tmp_path / "changing.duckdb")
    service = DashboardService(db, LEDER)

    def reviewed() -> int:
        return int(service.coverage().set_index(["month", "service"]).loc[("2026-01", "lvs"), "reviewed"])

    def anne_calls() -> list[int]:
        figures = service.operator_figures()
        return figures.loc[
            (figures["operator_id"] == "op-anne") & (figures["month"] == "2026-01"), "calls"
        ].tolist()

    assert reviewed() == reviewed() == 2
    ReviewService(db, VEILEDER).save_review(
        "l1",
        kind="peer",
        rubric_id="lvs_operator",
        rubric_version=1,
        rubric_sha256="sha",
        values=dict(zip(CRITERIA, (4, 4, 4, 1), strict=True)),
    )
    assert reviewed() == 3
    assert figure(service.trends(), "2026-01", "lvs", "open_questions", "review") == (3.1667, 3)
    assert anne_calls() == [2]
    with connect(db) as con:  # late metadata: the call was Anne's after all
        con.execute("UPDATE calls SET operator_id = 'op-anne' WHERE call_id = 'l1'")
    assert anne_calls() == [2]  # an in-place update is noticed on the next digest check...
    monkeypatch.setattr(review.dashboard, "_DIGEST_RECHECK_S", 0.0)
    assert anne_calls() == [3]  # ...which is due now


def test_recontacts_agree_with_episode_linking_on_the_sample_calls(reference_db):
    """The sample calls (reference transcripts, scored by the real rubric engine) hold a six-contact episode."""
    with connect(reference_db) as con:
        linked = summarise(link_episodes(con, 72.0))
    recontacts = DashboardService(reference_db, LEDER, cache=False).recontacts()
    assert linked["recontacts"] >= 5
    assert int(recontacts["recontacts"].sum()) == linked["recontacts"]
    assert int(recontacts["unrecognised"].sum()) == linked["unrecognised"]
    trends = DashboardService(reference_db, LEDER, cache=False).trends()
    suggested = trends[trends["source"] == "suggestion"]
    assert set(suggested["metric"]) == {
        "worsening_concrete",
        "open_questions",
        "safety_netting",
        "asks_prior_contact",
    }


def test_one_base_layer_is_kept_per_database(tmp_path):
    from review.dashboard import _MEMO

    db = build_dashboard_db(tmp_path / "rescored.duckdb")
    service = DashboardService(db, LEDER)
    service.coverage()
    with connect(db) as con:  # a re-scoring run adds suggestions: a new base layer
        con.execute(
            "INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256, criterion_id,"
            " value, confidence, evidence_json, rationale, software_version)"
            " VALUES ('t-l2', 'l2', 'lvs_operator', 2, 'sha2', 'worsening_advice', 4, 0.9, '[]', '', 'test')"
        )
    assert figure(service.trends(), "2026-01", "lvs", "worsening_concrete", "suggestion") == (0.75, 4)
    bases = [k for k in _MEMO if k[0] == str(db.resolve()) and k[1] == "base"]
    assert len(bases) == 1


def build_team_db(db: Path) -> Path:
    """The same calls with teams: Anne in Lag A and Lise in Lag B by the admin; Lise's call l2 was
    taken for Lag A (its metadata says so, which wins). Mari (AMK) has no team."""
    build_dashboard_db(db)
    UserAdminService(db, ADMIN).set_teams([("op-anne", "Lag A"), ("op-lise", "Lag B")])
    with connect(db) as con:
        con.execute("UPDATE calls SET team = 'Lag A' WHERE call_id = 'l2'")
    return db


@pytest.fixture(scope="module")
def team_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_team_db(tmp_path_factory.mktemp("teams") / "teams.duckdb")


def team_figure(
    trends: pd.DataFrame, month: str, team: str | None, metric: str, source: str
) -> tuple[float, int]:
    same = trends["team"].isna() if team is None else trends["team"] == team
    row = trends[
        same & (trends["month"] == month) & (trends["metric"] == metric) & (trends["source"] == source)
    ]
    assert len(row) == 1, row
    return round(float(row["value"].iloc[0]), 4), int(row["calls"].iloc[0])


@pytest.mark.parametrize(
    ("team", "metric", "source", "expected"),
    [
        ("Lag A", "worsening_concrete", "suggestion", (0.5, 2)),  # a1 4, a2 1; l2 not applicable
        ("Lag B", "worsening_concrete", "suggestion", (1.0, 1)),  # l1 3
        ("Lag A", "open_questions", "suggestion", (3.0, 3)),  # a1 2, a2 4, l2 3
        ("Lag B", "open_questions", "suggestion", (1.0, 1)),
        ("Lag A", "open_questions", "combined", (2.8333, 3)),  # a1 2.5 and a2 3 reviewed, l2 3
        ("Lag A", "worsening_concrete", "review", (0.5, 2)),
    ],
)
def test_trends_by_team_in_january(team_db, team, metric, source, expected):
    trends = DashboardService(team_db, LEDER).trends(by=("team",))
    assert team_figure(trends, "2026-01", team, metric, source) == expected


def test_teams_add_up_to_the_same_service_figures(dashboard_db, team_db):
    """Weighted by the calls that have the criterion, teams add up exactly to the service."""
    plain = DashboardService(dashboard_db, LEDER, cache=False)
    teamed = DashboardService(team_db, LEDER, cache=False)
    pd.testing.assert_frame_equal(teamed.trends(), plain.trends())
    pd.testing.assert_frame_equal(teamed.coverage(), plain.coverage())
    pd.testing.assert_frame_equal(teamed.recontacts(), plain.recontacts())
    both = teamed.trends(by=("service", "team"))
    assert set(zip(both["service"], both["team"].fillna("-"), strict=True)) == {
        ("lvs", "Lag A"), ("lvs", "Lag B"), ("amk", "-"),
    }  # fmt: skip


def test_coverage_and_recontacts_by_team(team_db):
    service = DashboardService(team_db, LEDER)
    coverage = service.coverage(by=("team",)).fillna({"team": "-"}).set_index(["month", "team"])
    assert coverage.loc[("2026-01", "Lag A"), ["calls", "sampled", "reviewed"]].tolist() == [3, 1, 2]
    assert coverage.loc[("2026-01", "Lag B"), ["calls", "sampled", "reviewed"]].tolist() == [1, 1, 0]
    assert coverage.loc[("2026-02", "Lag B"), "calls"] == 1  # l3: Lise's team, from the admin's list
    recontacts = service.recontacts(by=("team",)).fillna({"team": "-"}).set_index(["month", "team"])
    assert recontacts.loc[("2026-01", "Lag A"), ["calls", "recontacts", "unrecognised"]].tolist() == [3, 1, 1]
    assert recontacts.loc[("2026-02", "-"), ["calls", "recontacts", "unrecognised"]].tolist() == [3, 1, 1]
    assert recontacts.loc[("2026-02", "-"), "recontact_rate"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="operator"):
        service.trends(by=("operator",))


def test_an_operator_sees_the_median_of_their_own_team(team_db):
    leader = DashboardService(team_db, LEDER).operator_figures()
    january = leader[leader["month"] == "2026-01"]
    lise = january[january["operator_id"] == "op-lise"].set_index("team")
    assert lise["calls"].to_dict() == {"Lag A": 1, "Lag B": 1}  # one call for each team
    medians = january[january["row"] == "team_median"].set_index("team")
    assert medians.loc["Lag A", "open_questions"] == pytest.approx((2.75 + 3) / 2)  # Anne and Lise's l2
    assert medians.loc["Lag B", "open_questions"] == 1.0  # l1 alone
    anne = DashboardService(team_db, ANNE).operator_figures()
    # Lag A has two people: its median would give Lise's figures away, so Anne does not see it
    assert anne["row"].tolist() == ["operator"] and anne["team"].tolist() == ["Lag A"]


def test_a_team_median_needs_three_people_in_an_operators_view():
    per_operator = pd.DataFrame(
        {
            "month": ["2026-01"] * 3, "service": ["lvs"] * 3, "team": ["A", "A", "B"],
            "operator_id": ["a", "b", "c"], "calls": [1, 3, 2], "reviewed": [0, 1, 1],
            "worsening_concrete": [0.0, 1.0, 1.0], "open_questions": [1.0, 2.0, 2.0],
            "safety_netting": [0.5, 0.5, 0.5], "asks_prior_contact": [1.0, 0.0, 0.0],
        }
    )  # fmt: skip
    assert "team_median" not in team_view(per_operator, "a", min_peers=3)["row"].tolist()
    everyone = per_operator.assign(team="A")
    assert team_view(everyone, "a", min_peers=3)["row"].tolist() == ["operator", "team_median"]
    assert team_view(per_operator, "a")["row"].tolist() == ["operator", "team_median"]  # a leader's view


def test_regroup_weights_by_calls_with_the_criterion():
    trends = pd.DataFrame(
        {
            "month": ["2026-01"] * 3,
            "service": ["lvs", "lvs", "amk"],
            "team": ["A", "B", None],
            "metric": ["open_questions"] * 3,
            "source": ["review"] * 3,
            "value": [1.0, 4.0, 2.0],
            "calls": [3, 1, 2],
        }
    )
    by_service = regroup(trends, "trends", ["service"]).set_index("service")
    assert by_service.loc["lvs", "value"] == pytest.approx((3 * 1.0 + 1 * 4.0) / 4)
    assert by_service.loc["lvs", "calls"] == 4 and by_service.loc["amk", "value"] == 2.0
    by_month = regroup(trends, "trends", [])
    assert by_month["value"].tolist() == [pytest.approx((3 + 4 + 4) / 6)]
    coverage = pd.DataFrame({"month": ["m", "m"], "service": ["lvs", "lvs"], "team": ["A", None],
                             "calls": [2, 3], "sampled": [1, 1], "reviewed": [1, 0], "sampled_reviewed": [1, 0],
                             "self_reviewed": [0, 1]})  # fmt: skip
    teams = regroup(coverage, "coverage", ["team"])
    assert teams["team"].isna().tolist() == [False, True] and teams["calls"].tolist() == [2, 3]


def test_a_team_change_reaches_the_remembered_figures(tmp_path):
    db = build_team_db(tmp_path / "moving.duckdb")
    service = DashboardService(db, LEDER)
    assert "Lag C" not in set(service.coverage(by=("team",))["team"].dropna())
    UserAdminService(db, ADMIN).set_teams([("op-mari", "Lag C")])
    coverage = service.coverage(by=("team",)).dropna(subset=["team"]).set_index(["month", "team"])
    assert coverage.loc[("2026-02", "Lag C"), "calls"] == 3


def test_monthly_report_by_team(team_db, dashboard_db):
    overview = DashboardService(team_db, LEDER).overview()
    page = monthly_html(overview, "2026-01")
    assert "<h3>Per lag</h3>" in page and "Lag A" in page and "Lag B" in page
    assert "67 %" in page  # the service figures are unchanged by the teams
    assert "Per lag" not in monthly_html(DashboardService(dashboard_db, LEDER).overview(), "2026-01")


def test_the_cheap_pdf_check_agrees_with_making_a_pdf():
    from lydlogg.documents import PdfUnavailableError, html_to_pdf, pdf_available

    try:
        made = html_to_pdf("<p>x</p>").startswith(b"%PDF")
    except PdfUnavailableError:
        made = False
    assert pdf_available() == made
