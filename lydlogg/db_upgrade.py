"""``lydlogg db migrate``: back the database up, then bring it to the newest schema.

Migration is explicit. Every other command and the app refuse a database at an older schema
(:class:`lydlogg.db.SchemaOutdatedError`) and name this command; only a new, empty database is
created at the newest schema without it. The backup is a normal Lydlogg backup folder
(:mod:`lydlogg.backup`) of the database alone (recordings are not touched by a migration), so
``lydlogg restore`` brings the old file back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from lydlogg.audit import record
from lydlogg.backup import backup
from lydlogg.backup_crypto import BackupKey
from lydlogg.db import (
    DatabaseError,
    DatabaseKey,
    connect,
    migrate,
    pending_versions,
    schema_version,
)
from lydlogg.db.migrations import LATEST_VERSION

__all__ = ["UpgradeReport", "default_backup_folder", "upgrade_database"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpgradeReport:
    """What ``lydlogg db migrate`` did; ``backup`` is None when nothing was there to back up."""

    path: Path
    from_version: int
    to_version: int
    applied: tuple[int, ...]
    backup: Path | None

    def summary(self) -> str:
        if not self.applied:
            return f"{self.path}: already at schema version {self.to_version}; nothing to do"
        saved = f"; backup in {self.backup}" if self.backup is not None else ""
        return (
            f"{self.path}: schema version {self.from_version} -> {self.to_version} "
            f"({len(self.applied)} migrations){saved}"
        )


def default_backup_folder(db_path: Path, version: int, now: datetime) -> Path:
    """Where the backup goes when none is named (pure): ``backups/`` beside the database."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(db_path).parent / "backups" / f"{Path(db_path).stem}-schema-v{version}-{stamp}"


def upgrade_database(
    db_path: Path,
    *,
    backup_to: Path | None = None,
    key: DatabaseKey | None | Literal["registered"] = "registered",
    backup_key: BackupKey | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> UpgradeReport:
    """Back ``db_path`` up into ``backup_to`` (default :func:`default_backup_folder`), then apply
    every migration it lacks and audit it. A database at the newest schema is left alone."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise DatabaseError(
            f"{db_path}: no database here, nothing to migrate; a new one is created at the newest "
            "schema by the first command that writes (e.g. `lydlogg ingest`)"
        )
    with connect(db_path, key=key, schema="any") as con:
        version = schema_version(con)
        pending = tuple(pending_versions(con))
    if version > LATEST_VERSION:
        raise DatabaseError(
            f"{db_path}: database schema version {version} is newer than this Lydlogg ({LATEST_VERSION}); "
            "upgrade Lydlogg"
        )
    if not pending:
        return UpgradeReport(db_path, version, version, (), None)
    folder = None
    if version > 0:  # an empty file holds nothing to lose
        folder = backup_to or default_backup_folder(db_path, version, now or datetime.now(UTC))
        backup(db_path, folder, key=key, include_audio=False, backup_key=backup_key)
        log.info("database backed up before migrating from schema version %d", version)
    with connect(db_path, key=key, schema="any") as con:
        new_version = migrate(con)
        record(con, actor, "migrate_database", "database", db_path.name,
               f"schema v{version} -> v{new_version}" + (f"; backup {folder.name}" if folder else ""))  # fmt: skip
    return UpgradeReport(db_path, version, new_version, pending, folder)
