"""Hardening checks over the whole code base: SQL built only from constants, no user text as HTML,
paths that cannot leave their folders, size caps, and no personal data in the log."""

from __future__ import annotations

import ast
import contextlib
import csv
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, SAMPLES, build_reference_db, make_settings, write_tone

from lydlogg.auth import DEMO_UNITS, AuthError, User, authenticate
from lydlogg.db import DatabaseKey, connect, sql_literal
from lydlogg.episode_report import episode_html
from lydlogg.ingest import ingest
from lydlogg.pseudonym import normalise_phone
from lydlogg.settings import AudioSettings
from review.service import ReviewService
from review.views.transcript_html import transcript_rows
from transcription.types import Segment

# --- SQL -------------------------------------------------------------------------------------

_SQL = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|ATTACH|DETACH|COPY|CREATE|DROP|ALTER|USE|PRAGMA|WHERE|FROM|INTO)\b"
)
_PACKAGES = ("lydlogg", "review", "rubrics", "transcription", "anonymise")

# (file, function) -> why a formatted SQL string is safe there. Values are always bound parameters;
# what is formatted in comes from code, never from a user, a file or the database.
_SCOPE_WHERE = "the call scope's WHERE clause from lydlogg.access.CallScope.where(): fixed column tests, every value bound"
SQL_ALLOWLIST = {
    ("lydlogg/asr_dataset.py", "export_asr_dataset"): _SCOPE_WHERE,
    ("lydlogg/cli/reports.py", "recontacts"): _SCOPE_WHERE,
    ("lydlogg/exports.py", "dataset"): _SCOPE_WHERE,
    ("review/advice.py", "_results"): _SCOPE_WHERE,
    ("review/dashboard.py", "_conversation_of"): _SCOPE_WHERE,
    ("lydlogg/store.py", "visible_calls"): _SCOPE_WHERE,
    (
        "lydlogg/db/bulk.py",
        "insert_columns",
    ): "table and column names checked against a plain-name pattern; the rows come as an Arrow table",
    (
        "review/cases.py",
        "search",
    ): "WHERE clauses from fixed strings in the function; every value is a parameter",
    ("lydlogg/ingest.py", "_upsert_metadata"): "column names from the constant _METADATA_FIELDS",
    (
        "review/search.py",
        "search_calls",
    ): "WHERE clauses from fixed strings and match_sql(); every value is a parameter",
    (
        "lydlogg/db/fts.py",
        "build_index",
    ): "identifiers checked against a plain-name pattern; options are constants",
    ("lydlogg/retention.py", "_count"): "table names from the constant _TRANSCRIPT_TABLES",
    ("lydlogg/retention.py", "_carry_out"): "table names from the constant _TRANSCRIPT_TABLES",
    (
        "lydlogg/backup.py",
        "_counts",
    ): "table names from COUNTED_TABLES; catalog from current_catalog() (quoted)",
    ("lydlogg/backup.py", "_attach_new"): "ATTACH takes no parameters: path and key through sql_literal()",
    (
        "lydlogg/backup.py",
        "backup",
    ): "COPY FROM DATABASE takes no parameters: catalog from current_catalog() (quoted)",
    (
        "lydlogg/crypto.py",
        "encrypt_database",
    ): "ATTACH/COPY take no parameters: sql_literal() and current_catalog()",
    (
        "lydlogg/db/__init__.py",
        "_open_encrypted",
    ): "ATTACH takes no parameters: path and key through sql_literal()",
    (
        "review/dashboard.py",
        "_trends",
    ): "aggregate expressions built in code by _aggregates() from typed settings",
    (
        "review/dashboard.py",
        "_per_operator",
    ): "aggregate expressions from _aggregates(); services bound as $services",
}


