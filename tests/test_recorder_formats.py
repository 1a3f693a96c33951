"""Every recorder format in the README's table, made here by the test and decoded to 16 kHz.

libsndfile writes the WAV codecs telephony systems use (G.711, GSM 6.10, ADPCM) and Dialogic VOX;
FFmpeg through PyAV writes the compressed formats (AAC in M4A, Opus, AMR-NB, WMA, G.722 WAV);
libbcg729 writes G.729 (FFmpeg only decodes it), skipped where that library is not installed.
"""

import numpy as np
import pytest
import soundfile as sf
from conftest import write_encoded, write_g729_wav, write_tone

from lydlogg.ingest import discover_audio, ingest
from transcription.audio import ACCEPTED_EXTENSIONS, SAMPLE_RATE, AudioError, decode_audio, probe_audio


def _peak_hz(samples: np.ndarray) -> int:
    spectrum = np.abs(np.fft.rfft(samples[:SAMPLE_RATE]))
    return int(np.argmax(spectrum))  # one second at 16 kHz: bin = Hz


SNDFILE_FORMATS = [
    # name, rate, channels, subtype, format
    ("g711-mulaw-stereo.wav", 8_000, 2, "ULAW", "WAV"),
    ("g711-alaw-stereo.wav", 8_000, 2, "ALAW", "WAV"),
    ("gsm610.wav", 8_000, 1, "GSM610", "WAV"),
    ("ima-adpcm.wav", 8_000, 1, "IMA_ADPCM", "WAV"),
    ("ms-adpcm.wav", 8_000, 2, "MS_ADPCM", "WAV"),
    ("mp3.mp3", 16_000, 1, "MPEG_LAYER_III", "MP3"),
    ("opus-sndfile.opus", 48_000, 1, "OPUS", "OGG"),
]

FFMPEG_FORMATS = [
    # name, container, codec, rate, channels
    ("aac.m4a", "ipod", "aac", 16_000, 1),
    ("aac-stereo.m4a", "ipod", "aac", 44_100, 2),
    ("opus.opus", "ogg", "libopus", 48_000, 1),
    ("amr-nb.amr", "amr", "libopencore_amrnb", 8_000, 1),
    ("wma.wma", "asf", "wmav2", 22_050, 1),
    ("g722.wav", "wav", "g722", 16_000, 1),
]


def _check(audio, channels: int) -> None:
    assert audio.samples.dtype == np.float32
    assert audio.channels == channels
    assert audio.layout == ("stereo" if channels == 2 else "mono")
    assert abs(audio.duration_s - 2.0) < 0.15  # encoders pad a frame or two
    assert _peak_hz(audio.samples[0]) in range(218, 223)
    if channels == 2:  # the second party stays on its own channel
        assert _peak_hz(audio.samples[1]) in range(438, 443)


@pytest.mark.parametrize(("name", "rate", "channels", "subtype", "fmt"), SNDFILE_FORMATS)
def test_libsndfile_recorder_formats(tmp_path, name, rate, channels, subtype, fmt):
    path = write_tone(tmp_path / name, seconds=2.0, rate=rate, channels=channels, subtype=subtype, fmt=fmt)
    info = probe_audio(path)
    assert info.decoder == "libsndfile" and info.subtype == subtype
    _check(decode_audio(path), channels)


@pytest.mark.parametrize(("name", "container", "codec", "rate", "channels"), FFMPEG_FORMATS)
def test_ffmpeg_fallback_recorder_formats(tmp_path, name, container, codec, rate, channels):
    path = write_encoded(tmp_path / name, container, codec, rate=rate, channels=channels)
    before = path.read_bytes()
    info = probe_audio(path)
    assert info.sample_rate == rate and info.channels == channels
    assert abs(info.duration_s - 2.0) < 0.15
    if name != "opus.opus":  # libsndfile reads Opus in Ogg itself
        assert info.decoder == "ffmpeg"
    _check(decode_audio(path), channels)
    assert path.read_bytes() == before  # the original is never touched


def test_dialogic_vox_is_read_as_8khz_adpcm(tmp_path):
    path = tmp_path / "dialogic.vox"
    t = np.arange(16_000) / 8_000
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * 220 * t), 8_000, format="RAW", subtype="VOX_ADPCM")
    info = probe_audio(path)
    assert (info.container, info.subtype, info.sample_rate) == ("VOX", "VOX_ADPCM", 8_000)
    _check(decode_audio(path), 1)


