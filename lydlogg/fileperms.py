"""Owner-only files: what Lydlogg writes (database, its write-ahead log, case audio, restored
recordings, backups) is readable only by the service account.

The entry points (the CLI and the app) set the process umask to 077 with :func:`private_umask`,
so every file the process creates, DuckDB's write-ahead log included, starts as 0600 and every
folder as 0700. The writers also set the mode themselves (:func:`private_file`,
:func:`private_dir`), so that a library caller with a looser umask gets the same.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "PRIVATE_UMASK", "private_dir", "private_file", "private_umask"]

PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_umask() -> int:
    """Make every file this process creates from now on owner-only; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700 folders; an existing folder is left as it is.

    Folders that exist already (the working directory, /tmp, a share) are not ours to change.
    """
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for folder in missing:
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """Set ``path`` to 0600 when it exists (a file of ours)."""
    path = Path(path)
    if path.exists() and not path.is_symlink():
        os.chmod(path, PRIVATE_FILE)
    return path
