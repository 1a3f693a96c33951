"""Formula injection in CSV downloads: the one rule, and every export that uses it."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from lydlogg.csv_safety import safe_cell, safe_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+47 999", "'+47 999"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("ok;=1+1", "'ok;=1+1"),  # Norwegian Excel splits on the semicolon
        ("ok, -1", "'ok, -1"),
        ("line\n@x", "'line\n@x"),
        ("anne", "anne"),
        ("lvs-001-feber", "lvs-001-feber"),  # a dash inside is harmless
        ("", ""),
        (-3.5, -3.5),  # numbers stay numbers
        (7, 7),
        (None, None),
    ],
)
def test_cells_a_spreadsheet_would_evaluate_are_made_text(value, expected):
    assert safe_cell(value) == expected


def test_safe_csv_escapes_cells_and_headers_and_keeps_the_rest():
    df = pd.DataFrame({"=bad": ["=cmd|' /C calc'!A0", "fine"], "n": [-1, 2]})
    rows = list(csv.reader(io.StringIO(safe_csv(df))))
    assert rows == [["'=bad", "n"], ["'=cmd|' /C calc'!A0", "-1"], ["fine", "2"]]


def test_the_audit_log_download_escapes_formulas():
    from review.audit_log import COLUMNS, to_csv

    row = {c: "x" for c in COLUMNS} | {"username": "=1+1", "detail": "@evil"}
    text = to_csv(pd.DataFrame([row]))
    assert "'=1+1" in text and "'@evil" in text and ",=1+1" not in text


def test_the_recontacts_csv_on_the_command_line_escapes_formulas(tmp_path):
    from click.testing import CliRunner
    from conftest import make_settings

    from lydlogg.cli import main
    from lydlogg.db import connect

    settings = make_settings(tmp_path)
    with connect(settings.db_path) as con:
        con.execute(
            "INSERT INTO calls (call_id, started_at, service, operator_id) VALUES"
            " ('=HYPERLINK(1)', TIMESTAMPTZ '2026-11-01 10:00:00+00', 'lvs', '+op')"
        )
    result = CliRunner().invoke(
        main, ["recontacts", "--format", "csv"], env={"LYDLOGG_DB_PATH": str(settings.db_path)}
    )
    assert result.exit_code == 0, result.output
    assert "'=HYPERLINK(1)" in result.output and "\n=HYPERLINK" not in result.output


def test_every_csv_export_goes_through_the_rule():
    from conftest import REPO

    offenders = [
        str(path.relative_to(REPO))
        for folder in ("lydlogg", "review", "transcription", "anonymise")
        for path in (REPO / folder).rglob("*.py")
        if ".to_csv(" in path.read_text(encoding="utf-8") and path.name != "csv_safety.py"
    ]
    assert offenders == [], "write CSV with lydlogg.csv_safety.safe_csv"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("**fet** [lenke](javascript:alert(1))", r"\*\*fet\*\* \[lenke\]\(javascript:alert\(1\)\)"),
        ("<img src=x onerror=alert(1)>", r"&lt;img src=x onerror=alert\(1\)&gt;"),
        ("op_anne_1", r"op\_anne\_1"),
        ("# overskrift", r"\# overskrift"),
        ('Kari\'s "råd"', 'Kari\'s "råd"'),  # escaped once: no &#x27; on the page
        (None, ""),
    ],
)
def test_titles_and_captions_from_user_text_are_escaped(text, shown):
    """One rule for every page (call, feedback session, case titles): review.views.common.md_text."""
    from review.views.common import md_text

    assert md_text(text) == shown
