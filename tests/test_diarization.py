"""The diarization stage on real and generated audio: strategies, accuracy, and bad input.

Real speech comes from the shared fixtures and the sample calls; awkward input (six channels,
a silent channel, two seconds, three hours) is generated here with numpy and soundfile.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from itertools import permutations
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLES

from transcription.audio import AudioError, AudioInfo, DecodedAudio, decode_audio
from transcription.diarization import (
    DiarizationError,
    DiarizationSettings,
    SpeakerTurn,
    diarize,
)

RATE = 16_000


def frame_der(reference, hypothesis, step: float = 0.01) -> float:
    """Diarization error rate on 10 ms frames with the best speaker mapping (no collar)."""
    end = max(t.end for t in (*reference, *hypothesis))
    n = int(end / step) + 1

    def grid(turns):
        names = sorted({t.speaker for t in turns})
        g = np.zeros((len(names), n), dtype=bool)
        for t in turns:
            g[names.index(t.speaker), int(t.start / step) : int(t.end / step)] = True
        return g

    ref, hyp = grid(reference), grid(hypothesis)
    ref_count, hyp_count = ref.sum(axis=0), hyp.sum(axis=0)
    best = 0
    k = max(len(ref), len(hyp))
    ref_pad = np.vstack([ref, np.zeros((k - len(ref), n), bool)])
    hyp_pad = np.vstack([hyp, np.zeros((k - len(hyp), n), bool)])
    for perm in permutations(range(k)):
        best = max(best, int(sum((ref_pad[i] & hyp_pad[j]).sum() for i, j in enumerate(perm))))
    errors = np.maximum(ref_count, hyp_count).sum() - best
    return float(errors / max(1, ref_count.sum()))


def audio_of(samples: np.ndarray, layout: str = "mono") -> DecodedAudio:
    samples = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1, samples.shape[-1])
    info = AudioInfo(Path("generated.wav"), "WAV", "FLOAT", RATE, samples.shape[0], samples.shape[1], 0)
    return DecodedAudio(samples=samples, layout=layout, info=info)


def voice(seconds: float, f0: float, tilt: float, seed: int) -> np.ndarray:
    """A crude vowel-like voice: harmonics of ``f0`` falling off by ``tilt``, in 4 Hz syllables."""
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    wobble = f0 * (1 + 0.03 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(wobble) / RATE
    sound = sum(np.sin(k * phase) / k**tilt for k in range(1, 16))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6))
    out = sound * syllables
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def conversation(
    turns: int, turn_s: float = 4.0, pause_s: float = 0.6
) -> tuple[np.ndarray, list[SpeakerTurn]]:
    """Two generated voices taking turns (A, B, A, ...) with pauses, and the true turns."""
    voices = {"A": voice(turn_s, 110, 1.0, 1), "B": voice(turn_s, 210, 2.0, 2)}
    pause = np.zeros(int(pause_s * RATE), dtype=np.float32)
    parts, truth, now = [pause], [], pause_s
    for i in range(turns):
        who = "AB"[i % 2]
        parts += [voices[who], pause]
        truth.append(SpeakerTurn(now, now + turn_s, who))
        now += turn_s + pause_s
    return np.concatenate(parts), truth


def _reference(call_id: str) -> tuple[dict, list[SpeakerTurn]]:
    doc = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
    return doc, [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in doc["segments"]]


# --- strategies on real speech ----------------------------------------------------------------


@pytest.mark.parametrize("call_id", ["lvs-003-brystsmerter", "ep1-c2-lvs"])
def test_a_true_stereo_sample_call_is_split_by_channel_within_five_percent(call_id):
    doc, truth = _reference(call_id)
    audio = decode_audio(SAMPLES / doc["audio_file"])
    result = diarize(audio, DiarizationSettings())
    assert audio.layout == "stereo" and result.strategy == "channels"
    assert result.channel_speakers == ((0, "S1"), (1, "S2"))
    assert frame_der(truth, result.turns) < 0.05


@pytest.mark.parametrize(("call_id", "bar"), [("lvs-004-kuttskade", 0.25), ("ep1-c3-lvs", 0.10)])
def test_the_builtin_method_separates_two_voices_of_a_mono_sample_call(call_id, bar):
    doc, truth = _reference(call_id)
    audio = decode_audio(SAMPLES / doc["audio_file"])
    if audio.layout == "stereo":
        audio = audio_of(audio.samples.mean(axis=0))
    result = diarize(audio, DiarizationSettings(strategy="builtin"))
    assert result.strategy == "builtin" and result.speakers == ("S1", "S2")
    assert frame_der(truth, result.turns) < bar


def test_the_builtin_method_on_a_real_two_person_meeting(testdata):
    """AMI excerpt with overlapping speech; the measured DER is about 0.43, the bar is loose."""
    audio = decode_audio(testdata / "meeting_2spk" / "dev00.wav")
    truth = []
    for line in (testdata / "meeting_2spk" / "dev00.rttm").read_text().splitlines():
        parts = line.split()
        truth.append(SpeakerTurn(float(parts[3]), float(parts[3]) + float(parts[4]), parts[7]))
    result = diarize(audio, DiarizationSettings(strategy="builtin"))
    assert result.strategy == "builtin" and len(result.speakers) == 2
    assert frame_der(truth, result.turns) < 0.6


def test_real_stereo_speech_gives_one_speaker_per_channel(testdata):
    audio = decode_audio(testdata / "stereo_call" / "stereo_diarization.wav")
    result = diarize(audio, DiarizationSettings())
    assert result.strategy == "channels" and result.speakers == ("S1", "S2")
    s2 = [t for t in result.turns if t.speaker == "S2"]
    assert s2 and s2[0].start < 0.6 and 2.3 < s2[-1].end < 3.0  # the right channel talks 0.36-2.6 s


@pytest.mark.parametrize("strategy", ["builtin", "pyannote"])
def test_a_forced_mono_strategy_on_stereo_reads_the_mix_down(strategy):
    doc, _truth = _reference("ep1-c3-lvs")
    audio = decode_audio(SAMPLES / doc["audio_file"])
    result = diarize(audio, DiarizationSettings(strategy=strategy, vad="energy"))
    assert result.strategy in ("builtin", "pyannote") and not result.channel_speakers
    assert any("stereo lest som mono" in n for n in result.notes)


def test_auto_with_an_unloadable_pyannote_pipeline_falls_back_to_builtin():
    adapter = pytest.importorskip("transcription.diarization.pyannote_adapter")
    samples, _truth = conversation(6)
    pyannote = adapter.PyannoteSettings(pipeline="/nowhere/pyannote-config.yaml")
    result = diarize(audio_of(samples), DiarizationSettings(vad="energy"), pyannote)
    if result.strategy == "builtin":
        assert "pyannote ikke tilgjengelig: innebygd metode brukt" in result.notes
    elif result.strategy == "embeddings":  # when that optional extra is installed
        assert "pyannote ikke tilgjengelig: stemmeprofiler brukt" in result.notes
    else:  # the adapter is installed and loaded a pipeline from that path: not expected here
        pytest.fail(f"pyannote loaded a pipeline from a path that does not exist: {result}")


# --- generated audio: accuracy and bad input ----------------------------------------------------


def test_two_generated_voices_are_told_apart():
    """Energy detection: Silero rightly hears these buzzing tones as no speech."""
    samples, truth = conversation(10)
    result = diarize(audio_of(samples), DiarizationSettings(vad="energy"))
    assert result.speakers == ("S1", "S2")
    assert frame_der(truth, result.turns) < 0.10


def test_the_speaker_count_can_be_chosen_by_the_method():
    samples, truth = conversation(10)
    result = diarize(audio_of(samples), DiarizationSettings(vad="energy", num_speakers=None, max_speakers=4))
    assert len(result.speakers) in (2, 3)
    assert frame_der(truth, result.turns) < 0.30


def test_a_six_channel_file_is_refused_with_what_is_accepted(tmp_path):
    path = tmp_path / "six.wav"
    sf.write(str(path), np.zeros((RATE, 6), dtype=np.float32), RATE)
    with pytest.raises(AudioError, match="6 channels; expected mono or stereo"):
        decode_audio(path)
    with pytest.raises(DiarizationError, match=r"shape 6x16000: expected .* one channel .* or two"):
        diarize(audio_of(np.zeros((6, RATE))), DiarizationSettings())


def test_a_stereo_file_with_one_silent_channel_is_read_as_mono_of_the_live_one(tmp_path):
    samples, truth = conversation(8)
    path = tmp_path / "one-dead-channel.flac"
    sf.write(str(path), np.stack([np.zeros_like(samples), samples], axis=1), RATE)
    audio = decode_audio(path)
    assert audio.layout == "stereo"
    result = diarize(audio, DiarizationSettings(strategy="builtin", vad="energy"))
    assert result.strategy == "builtin" and not result.channel_speakers
    assert result.notes == ("kanal 0 er stille: samtalen er lest som mono fra kanal 1",)
    assert frame_der(truth, result.turns) < 0.10


def test_a_stereo_file_with_both_channels_silent_gives_no_speakers():
    result = diarize(audio_of(np.zeros((2, 5 * RATE)), "stereo"), DiarizationSettings())
    assert result.turns == () and result.notes == ("begge kanalene er stille",)


def test_a_two_second_call_is_one_speaker_with_a_note(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(
        str(path), np.concatenate([np.zeros(RATE // 4), voice(1.5, 120, 1.0, 3), np.zeros(RATE // 4)]), RATE
    )
    result = diarize(decode_audio(path), DiarizationSettings(vad="energy"))
    assert result.strategy in ("embeddings", "builtin") and result.speakers == ("S1",)
    assert result.notes == ("for lite tale til å skille stemmer: lest som én taler",)
    assert 0.1 < result.turns[0].start < 0.4 and 1.6 < result.turns[-1].end < 1.9


def test_a_silent_mono_call_gives_no_turns():
    result = diarize(audio_of(np.zeros(3 * RATE)), DiarizationSettings(vad="energy"))
    assert result.turns == () and result.notes == ("ingen tale funnet",)


def test_a_three_hour_call_is_diarized_in_bounded_memory_and_time():
    pattern, _truth = conversation(2, turn_s=4.0, pause_s=0.6)  # 9.2 s: A, pause, B, pause
    hours = 3
    samples = np.tile(pattern, int(hours * 3600 * RATE / len(pattern)) + 1)[: hours * 3600 * RATE]
    audio = audio_of(samples)
    del samples
    audio_mb = audio.samples.nbytes / 2**20
    tracemalloc.start()
    t0 = time.perf_counter()
    result = diarize(audio, DiarizationSettings(strategy="builtin", vad="energy"))
    elapsed = time.perf_counter() - t0
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 2**20
    assert audio_mb > 600  # 3 h of 16 kHz float32
    assert peak_mb < 200, f"peak {peak_mb:.0f} MiB beside {audio_mb:.0f} MiB of audio"
    assert elapsed < 120, f"{elapsed:.0f} s for 3 h"  # about 10 s measured on 2 shared cores
    assert result.speakers == ("S1", "S2")
    assert abs(len(result.turns) - 2 * hours * 3600 / len(pattern) * RATE) < 10
