"""Owner-only files (security round two, finding 10): the database, its write-ahead log, case
audio and restored recordings are 0600 in 0700 folders, whatever the umask of the caller."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lydlogg.db import connect
from lydlogg.fileperms import private_dir, private_file

REPO = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # what a login shell usually has: files 0644, readable by everyone
    yield
    os.umask(old)


def test_a_new_database_and_its_new_folders_are_owner_only(tmp_path, loose_umask):
    db = tmp_path / "new" / "deeper" / "lydlogg.duckdb"
    before = mode(tmp_path)
    with connect(db) as con:
        con.execute("SELECT 1").fetchone()
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700 and mode(db.parent.parent) == 0o700
    assert mode(tmp_path) == before  # a folder that was there is not ours to change


def test_an_existing_world_readable_database_is_tightened_on_open(tmp_path, loose_umask):
    db = tmp_path / "old.duckdb"
    with connect(db):
        pass
    os.chmod(db, 0o644)
    with connect(db):
        pass
    assert mode(db) == 0o600


def test_the_write_ahead_log_of_a_cli_process_is_owner_only(tmp_path):
    """A real process through the CLI's entry point, started with a loose umask."""
    db = tmp_path / "wal.duckdb"
    script = (
        "import os, sys; os.umask(0o022)\n"
        "from lydlogg.cli import main\n"
        "from lydlogg.db import connect\n"
        "try:\n    main(['settings', '--markdown'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "with connect(sys.argv[1]) as con:\n"
        "    con.execute('CREATE TABLE t (x INTEGER)'); con.execute('INSERT INTO t (x) VALUES (1)')\n"
        "    wal = sys.argv[1] + '.wal'\n"
        "    print(oct(os.stat(wal).st_mode & 0o777) if os.path.exists(wal) else 'no-wal')\n"
        "    open(os.path.join(os.path.dirname(wal), 'other'), 'w').close()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(db)], capture_output=True, text=True, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)), check=True,
    ).stdout.split()  # fmt: skip
    assert out[-1] in ("0o600", "no-wal")
    assert mode(tmp_path / "other") == 0o600  # anything else the process writes, too


def test_case_audio_is_owner_only(tmp_path, loose_umask):
    from lydlogg.auth import User
    from lydlogg.settings import CaseSettings
    from review.cases import CaseLibraryService

    leader = User("liv", "Liv", "leder")
    library = CaseLibraryService(tmp_path / "db.duckdb", leader, CaseSettings(cases_dir=tmp_path / "cases"))
    name = library.store_audio("c1", np.zeros(1600, dtype=np.float32), 16000)
    assert mode(tmp_path / "cases" / name) == 0o600 and mode(tmp_path / "cases") == 0o700


def test_private_helpers_leave_symlinks_and_existing_folders_alone(tmp_path, loose_umask):
    target = tmp_path / "elsewhere"
    target.write_text("x")
    os.chmod(target, 0o644)
    (tmp_path / "link").symlink_to(target)
    private_file(tmp_path / "link")
    assert mode(target) == 0o644
    os.chmod(tmp_path, 0o755)
    private_dir(tmp_path)
    assert mode(tmp_path) == 0o755