def test_g729_wav_from_a_recorder_decodes_through_ffmpeg(tmp_path, bcg729, settings):
    t = np.arange(16_000) / 8_000
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    path = write_g729_wav(tmp_path / "g729.wav", bcg729, tone)
    before = path.read_bytes()
    info = probe_audio(path)
    assert (info.decoder, info.container, info.subtype) == ("ffmpeg", "WAV", "G729")
    assert (info.sample_rate, info.channels) == (8_000, 1)
    assert abs(info.duration_s - 2.0) < 0.015
    audio = decode_audio(path)
    _check(audio, 1)
    rms = float(np.sqrt(np.mean(audio.samples[0, 1_600:-1_600] ** 2)))  # past the codec's start-up
    assert 0.6 < rms / (0.3 / np.sqrt(2)) < 1.4, rms  # the energy survives the codec
    assert path.read_bytes() == before
    report = ingest(settings, [path])
    assert len(report.added) == 1 and not report.failures and not report.skipped


def test_unreadable_file_names_every_accepted_form(tmp_path):
    path = tmp_path / "broken.m4a"
    path.write_bytes(b"not audio at all" * 100)
    with pytest.raises(AudioError) as err:
        probe_audio(path)
    message = str(err.value)
    assert str(path) in message and "M4A/AAC" in message and "G.711" in message


def test_folder_ingest_reports_every_skipped_file(tmp_path, settings):
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    write_tone(folder / "a.wav", subtype="GSM610", rate=8_000)
    write_encoded(folder / "sub" / "b.m4a", "ipod", "aac", rate=16_000)
    (folder / "notes.txt").write_text("hei")
    (folder / "sub" / "c.xyz").write_bytes(b"\0")
    files, skipped = discover_audio([folder])
    assert sorted(p.name for p in files) == ["a.wav", "b.m4a"]
    assert sorted(s.path for s in skipped) == [str(folder / "notes.txt"), str(folder / "sub" / "c.xyz")]
    assert all("not accepted" in s.reason and ".m4a" in s.reason for s in skipped)
    report = ingest(settings, [folder])
    assert len(report.added) == 2 and not report.failures
    assert sorted(s.path for s in report.skipped) == sorted(s.path for s in skipped)


def test_accepted_extensions_are_one_list():
    assert len(set(ACCEPTED_EXTENSIONS)) == len(ACCEPTED_EXTENSIONS)
    assert all(ext.startswith(".") and ext == ext.lower() for ext in ACCEPTED_EXTENSIONS)


# Each row of the README's table and what makes such a file: a parameter above or a named test.
README_ROWS = {
    "PCM WAV 8-32 bit, float": "test_audio.py",
    "G.711 mu-law, stereo": "g711-mulaw-stereo.wav",
    "G.711 A-law, stereo": "g711-alaw-stereo.wav",
    "GSM 6.10": "gsm610.wav",
    "IMA ADPCM": "ima-adpcm.wav",
    "Microsoft ADPCM": "ms-adpcm.wav",
    "Dialogic VOX (headerless ADPCM, read as 8 kHz mono)": "test_dialogic_vox_is_read_as_8khz_adpcm",
    "FLAC, Ogg Vorbis": "test_audio.py",
    "Opus in Ogg": "opus.opus",
    "MP3": "mp3.mp3",
    "AAC in M4A/MP4": "aac.m4a",
    "AMR-NB": "amr-nb.amr",
    "WMA (v2)": "wma.wma",
    "G.722 WAV": "g722.wav",
    "G.729 WAV (format tag 0x0083, `fact` chunk)": "test_g729_wav_from_a_recorder_decodes_through_ffmpeg",
}


@pytest.mark.pure
def test_the_readme_format_table_is_what_the_tests_make():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Recorder formats\n") :]
    section = section[: section.index("\n## ", 1)]
    listed = re.search(r"Accepted extensions: `([^`]+)`", section.replace("\n", " "))
    assert listed and tuple(listed.group(1).split()) == ACCEPTED_EXTENSIONS
    rows = re.findall(r"^\| (.+?) \| `([^|]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    assert {name for name, _ext, _decoder in rows} == set(README_ROWS)
    sndfile = {p[0] for p in SNDFILE_FORMATS}
    ffmpeg = {p[0] for p in FFMPEG_FORMATS}
    for name, extensions, decoder in rows:
        assert set(extensions.split()) <= set(ACCEPTED_EXTENSIONS), name
        made_by = README_ROWS[name]
        if made_by in sndfile:
            assert decoder.startswith("libsndfile"), name
        elif made_by in ffmpeg:
            assert "FFmpeg" in decoder, name
        elif made_by.endswith(".py"):
            assert (Path(__file__).parent / made_by).is_file(), name
        else:
            assert callable(globals().get(made_by)), name
