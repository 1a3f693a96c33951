"""Every printable document is a Jinja2 template with autoescape: script input in any field is
escaped exactly once (never twice, as in ``&amp;#x27;``), and PDFs come from one helper."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from lydlogg.documents import Markup, render_html
from lydlogg.episode_report import episode_html
from review.advice import handout_section
from review.case_package import handout_html as case_handout
from review.cases import CaseContent
from review.feedback import CriterionRow, FeedbackNote, Step
from review.feedback import handout_html as feedback_handout
from rubrics import load_rubrics
from transcription.types import Segment, Transcript

EVIL = "<script>alert('x')</script> & \"q\""
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;q&#34;"


def _escaped_once(page: str, at_least: int) -> None:
    assert "<script>" not in page
    assert page.count(ESCAPED) >= at_least, page
    double = re.findall(r"&amp;(?:#\d+|#x[0-9a-f]+|lt|gt|amp|quot);", page)
    assert double == []


def test_the_episode_summary():
    row = {"episode_id": EVIL, "contact_number": 1, "call_id": EVIL,
           "started_at": pd.Timestamp("2026-03-02 17:40", tz="UTC"), "hours_since_previous": None,
           "service": EVIL, "urgency": "red", "operator_id": EVIL, "worsening_advice": 2,
           "asks_prior_contact": 1, "flagged": True}  # fmt: skip
    page = episode_html(pd.DataFrame([row]))
    _escaped_once(page, 4)
    assert "02.03.2026 18:40" in page and "+00:00" not in page  # Norwegian time
    assert ">rød<" in page and "ja – rekontakt ikke fanget opp" in page


def test_the_feedback_handout():
    rubric = load_rubrics()["lvs_operator"].rubric
    rows = [CriterionRow("worsening_advice", EVIL, 2, {EVIL: 1}, False, 4)]
    steps = [Step(0, 8.0, 9.0, "operator", (), ((EVIL, EVIL),), ((EVIL, EVIL),))]
    notes = [FeedbackNote(1, "c1", 0, EVIL, EVIL, None)]
    page = feedback_handout(EVIL, rubric, rows, [], steps, notes, held_on=date(2026, 3, 5), advice_html="")
    _escaped_once(page, 8)
    assert "05.03.2026" in page and "0:08 · <b>" in page and 'class="low"' in page


def test_the_advice_section_inside_the_handout_is_escaped_once():
    item = SimpleNamespace(said=True, label=EVIL)
    coverage = SimpleNamespace(reason_name=EVIL, signs=(item,), actions=(), time_frames=())
    view = SimpleNamespace(advice=SimpleNamespace(coverage=coverage), notice=EVIL, approval=None, sms=EVIL)
    section = handout_section(view)
    assert isinstance(section, Markup)
    rubric = load_rubrics()["lvs_operator"].rubric
    page = feedback_handout("c1", rubric, [], [], [], [], advice_html=section)
    _escaped_once(page, 4)
    approved = SimpleNamespace(advice=view.advice, notice=None, approval=EVIL, sms=EVIL)  # who approved it
    _escaped_once(feedback_handout("c1", rubric, [], [], [], [], advice_html=handout_section(approved)), 4)
    assert handout_section(None) == ""


def test_the_case_handout():
    transcript = Transcript("c1", "no", (Segment(start=61.0, end=62.0, text=EVIL, channel=0, role="caller"),))
    assessment = {"rubric_title": EVIL, "reviewers": [EVIL],
                  "criteria": [{"id": "x", "title": EVIL, "suggested": 1, "values": [0], "yes_no": True}],
                  "overall": [{"reviewer": EVIL, "text": EVIL}], "comments": [{"at_s": 3.0, "reviewer": EVIL, "text": EVIL}]}  # fmt: skip
    content = CaseContent(
        EVIL, "lvs", transcript, assessment, f"{EVIL}\n\nandre linje", (EVIL,), ((EVIL, EVIL),)
    )
    page = case_handout(content)
    _escaped_once(page, 12)
    assert "1:01 Innringer" in page and "<td>ja</td><td>nei</td>" in page and "LVS" in page


def test_a_template_refuses_a_missing_field():
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render_html("case_handout.html", title="x")


def test_no_module_builds_an_html_document_by_hand():
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    found = [
        p.relative_to(repo).as_posix()
        for package in ("lydlogg", "review")
        for p in (repo / package).rglob("*.py")
        if "<html" in p.read_text(encoding="utf-8").lower()
    ]
    assert found == []
