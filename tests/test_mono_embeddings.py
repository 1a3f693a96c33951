"""The speaker-embedding mono method (Resemblyzer d-vectors), the ``auto`` choice for mono calls,
and the message when the optional ``embeddings`` extra is missing.

Real audio: mix-downs of the sample calls' stereo recordings (exact references from the script
that made them) and of the shared real-speech stereo file. The tests that need the extra skip,
saying so, when Resemblyzer is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest
from conftest import SAMPLES
from test_diarization import audio_of, frame_der

from transcription.audio import decode_audio
from transcription.diarization import DiarizationError, DiarizationSettings, SpeakerTurn, diarize
from transcription.diarization import embeddings as emb
from transcription.diarization.vad import speech_regions
from transcription.diarization.windows import region_windows

INSTALLED = importlib.util.find_spec("resemblyzer") is not None
needs_extra = pytest.mark.skipif(
    not INSTALLED, reason="the optional `embeddings` extra (Resemblyzer) is not installed: make embeddings"
)


def mix_down(call_id: str):
    doc = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
    audio = decode_audio(SAMPLES / doc["audio_file"])
    truth = [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in doc["segments"]]
    return audio_of(audio.samples.mean(axis=0)), truth


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch):
    """Resemblyzer made unimportable (how Python marks a module missing), the encoder cache cleared."""
    monkeypatch.setitem(sys.modules, "resemblyzer", None)
    emb._encoder.cache_clear()
    yield
    emb._encoder.cache_clear()


@needs_extra
@pytest.mark.parametrize(("call_id", "bar"), [("ep1-c3-lvs", 0.10), ("lvs-001-feber-barn", 0.10)])
def test_embeddings_separate_the_two_voices_of_a_mixed_down_sample_call(call_id, bar):
    audio, truth = mix_down(call_id)
    result = diarize(audio, DiarizationSettings(strategy="embeddings"))
    assert result.strategy == "embeddings" and result.speakers == ("S1", "S2")
    assert frame_der(truth, result.turns) < bar


@needs_extra
def test_embeddings_split_real_speech_better_than_the_builtin_method(testdata):
    """Real voices, one per channel, mixed down; the reference is each channel's speech. The second
    voice talks over the first for half the clip, which neither method models: measured 0.39
    (embeddings) against 0.48 (builtin)."""
    stereo = decode_audio(testdata / "stereo_call" / "stereo_diarization.wav")
    truth = [
        SpeakerTurn(a, b, f"S{c + 1}") for c in (0, 1) for a, b in speech_regions(stereo.samples[c], "silero")
    ]
    mono = audio_of(stereo.samples.mean(axis=0))
    embedded = frame_der(truth, diarize(mono, DiarizationSettings(strategy="embeddings")).turns)
    builtin = frame_der(truth, diarize(mono, DiarizationSettings(strategy="builtin")).turns)
    assert embedded < 0.45
    assert embedded < builtin - 0.05


@needs_extra
def test_centring_the_d_vectors_is_what_separates_similar_voices():
    """Two windows of each of two voices: raw d-vectors all look alike, centred ones split."""
    audio, truth = mix_down("lvs-004-kuttskade")
    samples = audio.samples[0]
    regions = speech_regions(samples, "silero")
    windows = np.array([[0.5 * (a + b), r] for r, (a, b) in enumerate(regions)])
    vectors = emb.window_embeddings(samples, regions, windows, 1.5)
    assert vectors.shape == (len(regions), 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    labels = emb.cluster_embeddings(
        vectors, np.arange(len(regions)), DiarizationSettings(embedding_resegment=0)
    )
    speaker = {
        r: t.speaker for r, (a, b) in enumerate(regions) for t in truth if t.start <= 0.5 * (a + b) <= t.end
    }
    agree = np.mean([(labels[r] == labels[0]) == (speaker[r] == speaker[0]) for r in speaker])
    assert agree > 0.9


@needs_extra
def test_the_encoder_thread_count_changes_nothing_in_the_embeddings_and_is_put_back():
    """``embedding_threads`` is a speed setting, left out of the diarization key: one thread and two
    must give the same d-vectors, bit for bit, on every window of a real call (full batches and the
    short windows at region edges alike), and torch's own thread count is restored afterwards."""
    import torch

    audio, _truth = mix_down("ep1-c3-lvs")
    samples = audio.samples[0]
    regions = speech_regions(samples, "silero")
    windows = region_windows(regions, 1.5, 0.1)  # dense, so full batches of 256 form
    before = torch.get_num_threads()
    one = emb.window_embeddings(samples, regions, windows, 1.5, threads=1)
    assert torch.get_num_threads() == before
    two = emb.window_embeddings(samples, regions, windows, 1.5, threads=2)
    assert len(windows) > 256  # at least one full encoder batch
    assert np.array_equal(one, two)
    assert torch.get_num_threads() == before


@needs_extra
def test_the_encoders_mel_frames_are_resemblyzers_own():
    """The mel spectrogram made here (the filter bank built once, one matrix product) against
    Resemblyzer's ``wav_to_mel_spectrogram``, on every speech region of a real mixed-down call at
    16 kHz and its 8 kHz telephone copy: the same frames, to float32 rounding."""
    from resemblyzer.audio import wav_to_mel_spectrogram
    from scipy.signal import resample_poly

    audio, _truth = mix_down("ep1-c3-lvs")
    wide = audio.samples[0]
    narrow = resample_poly(resample_poly(wide, 1, 2), 2, 1).astype(np.float32)
    compared = 0
    for samples in (wide, narrow):
        for a, b in speech_regions(samples, "silero"):
            wav = emb._raise_volume(np.asarray(samples[int(a * 16_000) : int(b * 16_000)], dtype=np.float32))
            ours, theirs = emb.mel_frames(wav), wav_to_mel_spectrogram(wav)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32
            assert np.allclose(ours, theirs, rtol=1e-5, atol=1e-7 * float(theirs.max()))
            compared += 1
    assert compared >= 10


@needs_extra
def test_auto_takes_embeddings_for_a_mono_call_when_installed():
    audio, _truth = mix_down("ep1-c3-lvs")
    assert diarize(audio, DiarizationSettings()).strategy == "embeddings"


def test_auto_without_the_extra_uses_the_builtin_method(without_extra):
    audio, truth = mix_down("ep1-c3-lvs")
    result = diarize(audio, DiarizationSettings())
    assert result.strategy == "builtin" and result.speakers == ("S1", "S2")
    assert frame_der(truth, result.turns) < 0.10


def test_asking_for_embeddings_without_the_extra_fails_naming_it(without_extra):
    audio, _truth = mix_down("ep1-c3-lvs")
    with pytest.raises(DiarizationError, match=r"pip install 'lydlogg\[embeddings\]'") as caught:
        diarize(audio, DiarizationSettings(strategy="embeddings"))
    assert "`auto` or `builtin`" in str(caught.value)
    assert not emb.embeddings_available()


def test_a_true_stereo_call_keeps_its_channels_whatever_is_installed():
    doc = json.loads((SAMPLES / "reference" / "ep1-c2-lvs.json").read_text())
    audio = decode_audio(SAMPLES / doc["audio_file"])
    assert diarize(audio, DiarizationSettings()).strategy == "channels"
