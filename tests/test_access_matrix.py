"""Every role x every action x unit (own, other): the rule table, the service layer and the
pages' URL parameters.

The expected table is written out here on purpose: a change to ``lydlogg.access.PERMISSIONS``
must change this file too, so that widening a role is a visible, reviewed decision.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from lydlogg.access import ACTIONS, PERMISSIONS, AccessDenied, allowed
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User, create_user
from lydlogg.db import connect
from review.app.pages import PAGES, VIEWS_DIR, home_page, menu
from review.views.common import md_text

REPO = Path(__file__).resolve().parent.parent
APP = str(REPO / "app.py")
ROLES = ("admin", "leder", "veileder", "operator", "lege", "regional")
NORD, SOR = DEMO_UNITS["leder"]  # the sample calls' two units; the demo leader and supervisor have both
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS} | {
    "lars": User("lars", "Lars (lege)", "lege", "lege-berg", (NORD,)),
    "sara": User("sara", "Sara (leder i Sørvik)", "leder", None, (SOR,)),
}
BY_ROLE = {"admin": "admin", "leder": "leder", "veileder": "veileder", "operator": "anne", "lege": "lars",
           "regional": "region"}  # fmt: skip
OWN = {
    "operator": "lvs-001-feber-barn",
    "lege": "lege-001-magesmerter",
}  # anne's and lars's own calls (Nordby)
OTHER = "lvs-003-brystsmerter"  # lise's call (Sørvik): nobody above owns it
UNIT_BOUND = ("leder", "veileder", "operator", "lege")  # see only their own units' calls

# fmt: off
#                          admin leder veileder operator lege regional
EXPECTED: dict[str, tuple[int, int, int, int, int, int]] = {
    "list_calls":          (0,    1,    1,       1,       1,   1),
    "view_call":           (0,    1,    1,       1,       1,   1),
    "play_audio":          (0,    1,    1,       1,       1,   1),
    "export":              (0,    1,    1,       0,       0,   1),
    "peer_review":         (0,    1,    1,       0,       0,   0),
    "self_review":         (0,    0,    0,       1,       1,   0),
    "correct_transcript":  (0,    1,    1,       0,       0,   0),
    "manage_users":        (1,    0,    0,       0,       0,   0),
    "view_audit":          (1,    1,    0,       0,       0,   0),
    "view_episodes":       (0,    1,    1,       0,       0,   1),
    "plan_sampling":       (0,    1,    0,       0,       0,   0),
    "calibrate":           (0,    1,    1,       0,       0,   0),
    "manage_calibration":  (0,    1,    1,       0,       0,   0),
    "run_feedback":        (0,    1,    1,       0,       0,   0),
    "view_dashboard":      (0,    1,    1,       1,       1,   1),
    "publish_case":        (0,    1,    1,       0,       0,   0),
    "read_cases":          (0,    1,    1,       1,       1,   1),  # the roles in training; not admin
    "export_case":         (0,    1,    1,       0,       0,   0),
    "manage_retention":    (1,    0,    0,       0,       0,   0),
}
# fmt: on
# Actions that no service checks yet (the rule table above still decides them for the UI):
# the CLI's `export-transcript` runs as the server's account, and cases and the dashboard are
# checked by their own modules' tests.
WITHOUT_SERVICE = {"export", "view_dashboard", "publish_case", "read_cases", "export_case"}


def expected(role: str, action: str) -> bool:
    return bool(EXPECTED[action][ROLES.index(role)])


# --- the rule table --------------------------------------------------------------------------------


def test_the_table_names_every_action_and_every_role():
    assert tuple(EXPECTED) == ACTIONS
    assert set(PERMISSIONS) == set(ROLES)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_allowed_matches_the_written_table(role, action):
    user = USERS[BY_ROLE[role]]
    assert allowed(user, action) is expected(role, action)


@pytest.mark.parametrize("unit", ["own", "other", "none"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_ownership_and_unit_limit_the_calls_a_role_may_touch(role, action, unit):
    """Operators and doctors: their own calls only; every role but regional quality and admin:
    calls of their own units only (a call without a unit belongs to no one's unit)."""
    user = USERS[BY_ROLE[role]]
    own_only = role in ("operator", "lege")
    in_unit = role not in UNIT_BOUND or unit == "own"
    call_unit = {"own": NORD, "other": "Østby legevakt", "none": None}[unit]  # every user here has Nordby
    mine = user.operator_id or "op-anyone"
    ok = expected(role, action) and in_unit
    assert allowed(user, action, mine, call_known=True, call_unit=call_unit) is ok
    assert allowed(user, action, "op-lise", call_known=True, call_unit=call_unit) is (ok and not own_only)
    assert allowed(user, action, None, call_known=True, call_unit=call_unit) is (ok and not own_only)


@pytest.mark.parametrize("who", ["leder", "sara", "anne", "lars", "region"])
def test_the_list_scope_is_the_same_rule_as_one_call(who):
    """What a list shows (call_scope) and what opening one call allows (allowed) never disagree."""
    from lydlogg.access import call_scope

    user = USERS[who]
    scope = call_scope(user)
    for operator_id in (user.operator_id, "op-lise", None):
        for unit in (NORD, SOR, "Østby legevakt", None):
            opens = allowed(user, "view_call", operator_id, call_known=True, call_unit=unit)
            assert scope.admits(operator_id, unit) is opens


@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_role_may_do_nothing(action):
    assert allowed(User("x", "X", "sjef"), action) is False


def test_an_unknown_action_is_an_error_not_a_no():
    with pytest.raises(ValueError, match="unknown action"):
        allowed(USERS["admin"], "delete_everything")


# --- the service layer -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """The reference calls, the demo users, a doctor, and one calibration round (leder, veileder)."""
    from conftest import build_reference_db

    from review.calibration import CalibrationService

    path = build_reference_db(tmp_path_factory.mktemp("matrix"))
    with connect(path) as con:
        create_user(
            con, "lars", "Lars (lege)", "lege", "larss-passord", operator_id="lege-berg", units=(NORD,)
        )
        create_user(con, "sara", "Sara (leder i Sørvik)", "leder", "saras-passord", units=(SOR,))
    CalibrationService(path, USERS["leder"]).create_round(
        "Mars", "lvs_operator", [OTHER], ["leder", "veileder"]
    )
    return path


def _round_id(db: Path) -> str:
    with connect(db) as con:
        return con.execute("SELECT round_id FROM calibration_rounds LIMIT 1").fetchone()[0]


def _review(kind: str):
    def save(s, call):
        return s.save_review(call, kind=kind, rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
                             values={"introduces_self": 1})  # fmt: skip

    return save


def _review_service(method):
    def run(db, user, call, tmp):
        from review.service import ReviewService

        return method(ReviewService(db, user), call)

    return run


def _sampling(db, user, call, tmp):
    from review.sampling import SamplingPlan
    from review.service import ReviewService

    return ReviewService(db, user).create_sampling_plan(SamplingPlan("2026-03", 1, 7), ["veileder"])


def _calibration(method):
    def run(db, user, call, tmp):
        from review.calibration import CalibrationService

        return method(CalibrationService(db, user), _round_id(db), call)

    return run


def _feedback(method):
    def run(db, user, call, tmp):
        from review.feedback import FeedbackService

        return method(FeedbackService(db, user), call)

    return run


def _users(method):
    def run(db, user, call, tmp):
        from lydlogg.users import UserAdminService

        return method(UserAdminService(db, user))

    return run


def _audit_trail(db, user, call, tmp):
    from review.audit_log import AuditFilter, AuditLogService

    return AuditLogService(db, user).entries(AuditFilter(), limit=5)


def _retention(db, user, call, tmp):
    from lydlogg.retention import RetentionSettings, apply_retention

    rules = RetentionSettings(managed_audio_dir=tmp / "audio")
    return apply_retention(db, rules, user=user, now=datetime.now(UTC), dry_run=True)


def _backup(db, user, call, tmp):
    from lydlogg.backup import backup

    return backup(db, tmp / "backup", include_audio=False, user=user)


# (what, action, on a call?, run(db, user, call, tmp)); "own" calls are the user's own for
# operators and doctors, and another operator's call is tried separately.
SERVICE_CALLS = [
    ("ReviewService.calls", "list_calls", False, _review_service(lambda s, c: s.calls())),
    ("ReviewService.guidance", "list_calls", False, _review_service(lambda s, c: s.guidance("lvs_operator"))),
    ("ReviewService.call", "view_call", True, _review_service(lambda s, c: s.call(c))),
    ("ReviewService.transcript", "view_call", True, _review_service(lambda s, c: s.transcript(c))),
    ("ReviewService.suggestions", "view_call", True, _review_service(lambda s, c: s.suggestions(c))),
    ("ReviewService.reviews", "view_call", True, _review_service(lambda s, c: s.reviews(c))),
    ("ReviewService.history", "view_call", True, _review_service(lambda s, c: s.history(c))),
    ("ReviewService.audio_path", "play_audio", True, _review_service(lambda s, c: s.audio_path(c))),
    ("ReviewService.save_review(peer)", "peer_review", True, _review_service(_review("peer"))),
    ("ReviewService.save_review(self)", "self_review", True, _review_service(_review("self"))),
    ("ReviewService.correct_segment", "correct_transcript", True,
     _review_service(lambda s, c: s.correct_segment(c, 0, role="operator"))),
    ("ReviewService.episode", "view_episodes", True, _review_service(lambda s, c: s.episode(c))),
    ("ReviewService.create_sampling_plan", "plan_sampling", False, _sampling),
    ("CalibrationService.rounds", "calibrate", False, _calibration(lambda s, r, c: s.rounds())),
    ("CalibrationService.scores", "calibrate", False, _calibration(lambda s, r, c: s.scores(r))),
    ("CalibrationService.results", "calibrate", False, _calibration(lambda s, r, c: s.results(r))),
    ("CalibrationService.create_round", "manage_calibration", False,
     _calibration(lambda s, r, c: s.create_round("Ny", "lvs_operator", [OTHER], ["leder", "veileder"]))),
    ("CalibrationService.record_interpretation", "manage_calibration", False,
     _calibration(lambda s, r, c: s.record_interpretation("lvs_operator", "introduces_self", "Navn og rolle."))),
    ("FeedbackService.save_note", "run_feedback", True, _feedback(lambda s, c: s.save_note(c, "Godt spørsmål."))),
    ("FeedbackService.notes", "view_call", True, _feedback(lambda s, c: s.notes(c))),
    ("UserAdminService.list", "manage_users", False, _users(lambda s: s.list())),
    ("UserAdminService.shared_operator_ids", "manage_users", False, _users(lambda s: s.shared_operator_ids())),
    ("UserAdminService.unlock", "manage_users", False, _users(lambda s: s.unlock("lise"))),
    ("AuditLogService.entries", "view_audit", False, _audit_trail),
    ("apply_retention(dry run)", "manage_retention", False, _retention),
    ("backup", "manage_retention", False, _backup),
]  # fmt: skip


def test_every_action_has_a_service_call_or_is_listed_without_one():
    covered = {action for _what, action, _on_call, _run in SERVICE_CALLS}
    assert covered | WITHOUT_SERVICE == set(ACTIONS)
    assert not covered & WITHOUT_SERVICE


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("what", "action", "on_call", "run"), SERVICE_CALLS, ids=[c[0] for c in SERVICE_CALLS]
)
def test_the_service_layer_enforces_the_table(db, tmp_path, role, what, action, on_call, run):
    user = USERS[BY_ROLE[role]]
    call = OWN.get(role, OTHER)
    if expected(role, action):
        run(db, user, call, tmp_path)
    else:
        with pytest.raises(AccessDenied):
            run(db, user, call, tmp_path)


