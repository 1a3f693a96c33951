"""A database held by another process, or left at an older schema: the app says so in Norwegian
(with a retry when busy) and the CLI in one English line naming the file; never a traceback.
The lock is held by a real second process, as a batch run would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User, create_user
from lydlogg.cli import main
from lydlogg.db import connect, migrate
from review.views.common import md_text
from review.views.database import BUSY_MESSAGE, RETRY_LABEL

APP = str(Path(__file__).resolve().parent.parent / "app.py")
LEDER = next(User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS if u[0] == "leder")


class Holder:
    """Another process holding the database's write lock until released."""

    def __init__(self, db: Path) -> None:
        code = textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(db)!r})  # a writable connection holds the file's lock
            print("locked", flush=True)
            sys.stdin.readline()
            con.close()
        """)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)


@pytest.fixture
def holder_for():
    started: list[Holder] = []

    def start(db: Path) -> Holder:
        started.append(Holder(db))
        return started[-1]

    yield start
    for h in started:
        h.release()


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    db = tmp_path / "travel.duckdb"
    with connect(db) as con:
        create_user(con, LEDER.username, LEDER.display_name, LEDER.role, "demo-leder", units=LEDER.units)
        con.execute(
            "INSERT INTO calls (call_id, service, operator_id, unit) VALUES ('c-1', 'lvs', 'op-anne', ?)",
            [LEDER.units[0]],
        )
    return db


def test_a_page_meeting_a_busy_database_offers_a_retry_then_works(monkeypatch, small_db, holder_for):
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(small_db))
    monkeypatch.setenv("LYDLOGG_DB_WAIT_SECONDS", "0.5")
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, small_db, LEDER)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Innboks" and len(at.dataframe[0].value) == 1

    holder = holder_for(small_db)
    at.run()
    assert not at.exception, at.exception  # no traceback
    assert [w.value for w in at.warning] == [BUSY_MESSAGE]
    retry = at.button(key="database-retry")
    assert retry.label == RETRY_LABEL

    holder.release()
    retry.click().run()
    assert not at.exception and not at.warning and at.title[0].value == "Innboks"
    assert len(at.dataframe[0].value) == 1


def test_the_app_refuses_an_older_schema_naming_the_file_without_a_command_line(monkeypatch, tmp_path):
    db = tmp_path / "gammel.duckdb"
    with duckdb.connect(str(db)) as con:
        migrate(con, up_to=3)
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert (
        md_text(db) in error.value
        and "oppgradere databasen" in error.value
        and "lydlogg" not in error.value.replace("Lydlogg", "")
    )
    assert "skjemaversjon 3" in error.value
    assert not at.text_input  # no log-in form on a database the app cannot use


def test_a_command_meeting_a_busy_database_prints_one_line_naming_the_file(small_db, holder_for):
    holder_for(small_db)
    for args in (["calls"], ["users", "list"], ["db", "migrate"]):
        out = CliRunner().invoke(main, [*args, "--db", str(small_db)], env={"LYDLOGG_DB_WAIT_SECONDS": "0.3"})
        assert out.exit_code == 2, (args, out.output)
        assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1, out.output
        assert str(small_db) in out.output and "another process" in out.output


def test_the_app_meets_an_unreadable_database_with_a_message(monkeypatch, tmp_path):
    bad = tmp_path / "ødelagt.duckdb"
    bad.write_bytes(b"not a database" * 200)
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(bad))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "Databasen kan ikke åpnes. Driftsansvarlig finner årsaken i serverloggen."
    ]


def test_the_inbox_of_a_database_without_calls_says_so(monkeypatch, tmp_path):
    db = tmp_path / "tom.duckdb"  # users, but no call read in yet: a new installation
    with connect(db) as con:
        create_user(con, LEDER.username, LEDER.display_name, LEDER.role, "demo-leder")
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, db, LEDER)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Innboks" and not at.dataframe
    assert "Ingen samtaler å vise." in [i.value for i in at.info]
