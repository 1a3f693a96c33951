"""Encryption at rest: where the database key comes from, and turning a plain database into an
encrypted one.

The database key is read from a key file (mode 0600, like the pseudonym key) or from an
environment variable; it never lives in the settings file itself. Recordings are not encrypted
by Lydlogg: they rely on the encrypted volume they are stored on (see ``docs/security.md``).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from lydlogg.backup_crypto import BackupKey
from lydlogg.db import (
    DatabaseError,
    DatabaseKey,
    connect,
    current_catalog,
    load_httpfs,
    register_key,
    sql_literal,
)

__all__ = [
    "EncryptionSettings",
    "case_audio_key",
    "DatabaseKeyError",
    "create_key_file",
    "database_key",
    "encrypt_database",
    "use_encryption",
]

log = logging.getLogger(__name__)

_GENERATED_KEY = re.compile(r"[0-9a-f]{64}")  # 256 random bits, as create_key_file writes them


class EncryptionSettings(BaseModel):
    """Encryption of the database file at rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        False,
        description=(
            "Open the database as an encrypted DuckDB file (AES-GCM). The key comes from `key_env` "
            "when that variable is set, else from `key_file`. A missing or wrong key stops with an "
            "error and leaves the file untouched."
        ),
    )
    key_file: Path = Field(
        Path("data/secrets/database.key"),
        description=(
            "File holding the database key (one line of 64 hexadecimal digits, readable only by its "
            "owner). `lydlogg db keygen` writes a new random one; a chosen pass phrase is refused. "
            "Keep a copy apart from the backups."
        ),
    )
    key_env: str = Field(
        "LYDLOGG_DB_KEY",
        description="Environment variable that holds the database key; it wins over `key_file`.",
    )
    allow_mbedtls: bool = Field(
        False,
        description=(
            "Write encrypted files with DuckDB's built-in mbedTLS when its httpfs extension "
            "(OpenSSL) is not installed. DuckDB marks this unsafe; for tests and offline development only."
        ),
    )


class DatabaseKeyError(DatabaseError):
    """The database key cannot be read: no file or variable, readable by others, or too short."""


def database_key(settings: EncryptionSettings) -> DatabaseKey | None:
    """The key for the database, or None when encryption is off."""
    if not settings.enabled:
        return None
    secret = os.environ.get(settings.key_env, "").strip()
    source = f"${settings.key_env}"
    if not secret:
        path = Path(settings.key_file)
        source = str(path)
        if not path.is_file():
            raise DatabaseKeyError(
                f"encryption is on but neither ${settings.key_env} nor the key file {path} is there; "
                "create a key with `lydlogg db keygen`"
            )
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise DatabaseKeyError(f"{path}: database key is readable by others; run `chmod 600 {path}`")
        secret = path.read_text(encoding="utf-8").strip()
    if not _GENERATED_KEY.fullmatch(secret):
        # a chosen pass phrase is guessable; only what `lydlogg db keygen` writes is accepted
        raise DatabaseKeyError(
            f"{source}: not a generated database key; a key is 64 hexadecimal digits as written by "
            "`lydlogg db keygen` (or `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    return DatabaseKey(secret, allow_mbedtls=settings.allow_mbedtls)


CASE_AUDIO_PURPOSE = b"lydlogg case audio v1"


def case_audio_key(settings: EncryptionSettings) -> BackupKey | None:
    """The key that encrypts case audio (AES-256-GCM, file by file, as recordings in a backup),
    derived from the database key; None when encryption is off. Errors as :func:`database_key`."""
    key = database_key(settings)
    return None if key is None else BackupKey.from_hex(key.secret, purpose=CASE_AUDIO_PURPOSE)


def use_encryption(db_path: Path, settings: EncryptionSettings) -> DatabaseKey | None:
    """Register the key for ``db_path`` so that every :func:`lydlogg.db.connect` uses it."""
    key = database_key(settings)
    register_key(db_path, key)
    return key


def create_key_file(path: Path) -> Path:
    """Write a new random key (64 hex digits, mode 0600); refuses to replace an existing one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path


def encrypt_database(source: Path, target: Path, key: DatabaseKey) -> Path:
    """Copy the plain database ``source`` into a new encrypted file ``target``.

    The source is left as it is; delete it (securely) once the encrypted copy has been checked.
    """
    source, target = Path(source), Path(target)
    if target.exists():
        raise DatabaseError(f"{target}: exists already; choose a new file for the encrypted copy")
    with connect(source, key=None) as con:
        try:
            try:
                load_httpfs(con)
            except duckdb.Error:
                if not key.allow_mbedtls:
                    raise
                con.execute("SET force_mbedtls_unsafe = true")
            con.execute(
                f"ATTACH {sql_literal(str(target))} AS encrypted_copy (ENCRYPTION_KEY {sql_literal(key.secret)})"
            )
            con.execute(f"COPY FROM DATABASE {current_catalog(con)} TO encrypted_copy")
            con.execute("DETACH encrypted_copy")
        except duckdb.Error as e:
            target.unlink(missing_ok=True)
            raise DatabaseError(
                f"{target}: encrypting failed ({str(e).replace(key.secret, '***')})"
            ) from None
    with connect(target, key=key, read_only=True) as con:
        con.execute("SELECT count(*) FROM schema_version").fetchone()
    log.info("encrypted copy of the database written")
    return target