@pytest.mark.parametrize("role", ["operator", "lege"])
@pytest.mark.parametrize(
    ("what", "action", "on_call", "run"),
    [c for c in SERVICE_CALLS if c[2]],
    ids=[c[0] for c in SERVICE_CALLS if c[2]],
)
def test_operators_and_doctors_are_refused_other_operators_calls(
    db, tmp_path, role, what, action, on_call, run
):
    with pytest.raises(AccessDenied):
        run(db, USERS[BY_ROLE[role]], OTHER, tmp_path)


ELSEWHERE = {role: dataclasses.replace(USERS[BY_ROLE[role]], units=(SOR,)) for role in UNIT_BOUND}
"""Each unit-bound role's user moved to Sørvik only: the Nordby calls they could touch are now another unit's."""


@pytest.mark.parametrize("role", [*UNIT_BOUND, "regional"])
@pytest.mark.parametrize(
    ("what", "action", "on_call", "run"),
    [c for c in SERVICE_CALLS if c[2]],
    ids=[c[0] for c in SERVICE_CALLS if c[2]],
)
def test_calls_of_another_unit_are_refused_by_the_service_layer(
    db, tmp_path, role, what, action, on_call, run
):
    call = OWN.get(role, OWN["operator"])  # a Nordby call the role could touch in its own unit
    if role == "regional":  # bound to no unit
        if expected(role, action):
            run(db, USERS["region"], call, tmp_path)
        else:
            with pytest.raises(AccessDenied):
                run(db, USERS["region"], call, tmp_path)
        return
    if expected(role, action):  # in the user's own unit the call is theirs to touch
        run(db, USERS[BY_ROLE[role]], call, tmp_path)
    with pytest.raises(AccessDenied):
        run(db, ELSEWHERE[role], call, tmp_path)