def _formatted_sql(tree: ast.AST) -> list[tuple[str, int]]:
    """(function, line) of every f-string, .format() or % / + on a string that looks like SQL."""
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            text = None
            if isinstance(node, ast.JoinedStr) and any(
                isinstance(v, ast.FormattedValue) for v in node.values
            ):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
                and isinstance(node.func.value, ast.Constant)
            ):
                text = str(node.func.value.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
                sides = [
                    s
                    for s in (node.left, node.right)
                    if isinstance(s, ast.Constant) and isinstance(s.value, str)
                ]
                other = [s for s in (node.left, node.right) if not isinstance(s, ast.Constant)]
                text = sides[0].value if sides and other else None
            if text and _SQL.search(text):
                found.append((fn.name, node.lineno))
    return found


def _sql_sites() -> dict[tuple[str, str], list[int]]:
    sites: dict[tuple[str, str], list[int]] = {}
    for package in _PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            for function, line in _formatted_sql(ast.parse(path.read_text(encoding="utf-8"))):
                sites.setdefault((rel, function), []).append(line)
    return sites


def test_no_sql_is_built_from_values():
    unexplained = {k: v for k, v in _sql_sites().items() if k not in SQL_ALLOWLIST}
    assert not unexplained, f"SQL built by formatting; bind values as parameters instead: {unexplained}"


def test_the_sql_allowlist_has_no_stale_entries():
    assert set(SQL_ALLOWLIST) <= set(_sql_sites())


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("def f(x):\n    con.execute(f\"SELECT * FROM calls WHERE call_id = '{x}'\")", True),
        ("def f(x):\n    con.execute(\"DELETE FROM calls WHERE call_id = '%s'\" % x)", True),
        ('def f(x):\n    con.execute("UPDATE calls SET x = {}".format(x))', True),
        ('def f(x):\n    con.execute("SELECT * FROM calls WHERE call_id = \'" + x + "\'")', True),
        ('def f(x):\n    con.execute("SELECT * FROM calls WHERE call_id = ?", [x])', False),
        ('def f(x):\n    log.info(f"{x} calls done")', False),
        ('def f(x):\n    raise ValueError(f"select a file: {x}")', False),
    ],
)
def test_the_sql_scan_catches_formatting(code, flagged):
    assert bool(_formatted_sql(ast.parse(code))) is flagged


@pytest.mark.parametrize(
    ("value", "literal"),
    [("abc", "'abc'"), ("o'brien", "'o''brien'"), ("''", "''''''"), ("a\\b", "'a\\b'"), ("", "''")],
)
def test_sql_literal_doubles_quotes(value, literal):
    assert sql_literal(value) == literal


