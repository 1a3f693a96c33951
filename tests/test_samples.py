"""The committed sample calls: complete, consistent, and reproducible from their dialogues."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from datetime import datetime

import pytest
import soundfile as sf
from conftest import REPO, SAMPLES

ROWS = list(csv.DictReader((SAMPLES / "metadata.csv").read_text(encoding="utf-8").splitlines()))


def test_there_are_at_least_ten_calls_of_every_kind_with_reference_and_dialogue():
    assert len(ROWS) >= 10
    assert {"lvs", "legevaktlege", "amk"} <= {r["service"] for r in ROWS}
    stereo = 0
    for row in ROWS:
        audio = SAMPLES / row["audio_file"]
        reference = json.loads((SAMPLES / "reference" / f"{row['call_id']}.json").read_text(encoding="utf-8"))
        assert (SAMPLES / "dialogues" / f"{row['call_id']}.yaml").is_file()
        info = sf.info(str(audio))
        assert info.samplerate >= 16_000 and info.channels == reference["channels"]
        assert reference["segments"] and reference["segments"][-1]["end"] <= info.duration + 0.01
        stereo += info.channels == 2
    assert stereo > len(ROWS) / 2
    assert {r["audio_file"].rsplit(".", 1)[1] for r in ROWS} >= {"flac", "ogg", "mp3", "wav"}


def test_the_repeat_contact_episode_is_one_caller_calling_often_within_three_days():
    by_caller: dict[str, list[datetime]] = {}
    for row in ROWS:
        by_caller.setdefault(row["caller_number"], []).append(datetime.fromisoformat(row["started_at"]))
    times = max(by_caller.values(), key=len)
    assert 5 <= len(times) <= 6
    assert (max(times) - min(times)).total_seconds() <= 72 * 3600


def test_sample_metadata_ingests_cleanly(tmp_path):
    from conftest import make_settings

    from lydlogg.ingest import ingest

    report = ingest(make_settings(tmp_path), [], metadata=SAMPLES / "metadata.csv")
    assert len(report.added) == len(ROWS) and not report.failures


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)"
)
def test_the_script_rebuilds_a_call_byte_for_byte(tmp_path):
    shutil.copytree(SAMPLES / "dialogues", tmp_path / "dialogues")
    call = "ep1-c4-amk"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_sample_calls.py"), "--out", str(tmp_path),
                    "--only", call], check=True, capture_output=True)  # fmt: skip
    assert (tmp_path / "audio" / f"{call}.flac").read_bytes() == (
        SAMPLES / "audio" / f"{call}.flac"
    ).read_bytes()
    assert (tmp_path / "reference" / f"{call}.json").read_text() == (
        SAMPLES / "reference" / f"{call}.json"
    ).read_text()
