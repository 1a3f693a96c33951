"""Backup while another process writes, restore into a fresh place, and the failure cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings, write_tone

from lydlogg.access import AccessDenied
from lydlogg.auth import User
from lydlogg.backup import BackupError, BackupManifest, backup, restore
from lydlogg.db import DatabaseError, DatabaseKey, connect, is_encrypted
from lydlogg.ingest import ingest
from transcription.audio import file_sha256

KEY = DatabaseKey("backup-test-key-0123456789", allow_mbedtls=True)
WRITES = 30

# Each write adds a call and its audit row in one transaction, through the same connect() the app uses.
WRITER = """
import sys, time
from pathlib import Path
from lydlogg.db import connect, transaction, DatabaseKey
db, n, secret = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
key = DatabaseKey(secret, allow_mbedtls=True) if secret else None
for i in range(n):
    with connect(db, key=key) as con, transaction(con):
        con.execute("INSERT INTO calls (call_id, service) VALUES (?, 'lvs')", [f"w-{i:04d}"])
        con.execute("INSERT INTO audit (username, action, object_id) VALUES ('writer', 'write', ?)", [f"w-{i:04d}"])
    if i == 4:
        print("writing", flush=True)
    time.sleep(0.01)
print("done", n)
"""


def _recordings(tmp_path: Path, key: DatabaseKey | None) -> Path:
    settings = make_settings(tmp_path)
    audio = tmp_path / "audio"
    audio.mkdir()
    files = [write_tone(audio / f"t{i}.wav", seconds=0.3 + i / 10) for i in range(3)]
    if key is None:
        ingest(settings, files)
    else:  # ingest opens the database through connect(), which takes the registered key
        from lydlogg.db import register_key

        register_key(settings.db_path, key)
        try:
            ingest(settings, files)
        finally:
            register_key(settings.db_path, None)
    return settings.db_path


def _pairs(db: Path, key: DatabaseKey | None) -> tuple[int, int]:
    with connect(db, key=key, read_only=True) as con:
        calls = con.execute("SELECT count(*) FROM calls WHERE call_id LIKE 'w-%'").fetchone()[0]
        audits = con.execute("SELECT count(*) FROM audit WHERE username = 'writer'").fetchone()[0]
    return calls, audits


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "encrypted"])
def test_backup_while_another_process_writes_then_restore_elsewhere(tmp_path, key):
    db = _recordings(tmp_path, key)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(WRITES), key.secret if key else ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "writing"  # five writes are in; the rest follow
    manifest = backup(db, tmp_path / "backup", key=key)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err  # the writer waited for the backup and carried on
    assert out.strip() == f"done {WRITES}"
    assert _pairs(db, key) == (WRITES, WRITES)

    copied = manifest.counts["calls"] - 3
    assert 5 <= copied <= WRITES
    assert manifest.counts["audit"] >= copied  # every copied call came with its audit row: one snapshot
    assert len(manifest.recordings) == 3 and manifest.missing_recordings == ()
    assert manifest.encrypted is (key is not None)
    assert is_encrypted(tmp_path / "backup" / "lydlogg.duckdb") is (key is not None)

    fresh = tmp_path / "elsewhere" / "restored.duckdb"
    report = restore(tmp_path / "backup", fresh, key=key, audio_root=tmp_path / "elsewhere" / "audio")
    assert _pairs(fresh, key) == (copied, copied)
    with connect(fresh, key=key, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == manifest.counts["calls"]
        paths = [Path(p) for (p,) in con.execute("SELECT path FROM audio_files").fetchall()]
        # sequences come along: a new audit row gets a fresh id
    with connect(fresh, key=key) as con:
        con.execute("INSERT INTO audit (username, action) VALUES ('x', 'after_restore')")
    assert len(report.recordings_restored) == 3
    assert all(p.is_file() and p.parent == (tmp_path / "elsewhere" / "audio").resolve() for p in paths)


def test_restore_puts_missing_recordings_back_where_they_were(tmp_path):
    db = _recordings(tmp_path, None)
    backup(db, tmp_path / "backup")
    lost = sorted((tmp_path / "audio").iterdir())[0]
    lost.unlink()
    report = restore(tmp_path / "backup", tmp_path / "restored.duckdb", recordings_root=tmp_path / "audio")
    assert lost.is_file() and len(report.recordings_restored) == 1 and len(report.recordings_present) == 2


def test_backup_without_audio_and_a_missing_recording(tmp_path):
    db = _recordings(tmp_path, None)
    assert backup(db, tmp_path / "b1", include_audio=False).recordings == ()
    assert not (tmp_path / "b1" / "audio").exists()
    sorted((tmp_path / "audio").iterdir())[0].unlink()
    manifest = backup(db, tmp_path / "b2")
    assert len(manifest.recordings) == 2 and len(manifest.missing_recordings) == 1


def test_restore_refuses_to_overwrite_a_wrong_key_and_a_damaged_backup(tmp_path):
    db = _recordings(tmp_path, None)
    backup(db, tmp_path / "backup")
    with pytest.raises(BackupError, match="exists already"):
        restore(tmp_path / "backup", db)
    with pytest.raises(BackupError, match="not encrypted"):
        restore(tmp_path / "backup", tmp_path / "r.duckdb", key=KEY)
    assert not (tmp_path / "r.duckdb").exists()
    with open(tmp_path / "backup" / "lydlogg.duckdb", "r+b") as fh:
        fh.seek(5000)
        fh.write(b"\x00garbage\x00")
    with pytest.raises(BackupError, match="damaged"):
        restore(tmp_path / "backup", tmp_path / "r.duckdb")
    assert not (tmp_path / "r.duckdb").exists() and not (tmp_path / "r.duckdb.restoring").exists()


def test_an_encrypted_backup_needs_its_key(tmp_path):
    db = _recordings(tmp_path, KEY)
    backup(db, tmp_path / "backup", key=KEY)
    with pytest.raises(BackupError, match="encrypted; give its key"):
        restore(tmp_path / "backup", tmp_path / "r.duckdb")
    wrong = DatabaseKey("another-key-9876543210", allow_mbedtls=True)
    with pytest.raises(DatabaseError, match="wrong encryption key"):
        restore(tmp_path / "backup", tmp_path / "r.duckdb", key=wrong)
    assert not (tmp_path / "r.duckdb").exists() and not (tmp_path / "r.duckdb.restoring").exists()
    raw = (tmp_path / "backup" / "lydlogg.duckdb").read_bytes()
    assert b"lydlogg" not in raw.lower() and b"audio_files" not in raw  # no table names in the clear


def test_a_manifest_cannot_send_files_outside_the_audio_folder(tmp_path):
    db = _recordings(tmp_path, None)
    backup(db, tmp_path / "backup")
    path = tmp_path / "backup" / "manifest.json"
    data = json.loads(path.read_text())
    data["recordings"][0][2] = "../../../etc/evil.wav"
    path.write_text(json.dumps(data))
    with pytest.raises(BackupError, match="not a checksum"):
        restore(tmp_path / "backup", tmp_path / "r.duckdb")
    assert not (tmp_path / "r.duckdb").exists()


def test_backup_into_a_folder_that_is_not_empty_or_by_a_non_admin(tmp_path):
    db = _recordings(tmp_path, None)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        backup(db, tmp_path / "full")
    with pytest.raises(AccessDenied):
        backup(db, tmp_path / "b", user=User("leder", "Liv", "leder"))
    manifest = backup(db, tmp_path / "b", user=User("admin", "Admin", "admin"))
    assert BackupManifest.read(tmp_path / "b") == manifest
    with connect(db) as con:
        assert con.execute("SELECT username FROM audit WHERE action = 'backup'").fetchall() == [("admin",)]


# --- restore is confined (security round two, finding 4) ----------------------------------------


def _point_recording_at(backup_folder: Path, target: Path) -> None:
    """What an attacker with write access to the backup share does: edit the backup's database."""
    db = backup_folder / "lydlogg.duckdb"
    with connect(db) as con:
        sha = con.execute("SELECT min(sha256) FROM audio_files").fetchone()[0]
        con.execute("UPDATE audio_files SET path = ? WHERE sha256 = ?", [str(target), sha])
    manifest = json.loads((backup_folder / "manifest.json").read_text())  # a fully rewritten backup
    manifest["database_sha256"] = file_sha256(db)
    (backup_folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("where", ["outside", "through_link", "existing_file"])
def test_restore_never_writes_outside_the_recordings_folder_through_links_or_over_files(tmp_path, where):
    db = _recordings(tmp_path, None)
    backup(db, tmp_path / "backup")
    root = tmp_path / "audio"
    for f in root.iterdir():
        f.unlink()  # every recording must come back
    victim_dir = tmp_path / "victim"
    victim_dir.mkdir()
    victim = victim_dir / "authorized_keys"
    victim.write_text("untouched")
    target = {
        "outside": victim,
        "through_link": root / "link" / "authorized_keys",
        "existing_file": root / "taken.wav",
    }[where]
    (root / "link").symlink_to(victim_dir)
    (root / "taken.wav").write_text("someone else's file")
    _point_recording_at(tmp_path / "backup", target)
    report = restore(tmp_path / "backup", tmp_path / "r.duckdb", recordings_root=root)
    assert len(report.recordings_refused) == 1 and len(report.recordings_restored) == 2  # the rest go on
    assert victim.read_text() == "untouched" and (root / "taken.wav").read_text() == "someone else's file"


def test_restore_keeps_audit_rows_written_since_the_backup_and_is_audited(tmp_path):
    from lydlogg.audit import record, verify_chain

    db = _recordings(tmp_path, None)
    with connect(db) as con:
        record(con, "liv", "before_backup")
    backup(db, tmp_path / "backup")
    with connect(db) as con:
        record(con, "liv", "view_call", "call", "after-the-backup")
        record(con, "mallory", "delete_evidence")
    admin = User("cli:root", "CLI", "admin")
    report = restore(tmp_path / "backup", db, overwrite=True, recordings_root=tmp_path / "audio", user=admin)
    with connect(db) as con:
        actions = [r[0] for r in con.execute("SELECT action FROM audit ORDER BY audit_id").fetchall()]
        detail = con.execute("SELECT username, detail FROM audit WHERE action = 'restore'").fetchone()
        chain = verify_chain(con)
        record(con, "liv", "after_restore")  # new ids follow the carried-over ones
        assert verify_chain(con).ok
    assert report.audit_rows_kept == 2
    assert actions[-4:] == ["before_backup", "view_call", "delete_evidence", "restore"]
    assert detail[0] == "cli:root" and "2 audit rows since the backup kept" in detail[1]
    assert chain.ok


def test_restore_with_recordings_needs_the_recordings_folder(tmp_path):
    db = _recordings(tmp_path, None)
    backup(db, tmp_path / "backup")
    with pytest.raises(BackupError, match="recordings folder"):
        restore(tmp_path / "backup", tmp_path / "r.duckdb")


# --- recordings encrypted, manifest signed (security round two, finding 3) ---------------------

BACKUP_KEY_HEX = "5a" * 32


def test_recordings_in_a_backup_are_encrypted_and_come_back_intact(tmp_path):
    from lydlogg.backup_crypto import BackupKey

    key = BackupKey.from_hex(BACKUP_KEY_HEX)
    db = _recordings(tmp_path, None)
    originals = {p.name: p.read_bytes() for p in (tmp_path / "audio").iterdir()}
    manifest = backup(db, tmp_path / "backup", backup_key=key)
    assert manifest.audio_encrypted and manifest.signature
    for stored in (tmp_path / "backup" / "audio").iterdir():
        blob = stored.read_bytes()
        assert (
            blob.startswith(b"LYDB1") and b"RIFF" not in blob and b"WAVE" not in blob
        )  # no audio in the clear
        assert oct(stored.stat().st_mode & 0o777) == "0o600"
    for f in (tmp_path / "audio").iterdir():
        f.unlink()
    report = restore(
        tmp_path / "backup", tmp_path / "r.duckdb", recordings_root=tmp_path / "audio", backup_key=key
    )
    assert len(report.recordings_restored) == 3
    assert {p.name: p.read_bytes() for p in (tmp_path / "audio").iterdir()} == originals


@pytest.mark.parametrize("tamper", ["manifest", "unsigned", "recording", "swap", "no_key", "wrong_key"])
def test_a_changed_backup_or_a_wrong_key_is_refused(tmp_path, tamper):
    from lydlogg.backup_crypto import BackupKey

    key = BackupKey.from_hex(BACKUP_KEY_HEX)
    db = _recordings(tmp_path, None)
    backup(db, tmp_path / "backup", backup_key=key)
    for f in (tmp_path / "audio").iterdir():
        f.unlink()
    manifest_path = tmp_path / "backup" / "manifest.json"
    data = json.loads(manifest_path.read_text())
    files = sorted((tmp_path / "backup" / "audio").iterdir())
    use = key
    if tamper == "manifest":
        data["counts"]["calls"] += 0
        data["recordings"][0][1] = "/etc/cron.d/evil"
    elif tamper == "unsigned":
        data["signature"], data["audio_encrypted"] = None, False
    elif tamper == "recording":
        blob = bytearray(files[0].read_bytes())
        blob[-1] ^= 1
        files[0].write_bytes(bytes(blob))
    elif tamper == "swap":
        a, b = files[0].read_bytes(), files[1].read_bytes()
        files[0].write_bytes(b)
        files[1].write_bytes(a)
    elif tamper == "no_key":
        use = None
    else:
        use = BackupKey.from_hex("6b" * 32)
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(BackupError, match="signature|not signed|backup key|decrypt"):
        restore(
            tmp_path / "backup", tmp_path / "r.duckdb", recordings_root=tmp_path / "audio", backup_key=use
        )
    assert not (tmp_path / "r.duckdb").exists()
    assert not list((tmp_path / "audio").iterdir())  # nothing half-restored into the recordings folder


def test_backup_keygen_and_the_cli_round_trip(tmp_path):
    from click.testing import CliRunner

    from lydlogg.cli import main

    db = _recordings(tmp_path, None)
    env = {"LYDLOGG_DB_PATH": str(db), "LYDLOGG_BACKUP__KEY_FILE": str(tmp_path / "secrets" / "backup.key")}
    assert CliRunner().invoke(main, ["backup-keygen"], env=env).exit_code == 0
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "b")], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["audio_encrypted"] is True