def test_quotes_in_a_path_or_key_cannot_break_out_of_attach(tmp_path):
    key = DatabaseKey("it's a key'); DROP TABLE calls; --", allow_mbedtls=True)
    db = tmp_path / "o'brien.duckdb"
    with connect(db, key=key) as con:
        con.execute("INSERT INTO calls (call_id) VALUES ('c')")
    with connect(db, key=key, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1


# --- HTML ------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


# The HTML allowed, each exactly once and nowhere else: the review form's key handler (a constant
# script, checked below) and the case uploader's style block (built from code constants and a size,
# with the key validated and the text escaped as CSS strings: tests/test_uploader.py).
KEYBOARD = "review/views/keyboard.py"
KEYBOARD_CALL = "components.html(KEYS_SCRIPT, height=0)"
ALLOWED_HTML = {
    KEYBOARD: KEYBOARD_CALL,
    "review/views/uploader.py": "st.markdown(uploader_css(key, hint), unsafe_allow_html=True)",
}


def test_no_page_renders_html_from_strings():
    offenders = []
    for path in [REPO / "app.py", *sorted((REPO / "review").rglob("*.py"))]:
        text = path.read_text(encoding="utf-8")
        if (allowed := ALLOWED_HTML.get(path.relative_to(REPO).as_posix())) is not None:
            assert text.count(allowed) == 1, f"{path.name}: expected exactly one {allowed}"
            text = text.replace(allowed, "", 1)
        for pattern in (
            r"unsafe_allow_html\s*=\s*True",
            r"\bst\.html\(",
            r"components\.v1\.html\(",
            r"components\.html\(",
            r"\bst\.iframe\(",  # a frame of our own HTML runs with the app's origin
            r"components\.(v1\.)?iframe\(",
        ):
            offenders += [f"{path.relative_to(REPO)}:{m.group(0)}" for m in re.finditer(pattern, text)]
    assert not offenders, (
        "render user text with st.text/st.markdown (escaped) or an escaping builder: " + str(offenders)
    )


def test_the_one_html_component_is_a_constant_script():
    from review.views import keyboard

    source = (REPO / KEYBOARD).read_text(encoding="utf-8")
    assert source.count(KEYBOARD_CALL) == 1
    tree = ast.parse(source)
    assigned = [n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "KEYS_SCRIPT"]
    (script,) = assigned
    assert isinstance(script.value, ast.Constant)  # a plain string: no f-string, no format, no join
    assert keyboard.KEYS_SCRIPT.startswith("<script>") and keyboard.KEYS_SCRIPT.endswith("</script>")


def test_the_session_cookie_is_set_by_a_constant_script_in_a_v2_component_not_a_frame():
    """No frame of the app's own origin carries the session token: the v2 component's script is a
    constant, and the token reaches it as data, checked first."""
    from review.app import session_cookie

    source = (REPO / "review" / "app" / "session_cookie.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    (script,) = [n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "COOKIE_JS"]
    assert isinstance(script.value, ast.Constant)  # no f-string, no format, no join
    assert "components.v2.component(" in source and "js=COOKIE_JS" in source
    assert "SameSite=Strict" in session_cookie.COOKIE_JS and "innerHTML" not in session_cookie.COOKIE_JS
    main = (REPO / "review" / "app" / "main.py").read_text(encoding="utf-8")
    assert main.count("write_cookie(session_cookie(") == 2 and "iframe" not in main


def test_the_transcript_component_escapes_transcripts_and_comments():
    segments = [Segment(start=0.0, end=1.0, text=SCRIPT, channel=0, role="caller")]
    page = transcript_rows(segments, {0: [SCRIPT]}, {0: [f"kommentar {SCRIPT}"]})
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_episode_report_escapes_every_field():
    row = {"episode_id": SCRIPT, "contact_number": 1, "call_id": SCRIPT, "started_at": pd.Timestamp("2026-03-02 18:40", tz="UTC"),
           "hours_since_previous": None, "service": SCRIPT, "urgency": None, "operator_id": SCRIPT,
           "worsening_advice": None, "asks_prior_contact": None, "flagged": False}  # fmt: skip
    page = episode_html(pd.DataFrame([row]))
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 4


# --- paths and sizes -------------------------------------------------------------------------


@pytest.fixture
def csv_site(tmp_path):
    base = tmp_path / "export"
    (base / "audio").mkdir(parents=True)
    write_tone(base / "audio" / "ok.wav")
    outside = write_tone(tmp_path / "secret.wav")
    (base / "audio" / "link.wav").symlink_to(outside)
    return base, outside


@pytest.mark.parametrize(
    ("audio_file", "reason"),
    [
        ("../secret.wav", "outside the CSV's folder"),
        ("audio/../../secret.wav", "outside the CSV's folder"),
        ("/etc/passwd", "absolute"),
        ("audio/link.wav", "outside the CSV's folder"),  # a symlink out of the folder
    ],
)
def test_metadata_cannot_point_outside_its_folder(tmp_path, csv_site, audio_file, reason):
    base, _outside = csv_site
    meta = base / "metadata.csv"
    meta.write_text(
        "call_id,started_at,service,operator_id,caller_number,patient_ref,urgency,audio_file\n"
        f"c-ok,2026-03-02T18:40:00+01:00,lvs,op-a,,,green,audio/ok.wav\n"
        f"c-bad,2026-03-02T19:40:00+01:00,lvs,op-a,,,green,{audio_file}\n"
    )
    settings = make_settings(tmp_path)
    report = ingest(settings, [], metadata=meta)
    assert report.added == ["c-ok"]
    assert any(reason in f.reason for f in report.failures)
    with connect(settings.db_path) as con:
        paths = [p for (p,) in con.execute("SELECT path FROM audio_files").fetchall()]
    assert all(Path(p).is_relative_to(base.resolve()) for p in paths)


def test_recordings_over_the_size_cap_are_refused(tmp_path):
    big = write_tone(tmp_path / "big.wav", seconds=40)  # 1.3 MB of 16-bit PCM
    small = write_tone(tmp_path / "small.wav", seconds=1)
    settings = make_settings(tmp_path).model_copy(update={"audio": AudioSettings(max_file_mb=1)})
    report = ingest(settings, [big, small])
    assert len(report.added) == 1 and "over audio.max_file_mb" in report.failures[0].reason


# --- no personal data in the log -------------------------------------------------------------


def _personal_data() -> list[str]:
    """Every phone number (as written and normalised), patient reference, name and sentence of the samples."""
    rows = list(csv.DictReader((SAMPLES / "metadata.csv").read_text(encoding="utf-8").splitlines()))
    needles = set()
    for r in rows:
        if r["caller_number"]:
            needles |= {
                r["caller_number"],
                normalise_phone(r["caller_number"]),
                normalise_phone(r["caller_number"])[2:],
            }
        if r["patient_ref"]:
            needles.add(r["patient_ref"])
    for path in sorted((SAMPLES / "dialogues").glob("*.yaml")):
        for turn in yaml.safe_load(path.read_text(encoding="utf-8"))["turns"]:
            needles.add(turn["text"])
            # staff introduce themselves by name ("sykepleier Anne", "legevaktlege Dahl")
            needles |= set(re.findall(r"(?:sykepleier|legevaktlege|legevikar) ([A-ZÆØÅ]\w+)", turn["text"]))
    for path in sorted((SAMPLES / "reference").glob("*.json")):
        needles |= {
            s["text"] for s in json.loads(path.read_text(encoding="utf-8"))["segments"] if len(s["text"]) > 12
        }
    return sorted(needles)


def test_the_pipeline_logs_no_transcript_text_numbers_or_names(tmp_path):
    needles = _personal_data()
    assert len(needles) > 100 and "Dahl" in needles and "+47 400 12 345" in needles
    log_file = tmp_path / "lydlogg.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        db = build_reference_db(tmp_path)  # import transcripts, ingest metadata (numbers), score, users
        bad = tmp_path / "bad.csv"  # rows that fail: their errors must not carry the numbers either
        bad.write_text(
            "call_id,started_at,service,operator_id,caller_number,patient_ref,urgency,audio_file\n"
            "x-1,2026-03-02T18:40:00+01:00,lvs,op-a,+47 400 12 345,pas-1001,purple,\n"
            "x-2,yesterday,lvs,op-a,+47 934 56 210,pas-1002,green,audio/missing.wav\n",
            encoding="utf-8",
        )
        assert len(ingest(make_settings(tmp_path), [], metadata=bad).failures) == 2
        leder = ReviewService(db, User("leder", "Liv Leder", "leder", units=DEMO_UNITS["leder"]))
        calls = leder.calls()
        call_id = calls["call_id"].iloc[0]
        leder.transcript(call_id)
        leder.correct_segment(call_id, 0, text="Legevakten, du snakker med sykepleier Anne. Rettet.")
        leder.save_review(call_id, kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
                          values={"introduces_self": 1}, comments=[(0, 0.0, "Anne var tydelig, ring 40012345")])  # fmt: skip
        with connect(db) as con:
            for password in ("galt-passord", "demo-anne-1"):
                with contextlib.suppress(AuthError):
                    authenticate(con, "anne", password)
        from lydlogg.backup import backup
        from lydlogg.retention import RetentionSettings, apply_retention

        apply_retention(db, RetentionSettings(drop_unreviewed_transcripts_after_days=1), user=User("admin", "A", "admin"),
                        now=datetime(2026, 9, 1, tzinfo=UTC))  # fmt: skip
        backup(db, tmp_path / "backup")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    text = log_file.read_text(encoding="utf-8")
    assert "lydlogg" in text  # the log did capture the pipeline
    leaked = [n for n in needles if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)]
    assert not leaked, f"personal data in the log: {leaked[:5]}"


def test_users_never_see_a_traceback(tmp_path):
    from lydlogg.cli.operations import streamlit_command
    from lydlogg.settings import load_settings

    cmd = streamlit_command(load_settings(None, db_path=tmp_path / "x.duckdb"), Path("app.py"), 8501)
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"
