"""Commands for running an installation: the app server, settings, backups, keys, retention, audit."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lydlogg.cli.common import (
    Failure,
    cli_actor,
    cli_admin,
    load_cli_settings,
    location_options,
    with_settings,
)

if TYPE_CHECKING:
    from lydlogg.settings import Settings


@click.command("settings")
@click.option(
    "--markdown", is_flag=True, help="Print the reference table of every setting (docs/configuration.md)."
)
@with_settings
def settings_cmd(markdown: bool, settings: Settings) -> None:
    """Show every setting with its current value, or the documentation table."""
    from lydlogg.settings import env_name, iter_settings, settings_markdown

    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    current = settings.model_dump()
    for name, _default, _help in iter_settings():
        value: Any = current
        for part in name.split("."):
            value = value[part]
        click.echo(f"{name:<28} {env_name(name):<34} {value}")


@click.command()
@click.option("--port", type=int, default=None, help="Port (default: setting server.port, 8501).")
@click.option(
    "--host", default=None, help="Address to listen on (default: setting server.address, localhost)."
)
@location_options
def serve(port: int | None, host: str | None, config: Path | None, db: Path | None) -> None:
    """Start the review app (Streamlit)."""
    settings = load_cli_settings(config, db)
    from lydlogg.settings import production_problems

    if problems := production_problems(settings):
        raise Failure("env = production refuses to start: " + "; ".join(problems))
    if settings.env == "production" and settings.db_path.exists():
        from lydlogg.auth import demo_accounts
        from lydlogg.crypto import use_encryption
        from lydlogg.db import DatabaseError, connect

        try:
            use_encryption(settings.db_path, settings.encryption)
            with connect(settings.db_path, read_only=True) as con:
                demo = demo_accounts(con)
        except DatabaseError as e:
            raise Failure(str(e)) from e
        if demo:
            raise Failure(
                f"env = production but the demo accounts {', '.join(demo)} still have their demo passwords; "
                "deactivate them or set new passwords (the Brukere page, or `lydlogg users`)"
            )
    app = app_file()
    env = dict(os.environ, LYDLOGG_DB_PATH=str(settings.db_path.resolve()))
    if config:
        env["LYDLOGG_CONFIG"] = str(config.resolve())
    port = port or settings.server.port
    host = host or settings.server.address
    click.echo(f"Lydlogg is at http://{host}:{port}")
    cmd = streamlit_command(settings, app, port, host)
    if settings.sso.enabled:
        from lydlogg.sso import SsoConfigError, write_streamlit_secrets

        try:
            cmd += ["--secrets.files", str(write_streamlit_secrets(settings).resolve())]
        except SsoConfigError as e:
            raise Failure(str(e)) from e
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)  # Streamlit takes over this process, signals included


def app_file() -> Path:
    """The review app's Streamlit script, found through the installed package (not the source
    checkout): ``review/app/streamlit_app.py``."""
    spec = importlib.util.find_spec("review.app")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    script = Path(folders[0]) / "streamlit_app.py" if folders else None
    if script is None or not script.is_file():
        raise Failure(
            "the review app (review/app/streamlit_app.py) is not installed with lydlogg; reinstall it"
        )
    return script


def streamlit_command(settings: Settings, app: Path, port: int, host: str | None = None) -> list[str]:
    """The command line that starts the review app (pure); ``host`` defaults to server.address."""
    host = host or settings.server.address
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",  # no developer menu or "Deploy" button for users
        "viewer",
        "--server.maxUploadSize",  # the case-package import is the only upload
        str(int(settings.cases.max_package_mb)),
        "--client.showErrorDetails",  # users never see a traceback; the server log has it
        "none",
        # A served app never reloads its source. Watching it would put inotify watches on every
        # folder under the working directory (a virtual environment with Ray brings thousands),
        # which overflowed and stalled the server.
        "--server.fileWatcherType",
        "none",
    ]


@click.group()
def retention() -> None:
    """Retention rules: delete old recordings and unreviewed transcripts."""


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@with_settings
def retention_apply(dry_run: bool, settings: Settings) -> None:
    """Apply the retention settings now; counts and ids only, never content."""
    from datetime import UTC, datetime

    from lydlogg.retention import apply_retention

    plan = apply_retention(settings.db_path, settings.retention, user=cli_admin(), now=datetime.now(UTC),
                           dry_run=dry_run, playback_dir=settings.audio.playback_dir,
                           cases_dir=settings.cases.cases_dir)  # fmt: skip
    click.echo(("would delete: " if dry_run else "deleted: ") + plan.summary())
    for call_id in plan.audio_calls:
        click.echo(f"  recording  {call_id}")
    for call_id in plan.transcript_calls:
        click.echo(f"  transcript {call_id}")
    for case_id in plan.cases:
        click.echo(f"  case       {case_id}")
    if plan.files_failed:
        click.echo(f"{len(plan.files_failed)} recordings could not be deleted from disk:", err=True)
        for path in plan.files_failed:
            click.echo(f"  {path}", err=True)
        sys.exit(1)


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-audio", is_flag=True, help="Leave the recordings out.")
@with_settings
def backup_cmd(dest: Path, no_audio: bool, settings: Settings) -> None:
    """Write a consistent backup of the database (and recordings) into the new folder DEST."""
    from lydlogg.backup import BackupError, backup
    from lydlogg.backup_crypto import BackupKeyError, backup_key
    from lydlogg.settings import production_problems

    if problems := production_problems(settings):
        raise Failure("env = production refuses to back up: " + "; ".join(problems))
    try:
        key = backup_key(settings.backup)
        if key is None and not no_audio:
            click.echo("no backup key: recordings are copied unencrypted (`lydlogg backup-keygen`)", err=True)
        manifest = backup(
            settings.db_path, dest, include_audio=not no_audio, user=cli_admin(), backup_key=key
        )
    except (BackupError, BackupKeyError) as e:
        raise Failure(str(e)) from e
    click.echo(f"{dest}: {manifest.counts['calls']} calls, {len(manifest.recordings)} recordings")
    if manifest.missing_recordings:
        click.echo(f"{len(manifest.missing_recordings)} recordings were not found on disk", err=True)
        sys.exit(1)


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--audio-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Put the recordings here instead of their original paths.")  # fmt: skip
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing database (stop the app and batch first)."
)
@with_settings
def restore_cmd(src: Path, audio_root: Path | None, overwrite: bool, settings: Settings) -> None:
    """Restore the backup in SRC as the database given by --db (or db_path)."""
    from lydlogg.backup import BackupError, restore
    from lydlogg.backup_crypto import BackupKeyError, backup_key

    try:
        report = restore(src, settings.db_path, audio_root=audio_root, overwrite=overwrite,
                         recordings_root=settings.retention.managed_audio_dir, user=cli_admin(),
                         backup_key=backup_key(settings.backup))  # fmt: skip
    except (BackupError, BackupKeyError) as e:
        raise Failure(str(e)) from e
    click.echo(f"{settings.db_path}: {report.manifest.counts['calls']} calls restored, "
               f"{len(report.recordings_restored)} recordings copied back, "
               f"{report.audit_rows_kept} audit rows since the backup kept")  # fmt: skip
    if report.recordings_refused:
        click.echo(f"{len(report.recordings_refused)} recordings refused: their target lies outside "
                   f"{settings.retention.managed_audio_dir}, goes through a link, or is taken", err=True)  # fmt: skip
        sys.exit(1)


@click.command("backup-keygen")
@with_settings
def backup_keygen(settings: Settings) -> None:
    """Write a new random backup key to backup.key_file (refuses to replace one)."""
    from lydlogg.crypto import create_key_file

    try:
        path = create_key_file(settings.backup.key_file)
    except FileExistsError as e:
        raise Failure(f"{settings.backup.key_file}: exists already; keep it, backups need it") from e
    click.echo(f"{path}: new backup key; keep a copy apart from the backups")


@click.group("db")
def db_group() -> None:
    """Database schema and encryption."""


@db_group.command("migrate")
@click.option("--backup-to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="New folder for the backup taken first. Default: backups/ beside the database.")  # fmt: skip
@with_settings
def db_migrate(backup_to: Path | None, settings: Settings) -> None:
    """Back the database up, then bring it to this Lydlogg's schema (the only command that does)."""
    from lydlogg.backup import BackupError
    from lydlogg.backup_crypto import BackupKeyError, backup_key
    from lydlogg.db_upgrade import upgrade_database

    try:
        report = upgrade_database(settings.db_path, backup_to=backup_to, backup_key=backup_key(settings.backup),
                                  actor=cli_actor())  # fmt: skip
    except (BackupError, BackupKeyError) as e:
        raise Failure(str(e)) from e
    click.echo(report.summary())
    if report.applied:  # a table a migration added starts empty: link the stored calls into episodes now
        from lydlogg.db import connect
        from lydlogg.episodes import update_episodes

        with connect(settings.db_path) as con:
            linked = update_episodes(con, settings.episodes.window_hours)
        if linked.relinked:
            click.echo(f"episodes: {linked.relinked} contacts linked, {linked.contacts} stored")


