"""Schema migrations: one module per version, applied only by `lydlogg db migrate` (backup first),
and a populated database at the first schema version upgraded to the newest with its rows intact."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from lydlogg.audit import verify_chain
from lydlogg.backup import BackupManifest
from lydlogg.cli import main
from lydlogg.db import SchemaOutdatedError, connect, migrate, pending_versions, schema_version
from lydlogg.db.migrations import LATEST_VERSION, MIGRATIONS
from lydlogg.db_upgrade import default_backup_folder, upgrade_database

DB_PACKAGE = Path(__file__).resolve().parent.parent / "lydlogg" / "db"

# One row per table of schema v1, written with the columns named, as v1 knew them.
V1_ROWS = {
    "audio_files": {
        "sha256": "a" * 64, "path": "/opptak/samtale-1.wav", "size_bytes": 320_044, "container": "WAV",
        "subtype": "PCM_16", "sample_rate": 8000, "channels": 2, "frames": 80_000, "duration_s": 10.0,
    },
    "calls": {
        "call_id": "call-1", "audio_sha256": "a" * 64, "started_at": datetime(2024, 3, 1, 8, 30, tzinfo=UTC),
        "service": "lvs", "operator_id": "op-anne", "caller_pseudonym": "c-1", "patient_pseudonym": "p-1",
        "urgency": "yellow", "metadata_source": "metadata.csv",
    },
    "runs": {
        "run_id": "run-1", "started_at": datetime(2024, 3, 1, 9, 0, tzinfo=UTC), "software_version": "0.1.0",
        "model_id": "bundled-base", "options_json": "{}", "options_hash": "h1", "files_total": 1, "files_done": 1,
    },
    "transcripts": {
        "transcript_id": "tr-1", "call_id": "call-1", "audio_sha256": "a" * 64, "run_id": "run-1",
        "model_id": "bundled-base", "options_hash": "h1", "language": "no", "layout": "stereo",
        "channels_transcribed": 2, "duration_s": 10.0, "speech_s": 7.5, "asr_seconds": 1.25,
    },
    "segments": {
        "transcript_id": "tr-1", "segment_index": 0, "channel": 0, "start_s": 0.5, "end_s": 2.0,
        "text": "Legevakta, hva gjelder det?", "speaker": "S0", "role": "operator", "avg_logprob": -0.2,
        "no_speech_prob": 0.01,
    },
    "words": {
        "transcript_id": "tr-1", "segment_index": 0, "word_index": 0, "channel": 0, "start_s": 0.5,
        "end_s": 1.1, "text": "Legevakta,", "probability": 0.93,
    },
    "failures": {
        "run_id": "run-1", "call_id": "call-2", "path": "/opptak/samtale-2.wav", "stage": "decode",
        "reason": "unsupported codec",
    },
}  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, row: dict) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))  # noqa: S608


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns) -> list[tuple]:  # noqa: ANN001
    return con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608


@pytest.fixture
def v1_db(tmp_path: Path) -> Path:
    """A real DuckDB file at schema version 1 with a row in every v1 table."""
    db = tmp_path / "gammel.duckdb"
    with duckdb.connect(str(db)) as con:
        assert migrate(con, up_to=1) == 1
        for table, row in V1_ROWS.items():
            _insert(con, table, row)
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {*V1_ROWS, "schema_version"}  # every v1 table has its row
    return db


def test_every_migration_is_a_module_numbered_like_its_version():
    modules = sorted(p.stem for p in DB_PACKAGE.glob("m[0-9][0-9][0-9]_*.py"))
    assert [int(m[1:4]) for m in modules] == [m[0] for m in MIGRATIONS]
    assert [m[0] for m in MIGRATIONS][:5] == [1, 2, 3, 4, 5] and MIGRATIONS[-1][0] == LATEST_VERSION
    assert all(m[1] and m[2].strip() for m in MIGRATIONS)  # a description and SQL each
    inline = re.search(r"CREATE\s+TABLE", (DB_PACKAGE / "migrations.py").read_text(encoding="utf-8"))
    assert inline is None, "schema SQL belongs in a lydlogg/db/mNNN_*.py module"


def test_a_new_database_is_created_at_the_newest_schema_without_the_command(tmp_path):
    with connect(tmp_path / "ny.duckdb") as con:
        assert schema_version(con) == LATEST_VERSION and pending_versions(con) == []


def test_an_older_database_is_refused_by_connect_the_app_services_and_commands(v1_db):
    for read_only in (False, True):
        with pytest.raises(SchemaOutdatedError) as caught, connect(v1_db, read_only=read_only):
            pass
        assert str(v1_db) in str(caught.value) and "lydlogg db migrate" in str(caught.value)
        assert (caught.value.version, caught.value.latest) == (1, LATEST_VERSION)
    out = CliRunner().invoke(main, ["calls", "--db", str(v1_db)])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert str(v1_db) in out.output and "lydlogg db migrate" in out.output
    with duckdb.connect(str(v1_db), read_only=True) as con:  # refused, and left as it was
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1


def test_a_populated_v1_database_is_backed_up_then_upgraded_with_its_rows(v1_db, tmp_path):
    out = CliRunner().invoke(main, ["db", "migrate", "--db", str(v1_db)], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert (
        f"schema version 1 -> {LATEST_VERSION}" in out.output and "episodes: 1 contacts linked" in out.output
    )
    (folder,) = (v1_db.parent / "backups").iterdir()
    assert folder.name.startswith("gammel-schema-v1-") and str(folder) in out.output

    # the backup is the untouched v1 database, restorable like any backup
    manifest = BackupManifest.read(folder)
    assert manifest.schema_version == 1 and manifest.recordings == ()
    assert manifest.counts["calls"] == 1 and manifest.counts["segments"] == 1
    with duckdb.connect(str(folder / "lydlogg.duckdb"), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1

    with connect(v1_db, read_only=True) as con:
        assert schema_version(con) == LATEST_VERSION and pending_versions(con) == []
        for table, row in V1_ROWS.items():
            assert _rows(con, table, row) == [tuple(row.values())], table
        # what later migrations added around the old rows
        assert con.execute("SELECT source FROM calls").fetchone() == ("audio",)  # v2 default
        assert con.execute("SELECT failure_id, stage FROM failures").fetchall() == [
            (1, "decode")
        ]  # rebuilt in v2
        assert con.execute("SELECT text, text_corrected FROM segments_current").fetchall() == [
            ("Legevakta, hva gjelder det?", False)
        ]
        assert con.execute("SELECT call_id, transcript_id FROM latest_transcripts").fetchall() == [
            ("call-1", "tr-1")
        ]
        # the episodes table (v21) starts empty; migrate links the stored calls into it at once
        assert con.execute("SELECT call_id, contact_number FROM episodes").fetchall() == [("call-1", 1)]
        audit = con.execute("SELECT username, action, object_id, detail FROM audit").fetchall()
        assert len(audit) == 1 and audit[0][1:3] == ("migrate_database", "gammel.duckdb")
        assert audit[0][3] == f"schema v1 -> v{LATEST_VERSION}; backup {folder.name}"
        assert audit[0][0].startswith("cli:") and verify_chain(con).ok
    with connect(v1_db) as con:  # the sequence v1 created goes on after the old row
        con.execute("INSERT INTO failures (stage, reason) VALUES ('score', 'x')")
        assert con.execute("SELECT max(failure_id) FROM failures").fetchone()[0] == 2

    again = CliRunner().invoke(main, ["db", "migrate", "--db", str(v1_db)], catch_exceptions=False)
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert len(list((v1_db.parent / "backups").iterdir())) == 1  # no second backup


def test_migrate_names_the_backup_folder_and_refuses_one_in_use(v1_db, tmp_path):
    taken = tmp_path / "tatt"
    taken.mkdir()
    (taken / "noe").write_text("x")
    out = CliRunner().invoke(main, ["db", "migrate", "--db", str(v1_db), "--backup-to", str(taken)])
    assert out.exit_code == 2 and str(taken) in out.output and "not empty" in out.output
    with duckdb.connect(str(v1_db), read_only=True) as con:  # no backup, no migration
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1
    report = upgrade_database(v1_db, backup_to=tmp_path / "sikkerhet", actor="test")
    assert report.backup == tmp_path / "sikkerhet"
    assert report.applied == tuple(m[0] for m in MIGRATIONS if m[0] != 1)
    assert report.to_version == LATEST_VERSION and (tmp_path / "sikkerhet" / "manifest.json").is_file()


def test_migrate_without_a_database_says_so(tmp_path):
    out = CliRunner().invoke(main, ["db", "migrate", "--db", str(tmp_path / "ingen.duckdb")])
    assert out.exit_code == 2 and "no database here" in out.output
    assert not (tmp_path / "ingen.duckdb").exists()


def test_a_database_missing_one_feature_migration_is_outdated(tmp_path):
    db = tmp_path / "x.duckdb"
    with connect(db):
        pass
    with duckdb.connect(str(db)) as con:  # as if a feature's migration landed after a later one
        con.execute("DELETE FROM schema_version WHERE version = 7")
    with pytest.raises(SchemaOutdatedError, match="schema version"), connect(db):
        pass


def test_default_backup_folder_is_beside_the_database():
    when = datetime(2026, 12, 3, 13, 5, 9, tzinfo=UTC)
    folder = default_backup_folder(Path("/srv/lydlogg/lydlogg.duckdb"), 17, when)
    assert folder == Path("/srv/lydlogg/backups/lydlogg-schema-v17-20261203T130509Z")


def test_a_backup_made_at_an_older_schema_is_restored_at_the_newest(v1_db, tmp_path):
    from lydlogg.backup import backup, restore

    manifest = backup(v1_db, tmp_path / "v1-backup", include_audio=False)
    assert manifest.schema_version == 1 and manifest.counts["audit"] == 0  # v1 had no audit table
    report = restore(tmp_path / "v1-backup", tmp_path / "igjen.duckdb")
    assert report.manifest.counts["calls"] == 1
    with connect(tmp_path / "igjen.duckdb", read_only=True) as con:
        assert schema_version(con) == LATEST_VERSION
        assert _rows(con, "segments", V1_ROWS["segments"]) == [tuple(V1_ROWS["segments"].values())]
        assert con.execute("SELECT action FROM audit").fetchall() == [("restore",)]
    with duckdb.connect(str(tmp_path / "v1-backup" / "lydlogg.duckdb"), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1  # kept as it was
