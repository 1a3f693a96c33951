"""One Silero pass per channel shared by the recogniser and the diarization
(``transcription.speech_probs``): the real detector, the real model, real sample calls. Whatever
is shared, the transcript and the speaker turns are the ones each stage finds on its own."""

from __future__ import annotations

import logging

import ctranslate2
import numpy as np
import pytest
from conftest import SAMPLES

from lydlogg.batch import CallWorker, PendingCall
from lydlogg.settings import load_settings
from transcription import AsrOptions, Transcriber, decode_audio, load_model, resolve_model
from transcription.diarization import DiarizationSettings, diarize
from transcription.diarization.vad import speech_regions
from transcription.speech_probs import shared_speech_probabilities

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def whisper(bundled_model):
    spec = resolve_model("bundled-base", models_dir=bundled_model.parent, offline=True)
    return load_model(spec, device="cpu", compute_type="int8")


def _regions(samples: np.ndarray) -> list[tuple[float, float]]:
    return speech_regions(samples, "silero")


def test_the_detector_runs_once_for_the_same_samples_and_again_for_others():
    audio = decode_audio(SAMPLES / "audio" / "lvs-004-kuttskade.wav")
    alone = _regions(audio.samples[0])
    with shared_speech_probabilities() as scope:
        first = _regions(audio.samples[0])
        again = _regions(audio.samples[0].copy())  # another array, the same samples
        assert (scope.computed, scope.reused) == (1, 1)
        changed = audio.samples[0].copy()
        changed[: len(changed) // 2] = 0.0  # the first half silenced: other probabilities
        silenced = _regions(changed)
        assert (scope.computed, scope.reused) == (2, 1)
    assert first == again == alone
    assert silenced != alone and all(a > len(changed) / 2 / 16_000 - 1 for a, _b in silenced)
    outside = _regions(audio.samples[0])  # no scope: the detector runs as before
    assert outside == alone


@pytest.mark.parametrize("batch_size", [8, 1], ids=["batched", "sequential"])
def test_a_mono_call_runs_the_detector_once_with_the_same_transcript_and_turns(whisper, batch_size):
    audio = decode_audio(SAMPLES / "audio" / "lvs-004-kuttskade.wav")
    transcriber = Transcriber(whisper, AsrOptions(language="no", batch_size=batch_size))
    settings = DiarizationSettings(strategy="builtin")  # Silero regions, no optional extra needed
    ctranslate2.set_random_seed(7)  # any retry that samples samples the same way both times
    alone_asr, alone_turns = transcriber.transcribe(audio), diarize(audio, settings)
    with shared_speech_probabilities() as scope:
        ctranslate2.set_random_seed(7)
        asr, turns = transcriber.transcribe(audio), diarize(audio, settings)
    assert (scope.computed, scope.reused) == (1, 1)
    assert asr.segments == alone_asr.segments and asr.speech_s == alone_asr.speech_s
    assert turns == alone_turns and len(turns.turns) >= 4


def test_a_stereo_call_shares_nothing_and_keeps_its_regions():
    """The recogniser reads a stereo call's channels end to end, the diarization each on its own:
    no array in common, so each channel's regions are found as before."""
    audio = decode_audio(SAMPLES / "audio" / "lvs-003-brystsmerter.flac")
    assert audio.layout == "stereo"
    settings = DiarizationSettings()
    alone = diarize(audio, settings)
    with shared_speech_probabilities() as scope:
        shared = diarize(audio, settings)
    assert (scope.computed, scope.reused) == (2, 0)
    assert shared == alone


def test_the_batch_worker_shares_the_detector_between_its_stages(tmp_path, bundled_model, caplog):
    """``CallWorker.run`` (one Silero pass, one BLAS thread) gives the transcript and speaker turns
    that the recogniser and the diarization give on their own, outside any scope."""
    settings = load_settings(
        None,
        db_path=tmp_path / "lydlogg.duckdb",
        asr={"models_dir": bundled_model.parent},
        diarization={"strategy": "builtin"},
    )
    spec = resolve_model("bundled-base", models_dir=bundled_model.parent, offline=True)
    worker = CallWorker.load(settings, spec, AsrOptions(language="no"))
    path = SAMPLES / "audio" / "lvs-004-kuttskade.wav"
    call = PendingCall("lvs-004", "0" * 64, str(path), 60.0, "lvs")
    with caplog.at_level(logging.DEBUG, logger="transcription.speech_probs"):
        done = worker.run(call)
    assert done.ok and done.speakers.labelled is not None
    assert "speech probabilities: 1 worked out, 1 reused" in caplog.text
    audio = decode_audio(path)
    ctranslate2.set_random_seed(0)  # the seed the worker takes from this recording's hash
    alone = worker.transcriber.transcribe(audio)
    assert done.asr.segments == alone.segments and done.asr.speech_s == alone.speech_s
    assert done.speakers.labelled.diarization == diarize(audio, settings.diarization)