@pytest.mark.parametrize(
    ("who", "units"),
    [
        ("leder", {NORD, SOR}),
        ("sara", {SOR}),
        ("anne", {NORD}),
        ("region", {NORD, SOR}),
        ("veileder", {NORD, SOR}),
    ],
)
def test_lists_hold_only_the_calls_of_the_users_units(db, who, units):
    from review.service import ReviewService

    calls = ReviewService(db, USERS[who]).calls()
    assert not calls.empty and set(calls["unit"]) == units
    if who == "anne":
        assert set(calls["operator_id"]) == {"op-anne"}


def test_a_user_without_a_unit_sees_no_call_and_a_call_without_one_is_regional(db, tmp_path):
    import shutil

    from review.service import ReviewService

    copy = Path(shutil.copy(db, tmp_path / "no-unit.duckdb"))
    with connect(copy) as con:
        con.execute("UPDATE calls SET unit = NULL WHERE call_id = ?", [OTHER])
    assert ReviewService(copy, User("liv", "Liv", "leder")).calls().empty
    assert OTHER not in set(ReviewService(copy, USERS["leder"]).calls()["call_id"])
    with pytest.raises(AccessDenied):
        ReviewService(copy, USERS["leder"]).call(OTHER)
    assert OTHER in set(ReviewService(copy, USERS["region"]).calls()["call_id"])
    assert ReviewService(copy, USERS["region"]).call(OTHER).call_id == OTHER


