"""The call page's transcript rows: escaping, evidence, low-confidence words, click targets."""

from __future__ import annotations

import re

import pytest

from review.views.transcript_html import transcript_rows
from transcription.types import Segment, Word

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

SEGMENTS = (
    Segment(0.0, 2.5, "Legevakten, du snakker med Kari.", role="operator",
            words=(Word(0.0, 1.0, "Legevakten,", 0.95), Word(1.0, 2.5, "Kari.", 0.3))),
    Segment(3.0, 6.0, "<script>alert('x')</script> & mer", role="caller"),
    Segment(6.5, 9.0, "Ring igjen hvis det blir verre.", channel=1),
)  # fmt: skip


def test_every_segment_is_one_click_target_with_its_times():
    page = transcript_rows(SEGMENTS, {}, {})
    starts = re.findall(r'class="seg[^"]*" id="seg-(\d+)" data-start="([\d.]+)" data-end="([\d.]+)"', page)
    assert starts == [("0", "0.00", "2.50"), ("1", "3.00", "6.00"), ("2", "6.50", "9.00")]


def test_user_text_is_escaped_never_rendered_as_html():
    page = transcript_rows(
        SEGMENTS, {1: ["<b>kriterium</b>"]}, {1: ["veileder: <img src=x onerror=alert(1)>"]}
    )
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; mer" in page
    assert "<img" not in page and "<b>kriterium" not in page


def test_evidence_and_notes_are_marked_on_their_segment_only():
    page = transcript_rows(
        SEGMENTS, {2: ["Konkrete råd ved forverring", "Konkrete råd ved forverring"]}, {0: ["lise: bra"]}
    )
    assert page.count('class="seg role-unknown evidence"') == 1
    assert page.count("Bevis for forslag: Konkrete råd ved forverring<") == 1  # criteria listed once
    assert "Kommentar – lise: bra" in page.split('id="seg-1"')[0]


def test_low_confidence_words_are_underlined_and_roles_named():
    page = transcript_rows(SEGMENTS, {}, {})
    assert '<span class="low" title="usikkert ord">Kari.</span>' in page
    assert "Legevakten," in page and 'class="low" title="usikkert ord">Legevakten' not in page
    assert "Operatør" in page and "Innringer" in page and "Høyre kanal" in page


def test_the_rows_carry_no_script_and_the_player_owns_the_audio():
    """The old iframe page reached into ``window.parent`` and polled; the rows are markup only."""
    page = transcript_rows(SEGMENTS, {}, {})
    assert "<script" not in page and "window.parent" not in page and "<audio" not in page


def test_quality_marks_rettet_and_the_spans_to_listen_to_sit_on_their_segments():
    """A segment heard badly or uncertainly is marked with its estimate, ``god`` is not; a corrected
    segment is marked "rettet" instead of its old quality; an abstention's span says «Lytt her»."""
    page = transcript_rows(
        SEGMENTS,
        {},
        {},
        quality={0: ("dårlig", 0.3), 1: ("usikker", 0.6), 2: ("god", 0.9)},
        corrected={1},
        listen={0: ["Spør om tidligere kontakt", "Spør om tidligere kontakt", "Åpne spørsmål"]},
    )
    first, second, third = page.split('id="seg-')[1:]
    assert "q-dårlig" in first and "hørt dårlig – lytt" in first and "anslått 30 % riktige ord" in first
    assert "Lytt her – kan ikke vurderes automatisk: Spør om tidligere kontakt, Åpne spørsmål<" in first
    assert 'class="mark rettet"' in second and "q-usikker" not in second and "Lytt her" not in second
    assert "q-" not in third and "mark" not in third  # heard well: no mark
