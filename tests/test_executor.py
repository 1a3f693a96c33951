"""The executor setting and the parts of the heavy stage that need neither Ray nor the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings

from lydlogg.batch import CallWorker, PendingCall
from lydlogg.distributed import _scratch_dir
from lydlogg.settings import ConfigError, ExecutorSettings, load_settings


def test_the_local_executor_is_the_default_and_ray_is_configured_by_section(monkeypatch):
    assert load_settings(None).executor == ExecutorSettings()
    assert ExecutorSettings().kind == "local" and ExecutorSettings().ship == "bytes"
    monkeypatch.setenv("LYDLOGG_EXECUTOR__KIND", "ray")
    monkeypatch.setenv("LYDLOGG_EXECUTOR__ADDRESS", "head:6379")
    monkeypatch.setenv("LYDLOGG_EXECUTOR__GPUS_PER_WORKER", "0.5")
    executor = load_settings(None).executor
    assert (executor.kind, executor.address, executor.gpus_per_worker) == ("ray", "head:6379", 0.5)


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("KIND", "dask", "'local' or 'ray'"),
        ("SHIP", "nfs", "'bytes' or 'path'"),
        ("WORKERS", "0", "greater than or equal to 1"),
        ("MAX_RETRIES", "11", "less than or equal to 10"),
    ],
)
def test_a_bad_executor_setting_says_what_is_accepted(monkeypatch, name, value, accepted):
    monkeypatch.setenv(f"LYDLOGG_EXECUTOR__{name}", value)
    with pytest.raises(ConfigError, match=f"executor.{name.lower()}") as caught:
        load_settings(None)
    assert accepted in str(caught.value)


def test_a_failed_decode_names_the_registered_file_not_the_workers_copy(tmp_path):
    copy = tmp_path / "scratch" / "lvs-001.wav"
    copy.parent.mkdir()
    copy.write_bytes(b"not audio at all")
    call = PendingCall("lvs-001", "ab" * 32, "/srv/lydlogg/audio/lvs-001.wav", 60.0, "lvs")
    worker = CallWorker(transcriber=None, settings=make_settings(tmp_path))  # decode fails before ASR
    result = worker.run(call, copy)
    assert not result.ok and result.failed_stage == "decode" and result.asr is None
    assert "/srv/lydlogg/audio/lvs-001.wav" in result.reason and str(copy) not in result.reason


def test_a_dead_workers_scratch_folder_is_removed_and_a_live_ones_kept():
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    mine = _scratch_dir()
    dead = mine.parent / f"lydlogg-worker-{ended.pid}"
    dead.mkdir()
    (dead / "call.ogg").write_bytes(b"health data")
    try:
        assert _scratch_dir() == mine and mine.is_dir()  # this process is alive: kept
        assert not dead.exists()
        assert oct(mine.stat().st_mode & 0o777) == oct(0o700)
        assert mine.name == f"lydlogg-worker-{os.getpid()}" and isinstance(mine, Path)
    finally:
        mine.rmdir()


def test_the_progress_bar_counts_audio_minutes_and_shows_the_workers(capsys):
    from lydlogg.cli.pipeline import _TqdmHook

    hook = _TqdmHook()
    hook("transcribe", completed=90.0, total=360.0, files_done=1, files_total=4, workers=3)
    hook.bar.refresh()
    line = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    hook.close()
    assert "1.5/6.0 audio min" in line and "files 1/4, 3 workers" in line
    one = _TqdmHook()
    one("transcribe", completed=0.0, total=60.0, files_done=0, files_total=1)
    assert "workers" not in one.bar.postfix  # the local executor: no count
    one.close()
