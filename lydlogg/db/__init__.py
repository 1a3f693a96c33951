"""The DuckDB store: connections with retry, and the versioned schema.

DuckDB lets one process at a time open a file for writing. Lydlogg therefore keeps every
connection short: the batch opens one per finished call, writes it in one transaction and closes
it, so the review app can take the lock in between. :func:`connect` waits and retries while
another process holds the lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from lydlogg.db.migrations import LATEST_VERSION, MIGRATIONS

__all__ = ["DatabaseBusyError", "DatabaseError", "connect", "migrate", "schema_version", "transaction"]

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database file cannot be opened or is of an unknown schema."""


class DatabaseBusyError(DatabaseError):
    """Another process kept the write lock for longer than we were willing to wait."""


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


@contextmanager
def connect(
    path: Path, *, read_only: bool = False, wait_s: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``path`` (creating and migrating it when writable), yield the connection, close it."""
    path = Path(path)
    if read_only and not path.exists():
        raise DatabaseError(f"{path}: no database here yet; run `lydlogg ingest` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as e:
            if not _is_lock_error(e):
                raise DatabaseError(f"{path}: cannot open database ({e})") from e
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"{path}: another process has held the database for over {wait_s:.0f} s"
                ) from e
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as e:
            raise DatabaseError(f"{path}: not a Lydlogg database or unreadable ({e})") from e
    try:
        if not read_only:
            migrate(con)
        elif schema_version(con) != LATEST_VERSION:
            raise DatabaseError(
                f"{path}: schema version {schema_version(con)}, this Lydlogg needs {LATEST_VERSION}; "
                "open it once read-write to migrate"
            )
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run a block in one transaction: all of it lands, or none of it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration, 0 for an empty database."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the database; return the resulting version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise DatabaseError(
            f"database schema version {current} is newer than this Lydlogg ({LATEST_VERSION}); upgrade Lydlogg"
        )
    for version, description, sql in MIGRATIONS:
        if version <= current:
            continue
        with transaction(con):
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)", [version, description]
            )
        log.info("database migrated to schema version %d", version)
    return max(current, LATEST_VERSION)