@pytest.mark.parametrize("role", ROLES)
def test_an_unknown_call_looks_the_same_as_a_forbidden_one(db, tmp_path, role):
    from review.service import ReviewService

    with pytest.raises(AccessDenied):
        ReviewService(db, USERS[BY_ROLE[role]]).call("finnes-ikke")


def test_refused_attempts_leave_the_data_and_the_trail_unchanged(db, tmp_path):
    from review.service import ReviewService

    with connect(db) as con:
        before = con.execute("SELECT count(*) FROM reviews").fetchone()[0]
    anne = ReviewService(db, USERS["anne"])
    with pytest.raises(AccessDenied):
        _review("peer")(anne, OWN["operator"])
    with pytest.raises(AccessDenied):
        _review("self")(anne, OTHER)
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == before
        assert not con.execute(
            "SELECT 1 FROM audit WHERE username = 'anne' AND object_id = ?", [OTHER]
        ).fetchall()


# --- the page registry ---


def test_the_page_registry_names_existing_scripts_and_known_actions_once():
    assert len({p.script for p in PAGES}) == len({p.path for p in PAGES}) == len(PAGES)
    for page in PAGES:
        assert page.file.is_file(), f"{page.file}: page script missing"
        assert page.action in ACTIONS, f"{page.script}: unknown action {page.action!r}"


@pytest.mark.parametrize("who", sorted(USERS))
def test_the_menu_is_the_registry_filtered_by_the_access_rules(who):
    user = USERS[who]
    offered = menu(user)
    assert offered == tuple(p for p in PAGES if allowed(user, p.action))
    assert offered, f"{who} would have no page at all"
    home = home_page(offered)
    expected = (
        "innboks" if allowed(user, "list_calls") else "brukere" if allowed(user, "manage_users") else None
    )
    assert home.path == (expected or offered[0].path)


# --- pages, through URL parameters --------------------------------------------------------------------


def _app(monkeypatch, db: Path, who: str, page: str | None = None, **query: str) -> AppTest:
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, db, USERS[who])
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"review/views/{page}.py").run()
    return at


def _page(script: str, db: Path, who: str, **query: str) -> AppTest:
    """A page script on its own, as st.navigation runs it (whether or not the menu offers it)."""
    from review.service import ReviewService

    at = AppTest.from_file(str(VIEWS_DIR / script), default_timeout=60)
    at.session_state["service"] = ReviewService(db, USERS[who])
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


