"""Teams (vaktlag): the teams file, the metadata column, the admin's assignments and the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, write_tone

from lydlogg.access import AccessDenied
from lydlogg.auth import User
from lydlogg.cli import main
from lydlogg.db import connect
from lydlogg.ingest import ingest
from lydlogg.metadata import COLUMNS, MetadataError, check_team, read_metadata
from lydlogg.teams import read_teams_csv
from lydlogg.users import UserAdminService

ADMIN = User("admin", "Admin", "admin")


def audit_rows(db) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT username, action, object_type, object_id, detail FROM audit WHERE action = 'set_team'"
            " ORDER BY audit_id"
        ).fetchall()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Lag A", "Lag A"), ("  Natt   2 ", "Natt 2"), ("Vaktlag Øst", "Vaktlag Øst"), ("x" * 64, "x" * 64)],
)
def test_team_names_are_tidied(text, expected):
    assert check_team(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "x" * 65, "Lag\x00A", "Lag\x1bA"])
def test_bad_team_names_are_refused(text):
    with pytest.raises(ValueError, match="team must be"):
        check_team(text)


def test_a_teams_file_keeps_good_rows_and_reports_bad_ones(tmp_path):
    path = tmp_path / "lag.csv"
    path.write_text(
        "team,operator_id\nLag A,op-anne\n,op-lise\nLag B,op-anne\nLag B,\nLag B,op-per\n", "utf-8"
    )
    rows, errors = read_teams_csv(path)
    assert rows == [("op-anne", "Lag A"), ("op-per", "Lag B")]
    assert [(e.line, e.reason) for e in errors] == [
        (3, "team must be 1-64 printable characters"),
        (4, "operator_id 'op-anne' appears more than once"),
        (5, "operator_id is empty"),
    ]
    assert str(errors[0]).startswith(f"{path}:3:")


@pytest.mark.parametrize("content", ["operator_id,lag\nop-anne,A\n", "operator_id\nop-anne\n", ""])
def test_a_teams_file_with_the_wrong_header_is_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "lag.csv"
    path.write_text(content, "utf-8")
    with pytest.raises(MetadataError, match="operator_id,team") as e:
        read_teams_csv(path)
    assert str(path) in str(e.value)


def test_the_sample_teams_file_is_valid():
    rows, errors = read_teams_csv(SAMPLES / "teams.csv")
    assert not errors and len(rows) == 11


def test_the_metadata_team_column_is_stored_and_checked(tmp_path, settings):
    write_tone(tmp_path / "a.wav")
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text(
        "call_id,service,operator_id,team,audio_file\n"
        "t1,lvs,op-anne, Lag  A ,a.wav\n"
        "t2,lvs,op-lise,,\n"
        f"t3,lvs,op-per,{'x' * 70},\n",
        encoding="utf-8",
    )
    rows, errors = read_metadata(csv_path)
    assert [r.team for r in rows] == ["Lag A", None]
    assert [(e.line, e.reason) for e in errors] == [(4, "team must be 1-64 printable characters")]
    report = ingest(settings, [], metadata=csv_path)
    assert report.added == ["t1"] and report.without_audio == ["t2"]
    with connect(settings.db_path) as con:
        assert con.execute("SELECT call_id, team FROM calls ORDER BY call_id").fetchall() == [
            ("t1", "Lag A"),
            ("t2", None),
        ]
    assert "team" in COLUMNS


def test_the_admin_assigns_teams_all_or_nothing_and_every_change_is_audited(tmp_path):
    db = tmp_path / "teams.duckdb"
    admin = UserAdminService(db, ADMIN)
    assert admin.set_teams([("op-anne", "Lag A"), ("op-lise", "Lag B")]) == 2
    assert (
        admin.set_teams([("op-anne", "Lag A"), ("op-lise", "Lag C")]) == 1
    )  # an unchanged team is no change
    assert admin.teams() == {"op-anne": "Lag A", "op-lise": "Lag C"}
    with pytest.raises(ValueError, match="team must be"):
        admin.set_teams([("op-per", "Lag D"), ("op-anne", "")])
    assert admin.teams() == {"op-anne": "Lag A", "op-lise": "Lag C"}  # nothing of the failed batch
    assert admin.set_teams([("op-anne", None)]) == 1
    assert admin.teams() == {"op-lise": "Lag C"}
    assert audit_rows(db) == [
        ("admin", "set_team", "operator", "op-anne", "- -> Lag A"),
        ("admin", "set_team", "operator", "op-lise", "- -> Lag B"),
        ("admin", "set_team", "operator", "op-lise", "Lag B -> Lag C"),
        ("admin", "set_team", "operator", "op-anne", "Lag A -> -"),
    ]


def test_the_user_list_shows_each_operators_team(tmp_path):
    db = tmp_path / "teams.duckdb"
    admin = UserAdminService(db, ADMIN)
    admin.add("anne", "Anne", "operator", "a-long-password-1", operator_id="op-anne")
    admin.add("liv", "Liv", "leder", "a-long-password-2")
    admin.set_teams([("op-anne", "Lag A")])
    assert {u.username: u.team for u in admin.list()} == {"anne": "Lag A", "liv": None}


@pytest.mark.parametrize("role", ["leder", "veileder", "operator", "lege"])
def test_only_an_admin_assigns_teams(tmp_path, role):
    service = UserAdminService(tmp_path / "teams.duckdb", User("x", "X", role, "op-x"))
    with pytest.raises(AccessDenied):
        service.set_teams([("op-x", "Lag A")])
    with pytest.raises(AccessDenied):
        service.teams()


def test_teams_from_the_command_line(tmp_path):
    db = str(tmp_path / "teams.duckdb")
    runner = CliRunner()
    path = tmp_path / "lag.csv"
    path.write_text("operator_id,team\nop-anne,Lag A\nop-lise,\n", encoding="utf-8")
    out = runner.invoke(main, ["teams", "import", str(path), "--db", db])
    assert out.exit_code == 1, out.output  # one row skipped
    assert "1 operators read, 1 changed, 1 rows skipped" in out.output
    assert f"{path}:3: team must be" in out.output
    out = runner.invoke(main, ["teams", "set", "op-lise", "Lag B", "--db", db])
    assert out.exit_code == 0, out.output
    listed = runner.invoke(main, ["teams", "list", "--db", db]).output.splitlines()
    assert [line.split(None, 1) for line in listed] == [["op-anne", "Lag A"], ["op-lise", "Lag B"]]
    assert runner.invoke(main, ["teams", "set", "op-lise", "--none", "--db", db]).exit_code == 0
    assert runner.invoke(main, ["teams", "set", "op-lise", "--db", db]).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("who,team\n", encoding="utf-8")
    out = runner.invoke(main, ["teams", "import", str(bad), "--db", db])
    assert out.exit_code == 2 and str(bad) in out.output
    assert [r[3] for r in audit_rows(tmp_path / "teams.duckdb")] == ["op-anne", "op-lise", "op-lise"]
    assert audit_rows(tmp_path / "teams.duckdb")[0][0].startswith("cli:")
