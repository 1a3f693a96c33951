"""Fast CLI behaviour (no transcription): usage, errors and listings."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import lydlogg.cli
from lydlogg.cli import main
from lydlogg.db import connect
from lydlogg.db.migrations import LATEST_VERSION


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every runnable command path of the CLI, subcommands of groups included."""
    paths = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths.extend(_leaf_commands(command, (*prefix, name)))
        else:
            paths.append((*prefix, name))
    return paths


def _reachable(group: click.Group) -> list[click.Command]:
    """The group and every command and group under it."""
    found: list[click.Command] = [group]
    for command in group.commands.values():
        found.extend(_reachable(command) if isinstance(command, click.Group) else [command])
    return found


@pytest.mark.pure
def test_the_command_walk_finds_every_command():
    paths = _leaf_commands(main)
    assert len(paths) >= 42 and ("ingest",) in paths and ("users", "add") in paths
    assert ("db", "keygen") in paths and ("backup-keygen",) in paths and ("export", "asr-dataset") in paths


@pytest.mark.pure
def test_every_command_a_topic_module_defines_is_wired_into_main():
    """A command written in a topic module but left out of ``COMMANDS`` would silently not exist."""
    import importlib

    reachable = {id(c) for c in _reachable(main)}
    for topic in lydlogg.cli.COMMANDS:
        module = importlib.import_module(f"lydlogg.cli.{topic}")
        defined = [v for v in vars(module).values() if isinstance(v, click.Command)]
        assert defined, topic
        missing = [c.name for c in defined if id(c) not in reachable]
        assert not missing, f"lydlogg/cli/{topic}.py defines {missing} but main does not reach them"


# Building the parser and printing any command's help must not load these: they cost seconds.
HEAVY = ("duckdb", "pandas", "scipy", "pyarrow", "streamlit", "faster_whisper", "torch", "lydlogg.settings")


def test_help_of_every_command_imports_nothing_heavy():
    """``lydlogg --help`` and every ``lydlogg <command> --help``, in a fresh interpreter."""
    probe = textwrap.dedent(
        f"""
        import sys
        from lydlogg.cli import main
        paths = {[[], *[list(p) for p in _leaf_commands(main)]]!r}
        for path in paths:
            try:
                main([*path, "--help"], prog_name="lydlogg", standalone_mode=False)
            except SystemExit:
                pass
        print("LOADED", [m for m in {HEAVY!r} if m in sys.modules])
        """
    )
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=repo,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Usage: lydlogg users add" in out.stdout  # the probe really printed the commands' help
    assert out.stdout.rsplit("LOADED", 1)[1].strip() == "[]", out.stdout.rsplit("LOADED", 1)[1]


# Commands that read neither settings nor a database: a text filter on standard input.
STANDALONE = {("anonymise-text",)}


@pytest.mark.pure
@pytest.mark.parametrize("path", _leaf_commands(main), ids=" ".join)
def test_every_command_takes_db_and_config(path):
    out = invoke(*path, "--help")
    assert out.exit_code == 0, out.output
    takes = "--db" in out.output and "--config" in out.output
    assert takes != (path in STANDALONE), path


def test_python_dash_m_runs_the_same_command_line():
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-m", "lydlogg.cli", "--help"], capture_output=True, text=True,
                         env=env, cwd=repo, timeout=60)  # fmt: skip
    assert out.returncode == 0 and "Usage: python -m lydlogg.cli" in out.stdout, out.stderr
    assert "export-transcript" in out.stdout and "users" in out.stdout


@pytest.mark.pure
def test_serve_finds_the_app_file_in_the_review_package():
    """Through the package, so an installed wheel serves too (tests/test_wheel.py runs that)."""
    import review.app
    from lydlogg.cli.operations import app_file

    assert (
        app_file() == Path(review.app.__file__).resolve().parent / "streamlit_app.py" and app_file().is_file()
    )


def test_ingest_without_anything_is_a_usage_error(tmp_path):
    out = invoke("ingest", "--db", str(tmp_path / "x.duckdb"))
    assert out.exit_code == 2 and "give recordings" in out.output


