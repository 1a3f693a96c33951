"""The direction of imports: the contracts in pyproject.toml hold, and importing a package stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _loaded_after(statement: str, candidates: tuple[str, ...]) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {candidates!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return done.stdout.split()


def test_reading_the_settings_loads_neither_the_app_nor_the_heavy_libraries():
    """Every command reads the settings first: that must stay cheap."""
    heavy = ("review", "rubrics", "streamlit", "pandas", "scipy", "pyarrow", "faster_whisper", "sklearn")
    assert _loaded_after("import lydlogg.settings", heavy) == []


def test_importing_review_loads_no_service_and_no_app():
    assert _loaded_after("import review", ("review.service", "review.app", "streamlit", "duckdb")) == []


def test_the_domain_packages_load_their_modules_on_first_use():
    heavy = ("transcription.asr", "transcription.audio", "anonymise.text", "scipy", "faster_whisper")
    assert _loaded_after("import transcription, anonymise", heavy) == []
    assert _loaded_after("from transcription import Word", ("transcription.types",)) == [
        "transcription.types"
    ]


def test_the_import_contracts_hold():
    """What `make lint` checks, also run with the tests: a broken layer names the offending import."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip(f"import-linter is not installed in {sys.prefix} (the dev extra installs it)")
    done = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
