"""`lydlogg transcribe FILE...`: the real model on real speech, no database anywhere."""

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy.signal import resample_poly

from lydlogg.cli import main
from transcription import decode_audio

pytestmark = pytest.mark.model


def test_transcribe_a_gsm_telephone_clip_into_every_format_without_a_database(
    testdata, bundled_model, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a database would appear as data/lydlogg.duckdb here
    clip = decode_audio(testdata / "norwegian_npsc" / "norwegian-short-3s.mp3").samples[0]
    gsm = tmp_path / "opptak.wav"
    sf.write(str(gsm), resample_poly(clip, 1, 2).astype(np.float32), 8_000, subtype="GSM610")
    broken = tmp_path / "tom.m4a"
    broken.write_bytes(b"")
    out = tmp_path / "ut"
    result = CliRunner().invoke(
        main,
        ["transcribe", str(gsm), str(broken), "-o", str(out), "-f", "all",
         "--model", "bundled-base", "--language", "no"],
        catch_exceptions=False,
        env={"LYDLOGG_ASR__MODELS_DIR": str(bundled_model.parent)},
    )  # fmt: skip
    assert result.exit_code == 1  # the empty file failed, the clip did not
    assert "tom.m4a" in result.output and "wrote 5 files" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        f"opptak.{x}" for x in ("json", "rttm", "srt", "txt", "vtt")
    ]
    doc = json.loads((out / "opptak.json").read_text())
    text = " ".join(s["text"] for s in doc["segments"]).lower()
    assert "lovlig" in text, text
    assert (out / "opptak.vtt").read_text().startswith("WEBVTT")
    assert not (tmp_path / "data").exists()
