import numpy as np
import pytest
import soundfile as sf
from conftest import write_tone

from transcription.audio import SAMPLE_RATE, AudioError, decode_audio, file_sha256, is_dual_mono, probe_audio


@pytest.mark.parametrize(
    ("name", "rate", "channels", "subtype", "fmt"),
    [
        ("pcm16.wav", 8_000, 1, "PCM_16", None),
        ("u8.wav", 8_000, 1, "PCM_U8", None),
        ("float.wav", 44_100, 2, "FLOAT", None),
        ("pcm24.flac", 48_000, 2, "PCM_24", None),
        ("vorbis.ogg", 22_050, 1, "VORBIS", None),
        ("mpeg.mp3", 16_000, 1, "MPEG_LAYER_III", "MP3"),
    ],
)
def test_every_accepted_format_decodes_to_16k_float32(tmp_path, name, rate, channels, subtype, fmt):
    path = write_tone(tmp_path / name, seconds=2.0, rate=rate, channels=channels, subtype=subtype, fmt=fmt)
    audio = decode_audio(path)
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == channels
    assert audio.layout == ("stereo" if channels == 2 else "mono")
    assert abs(audio.duration_s - 2.0) < 0.1  # MP3 adds encoder padding
    assert np.abs(audio.samples).max() <= 1.0
    # the tone survives resampling: energy sits at the first channel's frequency
    spectrum = np.abs(np.fft.rfft(audio.samples[0][:SAMPLE_RATE]))
    assert abs(int(np.argmax(spectrum)) - 220) <= 2


def test_dual_mono_becomes_one_channel(tmp_path):
    audio = decode_audio(write_tone(tmp_path / "dual.wav", channels=2, same_channels=True))
    assert audio.layout == "dual_mono" and audio.channels == 1


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("tone", "tone", True),
        ("tone", "tone_lossy", True),
        ("tone", "other", False),
        ("tone", "silence", False),
        ("silence", "silence", True),
    ],
)
def test_dual_mono_rule(left, right, expected):
    rng = np.random.default_rng(0)
    t = np.arange(16_000) / 16_000
    signals = {
        "tone": np.sin(2 * np.pi * 300 * t),
        "tone_lossy": np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(t.size),
        "other": rng.standard_normal(t.size),
        "silence": np.zeros_like(t),
    }
    assert is_dual_mono(np.stack([signals[left], signals[right]]), 0.98) is expected


def test_six_channels_are_refused_clearly(tmp_path):
    path = write_tone(tmp_path / "six.wav", channels=6)
    with pytest.raises(AudioError, match="6 channels; expected mono or stereo"):
        decode_audio(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "extension .txt not accepted; expected WAV (PCM, G.711"),
        ("broken.wav", b"RIFF not really a wave file", "not a readable recording"),
        ("empty.mp3", b"", "not a readable recording"),
    ],
)
def test_unreadable_files_name_what_is_accepted(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as err:
        probe_audio(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_zero_length_recording(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(str(path), np.zeros((0, 1), dtype=np.float32), 8000)
    with pytest.raises(AudioError, match="holds no audio"):
        decode_audio(path)


def test_sha256_is_of_the_bytes(tmp_path):
    a = write_tone(tmp_path / "a.wav")
    b = tmp_path / "b.wav"
    b.write_bytes(a.read_bytes())
    assert file_sha256(a) == file_sha256(b) and len(file_sha256(a)) == 64


def test_real_8bit_call_centre_file(testdata):
    path = testdata / "callcentre_8bit" / "call_8bit_u8_mono.wav"
    info = probe_audio(path)
    assert (info.sample_rate, info.channels, info.subtype) == (8000, 1, "PCM_U8")
    audio = decode_audio(path)
    assert audio.layout == "mono"
    assert abs(audio.duration_s - 277.7) < 0.1
    assert 0.01 < float(np.sqrt(np.mean(audio.samples**2))) < 0.5


@pytest.mark.parametrize(
    ("folder", "name", "layout"),
    [("dual_mono", "jfk.flac", "dual_mono"), ("stereo_call", "stereo_diarization.wav", "stereo")],
)
def test_real_two_channel_files_are_told_apart(testdata, folder, name, layout):
    assert decode_audio(testdata / folder / name).layout == layout
