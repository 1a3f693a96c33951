"""The DuckDB store: connections with retry, and the versioned schema.

DuckDB lets one process at a time open a file for writing. Lydlogg therefore keeps every
connection short: the batch opens one per finished call, writes it in one transaction and closes
it, so the review app can take the lock in between. :func:`connect` waits and retries while
another process holds the lock.

An encrypted database (DuckDB's AES-GCM file encryption) is opened by attaching the file with
its key to an in-memory connection and making it the default catalog, so callers see the same
tables either way. The key is given to :func:`connect` or registered once per database file with
:func:`register_key` (the CLI and the app do this from the ``encryption`` settings).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from lydlogg.db.migrations import LATEST_VERSION, MIGRATIONS
from lydlogg.fileperms import private_dir, private_file

__all__ = [
    "CATALOG",
    "DatabaseBusyError",
    "DatabaseError",
    "DatabaseKey",
    "SchemaOutdatedError",
    "connect",
    "current_catalog",
    "httpfs_file",
    "is_encrypted",
    "load_httpfs",
    "migrate",
    "pending_versions",
    "register_key",
    "register_wait",
    "registered_key",
    "schema_version",
    "sql_literal",
    "transaction",
]

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """The database file cannot be opened or is of an unknown schema."""


class DatabaseBusyError(DatabaseError):
    """Another process kept the write lock for longer than we were willing to wait."""


class SchemaOutdatedError(DatabaseError):
    """The database has an older schema; ``lydlogg db migrate`` upgrades it after a backup."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = Path(path)
        self.version = version
        self.latest = LATEST_VERSION
        super().__init__(
            f"{path}: schema version {version}, this Lydlogg needs {LATEST_VERSION}; "
            f"run `lydlogg db migrate --db {path}` (it backs the database up first)"
        )


CATALOG = "lydlogg"  # the name an encrypted database is attached under


@dataclass(frozen=True)
class DatabaseKey:
    """The key of an encrypted database file.

    DuckDB writes encrypted files only with OpenSSL, which comes with its ``httpfs`` extension;
    its built-in mbedTLS reads them but DuckDB calls writing with it unsafe (weak randomness).
    ``allow_mbedtls`` permits that fallback when ``httpfs`` cannot be loaded: for tests and
    offline development only.
    """

    secret: str
    allow_mbedtls: bool = False

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise DatabaseError("a database key must have at least 16 characters")

    def __repr__(self) -> str:  # never show the secret in a traceback or log
        return f"DatabaseKey(secret=<{len(self.secret)} chars>, allow_mbedtls={self.allow_mbedtls})"


_keys: dict[Path, DatabaseKey] = {}
_waits: dict[Path, float] = {}
DEFAULT_WAIT_S = 30.0  # the setting db_wait_seconds; this default for code that registers none


def register_key(path: Path, key: DatabaseKey | None) -> None:
    """Use ``key`` for every later :func:`connect` to ``path`` that names no key (None forgets it)."""
    resolved = Path(path).resolve()
    if key is None:
        _keys.pop(resolved, None)
    else:
        _keys[resolved] = key


def register_wait(path: Path, seconds: float | None) -> None:
    """Wait up to ``seconds`` for another process's lock in every later :func:`connect` to ``path``
    that names no wait (None: the default, :data:`DEFAULT_WAIT_S`). The CLI and the app register
    the setting ``db_wait_seconds``."""
    resolved = Path(path).resolve()
    if seconds is None:
        _waits.pop(resolved, None)
    else:
        _waits[resolved] = float(seconds)


def registered_key(path: Path) -> DatabaseKey | None:
    """The key registered for ``path``, if any."""
    return _keys.get(Path(path).resolve())


def sql_literal(value: str) -> str:
    """A SQL string literal, for the few statements that take no parameters (ATTACH options)."""
    return "'" + value.replace("'", "''") + "'"


def current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    """The connection's default catalog as a quoted identifier (the file's stem, or ``lydlogg``)."""
    name = con.execute("SELECT current_database()").fetchone()[0]
    return '"' + name.replace('"', '""') + '"'


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def httpfs_file(version: str | None = None) -> Path | None:
    """DuckDB's httpfs extension (OpenSSL) shipped by ``duckdb-extension-httpfs``, if installed."""
    try:
        import duckdb_extension_httpfs
    except ImportError:
        return None
    folder = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    path = folder / f"v{version or duckdb.__version__}" / "httpfs.duckdb_extension"
    return path if path.is_file() else None


def load_httpfs(con: duckdb.DuckDBPyConnection) -> None:
    """Load httpfs, whose OpenSSL DuckDB needs to write encrypted files: from the pinned package
    (offline, like :mod:`lydlogg.db.fts`), else an extension installed the usual way."""
    path = httpfs_file()
    if path is not None:
        con.execute(f"LOAD '{path.as_posix()}'")  # a file of our own package, not user input
    else:
        con.execute("LOAD httpfs")


def _enable_encrypted_writes(con: duckdb.DuckDBPyConnection, key: DatabaseKey, path: Path) -> None:
    try:
        load_httpfs(con)
        return
    except duckdb.Error as e:
        if not key.allow_mbedtls:
            raise DatabaseError(
                f"{path}: writing an encrypted database needs DuckDB's httpfs extension (OpenSSL); "
                f"install it with `pip install duckdb-extension-httpfs=={duckdb.__version__}` "
                "(or set encryption.allow_mbedtls for tests)"
            ) from e
    con.execute("SET force_mbedtls_unsafe = true")


