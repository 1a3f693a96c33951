"""Encrypted database files: opening, refusing, and leaving the file alone when refused."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lydlogg.auth import DEMO_UNITS
from lydlogg.crypto import (
    DatabaseKeyError,
    EncryptionSettings,
    create_key_file,
    database_key,
    encrypt_database,
    use_encryption,
)
from lydlogg.db import (
    DatabaseBusyError,
    DatabaseError,
    DatabaseKey,
    connect,
    is_encrypted,
    register_key,
    schema_version,
)
from lydlogg.db.migrations import LATEST_VERSION

KEY = DatabaseKey("0123456789abcdef" * 4, allow_mbedtls=True)  # as `lydlogg db keygen` writes
SECRET_TEXT = "Kari Nordmann har brystsmerter"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def encrypted(tmp_path) -> Path:
    db = tmp_path / "enc.duckdb"
    with connect(db, key=KEY) as con:
        assert schema_version(con) == LATEST_VERSION
        con.execute("INSERT INTO calls (call_id, service) VALUES ('c1', 'lvs')")
        con.execute("INSERT INTO audit (username, action, detail) VALUES ('x', 'note', ?)", [SECRET_TEXT])
        con.execute("CHECKPOINT")
    return db


def test_an_encrypted_database_works_and_holds_no_plain_text(encrypted):
    with connect(encrypted, key=KEY, read_only=True) as con:
        assert con.execute("SELECT detail FROM audit WHERE action = 'note'").fetchone()[0] == SECRET_TEXT
        assert con.execute("SELECT count(*) FROM segments_current").fetchone()[0] == 0  # views resolve too
    raw = encrypted.read_bytes()
    assert SECRET_TEXT.encode() not in raw and b"brystsmerter" not in raw and b"audio_files" not in raw
    assert is_encrypted(encrypted)


@pytest.mark.parametrize("read_only", [False, True])
@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "encrypted and no key"),
        (DatabaseKey("the-wrong-key-0123456789", allow_mbedtls=True), "wrong encryption key"),
    ],
    ids=["missing", "wrong"],
)
def test_a_missing_or_wrong_key_is_refused_and_touches_nothing(encrypted, key, message, read_only):
    before, files = _digest(encrypted), _files(encrypted.parent)
    with pytest.raises(DatabaseError, match=message) as e, connect(encrypted, key=key, read_only=read_only):
        pass
    assert KEY.secret not in str(e.value) and (key is None or key.secret not in str(e.value))
    assert _digest(encrypted) == before and _files(encrypted.parent) == files


def test_a_key_for_a_plain_database_is_refused(tmp_path):
    db = tmp_path / "plain.duckdb"
    with connect(db):
        pass
    before = _digest(db)
    with pytest.raises(DatabaseError, match="not encrypted"), connect(db, key=KEY):
        pass
    assert _digest(db) == before and not is_encrypted(db)


def test_a_registered_key_is_used_by_every_connect(encrypted):
    register_key(encrypted, KEY)
    try:
        with connect(encrypted) as con:
            assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    finally:
        register_key(encrypted, None)
    with pytest.raises(DatabaseError, match="no key"), connect(encrypted):
        pass


HOLDER = """
import sys, time
from pathlib import Path
from lydlogg.db import connect, DatabaseKey
with connect(Path(sys.argv[1]), key=DatabaseKey(sys.argv[2], allow_mbedtls=True)):
    print("holding", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def test_connect_waits_for_another_process_holding_an_encrypted_database(encrypted):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(encrypted), KEY.secret, "1.5"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert holder.stdout.readline().strip() == "holding"
    with pytest.raises(DatabaseBusyError), connect(encrypted, key=KEY, wait_s=0.2):
        pass
    with connect(encrypted, key=KEY, wait_s=30) as con:  # retried until the holder let go
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    assert holder.wait(timeout=30) == 0


def test_encrypt_a_plain_database_into_a_new_file(tmp_path):
    plain = tmp_path / "plain.duckdb"
    with connect(plain) as con:
        con.execute("INSERT INTO calls (call_id) VALUES ('a'), ('b')")
    before = _digest(plain)
    target = encrypt_database(plain, tmp_path / "enc.duckdb", KEY)
    assert is_encrypted(target) and _digest(plain) == before
    with connect(target, key=KEY) as con:
        assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 2
        con.execute("INSERT INTO audit (username, action) VALUES ('x', 'y')")  # sequences came along
    with pytest.raises(DatabaseError, match="exists already"):
        encrypt_database(plain, target, KEY)


def test_writing_needs_httpfs_unless_mbedtls_is_allowed(tmp_path, monkeypatch):
    import lydlogg.db

    monkeypatch.setattr(lydlogg.db, "httpfs_file", lambda: None)  # as without duckdb-extension-httpfs
    try:
        duckdb.connect().execute("LOAD httpfs")
        pytest.skip("httpfs is also installed in DuckDB's own folder here; there is no fallback to refuse")
    except duckdb.Error:
        pass
    with (
        pytest.raises(DatabaseError, match="pip install duckdb-extension-httpfs==1.5.5"),
        connect(tmp_path / "x.duckdb", key=DatabaseKey("k" * 20)),
    ):
        pass
    assert not (tmp_path / "x.duckdb").exists()


def test_the_key_never_shows_in_its_repr():
    assert KEY.secret not in repr(KEY) and "64 chars" in repr(KEY)
    with pytest.raises(DatabaseError, match="16 characters"):
        DatabaseKey("short")


def test_key_from_file_or_environment(tmp_path, monkeypatch):
    assert database_key(EncryptionSettings()) is None  # off by default
    key_file = create_key_file(tmp_path / "secrets" / "db.key")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(FileExistsError):
        create_key_file(key_file)
    settings = EncryptionSettings(enabled=True, key_file=key_file, key_env="TEST_LYDLOGG_DB_KEY")
    from_file = database_key(settings)
    assert len(from_file.secret) == 64 and from_file.secret == key_file.read_text().strip()
    monkeypatch.setenv("TEST_LYDLOGG_DB_KEY", "ab" * 32)
    assert database_key(settings).secret == "ab" * 32
    for chosen in ("short", "from-the-environment-123", "Sommer2026!Sommer2026!Sommer2026!", "AB" * 32):
        monkeypatch.setenv("TEST_LYDLOGG_DB_KEY", chosen)  # only generated keys are accepted
        with pytest.raises(DatabaseKeyError, match="not a generated database key"):
            database_key(settings)
    monkeypatch.delenv("TEST_LYDLOGG_DB_KEY")
    os.chmod(key_file, 0o644)
    with pytest.raises(DatabaseKeyError, match="readable by others"):
        database_key(settings)
    with pytest.raises(DatabaseKeyError, match="keygen"):
        database_key(settings.model_copy(update={"key_file": tmp_path / "none.key"}))


def test_use_encryption_registers_the_settings_key(tmp_path, encrypted):
    key_file = tmp_path / "db.key"
    key_file.write_text(KEY.secret)
    os.chmod(key_file, 0o600)
    use_encryption(encrypted, EncryptionSettings(enabled=True, key_file=key_file, allow_mbedtls=True))
    try:
        with connect(encrypted) as con:
            assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    finally:
        register_key(encrypted, None)


def test_the_pipeline_and_the_review_service_run_on_an_encrypted_database(tmp_path):
    from conftest import build_reference_db

    from lydlogg.auth import User
    from review.service import ReviewService

    db = tmp_path / "lydlogg.duckdb"  # the path build_reference_db uses
    register_key(db, KEY)
    try:
        build_reference_db(tmp_path)  # import, ingest metadata, score, users: all through connect()
        service = ReviewService(db, User("leder", "Liv Leder", "leder", units=DEMO_UNITS["leder"]))
        calls = service.calls()
        assert len(calls) == 12 and calls["suggested_total"].notna().any()
        assert len(service.transcript("lvs-001-feber-barn").segments) > 0
    finally:
        register_key(db, None)
    assert is_encrypted(db)
    assert b"Legevakten" not in db.read_bytes()


def test_the_write_ahead_log_is_encrypted_too(encrypted):
    with connect(encrypted, key=KEY) as con:
        con.execute(
            "INSERT INTO audit (username, action, detail) VALUES ('x', 'wal', 'Ola Nordmann i WAL-en')"
        )
        wal = Path(str(encrypted) + ".wal")
        assert wal.is_file() and b"Nordmann" not in wal.read_bytes()


def test_encrypted_writes_use_openssl_from_the_pinned_package_offline(tmp_path):
    """duckdb-extension-httpfs is pinned beside duckdb: no INSTALL over a network, no mbedTLS."""
    from lydlogg.db import httpfs_file

    assert httpfs_file() is not None and httpfs_file().name == "httpfs.duckdb_extension"
    key = DatabaseKey("9f" * 32)  # allow_mbedtls is off
    with connect(tmp_path / "openssl.duckdb", key=key) as con:
        con.execute("INSERT INTO audit (username, action) VALUES ('x', 'y')")
        loaded = con.execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'httpfs'"
        ).fetchone()[0]
    assert loaded and is_encrypted(tmp_path / "openssl.duckdb")
