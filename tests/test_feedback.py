"""Feedback sessions: reflection questions, the step plan, notes with audit, and the handout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from review.feedback import FeedbackNote, FeedbackService, assessment_rows, handout_html, plan_steps
from review.service import Review, Suggestion
from rubrics import RubricError, load_rubrics
from rubrics.reflection import REFLECTION_FILE, load_reflection_questions
from transcription.types import Segment, Transcript

USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
RUBRIC = load_rubrics()["lvs_operator"].rubric
QUESTIONS = load_reflection_questions(rubrics=load_rubrics())


def test_the_questions_cover_the_themes_and_every_criterion_exists():
    titles = {t.id for t in QUESTIONS.themes}
    assert titles == {
        "concrete_worsening_advice",
        "recognising_repeat_contacts",
        "decision_support_and_video",
        "learning_from_audio_logs",
        "patients_and_relatives_in_reviews",
    }
    assert [t.title for t in QUESTIONS.for_criterion("worsening_advice")] == ["Konkrete råd om forverring"]
    assert {t.id for t in QUESTIONS.session_themes} == {
        "learning_from_audio_logs",
        "patients_and_relatives_in_reviews",
    }
    assert all(q.endswith("?") for t in QUESTIONS.themes for q in t.questions)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nthemes:\n  - {id: a, title: Tema, criteria: [nope], questions: ['Hva?']}\n",
            "not in any rubric: nope",
        ),
        ("version: 1\nthemes:\n  - {id: a, title: Tema, criteria: [], questions: []}\n", "questions"),
        (
            "version: 1\nthemes:\n  - {id: a, title: Tema, criteria: [], questions: ['Hva?'], x: 1}\n",
            "Extra inputs",
        ),
        (
            "version: 1\nthemes:\n  - {id: a, title: Tema, criteria: [], questions: ['Hva?']}\n"
            "  - {id: a, title: Tema, criteria: [], questions: ['Hva?']}\n",
            "duplicate theme id",
        ),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_the_loader_rejects_what_it_cannot_use(tmp_path, text, message):
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError, match=message):
        load_reflection_questions(path, rubrics=load_rubrics())


def test_the_questions_file_is_not_read_as_a_rubric():
    assert REFLECTION_FILE.is_file() and set(load_rubrics()) == {"lvs_operator", "legevaktlege_telefon"}


TRANSCRIPT = Transcript(
    "c1",
    "no",
    (
        Segment(0.0, 3.0, "Legevakten.", role="operator"),
        Segment(3.0, 8.0, "Jeg ringte i går også.", role="caller"),
        Segment(8.0, 12.0, "Ring igjen ved forverring.", role="operator"),
    ),
)


def _suggestion(criterion: str, value: int | None, segments: tuple[int, ...] = ()) -> Suggestion:
    return Suggestion(
        criterion, value, 0.8, tuple({"segment_index": i, "text": "…", "start": 0.0} for i in segments), "r"
    )


def _review(reviewer: str, comments=(), **values: int | None) -> Review:
    return Review(
        "r-" + reviewer, "c1", reviewer, "peer", "lvs_operator", 1, None, None, values, tuple(comments)
    )


def test_steps_put_questions_where_the_evidence_is_and_the_rest_at_the_end():
    suggestions = [
        _suggestion("introduces_self", 0, (0,)),
        _suggestion("worsening_advice", 1, (2,)),
        _suggestion("asks_prior_contact", 0),  # no evidence: it was never asked
        _suggestion("summarises", 1),  # full marks and no evidence: nothing to ask
    ]
    reviews = [
        _review("veileder", [(1, 3.0, "Her sa hun at hun ringte i går.")], asks_prior_contact=0, summarises=1)
    ]
    steps = plan_steps(TRANSCRIPT, RUBRIC, suggestions, reviews, QUESTIONS)
    assert [s.segment_index for s in steps] == [0, 1, 2, None]
    assert steps[0].criteria == ("introduces_self",)
    assert (
        steps[1].comments == (("veileder", "Her sa hun at hun ringte i går."),) and steps[1].questions == ()
    )
    assert {title for title, _q in steps[2].questions} == {
        RUBRIC.criterion("worsening_advice").title,  # the rubric's own question
        "Konkrete råd om forverring",  # and the theme's
    }
    closing = steps[-1]
    assert closing.criteria == ("asks_prior_contact",)
    closing_titles = [title for title, _q in closing.questions]
    assert "Å kjenne igjen gjentatte kontakter" in closing_titles
    assert (
        "Lydlogg som kilde til læring" in closing_titles
        and "Pasienter og pårørende i gjennomganger" in closing_titles
    )
    assert RUBRIC.criterion("summarises").title not in closing_titles


@pytest.mark.parametrize(
    ("values", "suggested", "expected_low"),
    [
        ({}, 4, False),  # nobody reviewed; the suggestion is at the top
        ({}, 2, True),
        ({"a": 4, "b": 3}, 4, True),  # one reviewer below the top
        ({"a": 4}, 0, False),  # reviewers outweigh the suggestion
        ({"a": None}, None, False),  # «ikke aktuelt» is not low
    ],
)
def test_a_criterion_without_evidence_is_asked_about_when_scored_below_the_top(
    values, suggested, expected_low
):
    reviews = [_review(name, **{"worsening_advice": v}) for name, v in values.items()]
    steps = plan_steps(TRANSCRIPT, RUBRIC, [_suggestion("worsening_advice", suggested)], reviews, QUESTIONS)
    assert ("worsening_advice" in steps[-1].criteria) is expected_low


def test_handout_lists_scores_questions_and_notes_and_escapes_user_text():
    reviews = [_review("veileder", [(1, 3.0, "<b>fet</b> kommentar")], worsening_advice=1, introduces_self=0)]
    suggestions = [_suggestion("worsening_advice", 2, (2,))]
    rows = assessment_rows(RUBRIC, suggestions, reviews)
    steps = plan_steps(TRANSCRIPT, RUBRIC, suggestions, reviews, QUESTIONS)
    notes = [FeedbackNote(1, "c1", 2, "<script>alert(1)</script>", "veileder", None)]
    page = handout_html("c1", RUBRIC, rows, reviews, steps, notes, held_on=date(2026, 3, 5))
    assert page.startswith("<!DOCTYPE html>") and "05.03.2026" in page
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;fet&lt;/b&gt;" in page
    assert "0:08 · <b>veileder</b>" in page  # the note sits at its segment's time
    assert page.count('class="low"') == 2  # worsening advice 1 and «introduces self» no
    assert "Konkrete råd om forverring" in page and "Mine egne notater" in page
    assert "Ring igjen ved forverring." not in page  # no transcript text on paper


def test_handout_as_pdf():
    from lydlogg.documents import html_to_pdf

    page = handout_html("c1", RUBRIC, assessment_rows(RUBRIC, [], []), [], [], [])
    assert html_to_pdf(page).startswith(b"%PDF")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A real database with two calls: Anne's and Lise's."""
    path = tmp_path / "feedback.duckdb"
    with connect(path) as con:
        con.execute(
            "INSERT INTO calls (call_id, operator_id, unit) VALUES ('anne-1', 'op-anne', ?), ('lise-1', 'op-lise', ?)",
            [DEMO_UNITS["anne"][0], DEMO_UNITS["lise"][0]],
        )
    return path