def _open_encrypted(path: Path, key: DatabaseKey, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    try:
        if not read_only:
            _enable_encrypted_writes(con, key, path)
        options = f"ENCRYPTION_KEY {sql_literal(key.secret)}" + (", READ_ONLY" if read_only else "")
        con.execute(f"ATTACH {sql_literal(str(path))} AS {CATALOG} ({options})")
        con.execute(f"USE {CATALOG}")
    except BaseException:
        con.close()
        raise
    return con


def _open(path: Path, key: DatabaseKey | None, read_only: bool) -> duckdb.DuckDBPyConnection:
    if key is None:
        return duckdb.connect(str(path), read_only=read_only)
    try:
        return _open_encrypted(path, key, read_only)
    except duckdb.Error as e:
        # DuckDB's messages do not echo the key, but make sure no future one does.
        raise type(e)(str(e).replace(key.secret, "***")) from None


def _explain(path: Path, error: duckdb.Error) -> DatabaseError:
    text = str(error)
    if "without a key" in text:
        return DatabaseError(
            f"{path}: the database is encrypted and no key was given "
            "(settings encryption.key_file or the variable named by encryption.key_env)"
        )
    if "Wrong encryption key" in text:
        return DatabaseError(f"{path}: wrong encryption key for this database")
    if "is not encrypted" in text:
        return DatabaseError(
            f"{path}: a key was given but the database is not encrypted; encrypt a copy with "
            "`lydlogg db encrypt` or remove the key from the settings"
        )
    return DatabaseError(f"{path}: not a Lydlogg database or unreadable ({error})")


def is_encrypted(path: Path) -> bool:
    """Whether the DuckDB file at ``path`` is encrypted (read from its header, without a key)."""
    try:
        with duckdb.connect(str(path), read_only=True):
            return False
    except duckdb.Error as e:
        if "without a key" in str(e):
            return True
        raise _explain(Path(path), e) from e


@contextmanager
def connect(
    path: Path,
    *,
    read_only: bool = False,
    wait_s: float | None = None,
    key: DatabaseKey | None | Literal["registered"] = "registered",
    schema: Literal["latest", "any"] = "latest",
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``path``, yield the connection, close it.

    A missing or empty database opened writable is created at the newest schema. One at an older
    schema is refused with :class:`SchemaOutdatedError` (``lydlogg db migrate`` upgrades it, after a
    backup); ``schema="any"`` opens it as it is, for the backup and the migration themselves.

    While another process holds the file, it retries for ``wait_s`` seconds (default: the wait
    registered for ``path`` with :func:`register_wait`, else :data:`DEFAULT_WAIT_S`) and then
    raises :class:`DatabaseBusyError`.

    ``key`` opens an encrypted database; by default the key registered for ``path`` is used (none
    when none is), and None opens it as a plain file. A missing or wrong key raises
    :class:`DatabaseError` and leaves the file as it was.
    """
    path = Path(path)
    if key == "registered":
        key = registered_key(path)
    if wait_s is None:
        wait_s = _waits.get(path.resolve(), DEFAULT_WAIT_S)
    if read_only and not path.exists():
        raise DatabaseError(f"{path}: no database here yet; run `lydlogg ingest` first")
    if not read_only:
        private_dir(path.parent)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = _open(path, key, read_only)
            break
        except duckdb.IOException as e:
            if not _is_lock_error(e):
                raise DatabaseError(f"{path}: cannot open database ({e})") from e
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(
                    f"{path}: another process has held the database for over {wait_s:g} s; "
                    "try again when it is done (setting db_wait_seconds)"
                ) from e
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as e:
            raise _explain(path, e) from e
    try:
        if not read_only:
            for own in (path, Path(str(path) + ".wal")):  # owner-only, whatever the umask was
                private_file(own)
        if schema == "latest":
            _require_latest(con, path, create=not read_only)
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


def _applied(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The versions recorded in ``schema_version`` (none for an empty database)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return set()
    return {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration, 0 for an empty database."""
    return max(_applied(con), default=0)


def _require_latest(con: duckdb.DuckDBPyConnection, path: Path, *, create: bool) -> None:
    """Create an empty database at the newest schema; refuse any other that is not at it."""
    applied = _applied(con)
    version = max(applied, default=0)
    if version == 0:
        if not create:
            raise DatabaseError(f"{path}: an empty database, not set up by Lydlogg; open it writable first")
        migrate(con)
        return
    if version > LATEST_VERSION:
        raise DatabaseError(_newer(path, version))
    if any(m[0] not in applied for m in MIGRATIONS):
        raise SchemaOutdatedError(path, version)


def _newer(path: Path | str, version: int) -> str:
    return f"{path}: database schema version {version} is newer than this Lydlogg ({LATEST_VERSION}); upgrade Lydlogg"


def pending_versions(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The migrations this database lacks, in order (all of them for an empty database)."""
    applied = _applied(con)
    return [m[0] for m in MIGRATIONS if m[0] not in applied]


def migrate(con: duckdb.DuckDBPyConnection, *, up_to: int | None = None) -> int:
    """Apply every migration the database lacks (up to version ``up_to``), in order; the version.

    Call it through :func:`lydlogg.db_upgrade.upgrade_database`, which backs the database up
    first; :func:`connect` calls it itself only to set up a new, empty database.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise DatabaseError(_newer(current_catalog(con), current))
    wanted = set(pending_versions(con))
    for version, description, sql in MIGRATIONS:
        # by set, not by maximum: a feature's migration may land after a later one
        if version not in wanted or (up_to is not None and version > up_to):
            continue
        with transaction(con):
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)", [version, description]
            )
        log.info("database migrated to schema version %d", version)
    return schema_version(con)
