import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from lydlogg.db import DatabaseBusyError, DatabaseError, connect, migrate, schema_version
from lydlogg.db.migrations import LATEST_VERSION, MIGRATIONS


def test_new_database_is_migrated_once(tmp_path):
    db = tmp_path / "x.duckdb"
    with connect(db) as con:
        assert schema_version(con) == LATEST_VERSION
        assert migrate(con) == LATEST_VERSION  # second run changes nothing
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"calls", "audio_files", "transcripts", "segments", "words", "runs", "failures"} <= tables


def test_read_only_needs_an_existing_database(tmp_path):
    with (
        pytest.raises(DatabaseError, match="no database here yet"),
        connect(tmp_path / "none.duckdb", read_only=True),
    ):
        pass


def test_database_from_a_newer_lydlogg_is_refused(tmp_path):
    db = tmp_path / "x.duckdb"
    with connect(db) as con:
        con.execute("INSERT INTO schema_version (version, description) VALUES (999, 'future')")
    with pytest.raises(DatabaseError, match="newer than this Lydlogg"), connect(db):
        pass


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"this is not duckdb" * 100)
    with pytest.raises(DatabaseError, match=str(bad)), connect(bad):
        pass


def _hold_lock(db, seconds: float) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import duckdb, time, sys
        con = duckdb.connect({str(db)!r})
        print("locked", flush=True)
        time.sleep({seconds})
        con.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_writer_waits_for_another_process_then_gets_in(tmp_path):
    db = tmp_path / "x.duckdb"
    with connect(db):
        pass
    holder = _hold_lock(db, 1.5)
    t0 = time.monotonic()
    with connect(db, wait_s=20) as con:
        waited = time.monotonic() - t0
        assert con.execute("SELECT 1").fetchone() == (1,)
    holder.wait()
    assert waited > 0.5


def test_writer_gives_up_with_a_clear_error(tmp_path):
    db = tmp_path / "x.duckdb"
    with connect(db):
        pass
    holder = _hold_lock(db, 5)
    try:
        with pytest.raises(DatabaseBusyError, match="another process"), connect(db, wait_s=0.5):
            pass
    finally:
        holder.kill()
        holder.wait()
    with duckdb.connect(str(db)) as con:  # the file is unharmed
        assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == LATEST_VERSION


def test_latest_transcripts_is_the_newest_per_call_and_breaks_ties_by_id(tmp_path):
    rows = [  # (transcript, call, created_at)
        ("t-old", "c1", "2024-03-01 08:00:00+00"),
        ("t-new", "c1", "2024-03-02 08:00:00+00"),
        ("t-b", "c2", "2024-03-01 08:00:00+00"),  # two at the same moment: the greater id
        ("t-a", "c2", "2024-03-01 08:00:00+00"),
        ("t-only", "c3", "2024-01-01 00:00:00+00"),
    ]
    with connect(tmp_path / "x.duckdb") as con:
        for i, (tid, call, when) in enumerate(rows):
            con.execute(
                "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash,"
                " language, layout, channels_transcribed, duration_s, speech_s, asr_seconds, created_at)"
                " VALUES (?, ?, ?, 'r', 'm', 'h', 'no', 'mono', 1, 1, 1, 0, ?)",
                [tid, call, f"sha-{i}", when],
            )
        latest = con.execute(
            "SELECT call_id, transcript_id FROM latest_transcripts ORDER BY call_id"
        ).fetchall()
        one = con.execute("SELECT transcript_id FROM latest_transcripts WHERE call_id = 'c1'").fetchall()
    assert latest == [("c1", "t-new"), ("c2", "t-b"), ("c3", "t-only")]
    assert one == [("t-new",)]