def test_a_folder_ingest_names_each_skipped_file_and_why(tmp_path):
    from conftest import write_tone

    folder = tmp_path / "eksport"
    folder.mkdir()
    write_tone(folder / "a.wav", rate=8_000, subtype="GSM610")
    (folder / "notater.txt").write_text("hei")
    out = CliRunner().invoke(
        main, ["ingest", str(folder), "--db", str(tmp_path / "x.duckdb")],
        env={"LYDLOGG_KEY_FILE": str(tmp_path / "key")}, catch_exceptions=False,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "added 1," in out.output and "skipped 1" in out.output
    assert (
        f"  skipped: {folder / 'notater.txt'}: " in out.output and "extension .txt not accepted" in out.output
    )


def test_bad_config_exits_2_naming_the_file(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[asr]\nbeam_size = 'wide'\n")
    out = invoke("status", "--config", str(cfg), "--db", str(tmp_path / "x.duckdb"))
    assert out.exit_code == 2 and str(cfg) in out.output and "asr.beam_size" in out.output


def test_empty_database_listings(tmp_path):
    db = str(tmp_path / "x.duckdb")
    assert "no calls yet" in invoke("calls", "--db", db).output
    assert json.loads(invoke("calls", "--db", db, "--format", "json").output) == []
    status = invoke("status", "--db", db).output
    assert "calls        0" in status and f"schema v{LATEST_VERSION}" in status


def test_calls_lists_a_call_without_audio(tmp_path):
    db = tmp_path / "a.duckdb"
    with connect(db) as con:  # an imported written transcript's call: no audio file, no channels
        con.execute("INSERT INTO calls (call_id, service, operator_id) VALUES ('c-1', 'lvs', 'op-anne')")
    out = CliRunner().invoke(main, ["calls", "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "c-1" in out.output and "no_audio" in out.output and "<NA>" not in out.output


def test_export_of_an_unknown_call(tmp_path):
    out = invoke("export-transcript", "nope", "--db", str(tmp_path / "x.duckdb"))
    assert out.exit_code == 2 and "no call 'nope'" in out.output


def test_ingest_failures_exit_1_and_metadata_file_errors_exit_2(tmp_path):
    db = str(tmp_path / "x.duckdb")
    out = invoke("ingest", str(tmp_path / "missing.wav"), "--db", db)
    assert out.exit_code == 1 and "no such file" in out.output
    bad = tmp_path / "meta.csv"
    bad.write_text("id,when\n1,2\n")
    out = invoke("ingest", "--metadata", str(bad), "--db", db)
    assert out.exit_code == 2 and "call_id required" in out.output


def test_models_lists_the_active_model(tmp_path, bundled_model):
    out = invoke("models", "--db", str(tmp_path / "x.duckdb"))
    assert out.exit_code == 0 and ("device: cpu" in out.output or "device: cuda" in out.output)
    active = [line for line in out.output.splitlines() if line.startswith("*")]
    assert len(active) == 1 and "bundled-base" in active[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jeg heter Kari Nordmann.\n", "Jeg heter [NAVN].\n"),
        ("Nummeret er førti en tjuetre førtifem sekstisju.", "Nummeret er [TELEFON]."),
        ("Ta to tabletter per dag og ring 113 hvis det blir verre.", "Ta to tabletter per dag og ring 113 hvis det blir verre."),
    ],
)  # fmt: skip
def test_anonymise_text_reads_stdin_and_prints_placeholders(text, expected):
    result = CliRunner().invoke(main, ["anonymise-text"], input=text)
    assert result.exit_code == 0, result.output
    assert result.output == expected


def test_monthly_report_writes_html_with_the_months_figures(reference_db, tmp_path):
    with connect(reference_db) as con:
        month = con.execute("SELECT strftime(min(started_at), '%Y-%m') FROM calls").fetchone()[0]
    out = tmp_path / "rapport.html"
    result = CliRunner().invoke(main, ["monthly-report", month, "-o", str(out), "--db", str(reference_db)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    from review.monthly_report import month_label

    assert "<html" in page.lower() and month_label(month) in page and "forverring" in page.lower()
    bad = CliRunner().invoke(main, ["monthly-report", "2026-13", "-o", str(out), "--db", str(reference_db)])
    assert bad.exit_code != 0


def test_serve_listens_on_the_host_given_over_the_setting(tmp_path):
    """`serve --host` wins over server.address: the app answers there and nowhere else."""
    import socket
    import time
    import urllib.error
    import urllib.request

    from test_browser import free_port

    port = free_port()
    env = dict(os.environ, LYDLOGG_SERVER__ADDRESS="127.0.0.3")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lydlogg.cli", "serve", "--db", str(tmp_path / "db.duckdb"),
         "--host", "127.0.0.2", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline, health = time.monotonic() + 90, None
        while health is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.2:{port}/_stcore/health", timeout=5) as r:
                    health = r.read().decode()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert health == "ok"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.3", port)) != 0  # the setting's address is not served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
