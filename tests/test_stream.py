"""Long calls read from their file block by block (transcription/stream.py): the same samples as a
whole decode, in bounded pieces, and the same speakers from diarization."""

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLES
from scipy.signal import resample_poly

from transcription.audio import DecodedAudio, decode_audio, fits_one_block, probe_audio
from transcription.diarization import DiarizationSettings, diarize
from transcription.stream import StreamedSamples, open_streamed

SPEECH = SAMPLES / "audio" / "lvs-004-kuttskade.wav"  # 48 s mono 16 kHz PCM
STEREO = SAMPLES / "audio" / "ep1-c1-fastlege.flac"  # 65 s true stereo FLAC


def _speech() -> np.ndarray:
    return sf.read(str(SPEECH), dtype="float32")[0]


def _write_m4a(path: Path, samples: np.ndarray, rate: int) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            (samples[None, :] * 32767).astype(np.int16), format="s16", layout="mono"
        )
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path


def _recordings(folder: Path) -> dict[str, Path]:
    """One file per way a recording reaches the stream: each decoder, seekable or not, resampled
    up and down, mono, stereo and dual-mono."""
    speech = _speech()
    stereo = sf.read(str(STEREO), dtype="float32")[0][: 20 * 16_000]
    files = {"pcm16k": SPEECH, "flac_stereo": STEREO}
    sf.write(folder / "ulaw8k.wav", resample_poly(speech, 1, 2).clip(-1, 1), 8000, subtype="ULAW")
    sf.write(folder / "gsm8k.wav", resample_poly(speech, 1, 2).clip(-1, 1), 8000, subtype="GSM610")
    sf.write(folder / "stereo44k.wav", resample_poly(stereo, 441, 160, axis=0).clip(-1, 1), 44100)
    dual = np.stack([speech, speech * 0.999], axis=1)[: 20 * 16_000]
    sf.write(folder / "dual22k.flac", resample_poly(dual, 11025, 8000, axis=0).clip(-1, 1), 22050)
    files |= {k: folder / f for k, f in [("ulaw8k", "ulaw8k.wav"), ("gsm8k", "gsm8k.wav"),
                                          ("stereo44k", "stereo44k.wav"), ("dual22k", "dual22k.flac")]}  # fmt: skip
    files["aac_ffmpeg"] = _write_m4a(folder / "speech.m4a", speech[: 20 * 16_000], 16_000)
    return files


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _recordings(tmp_path_factory.mktemp("stream"))


KINDS = ["pcm16k", "flac_stereo", "ulaw8k", "gsm8k", "stereo44k", "dual22k", "aac_ffmpeg"]


@pytest.mark.parametrize("kind", KINDS)
def test_streamed_samples_equal_the_whole_decode(recordings, kind):
    path = recordings[kind]
    whole = decode_audio(path)
    streamed = open_streamed(probe_audio(path), 0.98)
    assert streamed.streamed and not whole.streamed
    assert streamed.layout == whole.layout
    assert streamed.samples.shape == whole.samples.shape
    n = whole.samples.shape[1]
    rng = np.random.default_rng(7)
    pieces, a = [], 0
    while a < n:  # forward, in pieces of odd sizes, as the stages read
        b = min(n, a + int(rng.integers(1_000, 150_000)))
        piece = streamed.samples[..., a:b]
        assert piece.shape == (whole.channels, b - a)
        pieces.append(piece)
        a = b
    assert np.array_equal(np.concatenate(pieces, axis=1), whole.samples)
    for _ in range(6):  # and backwards, one channel at a time, which starts the file again
        a = int(rng.integers(0, n - 1))
        b = min(n, a + int(rng.integers(1, 40_000)))
        for c in range(whole.channels):
            assert np.array_equal(streamed.samples[c][a:b], whole.samples[c, a:b])
            assert np.array_equal(streamed.samples[c, a:b], whole.samples[c, a:b])


def test_an_mp3_streams_within_one_rounding_step(testdata):
    """libsndfile's MP3 decoder rounds a few samples one float32 step apart when read in pieces."""
    path = testdata / "norwegian_npsc" / "norwegian-medium-8s.mp3"
    whole = decode_audio(path).samples
    streamed = open_streamed(probe_audio(path), 0.98).samples
    got = np.concatenate([streamed[..., a : a + 30_000] for a in range(0, whole.shape[1], 30_000)], axis=1)
    assert got.shape == whole.shape
    assert np.abs(got - whole).max() <= 1e-7


def test_a_call_of_one_block_is_decoded_whole_and_a_longer_one_is_streamed(recordings):
    path = recordings["pcm16k"]  # 48.1 s
    plain = decode_audio(path)
    one_block = decode_audio(path, block_s=44)  # 48.1 s <= 1.1 * 44 s: one block
    longer = decode_audio(path, block_s=40)
    assert isinstance(one_block.samples, np.ndarray) and not one_block.streamed
    assert np.array_equal(one_block.samples, plain.samples)
    assert isinstance(longer.samples, StreamedSamples) and longer.streamed
    assert longer.duration_s == plain.duration_s
    assert fits_one_block(int(1.1 * 40 * 16_000), 40) and not fits_one_block(int(1.1 * 40 * 16_000) + 1, 40)