@db_group.command("keygen")
@with_settings
def db_keygen(settings: Settings) -> None:
    """Write a new random database key to encryption.key_file (refuses to replace one)."""
    from lydlogg.crypto import create_key_file

    try:
        path = create_key_file(settings.encryption.key_file)
    except FileExistsError as e:
        raise Failure(f"{settings.encryption.key_file}: a key exists already; keep it") from e
    click.echo(f"{path}: new key written (mode 0600); copy it to the secret store")


@db_group.command("encrypt")
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="New file for the encrypted copy.")  # fmt: skip
@with_settings
def db_encrypt(target: Path, settings: Settings) -> None:
    """Copy the plain database into a new encrypted file; then point db_path at it."""
    from lydlogg.crypto import database_key, encrypt_database

    key = database_key(settings.encryption.model_copy(update={"enabled": True}))
    encrypt_database(settings.db_path, target, key)
    click.echo(f"{target}: encrypted copy written; set db_path to it and enable encryption")


@click.group("audit")
def audit_group() -> None:
    """The audit trail: check that no row was changed or removed."""


@audit_group.command("verify")
@with_settings
def audit_verify(settings: Settings) -> None:
    """Walk the hash chain of the audit trail; exit 1 and name the first broken link if any."""
    from lydlogg.audit import record, verify_chain
    from lydlogg.db import connect

    with connect(settings.db_path) as con:
        report = verify_chain(con)
        if report.ok:
            record(con, cli_actor(), "audit_verify", "audit", None, f"{report.rows} rows, chain intact")
    covered = report.rows - report.legacy_rows
    if not report.ok:
        raise Failure(f"audit trail broken at row {report.broken_at}: {report.reason}")
    click.echo(f"audit trail intact: {covered} chained rows" +
               (f", {report.legacy_rows} older rows written before the chain" if report.legacy_rows else ""))  # fmt: skip
