"""The built wheel runs the app on its own: installed into a fresh virtual environment, away from the
source checkout, `lydlogg serve` finds the app in the package and answers Streamlit's health check.

The fresh environment gets its dependencies offline, through a ``.pth`` file naming this
environment's site-packages; the repository is never on its path (the test runs from a temporary
folder with no PYTHONPATH). Skipped only when the wheel cannot be built for want of its build
tool: no setuptools here and none to be fetched, as the skip message says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("lydlogg", "review", "transcription", "rubrics", "anonymise", "norsk")


def _source_copy(dest: Path) -> Path:
    """The project's packaged files in a folder of their own, so the build writes nothing here."""
    dest.mkdir()
    for name in PACKAGES:
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    return dest


_OFFLINE = ("No matching distribution found", "Could not find a version", "Network is unreachable",
            "Temporary failure in name resolution", "Connection refused")  # fmt: skip


def _build_wheel(src: Path, out: Path) -> Path:
    """Build with this environment's setuptools (offline); without it, pip fetches the build tools."""
    isolation = [] if find_spec("setuptools") is None else ["--no-build-isolation"]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = done.stdout + done.stderr
    if done.returncode != 0 and isolation == [] and any(s in output for s in _OFFLINE):
        pytest.skip("cannot build the wheel: setuptools is not installed here and pip could not fetch it")
    assert done.returncode == 0, output
    (wheel,) = out.glob("lydlogg-*.whl")
    return wheel


def _fresh_venv(where: Path) -> tuple[Path, dict[str, str]]:
    """A new virtual environment whose only way to the dependencies is a .pth file."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "lydlogg_test_dependencies.pth").write_text(ours + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("LYDLOGG_")}
    env["PIP_NO_INDEX"] = "1"  # nothing is fetched
    return python, env


def _health(url: str, proc: subprocess.Popen, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"lydlogg serve exited early: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_the_wheel_serves_the_app_from_a_fresh_environment(tmp_path):
    from test_browser import free_port

    wheel = _build_wheel(_source_copy(tmp_path / "src"), tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    for packaged in (
        "review/app/streamlit_app.py",
        "review/app/main.py",
        "review/views/innboks.py",
        "rubrics/lvs_operator.yaml",
        "rubrics/advice/feber_barn.yaml",
        "rubrics/reflection_questions/questions.yaml",
        "rubrics/confidence/calibration.yaml",  # the engine reads it at import
        "anonymise/data/first_names.txt",
        "lydlogg/templates/base.html",
        "norsk/numbers.py",
    ):
        assert packaged in names, f"{wheel.name} lacks {packaged}"

    python, env = _fresh_venv(tmp_path / "v")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
        check=True,
        env=env,
        timeout=300,
    )
    work = tmp_path / "work"  # no lydlogg.toml, no repository: a fresh database and default settings
    work.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import lydlogg, lydlogg.cli.operations as ops; print(lydlogg.__file__); print(ops.app_file())"],
        cwd=work, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    installed = (tmp_path / "v").resolve()
    assert all(Path(p).resolve().is_relative_to(installed) for p in where), where

    # The installed app itself runs (headless): with no database yet it shows the log-in form.
    script = where[1]
    ran = subprocess.run(
        [str(python), "-c", "import sys; from streamlit.testing.v1 import AppTest; at = AppTest.from_file("
         "sys.argv[1], default_timeout=60).run(); assert not at.exception, at.exception; "
         "print([b.label for b in at.button] + [t.value for t in at.title])", script],
        cwd=work, env=dict(env, LYDLOGG_DB_PATH=str(work / "lydlogg.duckdb")),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0 and "Lydlogg" in ran.stdout, ran.stdout + ran.stderr

    port = free_port()
    proc = subprocess.Popen(
        [str(tmp_path / "v" / "bin" / "lydlogg"), "serve", "--db", str(work / "lydlogg.duckdb"),
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert _health(f"http://127.0.0.1:{port}/_stcore/health", proc).strip() == "ok"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