def test_a_slice_reads_only_its_stretch_and_never_more(recordings):
    """What a stage gets from a streamed call is the stretch it asked for, read-only; the reader
    holds at most that stretch (plus one decoder piece) of the file."""
    streamed = open_streamed(probe_audio(recordings["flac_stereo"]), 0.98).samples
    block = streamed[..., 160_000:320_000]
    assert block.shape == (2, 160_000) and not block.flags.writeable
    assert streamed[1][0:16_000].shape == (16_000,)
    assert streamed.mean(axis=0, dtype=np.float32)[0:100].shape == (100,)
    held = streamed._reader._held  # the decoded file frames kept between reads
    assert held.shape[1] <= 160_000 + (1 << 16)


@pytest.mark.parametrize("key", [5, (0, 3), (slice(0, 1), slice(0, 10)), (0, slice(0, 10, 2))])
def test_a_read_the_stream_cannot_answer_names_the_file(recordings, key):
    streamed = open_streamed(probe_audio(recordings["pcm16k"]), 0.98).samples
    with pytest.raises((TypeError, IndexError), match="streamed|channel 5"):
        streamed[key]


def _long_mono(folder: Path, copies: int = 4) -> Path:
    """The sample call's speech again and again with pauses, 3 minutes and more."""
    speech = _speech()
    pause = np.zeros(4 * 16_000, dtype=np.float32)
    target = folder / "long-mono.wav"
    sf.write(target, np.concatenate([np.concatenate([speech, pause]) for _ in range(copies)]), 16_000)
    return target


@pytest.mark.parametrize("strategy", ["builtin", "embeddings"])
def test_mono_diarization_of_a_streamed_call_clusters_the_whole_call_as_before(tmp_path, strategy):
    """The speech regions and window features are read block by block, then clustered over the
    whole call: the same turns as from the call held in memory."""
    if strategy == "embeddings":
        from transcription.diarization.embeddings import embeddings_available

        if not embeddings_available():
            pytest.skip("the embeddings extra is not installed")
    path = _long_mono(tmp_path)
    settings = DiarizationSettings(strategy=strategy, block_s=30)
    whole = diarize(decode_audio(path), settings)
    streamed = decode_audio(path, block_s=60)
    assert streamed.streamed
    found = diarize(streamed, settings)
    assert found.turns == whole.turns and len({t.speaker for t in found.turns}) == 2
    assert found.turns[-1].end > 3 * 52  # the last copy of the speech has its speakers too


def test_stereo_diarization_of_a_streamed_call_is_unchanged(tmp_path):
    stereo = sf.read(str(STEREO), dtype="float32")[0]
    path = tmp_path / "long-stereo.flac"
    sf.write(path, np.concatenate([stereo, stereo, stereo]), 16_000)
    settings = DiarizationSettings(block_s=30)
    whole = diarize(decode_audio(path), settings)
    streamed = decode_audio(path, block_s=60)
    assert streamed.streamed and streamed.layout == "stereo"
    assert diarize(streamed, settings) == whole
    mixed = DiarizationSettings(strategy="builtin", block_s=30)  # stereo read as its mix-down
    assert diarize(streamed, mixed).turns == diarize(decode_audio(path), mixed).turns


def test_the_decoded_audio_of_a_streamed_call_is_a_decoded_audio(recordings):
    audio = decode_audio(recordings["flac_stereo"], block_s=30)
    assert isinstance(audio, DecodedAudio) and audio.channels == 2 and audio.layout == "stereo"
    assert abs(audio.duration_s - decode_audio(recordings["flac_stereo"]).duration_s) < 1e-9


@pytest.mark.pure
def test_a_boundary_in_digital_silence_falls_in_its_middle():
    """Where the line is digitally silent, every quarter second is equally quiet: the cut takes the
    middle of the longest silence in reach, so neither block loses the speech padding the voice
    filter adds (the first quiet frame would end a block where the silence begins)."""
    from transcription.asr import block_starts

    rate = 16_000
    audio = (0.3 * np.random.default_rng(1).standard_normal((1, rate * 200))).astype(np.float32)
    audio[:, rate * 40 : rate * 70] = 0.0  # within reach of the 60 s target: the cut goes to 55 s
    audio[:, rate * 85 : rate * 88] = 0.0  # a shorter silence nearer the target loses
    starts = block_starts(audio, 60)
    assert abs(starts[1] / rate - 55) <= 0.25
    one = (0.3 * np.random.default_rng(2).standard_normal((1, rate * 200))).astype(np.float32)
    one[:, rate * 75 : rate * 75 + 1000] = 0.0  # a single quietest quarter second is still the cut
    assert abs(block_starts(one, 60)[1] / rate - 75.125) <= 0.125
    # on the voice filter's 512-sample grid, as one pass over the call sees the speech
    assert all(s % 512 == 0 for s in [*starts, *block_starts(one, 60)])


def test_a_stage_that_takes_whole_audio_gets_the_whole_decode(recordings):
    """A configured pyannote pipeline takes one array: asked for it, the stream reads the whole
    call (and does not keep it)."""
    path = recordings["stereo44k"]
    whole = decode_audio(path).samples
    streamed = open_streamed(probe_audio(path), 0.98).samples
    assert np.array_equal(np.asarray(streamed), whole)
    assert np.array_equal(np.asarray(streamed[1]), whole[1])
    mix = np.asarray(streamed.mean(axis=0, keepdims=True, dtype=np.float32))
    assert np.array_equal(mix, whole.mean(axis=0, keepdims=True, dtype=np.float32))
    assert streamed._last is None
