"""The application context: what one server process shares, built once and passed down.

The app builds it at start (``st.cache_resource``) and hands its settings to every service it
creates; pages read them from their service. Nothing below the app or the CLI reads settings
itself: a service built without them (a test, a script) gets :func:`~lydlogg.settings.default_settings`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lydlogg.settings import DEFAULT_CONFIG_FILE, Settings, load_settings

__all__ = ["AppContext", "config_fingerprint", "load_context"]


@dataclass(frozen=True)
class AppContext:
    """The installation's settings and the database they name."""

    settings: Settings

    @property
    def db_path(self) -> Path:
        return Path(self.settings.db_path)

    @property
    def production(self) -> bool:
        return self.settings.env == "production"


def load_context(config: Path | None = None) -> AppContext:
    """Read the settings (file and ``LYDLOGG_*`` environment, see :func:`load_settings`) once."""
    return AppContext(load_settings(config))


def config_fingerprint(environ: Mapping[str, str] | None = None) -> str:
    """A digest of everything :func:`load_context` reads: the ``LYDLOGG_*`` variables and the
    configuration file's name, size and modification time.

    The app caches its context under this key, so a server process builds it once, while a test
    that changes the environment between two app runs in one process gets a fresh one.
    """
    env = os.environ if environ is None else environ
    parts = sorted(f"{k}={v}" for k, v in env.items() if k.startswith("LYDLOGG_"))
    path = Path(env.get("LYDLOGG_CONFIG", DEFAULT_CONFIG_FILE))
    try:
        stat = path.stat()
        parts.append(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    except OSError:
        parts.append(f"{path}: absent")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
