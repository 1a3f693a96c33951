"""The tamper-evident audit trail (security round two, finding 9): hash chain, `lydlogg audit
verify`, syslog forwarding, audited CLI reads and a checked `--as USER`."""

from __future__ import annotations

import socket
import threading

import pytest
from click.testing import CliRunner

from lydlogg.audit import AuditSettings, configure_forwarding, record, verify_chain
from lydlogg.auth import DEMO_UNITS, create_user
from lydlogg.cli import main
from lydlogg.db import connect, transaction
from lydlogg.episodes import update_episodes


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "audit.duckdb"
    with connect(path) as con:
        for i in range(5):
            record(con, "liv", "view_call", "call", f"c{i}", None)
    return path


def _cli(db, *args, **kwargs):
    return CliRunner().invoke(main, [*args], env={"LYDLOGG_DB_PATH": str(db)}, **kwargs)


def test_an_untouched_trail_verifies(db):
    with connect(db) as con:
        report = verify_chain(con)
    assert report.ok and report.rows == 5 and report.legacy_rows == 0


@pytest.mark.parametrize(
    ("tamper", "broken_row"),
    [
        ("UPDATE audit SET detail = 'harmless' WHERE object_id = 'c2'", 3),
        ("UPDATE audit SET username = 'someone' WHERE object_id = 'c0'", 1),
        ("DELETE FROM audit WHERE object_id = 'c2'", 4),  # the next row no longer follows
        ("DELETE FROM audit WHERE object_id = 'c4'", 5),  # the newest: the head names it
        ("UPDATE audit SET occurred_at = occurred_at - INTERVAL 1 DAY WHERE object_id = 'c3'", 4),
    ],
)
def test_a_changed_or_removed_row_is_named_as_the_first_broken_link(db, tamper, broken_row):
    with connect(db) as con:
        first = con.execute("SELECT min(audit_id) FROM audit").fetchone()[0]
        con.execute(tamper)
        report = verify_chain(con)
    assert not report.ok and report.broken_at == first + broken_row - 1
    result = _cli(db, "audit", "verify")
    assert result.exit_code != 0 and f"broken at row {report.broken_at}" in result.output


def test_the_cli_reports_an_intact_trail_and_audits_the_check(db):
    result = _cli(db, "audit", "verify")
    assert result.exit_code == 0 and "intact: 5 chained rows" in result.output
    with connect(db) as con:
        assert verify_chain(con).rows == 6  # the check itself is a chained row


def test_rows_written_inside_a_callers_transaction_chain_and_roll_back_together(db):
    with connect(db) as con:
        with pytest.raises(RuntimeError), transaction(con):
            record(con, "liv", "doomed")
            raise RuntimeError("the change fails")
        with transaction(con):
            record(con, "liv", "kept-1")
            record(con, "liv", "kept-2")
        assert verify_chain(con).ok
        assert not con.execute("SELECT 1 FROM audit WHERE action = 'doomed'").fetchall()


def test_concurrent_writers_never_fork_the_chain(db):
    errors = []

    def writer(name):
        try:
            with connect(db) as con:
                for i in range(25):
                    record(con, name, "write", "call", str(i))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with connect(db) as con:
        report = verify_chain(con)
    assert errors == [] and report.ok and report.rows == 5 + 75


def test_rows_are_forwarded_to_syslog(db):
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    try:
        configure_forwarding(AuditSettings(syslog_address=f"127.0.0.1:{server.getsockname()[1]}"))
        with connect(db) as con:
            record(con, "liv", "export", "call", "c9", "json")
        message = server.recv(4096).decode()
    finally:
        configure_forwarding(AuditSettings())
        server.close()
    assert message.startswith("<13") or message.startswith("<1")  # facility local0 . info
    assert '"action": "export"' in message and '"object_id": "c9"' in message