@pytest.mark.parametrize(
    ("who", "page", "call"),
    [
        ("anne", "samtale", OTHER),  # another operator's call
        ("lars", "samtale", OWN["operator"]),  # a doctor and an operator's call
        ("anne", "samtale", "finnes-ikke"),  # unknown looks like forbidden
        ("admin", "samtale", OWN["operator"]),  # admins do not see calls
        ("anne", "episode_page", OWN["operator"]),  # operators see no episodes, not even their own
        ("admin", "episode_page", OTHER),
        ("sara", "samtale", OWN["operator"]),  # a leader and a call of another unit
        ("sara", "episode_page", OWN["operator"]),
    ],
)
def test_a_call_in_the_url_is_refused_through_the_app(monkeypatch, db, who, page, call):
    with connect(db) as con:
        last = con.execute("SELECT max(audit_id) FROM audit").fetchone()[0]
    try:
        at = _app(monkeypatch, db, who, page, samtale=call)
    except ValueError as e:  # the role's menu lacks the page: run its script directly, as a forged URL would
        assert "Could not find a navigation page" in str(e)
        at = _page(f"{page}.py", db, who, samtale=call)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["ingen tilgang"]
    assert not any(call in t.value for t in at.title)
    with connect(db) as con:  # nothing was shown, so nothing about the call was audited as seen
        assert not con.execute(
            "SELECT action FROM audit WHERE audit_id > ? AND object_id = ?", [last, call]
        ).fetchall()


def test_the_own_call_opens_for_its_operator(monkeypatch, db):
    at = _app(monkeypatch, db, "anne", "samtale", samtale=OWN["operator"])
    assert not at.exception and at.title[0].value == f"Samtale {md_text(OWN['operator'])}" and not at.error


@pytest.mark.parametrize(
    ("who", "script", "query"),
    [
        ("anne", "tilbakemelding.py", {"samtale": OTHER}),
        ("lars", "tilbakemelding.py", {"samtale": OWN["lege"]}),
        ("admin", "tilbakemelding.py", {"samtale": OTHER}),
        ("anne", "kalibrering.py", {"runde": "any"}),
        ("admin", "kalibrering.py", {}),
        ("leder", "brukere.py", {}),
        ("veileder", "brukere.py", {}),
        ("anne", "brukere.py", {}),
        ("lars", "brukere.py", {}),
        ("veileder", "revisjonslogg.py", {"bruker": "anne"}),
        ("anne", "revisjonslogg.py", {"samtale": OWN["operator"]}),
        ("lars", "revisjonslogg.py", {}),
    ],
)
def test_pages_refuse_roles_without_the_action_even_when_opened_directly(db, who, script, query):
    at = _page(script, db, who, **query)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["ingen tilgang"]
    assert not at.dataframe


@pytest.mark.parametrize(
    ("who", "script"),
    [("admin", "brukere.py"), ("admin", "revisjonslogg.py"), ("leder", "revisjonslogg.py")],
)
def test_the_admin_and_audit_pages_open_for_their_roles(db, who, script):
    at = _page(script, db, who)
    assert not at.exception, at.exception
    assert not at.error and len(at.dataframe) == 1


@pytest.mark.parametrize(
    ("who", "script", "offered"),
    [
        ("anne", "kalibrering.py", False),
        ("anne", "tilbakemelding.py", False),
        ("lars", "kalibrering.py", False),
        ("admin", "kalibrering.py", False),
        ("veileder", "tilbakemelding.py", True),
        ("leder", "kalibrering.py", True),
        ("admin", "brukere.py", True),
        ("leder", "brukere.py", False),
        ("anne", "brukere.py", False),
        ("leder", "revisjonslogg.py", True),
        ("admin", "revisjonslogg.py", True),
        ("veileder", "revisjonslogg.py", False),
        ("lars", "revisjonslogg.py", False),
    ],
)
def test_the_menu_offers_only_the_pages_a_role_may_use(monkeypatch, db, who, script, offered):
    """Through the app: a page outside the role's navigation cannot be switched to at all."""
    (page,) = [p for p in PAGES if p.script == script]  # the registry lists the page exactly once
    assert allowed(USERS[who], page.action) is offered  # the table above agrees with the access rules
    at = _app(monkeypatch, db, who)
    assert not at.exception, at.exception
    if offered:
        at.switch_page(f"review/views/{script}").run()
        assert not at.exception and "ingen tilgang" not in [e.value for e in at.error]
    else:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"review/views/{script}")
