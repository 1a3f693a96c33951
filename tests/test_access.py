"""Every role x action through the service layer, on a real database built here."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from lydlogg.access import ACTIONS, PERMISSIONS, AccessDenied, allowed
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, AuthError, User, authenticate, create_user
from lydlogg.db import connect
from lydlogg.scoring import import_transcripts, score_stored
from review.service import ReviewService

SET = Path(__file__).resolve().parent / "data" / "rubric_set" / "calls"
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
OWN, OTHER = "rs-lvs-001", "rs-lvs-002"


def _build(tmp_path: Path) -> Path:
    from conftest import make_settings

    settings = make_settings(tmp_path)
    docs = [(c, json.loads((SET / f"{c}.json").read_text())) for c in (OWN, OTHER)]
    import_transcripts(settings, docs)
    score_stored(settings)
    with connect(settings.db_path) as con:
        for call_id, owner in ((OWN, "anne"), (OTHER, "lise")):  # each call in its operator's unit
            con.execute(
                "UPDATE calls SET operator_id = ?, unit = ? WHERE call_id = ?",
                [f"op-{owner}", DEMO_UNITS[owner][0], call_id],
            )
        for username, name, role, operator_id, password in DEMO_USERS:
            create_user(
                con, username, name, role, password, operator_id=operator_id, units=DEMO_UNITS[username]
            )
    return settings.db_path


@pytest.fixture
def db(tmp_path):
    return _build(tmp_path)


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("access"))


def _save(service: ReviewService, call_id: str, kind: str) -> str:
    return service.save_review(call_id, kind=kind, rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
                               values={"introduces_self": 1, "worsening_advice": None})  # fmt: skip


ACTS = {
    "view_call": lambda s, c: s.call(c),
    "read_transcript": lambda s, c: s.transcript(c),
    "play_audio": lambda s, c: s.audio_path(c),
    "suggestions": lambda s, c: s.suggestions(c),
    "peer_review": lambda s, c: _save(s, c, "peer"),
    "self_review": lambda s, c: _save(s, c, "self"),
    "reviews": lambda s, c: s.reviews(c),
    "correct": lambda s, c: s.correct_segment(c, 1, text="Ja, hei."),
    "episode": lambda s, c: s.episode(c),
}
# role -> (own call, other's call) -> allowed acts
READ = {"view_call", "read_transcript", "play_audio", "suggestions", "reviews"}
SUPERVISE = READ | {"peer_review", "correct", "episode"}
EXPECTED = {
    "admin": (set(), set()),
    "leder": (SUPERVISE, SUPERVISE),
    "veileder": (SUPERVISE, SUPERVISE),
    "anne": (READ | {"self_review"}, set()),
}


@pytest.mark.parametrize("username", sorted(EXPECTED))
@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("whose", ["own", "other"])
def test_role_action_table(shared_db, username, act, whose):
    service = ReviewService(shared_db, USERS[username])
    call_id = OWN if whose == "own" else OTHER
    allowed_acts = EXPECTED[username][0 if whose == "own" else 1]
    if act in allowed_acts:
        ACTS[act](service, call_id)
    else:
        with pytest.raises(AccessDenied, match="ingen tilgang"):
            ACTS[act](service, call_id)


def test_operator_lists_only_own_calls_and_unknown_calls_look_forbidden(db):
    anne = ReviewService(db, USERS["anne"])
    assert anne.calls()["call_id"].tolist() == [OWN]
    with pytest.raises(AccessDenied):
        anne.call("no-such-call")
    assert len(ReviewService(db, USERS["leder"]).calls()) == 2
    with pytest.raises(AccessDenied):
        ReviewService(db, USERS["admin"]).calls()


def test_every_action_is_in_the_permission_table():
    for role, actions in PERMISSIONS.items():
        assert actions <= set(ACTIONS), role
    with pytest.raises(ValueError, match="unknown action"):
        allowed(USERS["leder"], "launch_rockets")


def test_views_plays_and_saves_are_audited(db):
    leder = ReviewService(db, USERS["leder"])
    leder.call(OWN)
    leder.audio_path(OWN)  # imported call: no audio, nothing played, nothing audited
    _save(leder, OWN, "peer")
    with pytest.raises(AccessDenied):
        ReviewService(db, USERS["anne"]).call(OTHER)
    with duckdb.connect(str(db), read_only=True) as con:
        actions = con.execute(
            "SELECT username, action, object_id FROM audit WHERE object_type = 'call' ORDER BY audit_id"
        ).fetchall()
    assert actions == [("leder", "view_call", OWN), ("leder", "save_review", OWN)]


def test_editing_a_review_keeps_history_and_self_review_comes_first(db):
    leder, anne = ReviewService(db, USERS["leder"]), ReviewService(db, USERS["anne"])
    first = _save(leder, OWN, "peer")
    second = leder.save_review(OWN, kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
                               values={"introduces_self": 0}, overall_comment="endret")  # fmt: skip
    history = leder.history(OWN)
    assert [h[0] for h in history] == [first, second] and history[1][2] == first
    current = leder.reviews(OWN)
    assert [r.review_id for r in current] == [second] and current[0].values == {"introduces_self": 0}
    assert anne.reviews(OWN) == []  # the operator sees the supervisor's review only after her own
    mine = _save(anne, OWN, "self")
    assert {r.review_id for r in anne.reviews(OWN)} == {second, mine}


def test_passwords_log_in_and_failures_are_audited(db):
    with connect(db) as con:
        assert authenticate(con, "anne", "demo-anne-1").operator_id == "op-anne"
        with pytest.raises(AuthError, match="feil brukernavn eller passord"):
            authenticate(con, "anne", "wrong-password")
        with pytest.raises(AuthError, match="feil brukernavn eller passord"):  # one message: no confirmation
            authenticate(con, "anne", "demo-anne-1", production=True)
        with pytest.raises(AuthError, match="refused when LYDLOGG_ENV=production"):
            create_user(con, "x", "X", "leder", "demo-leder", production=True)
        with pytest.raises(AuthError, match="needs an operator_id"):
            create_user(con, "y", "Y", "operator", "long-enough-pw")
        hashes = [r[0] for r in con.execute("SELECT password_hash FROM users").fetchall()]
        log = con.execute("SELECT action FROM audit WHERE username = 'anne' ORDER BY audit_id").fetchall()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert [a for (a,) in log] == ["login", "login_failed", "login_failed"]


def test_a_correction_keeps_the_original_relabels_and_scores_again(db):
    leder = ReviewService(db, USERS["leder"])
    before = leder.transcript(OWN)
    staff = next(i for i, seg in enumerate(before.segments) if seg.role == "operator")
    _rubric, suggestions = leder.suggestions(OWN)
    assert {s.criterion_id: s.value for s in suggestions}["introduces_self"] == 1

    leder.correct_segment(OWN, staff, text="Hallo.")
    after = leder.transcript(OWN)
    assert after.segments[staff].text == "Hallo." and after.segments[staff].words == ()
    _rubric, suggestions = leder.suggestions(OWN)
    assert {s.criterion_id: s.value for s in suggestions}["introduces_self"] == 0  # scored again
    with duckdb.connect(str(db), read_only=True) as con:
        original = con.execute(
            "SELECT s.text FROM segments s JOIN transcripts t USING (transcript_id) WHERE t.call_id = ? AND s.segment_index = ?",
            [OWN, staff],
        ).fetchone()[0]
        detail = con.execute("SELECT detail FROM audit WHERE action = 'correct_transcript'").fetchone()[0]
    assert original == before.segments[staff].text and "Hallo" not in detail

    assert leder.swap_roles(OWN) == len([s for s in after.segments if s.role])
    swapped = leder.transcript(OWN)
    assert [s.role for s in swapped.segments] == [
        {"operator": "caller", "caller": "operator"}.get(s.role, s.role) for s in after.segments
    ]
    with pytest.raises(ValueError, match="out of range"):
        leder.correct_segment(OWN, 999, text="x")
    with pytest.raises(ValueError, match="role 'nurse'"):
        leder.correct_segment(OWN, 0, role="nurse")


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"introduces_self": 7}, "introduces_self: value must be one of 0, 1"),
        ({"introduces_self": -1}, "value must be one of"),
        ({"introduces_self": True}, "value must be one of"),
        ({"no_such_criterion": 1}, "not in the rubric"),
    ],
)
def test_a_review_with_values_outside_the_rubric_is_refused(db, values, problem):
    leder = ReviewService(db, USERS["leder"])
    with pytest.raises(ValueError, match=problem):
        leder.save_review(OWN, kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
                          values=values)  # fmt: skip
    with pytest.raises(ValueError, match="no such rubric"):
        leder.save_review(OWN, kind="peer", rubric_id="made_up", rubric_version=1, rubric_sha256="x",
                          values={"introduces_self": 1})  # fmt: skip
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
