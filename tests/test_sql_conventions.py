"""Conventions over every SQL string in the code base (read from the source, like the SQL scan in
test_hardening): each INSERT names its columns, and only lydlogg/audit.py writes audit rows."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCANNED = (
    "lydlogg",
    "review",
    "rubrics",
    "transcription",
    "anonymise",
    "bench",
    "scripts",
    "tests",
    "app.py",
)
AUDIT_MODULE = "lydlogg/audit.py"

# INSERT [OR REPLACE|IGNORE] INTO table, not followed by "(": no column list.
_INSERT_WITHOUT_COLUMNS = re.compile(
    r"\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+[\w.\"{}]+(?![\w.\"{}])(?!\s*\()", re.IGNORECASE
)
# Any statement that adds, changes or removes audit rows (or the chain's head).
_AUDIT_WRITE = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+"
    r"(?:[\w\"]+\.)*\"?audit(?:_head)?\"?(?![\w])",
    re.IGNORECASE,
)


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string in a module; an f-string's constant parts joined."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def _sources() -> list[Path]:
    files = []
    for name in SCANNED:
        path = REPO / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return [f for f in files if f.resolve() != Path(__file__).resolve()]


@functools.cache
def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def _matches(pattern: re.Pattern[str], tree: ast.AST) -> list[int]:
    return [line for line, text in _strings(tree) if pattern.search(text)]


def _scan(pattern: re.Pattern[str], *, tests: bool = True) -> dict[str, list[int]]:
    hits = {}
    for path in _sources():
        if not tests and path.is_relative_to(REPO / "tests"):
            continue
        lines = _matches(pattern, _tree(path))
        if lines:
            hits[path.relative_to(REPO).as_posix()] = lines
    return hits


def test_the_scan_reads_the_whole_code_base():
    scanned = {p.relative_to(REPO).as_posix() for p in _sources()}
    assert {"app.py", "lydlogg/batch.py", "review/service.py", AUDIT_MODULE, "tests/test_db.py"} <= scanned
    assert len(scanned) > 150


def test_every_insert_names_its_columns():
    unnamed = _scan(_INSERT_WITHOUT_COLUMNS)
    assert not unnamed, f"INSERT without a column list (write INSERT INTO t (a, b) ...): {unnamed}"


def test_only_the_audit_module_writes_audit_rows():
    # Tests may tamper with the trail on purpose (to show that verify_chain notices); code may not.
    found = _scan(_AUDIT_WRITE, tests=False)
    writers = {path: lines for path, lines in found.items() if path != AUDIT_MODULE}
    assert not writers, f"audit rows are written only through lydlogg.audit.record: {writers}"
    assert AUDIT_MODULE in found  # the pattern still finds the real writer


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ('con.execute("INSERT INTO segments VALUES (?, ?)", row)', True),
        ('con.execute("INSERT INTO segments SELECT * FROM new_segments")', True),
        ('con.execute("INSERT OR REPLACE INTO segment_quality SELECT * FROM q")', True),
        ('SQL = """\nINSERT INTO search_segments\nWITH latest AS (SELECT 1)\nSELECT 1"""', True),
        ('con.execute("INSERT INTO x " "VALUES (1)")', True),
        ('con.execute(f"INSERT INTO {table} VALUES (1)")', True),
        ('con.execute("INSERT INTO segments (transcript_id, text) VALUES (?, ?)", row)', False),
        ('con.execute("INSERT INTO t(a) SELECT a FROM s")', False),
        ('con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})")', False),
        ('log.info("inserted into the table")', False),
    ],
)
def test_the_insert_scan_catches_a_missing_column_list(code, flagged):
    assert bool(_matches(_INSERT_WITHOUT_COLUMNS, ast.parse(code))) is flagged


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ('con.execute("INSERT INTO audit (username, action) VALUES (?, ?)", r)', True),
        ('con.execute("INSERT INTO lydlogg.main.audit (username) VALUES (?)", r)', True),
        ('con.execute("UPDATE audit SET detail = NULL")', True),
        ('con.execute("DELETE FROM audit WHERE audit_id < ?", [n])', True),
        ('con.execute("INSERT INTO audit_head (id, last_hash) VALUES (1, ?)", [h])', True),
        ('con.execute("SELECT count(*) FROM audit")', False),
        ('con.execute("INSERT INTO audit_log_exports (x) VALUES (1)")', False),
        ('record(con, user, "save_review", "call", call_id)', False),
    ],
)
def test_the_audit_scan_catches_other_writers(code, flagged):
    assert bool(_matches(_AUDIT_WRITE, ast.parse(code))) is flagged
