"""What every command shares: the exit-status-2 error, ``--db``/``--config``, logging, the actor.

This module imports click and the standard library only; the settings and everything below them
load when a command runs, so that building the parser (``lydlogg --help``) stays fast.
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from lydlogg.settings import Settings


class Failure(click.ClickException):
    """An error that stops the command, with exit status 2."""

    exit_code = 2


def setup_logging(level: str) -> None:
    """Log to standard error at ``level``; the chatty libraries only from WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("faster_whisper", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def location_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--db`` and ``--config`` (the options every command but a pure text filter takes)."""
    func = click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Settings file (TOML). Default: ./lydlogg.toml when present.",
    )(func)
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="DuckDB database file. Default: data/lydlogg.duckdb (setting db_path).",
    )(func)


def load_cli_settings(config: Path | None, db: Path | None) -> Settings:
    """The settings from ``--config`` (or ./lydlogg.toml and the environment), ``--db`` winning."""
    from lydlogg.settings import ConfigError, load_settings

    try:
        return load_settings(config, **({"db_path": db} if db else {}))
    except ConfigError as e:
        raise Failure(str(e)) from e


def leader_as(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--as USER`` option of the commands only a leder or veileder may run (exports and case
    imports): the user's password is asked, and ``action`` is audited in their name."""
    return click.option(
        "--as",
        "username",
        required=True,
        help=f"A leder or veileder; asks for their password; the {action} is audited in their name.",
    )


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--db`` and ``--config`` to a command and hand it a ``Settings`` object."""

    @location_options
    @functools.wraps(func)
    def wrapper(*args: Any, config: Path | None, db: Path | None, **kwargs: Any) -> Any:
        settings = load_cli_settings(config, db)
        setup_logging(settings.log_level)
        if settings.asr.offline:
            os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub
        from lydlogg.db import DatabaseError, register_wait
        from transcription import ModelNotAvailableError

        try:
            from lydlogg.audit import configure_forwarding
            from lydlogg.crypto import use_encryption

            use_encryption(settings.db_path, settings.encryption)
            register_wait(settings.db_path, settings.db_wait_seconds)
            configure_forwarding(settings.audit)
            return func(*args, settings=settings, **kwargs)
        except (DatabaseError, ModelNotAvailableError) as e:
            raise Failure(str(e)) from e

    return wrapper


def plain(value: Any) -> Any:
    """A JSON-ready value: timestamps as ISO-8601, missing values as null, numpy scalars unwrapped."""
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def read_json(path: Path) -> Any:
    """The JSON document in ``path`` (``-``: standard input); an unreadable one stops the command."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as e:
        raise Failure(f"{path}: not a readable JSON file ({e})") from e


def cli_actor() -> str:
    """Who the audit trail names for a command run from the shell: the OS account."""
    return f"cli:{getpass.getuser()}"


def cli_admin() -> Any:
    """The actor for admin commands run from the shell (the audit trail names the OS user)."""
    from lydlogg.auth import User

    return User(cli_actor(), "CLI", "admin")


def acting_user(settings: Settings, username: str) -> Any:
    """The user a command acts as (``--as``), who proves it with their password (read from the
    terminal, or the first line of standard input); the check is a log-in, audited and throttled."""
    from lydlogg.auth import AuthError, authenticate
    from lydlogg.db import connect

    password = click.prompt(f"password of {username}", hide_input=True, err=True, default="",
                            show_default=False)  # fmt: skip
    with connect(settings.db_path) as con:
        try:
            return authenticate(con, username, password, production=settings.env == "production",
                                settings=settings.login, source=cli_actor())  # fmt: skip
        except AuthError as e:
            raise Failure(f"--as {username}: {e}") from e
