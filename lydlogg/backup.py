"""Backup and restore of one installation: the database and, optionally, its recordings.

A backup is a folder: ``lydlogg.duckdb`` (a consistent copy made with ``COPY FROM DATABASE``
in one statement while the database is held for a moment, so the app and the batch wait and go
on), ``audio/<sha256><suffix>`` for each recording, and ``manifest.json`` written last, with row
counts and checksums. An encrypted database is copied encrypted under the same key. Neither the
database key nor the pseudonym key goes into the backup: keep them apart (see docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb

import lydlogg
from lydlogg.access import check
from lydlogg.audit import carry_over, record
from lydlogg.auth import User
from lydlogg.backup_crypto import BackupKey, BackupKeyError, decrypt_file, encrypt_file, sign, signature_ok
from lydlogg.db import (
    DatabaseError,
    DatabaseKey,
    connect,
    current_catalog,
    is_encrypted,
    load_httpfs,
    migrate,
    pending_versions,
    registered_key,
    schema_version,
    sql_literal,
)
from lydlogg.fileperms import PRIVATE_FILE, private_dir, private_file
from transcription.audio import file_sha256

__all__ = ["BackupError", "BackupManifest", "RestoreReport", "backup", "restore"]

log = logging.getLogger(__name__)

DATABASE_FILE = "lydlogg.duckdb"
MANIFEST_FILE = "manifest.json"
COUNTED_TABLES = (
    "calls",
    "audio_files",
    "transcripts",
    "segments",
    "suggestions",
    "reviews",
    "users",
    "audit",
)


class BackupError(RuntimeError):
    """A backup that cannot be made or restored; the message says what to do."""


@dataclass(frozen=True)
class BackupManifest:
    created_at: str
    software_version: str
    schema_version: int
    encrypted: bool
    database_sha256: str
    counts: dict[str, int]
    recordings: tuple[tuple[str, str, str], ...]  # (sha256, original path, file in audio/)
    missing_recordings: tuple[str, ...]  # sha256 of recordings not found on disk at backup time
    audio_encrypted: bool = False  # recordings encrypted with the backup key (AES-256-GCM)
    signature: str | None = None  # HMAC-SHA256 of the other fields with the backup key

    @classmethod
    def read(cls, folder: Path) -> BackupManifest:
        path = Path(folder) / MANIFEST_FILE
        if not path.is_file():
            raise BackupError(
                f"{folder}: no {MANIFEST_FILE}; not a Lydlogg backup, or one that did not finish"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        data["recordings"] = tuple(tuple(r) for r in data["recordings"])
        data["missing_recordings"] = tuple(data["missing_recordings"])
        return cls(**data)


@dataclass(frozen=True)
class RestoreReport:
    manifest: BackupManifest
    database: Path
    recordings_restored: tuple[str, ...]  # sha256
    recordings_present: tuple[str, ...]  # already in place with the right content
    recordings_refused: tuple[str, ...] = ()  # target outside the root, a link, or another file there
    audit_rows_kept: int = 0  # rows written to the replaced database after the backup was made


def _counts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    """Rows per counted table; 0 for a table an older schema does not have yet."""
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'main'",
            [catalog.strip('"').replace('""', '"')],
        ).fetchall()
    }
    # catalog is a quoted identifier from current_catalog() or a constant; tables are constants
    return {
        t: con.execute(f"SELECT count(*) FROM {catalog}.main.{t}").fetchone()[0] if t in present else 0  # noqa: S608
        for t in COUNTED_TABLES
    }


def _attach_new(con: duckdb.DuckDBPyConnection, path: Path, name: str, key: DatabaseKey | None) -> None:
    options = ""
    if key is not None:
        try:
            load_httpfs(con)
        except duckdb.Error:
            if not key.allow_mbedtls:
                raise
            con.execute("SET force_mbedtls_unsafe = true")
        options = f" (ENCRYPTION_KEY {sql_literal(key.secret)})"
    con.execute(f"ATTACH {sql_literal(str(path))} AS {name}{options}")


def backup(
    db_path: Path,
    dest: Path,
    *,
    key: DatabaseKey | None | Literal["registered"] = "registered",
    include_audio: bool = True,
    user: User | None = None,
    backup_key: BackupKey | None = None,
) -> BackupManifest:
    """Copy the database (and its recordings) into the new folder ``dest``; safe while the app runs.

    ``key`` is the database's key (default: the one registered for ``db_path``); the copy is
    encrypted under the same key. With ``backup_key`` every recording is encrypted on its own
    (AES-256-GCM) and the manifest is signed, so a changed backup is refused at restore.
    """
    if key == "registered":
        key = registered_key(db_path)

    if user is not None:
        check(user, "manage_retention")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest}: not empty; back up into a new folder")
    dest.mkdir(parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    target = dest / DATABASE_FILE
    with connect(db_path, key=key, schema="any") as con:  # any schema: `lydlogg db migrate` backs up first
        source = current_catalog(con)
        try:
            _attach_new(con, target, "lydlogg_backup", key)
            con.execute(f"COPY FROM DATABASE {source} TO lydlogg_backup")
            counts = _counts(con, "lydlogg_backup")
            version = con.execute("SELECT max(version) FROM lydlogg_backup.main.schema_version").fetchone()[0]
            recordings = con.execute(
                "SELECT sha256, path FROM lydlogg_backup.main.audio_files ORDER BY sha256"
            ).fetchall()
            con.execute("DETACH lydlogg_backup")
        except duckdb.Error as e:
            shutil.rmtree(dest, ignore_errors=True)
            message = str(e).replace(key.secret, "***") if key else str(e)
            raise BackupError(f"{dest}: backup failed ({message})") from None
        if user is not None:
            record(con, user.username, "backup", "backup", dest.name, f"{counts['calls']} calls")
    stored, missing = [], []
    if include_audio:
        (dest / "audio").mkdir(mode=0o700)
        for sha, path in recordings:
            name = sha + Path(path).suffix.lower()
            try:
                data = Path(path).read_bytes()
            except FileNotFoundError:
                missing.append(sha)
                continue
            if hashlib.sha256(data).hexdigest() != sha:  # changed on disk since ingest
                missing.append(sha)
                continue
            blob = encrypt_file(backup_key, name, data) if backup_key else data
            fd = os.open(dest / "audio" / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            stored.append((sha, path, name))
    manifest = BackupManifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        software_version=lydlogg.__version__,
        schema_version=version,
        encrypted=key is not None,
        database_sha256=file_sha256(target),
        counts=counts,
        recordings=tuple(stored),
        missing_recordings=tuple(missing),
        audio_encrypted=backup_key is not None,
    )
    if backup_key is not None:
        manifest = replace(manifest, signature=sign(backup_key, asdict(manifest)))
    (dest / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
    private_file(dest / MANIFEST_FILE)
    private_file(target)
    log.info(
        "backup: %d calls, %d recordings, %d recordings missing", counts["calls"], len(stored), len(missing)
    )
    return manifest


def restore(
    src: Path,
    db_path: Path,
    *,
    key: DatabaseKey | None | Literal["registered"] = "registered",
    audio_root: Path | None = None,
    recordings_root: Path | None = None,
    overwrite: bool = False,
    user: User | None = None,
    backup_key: BackupKey | None = None,
) -> RestoreReport:
    """Put the backup in ``src`` back as ``db_path`` and its recordings where they were.

    Where a recording goes comes from the backup's own database, so it is not trusted: every
    target must lie under ``recordings_root`` (the configured recordings folder), no folder on
    the way may be a symbolic link, and an existing file is never overwritten; a recording that
    fails any of these is refused and reported, the rest go on. With ``audio_root`` the
    recordings go there instead (named by sha256) and the restored database points to them.

    Stop the app and the batch first when ``overwrite`` replaces a database in use. The backup
    is checked (checksum, key, row counts) before anything is replaced. Audit rows written to
    the replaced database since the backup are carried over (a restore never rolls the trail
    back), and the restore itself is audited in the restored database.
    """
    src, db_path = Path(src), Path(db_path)
    if key == "registered":
        key = registered_key(db_path)
    root = audio_root or recordings_root
    manifest = BackupManifest.read(src)
    if manifest.signature is not None or manifest.audio_encrypted:
        if backup_key is None:
            raise BackupError(
                f"{src}: the backup is signed and its recordings encrypted; give the backup key"
            )
        if not signature_ok(backup_key, asdict(manifest)):
            raise BackupError(
                f"{src}: the manifest's signature does not match; the backup was changed, refused"
            )
    elif backup_key is not None:
        raise BackupError(f"{src}: the manifest is not signed; a backup made with a key always is, refused")
    source = src / DATABASE_FILE
    if file_sha256(source) != manifest.database_sha256:
        raise BackupError(f"{source}: checksum differs from the manifest; the backup is damaged")
    if manifest.encrypted != (key is not None) or is_encrypted(source) != manifest.encrypted:
        raise BackupError(
            f"{src}: the backup is {'encrypted; give its key' if manifest.encrypted else 'not encrypted; give no key'}"
        )
    if db_path.exists() and not overwrite:
        raise BackupError(f"{db_path}: exists already; restore elsewhere or allow overwriting")
    since = _audit_since_backup(db_path, key) if db_path.exists() else None
    staging = db_path.with_name(db_path.name + ".restoring")
    staging.unlink(missing_ok=True)
    private_dir(db_path.parent)
    shutil.copyfile(source, staging)
    private_file(staging)
    try:
        with connect(staging, key=key, schema="any") as con:  # a wrong key stops here
            counts = _counts(con, current_catalog(con))
            if counts != manifest.counts:
                raise BackupError(f"{src}: row counts {counts} differ from the manifest {manifest.counts}")
            if pending_versions(con):  # an older backup: the backup folder keeps the original
                log.info("restore: migrating the restored copy from schema version %d", schema_version(con))
                migrate(con)
            restored, present, refused = _restore_recordings(con, src, manifest, audio_root, root, backup_key)
            kept = carry_over(con, since)
            actor = user.username if user is not None else "system"
            record(con, actor, "restore", "backup", src.name,
                   f"{counts['calls']} calls; recordings {len(restored)} restored, {len(present)} present, "
                   f"{len(refused)} refused; {kept} audit rows since the backup kept")  # fmt: skip
    except (DatabaseError, BackupError):
        staging.unlink(missing_ok=True)
        raise
    os.replace(staging, db_path)
    Path(str(db_path) + ".wal").unlink(
        missing_ok=True
    )  # a stale log would be replayed onto the restored file
    log.info(
        "restore: %d calls, %d recordings copied back, %d refused",
        manifest.counts["calls"], len(restored), len(refused),
    )  # fmt: skip
    return RestoreReport(manifest, db_path, tuple(restored), tuple(present), tuple(refused), kept)


def _audit_since_backup(db_path: Path, key: DatabaseKey | None) -> list[tuple] | None:
    """Every audit row of the database about to be replaced (None when it cannot be read)."""
    try:
        with connect(db_path, key=key, read_only=True) as con:
            return con.execute(
                "SELECT audit_id, occurred_at, username, action, object_type, object_id, detail, prev_hash, row_hash FROM audit ORDER BY audit_id"
            ).fetchall()
    except (DatabaseError, duckdb.Error) as e:
        log.warning("restore: the audit trail of the replaced database cannot be read (%s)", type(e).__name__)
        return None


def _unsafe_target(target: Path, root: Path) -> str | None:
    """Why ``target`` may not be written (outside ``root``, through a link, or taken), or None."""
    if not target.is_absolute():
        return "not an absolute path"
    if ".." in target.parts:
        return "climbs out with .."
    real_root = root.resolve()
    try:
        relative = target.relative_to(root) if target.is_relative_to(root) else target.relative_to(real_root)
    except ValueError:
        return "outside the recordings folder"
    here = real_root
    for part in relative.parts:
        here = here / part
        if here.is_symlink():
            return "a symbolic link on the way"
    if os.path.lexists(here):
        return "another file is there"
    return None


def _restore_recordings(
    con: duckdb.DuckDBPyConnection,
    src: Path,
    manifest: BackupManifest,
    audio_root: Path | None,
    root: Path | None,
    backup_key: BackupKey | None = None,
) -> tuple[list[str], list[str], list[str]]:
    restored, present, refused = [], [], []
    if root is not None:
        private_dir(Path(root))
        root = Path(root).absolute()
    for sha, _original, name in manifest.recordings:
        # the manifest is only trusted for names that cannot leave audio/; where a recording goes
        # comes from the restored database itself, and is confined to the root
        if not re.fullmatch(r"[0-9a-f]{64}(\.[a-z0-9]{1,8})?", name) or not name.startswith(sha):
            raise BackupError(f"{src}: recording name {name!r} in the manifest is not a checksum")
        row = con.execute("SELECT path FROM audio_files WHERE sha256 = ?", [sha]).fetchone()
        if row is None:
            raise BackupError(f"{src}: recording {sha[:12]} is in the manifest but not in the database")
        if root is None:
            raise BackupError(
                f"{src}: give the recordings folder (setting retention.managed_audio_dir or --audio-root); "
                "recordings are restored only inside it"
            )
        target = root / name if audio_root else Path(row[0])
        if target.is_file() and not target.is_symlink() and file_sha256(target) == sha:
            present.append(sha)
        elif (why := _unsafe_target(target, root)) is not None:
            log.warning("restore: recording %s refused: %s", sha[:12], why)
            refused.append(sha)
            continue
        else:
            private_dir(target.parent)
            data = (src / "audio" / name).read_bytes()
            if manifest.audio_encrypted:
                try:
                    data = decrypt_file(backup_key, name, data)
                except BackupKeyError as e:
                    raise BackupError(f"{src / 'audio' / name}: {e}") from e
            _write_new(data, target)
            if file_sha256(target) != sha:
                target.unlink()
                raise BackupError(f"{src / 'audio' / name}: checksum differs; the backup is damaged")
            restored.append(sha)
        if audio_root:
            con.execute("UPDATE audio_files SET path = ? WHERE sha256 = ?", [str(target.resolve()), sha])
    return restored, present, refused


def _write_new(data: bytes, target: Path) -> None:
    """Write a new owner-only file; never follows a link or replaces a file that appeared."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
