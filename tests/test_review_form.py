"""The call page's review form through AppTest on a real database: calls without a rubric, drafts
kept when the reviewer leaves, and segment comments that name no segment."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import clear_reviews, sign_in
from streamlit.testing.v1 import AppTest

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect

ROOT = Path(__file__).resolve().parent.parent
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
CALL = "lvs-003-brystsmerter"


@pytest.fixture
def db(reference_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = Path(shutil.copy(reference_db, tmp_path / "form.duckdb"))
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(copy))  # the app opens this copy
    with connect(copy) as con:
        clear_reviews(con)
    return copy


def call_page(db: Path, user: str, call_id: str = CALL) -> AppTest:
    """A new visit to the call page (a new Streamlit session: nothing kept in the page's memory)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    sign_in(at, db, USERS[user])
    at.query_params["samtale"] = call_id
    at.run()
    return at.switch_page("review/views/samtale.py").run()


def everything_shown(at: AppTest) -> str:
    return "\n".join(
        str(e.value)
        for kind in ("info", "caption", "markdown", "warning", "error", "success")
        for e in getattr(at, kind)
    )


@pytest.mark.parametrize("call_id", ["amk-001-bevisstlos", "ep1-c1-fastlege"])
def test_a_call_without_a_rubric_says_why_it_has_no_form(db, call_id):
    at = call_page(db, "leder", call_id)
    assert not at.exception, at.exception
    assert any("har ikke noe vurderingsskjema" in i.value for i in at.info)
    assert not at.radio and not [b for b in at.button if b.label == "Lagre vurdering"]
    shown = everything_shown(at)
    assert "`" not in shown and "lydlogg " not in shown and "Kjør" not in shown


def test_no_page_shows_a_command_line():
    """Every text the pages can show is Norwegian prose: no `lydlogg ...`, no make target."""
    import ast

    found = []
    for path in [ROOT / "app.py", *sorted((ROOT / "review" / "views").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body and isinstance(node.body[0], ast.Expr)
        }  # fmt: skip
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
            if id(node) not in docstrings and re.search(r"`lydlogg |`make |Kjør `", text):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_a_half_filled_review_is_kept_and_offered_back(db):
    at = call_page(db, "leder")
    assert not at.exception, at.exception
    at.radio(key=f"crit-{CALL}-introduces_self").set_value(0).run()
    at.text_area(key=f"samlet-{CALL}").input("Rolig og tydelig.").run()
    assert not at.exception, at.exception
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0  # nothing saved yet
        assert con.execute("SELECT count(*) FROM review_drafts WHERE username = 'leder'").fetchone()[0] == 1
    back = call_page(db, "leder")  # the reviewer went away and came back
    assert not back.exception, back.exception
    assert any("ulagret utkast" in i.value for i in back.info)
    assert back.radio(key=f"crit-{CALL}-introduces_self").value == 0
    assert back.text_area(key=f"samlet-{CALL}").value == "Rolig og tydelig."
    assert not call_page(db, "veileder").text_area(key=f"samlet-{CALL}").value  # a draft is one user's
    back.button(key="lagre-topp").click().run()
    assert not back.exception and "lagret" in back.success[0].value
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM review_drafts WHERE username = 'leder'").fetchone()[0] == 0
        assert con.execute(
            "SELECT overall_comment FROM reviews WHERE reviewer = 'leder' AND call_id = ?", [CALL]
        ).fetchone() == ("Rolig og tydelig.",)
    again = call_page(db, "leder")
    assert not any("ulagret utkast" in i.value for i in again.info)  # saved: nothing to offer


def test_a_discarded_draft_gives_the_suggestions_back(db):
    at = call_page(db, "leder")
    suggested = at.radio(key=f"crit-{CALL}-introduces_self").value
    at.radio(key=f"crit-{CALL}-introduces_self").set_value(1 - (suggested or 0)).run()
    back = call_page(db, "leder")
    assert back.radio(key=f"crit-{CALL}-introduces_self").value == 1 - (suggested or 0)
    back.button(key="forkast-utkast").click().run()
    assert not back.exception, back.exception
    assert back.radio(key=f"crit-{CALL}-introduces_self").value == suggested
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM review_drafts").fetchone()[0] == 0


def test_a_comment_that_names_no_segment_is_refused_before_saving(db):
    at = call_page(db, "leder")
    at.text_area(key=f"segmentkommentarer-{CALL}").input("2: Godt spørsmål.\n99: Finnes ikke.\nUten nummer")
    at.button(key="lagre-bunn").click().run()
    assert not at.exception, at.exception
    assert "Ikke lagret" in at.error[0].value
    assert "99: Finnes ikke" in at.error[0].value and "Uten nummer" in at.error[0].value
    assert not at.success
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    at.text_area(key=f"segmentkommentarer-{CALL}").input("2: Godt spørsmål.").run()
    at.button(key="lagre-bunn").click().run()
    assert "lagret" in at.success[0].value
    with connect(db) as con:
        assert con.execute("SELECT segment_index, text FROM review_comments").fetchall() == [
            (1, "Godt spørsmål.")
        ]


def test_changing_everything_back_leaves_no_draft(db):
    at = call_page(db, "leder")
    suggested = at.radio(key=f"crit-{CALL}-introduces_self").value
    at.radio(key=f"crit-{CALL}-introduces_self").set_value(1 - (suggested or 0)).run()
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM review_drafts").fetchone()[0] == 1
    at.radio(key=f"crit-{CALL}-introduces_self").set_value(suggested).run()
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM review_drafts").fetchone()[0] == 0
    assert not any("ulagret utkast" in i.value for i in call_page(db, "leder").info)


def test_an_abstained_suggestion_leaves_its_criterion_unselected_and_is_saved_as_no_value(db):
    with connect(db) as con:  # the newest scoring could not judge the worsening advice
        con.execute(
            "UPDATE suggestions SET value = NULL, confidence = 0.0, abstained = true,"
            " rationale = 'kan ikke vurderes automatisk – lytt 0:03–0:20'"
            " WHERE call_id = ? AND criterion_id = 'worsening_advice'",
            [CALL],
        )
        suggested_open = con.execute(
            "SELECT value FROM suggestions WHERE call_id = ? AND criterion_id = 'open_questions'", [CALL]
        ).fetchone()[0]
    at = call_page(db, "veileder")
    assert not at.exception, at.exception
    assert at.radio(key=f"crit-{CALL}-worsening_advice").value is None  # neither a value nor «ikke aktuelt»
    assert at.radio(key=f"crit-{CALL}-open_questions").value == suggested_open
    assert "Forslag: kan ikke vurderes automatisk – lytt 0:03–0:20" in everything_shown(at)
    at.button(key="lagre-bunn").click().run()
    assert not at.exception, at.exception
    assert any("ikke vurdert" in w.value for w in at.warning)
    with connect(db) as con:
        saved = con.execute(
            "SELECT s.value, s.suggested_value FROM review_scores s JOIN reviews r USING (review_id)"
            " WHERE r.call_id = ? AND s.criterion_id = 'worsening_advice'",
            [CALL],
        ).fetchall()
    assert saved in ([], [(None, None)])  # missing, never a zero