def test_a_bad_syslog_address_says_what_is_accepted():
    with pytest.raises(ValueError, match="host:port"):
        configure_forwarding(AuditSettings(syslog_address="no-port-here"))


def test_cli_reads_are_audited(tmp_path):
    db = tmp_path / "reads.duckdb"
    with connect(db) as con:
        con.execute(
            "INSERT INTO calls (call_id, started_at, service) VALUES ('c1', TIMESTAMPTZ '2026-11-01 10:00:00+00', 'lvs')"
        )
        update_episodes(con, 72.0)  # as ingest does when calls arrive
    out = tmp_path / "out.html"
    for args in (["calls", "--format", "json"], ["recontacts"], ["episode-summary", "c1", "-o", str(out)],
                 ["monthly-report", "2026-11", "-o", str(out)]):  # fmt: skip
        assert _cli(db, *args).exit_code == 0, args
    with connect(db) as con:
        actions = [r[0] for r in con.execute("SELECT action FROM audit ORDER BY audit_id").fetchall()]
        assert verify_chain(con).ok
    assert actions == ["cli_list_calls", "cli_recontacts", "cli_episode_summary", "cli_monthly_report"]


def test_as_user_on_the_cli_needs_that_users_password(tmp_path):
    db = tmp_path / "as.duckdb"
    with connect(db) as con:
        create_user(con, "liv", "Liv", "leder", "livs-password-1")
    refused = _cli(db, "case", "export", "k1", "--as", "liv", input="wrong-password\n")
    assert refused.exit_code != 0 and "feil brukernavn eller passord" in refused.output
    nobody = _cli(db, "case", "export", "k1", "--as", "not-a-user", input="x\n")
    assert nobody.exit_code != 0 and "feil brukernavn eller passord" in nobody.output
    accepted = _cli(db, "case", "export", "k1", "--as", "liv", input="livs-password-1\n")
    assert "no such case" in accepted.output  # past the check: the case does not exist
    with connect(db) as con:
        rows = con.execute("SELECT username, action FROM audit WHERE action LIKE 'login%'").fetchall()
    assert rows == [("liv", "login_failed"), ("(ukjent)", "login_failed"), ("liv", "login")]


def test_every_download_button_audits_the_download():
    """Each st.download_button names an on_click that writes the audit row (the case package is
    audited when it is built, by CaseLibraryService.export_case, and so is a data export, by
    lydlogg.exports.export_bytes)."""
    from conftest import REPO

    missing = []
    for path in sorted((REPO / "review" / "views").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        start = text.find("download_button(")
        while start != -1:
            depth, end = 0, start + len("download_button")
            while end < len(text):  # to the matching parenthesis
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
                end += 1
            call = text[start:end]
            if "on_click=" not in call and "export_case(" not in call and "export_bytes(" not in call:
                missing.append(f"{path.name}:{text[:start].count(chr(10)) + 1}")
            start = text.find("download_button(", end)
    assert missing == []


def test_transcript_reads_and_downloads_are_audited(tmp_path):
    from conftest import build_reference_db

    from lydlogg.auth import User
    from review.dashboard import DashboardService
    from review.service import ReviewService

    db = build_reference_db(tmp_path)
    leader = User("leder", "Liv Leder", "leder", units=DEMO_UNITS["leder"])
    service = ReviewService(db, leader)
    service.transcript("lvs-001-feber-barn")  # what the calibration page does
    service.record_download("episode summary html", "lvs-001-feber-barn")
    DashboardService(db, leader, cache=False).record_download("figures dekning csv")
    with connect(db) as con:
        rows = con.execute(
            "SELECT action, object_id, detail FROM audit WHERE username = 'leder' ORDER BY audit_id"
        ).fetchall()
        assert verify_chain(con).ok
    assert rows[-3:] == [
        ("view_transcript", "lvs-001-feber-barn", None),
        ("download", "lvs-001-feber-barn", "episode summary html"),
        ("download", None, "figures dekning csv"),
    ]