def test_a_session_note_is_kept_with_the_call_and_audited(db):
    leader = FeedbackService(db, USERS["leder"])
    first = leader.save_note("anne-1", "  Snakket om konkrete tegn.  ")
    leader.save_note("anne-1", "Her kunne hun spurt om tidligere kontakt.", segment_index=1)
    notes = FeedbackService(db, USERS["anne"]).notes("anne-1")  # the operator reads the notes on her call
    assert [(n.note_id, n.segment_index, n.text) for n in notes][0] == (
        first,
        None,
        "Snakket om konkrete tegn.",
    )
    assert len(notes) == 2 and notes[1].written_by == "leder"
    with connect(db) as con:
        audited = con.execute(
            "SELECT username, object_id FROM audit WHERE action = 'feedback_note'"
        ).fetchall()
    assert audited == [("leder", "anne-1"), ("leder", "anne-1")]


@pytest.mark.parametrize(
    ("user", "call_id", "write"),
    [
        ("anne", "anne-1", True),  # operators do not lead sessions
        ("anne", "lise-1", False),  # nor read the notes on another operator's call
        ("admin", "anne-1", False),
        ("leder", "nope", True),  # unknown and forbidden look the same
    ],
)
def test_notes_refused(db, user, call_id, write):
    service = FeedbackService(db, USERS[user])
    with pytest.raises(AccessDenied):
        service.save_note(call_id, "tekst") if write else service.notes(call_id)


def test_an_empty_note_is_refused(db):
    with pytest.raises(ValueError, match="empty"):
        FeedbackService(db, USERS["veileder"]).save_note("anne-1", "   ")


def test_an_abstention_is_neither_ikke_aktuelt_nor_evidence_in_the_session():
    """A suggestion that abstained («kan ikke vurderes automatisk – lytt») is marked as such in the
    assessment and on the handout, and its listening span is not taken for evidence of the criterion."""
    abstained = Suggestion("asks_prior_contact", None, 0.0, ({"segment_index": 1, "text": "…", "start": 3.0},),
                           "kan ikke vurderes automatisk – lytt 0:03–0:08", abstained=True)  # fmt: skip
    suggestions = [abstained, _suggestion("worsening_advice", None)]  # «ikke aktuelt»: a value
    rows = {r.criterion_id: r for r in assessment_rows(RUBRIC, suggestions, [])}
    assert rows["asks_prior_contact"].abstained and rows["asks_prior_contact"].suggested is None
    assert not rows["worsening_advice"].abstained
    steps = plan_steps(TRANSCRIPT, RUBRIC, suggestions, [], QUESTIONS)
    assert "asks_prior_contact" not in steps[1].criteria and "asks_prior_contact" not in steps[-1].criteria
    page = handout_html("c1", RUBRIC, list(rows.values()), [], steps, [], held_on=date(2026, 3, 5))
    prior = next(line for line in page.splitlines() if RUBRIC.criterion("asks_prior_contact").title in line)
    assert "kan ikke vurderes automatisk" in prior and "ikke aktuelt" not in prior
    worsening = next(line for line in page.splitlines() if RUBRIC.criterion("worsening_advice").title in line)
    assert "kan ikke vurderes" not in worsening
