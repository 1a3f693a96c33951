"""The real offline model on real speech (shared fixtures)."""

import numpy as np
import pytest
from conftest import SAMPLES, write_g729_wav
from scipy.signal import resample_poly

from transcription import AsrOptions, Transcriber, decode_audio, load_model, resolve_model
from transcription.audio import SAMPLE_RATE, DecodedAudio
from transcription.evaluation import corpus_wer, wer

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def whisper(bundled_model):
    spec = resolve_model("bundled-base", models_dir=bundled_model.parent, offline=True)
    return load_model(spec, device="cpu", compute_type="int8")


@pytest.fixture(scope="module")
def norwegian(whisper):
    return Transcriber(whisper, AsrOptions(language="no"))


@pytest.fixture(scope="module")
def norwegian_sequential(whisper):
    return Transcriber(whisper, AsrOptions(language="no", batch_size=1))


@pytest.fixture(scope="module")
def english(whisper):
    return Transcriber(whisper, AsrOptions(language="en"))


@pytest.mark.parametrize(
    ("clip", "max_wer", "must_contain"),
    [
        ("norwegian-short-3s", 0.6, ["lovlig"]),
        # the reference keeps a stutter ("Fredric Helen Fredric Holen") that no model writes out
        ("norwegian-medium-8s", 0.75, ["giske", "harvært", "tatt"]),
    ],
)
@pytest.mark.parametrize("decoder", ["norwegian", "norwegian_sequential"])
def test_norwegian_parliament_clips(testdata, request, decoder, clip, max_wer, must_contain):
    folder = testdata / "norwegian_npsc"
    result = request.getfixturevalue(decoder).transcribe(decode_audio(folder / f"{clip}.mp3"))
    text = " ".join(s.text for s in result.segments)
    reference = (folder / f"{clip}.txt").read_text()
    assert wer(reference, text) <= max_wer, text
    for word in must_contain:
        assert word in text.lower().replace(" ", ""), text
    words = [w for s in result.segments for w in s.words]
    assert words and all(0 <= w.start <= w.end <= 8.1 and 0 <= w.probability <= 1 for w in words)
    assert all(s.channel is None for s in result.segments)


def test_stereo_call_keeps_each_party_on_its_channel(testdata, english):
    folder = testdata / "stereo_call"
    audio = decode_audio(folder / "stereo_diarization.wav")
    assert audio.layout == "stereo"
    result = english.transcribe(audio)
    assert result.channels_transcribed == 2
    for channel, side in ((0, "left"), (1, "right")):
        text = " ".join(s.text for s in result.segments if s.channel == channel)
        reference = (folder / f"stereo_diarization.{side}.txt").read_text()
        assert wer(reference, text) <= 0.25, (side, text)
        assert all(w.channel == channel for s in result.segments if s.channel == channel for w in s.words)
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)


def test_dual_mono_comes_out_as_one_channel(testdata, english):
    folder = testdata / "dual_mono"
    audio = decode_audio(folder / "jfk.flac")
    result = english.transcribe(audio)
    assert audio.layout == "dual_mono" and result.channels_transcribed == 1
    assert {s.channel for s in result.segments} == {None}
    text = " ".join(s.text for s in result.segments)
    assert wer((folder / "jfk.txt").read_text(), text) <= 0.15, text


def test_g729_wav_speech_is_recognised(testdata, english, bcg729, tmp_path):
    """Speech through the G.729 codec at 8 kHz, as a recorder writes it, still reads as the words."""
    clean = decode_audio(testdata / "dual_mono" / "jfk.flac").samples[0]
    path = write_g729_wav(tmp_path / "jfk-g729.wav", bcg729, resample_poly(clean, 1, 2))
    audio = decode_audio(path)
    assert audio.info.subtype == "G729" and audio.info.sample_rate == 8_000
    assert abs(audio.duration_s - clean.size / SAMPLE_RATE) < 0.02
    energy = float(np.sum(audio.samples[0] ** 2)) / float(np.sum(clean**2))
    assert 0.5 < energy < 1.5, energy  # telephone band only, but the speech energy is kept
    text = " ".join(s.text for s in english.transcribe(audio).segments)
    assert "country" in text.lower(), text
    assert wer((testdata / "dual_mono" / "jfk.txt").read_text(), text) <= 0.15, text


def test_8bit_8khz_call_centre_recording(testdata, english):
    audio = decode_audio(testdata / "callcentre_8bit" / "call_8bit_u8_mono.wav")
    assert audio.info.sample_rate == 8000 and audio.info.subtype == "PCM_U8"
    first_minute = DecodedAudio(
        samples=np.ascontiguousarray(audio.samples[:, : 60 * SAMPLE_RATE]),
        layout=audio.layout,
        info=audio.info,
    )
    result = english.transcribe(first_minute)
    text = " ".join(s.text for s in result.segments).lower()
    assert "thank you for calling" in text and "help you" in text, text
    assert 30 < result.speech_s <= 60


def test_silence_gives_no_segments(norwegian, tmp_path):
    import soundfile as sf

    path = tmp_path / "silence.wav"
    sf.write(str(path), np.zeros(8000 * 3, dtype=np.float32), 8000)
    result = norwegian.transcribe(decode_audio(path))
    assert result.segments == () and result.speech_s == 0


def _reference_by_channel(call_id: str) -> dict[int, str]:
    import json

    doc = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
    refs: dict[int, list[str]] = {}
    for s in doc["segments"]:
        refs.setdefault(s["channel"], []).append(s["text"])
    return {ch: " ".join(texts) for ch, texts in refs.items()}


def _check_shape(result, duration: float, pause_s: float) -> None:
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    for s in result.segments:
        assert s.words and s.avg_logprob is not None and s.no_speech_prob is not None
        assert all(w.channel == s.channel for w in s.words)
        assert s.start == s.words[0].start and s.end == s.words[-1].end
        assert all(0 <= w.start <= w.end <= duration + 0.5 and 0 <= w.probability <= 1 for w in s.words)
        gaps = [b.start - a.end for a, b in zip(s.words, s.words[1:], strict=False)]
        assert all(g < pause_s for g in gaps), "a segment runs over a pause it should have been cut at"


def test_batched_stereo_call_matches_sequential_and_interleaves(norwegian, norwegian_sequential):
    """Both channels in one batched pass: same parties, same accuracy, one turn per segment."""
    call = "lvs-003-brystsmerter"
    audio = decode_audio(SAMPLES / "audio" / f"{call}.flac")
    refs = _reference_by_channel(call)
    batched, sequential = norwegian.transcribe(audio), norwegian_sequential.transcribe(audio)
    for result in (batched, sequential):
        _check_shape(result, audio.duration_s, 1.0)
        assert {s.channel for s in result.segments} == {0, 1}

    def channel_wer(result):
        pairs = [
            (ref, " ".join(s.text for s in result.segments if s.channel == ch)) for ch, ref in refs.items()
        ]
        return corpus_wer(pairs).wer

    assert channel_wer(batched) <= channel_wer(sequential) + 0.05, (
        channel_wer(batched),
        channel_wer(sequential),
    )
    # the conversation alternates: more than a handful of turns change channel
    changes = sum(
        a.channel != b.channel for a, b in zip(batched.segments, batched.segments[1:], strict=False)
    )
    assert changes >= 6, changes


def test_a_call_decoded_in_blocks_keeps_call_times(whisper):
    """Blocks (here 25 s, to exercise them on a short call) map back to the call's own clock."""
    call = "lvs-003-brystsmerter"
    audio = decode_audio(SAMPLES / "audio" / f"{call}.flac")
    whole = Transcriber(whisper, AsrOptions(language="no")).transcribe(audio)
    blocks = Transcriber(whisper, AsrOptions(language="no", block_s=25)).transcribe(audio)
    _check_shape(blocks, audio.duration_s, 1.0)
    assert max(s.end for s in blocks.segments) > 50  # the last block's words sit at the call's end
    # every segment decoded in a block overlaps a segment of the one-pass run on the same channel
    for seg in blocks.segments:
        assert any(
            o.channel == seg.channel and o.start < seg.end and seg.start < o.end for o in whole.segments
        ), (seg.channel, seg.start, seg.end)


def test_the_pipeline_decoder_gives_plain_faster_whisper_words_on_a_mono_call(whisper, norwegian):
    """What the pipeline's speed is measured against (``bench/transcribe.py``): one batched pass of
    plain faster-whisper with the same model object and options. On a mono call the pipeline's
    decoder must give exactly its words, times and probabilities, only regrouped into segments at
    pauses, so the speed comparison compares the same work (no chunk of this call loops, so none
    is decoded again)."""
    from faster_whisper import BatchedInferencePipeline

    audio = decode_audio(SAMPLES / "audio" / "lvs-004-kuttskade.wav")
    assert audio.layout == "mono"
    raw, _info = BatchedInferencePipeline(whisper).transcribe(
        audio.samples[0], **norwegian.options.transcribe_kwargs()
    )
    plain = [
        (w.word.strip(), round(w.start, 3), round(w.end, 3), w.probability)
        for s in raw
        for w in s.words
        if w.word.strip()
    ]
    ours = [
        (w.text, w.start, w.end, w.probability) for s in norwegian.transcribe(audio).segments for w in s.words
    ]
    assert len(plain) > 50
    assert ours == plain


def _most_repeated_pair(text: str) -> int:
    """How often the commonest pair of adjacent words occurs in ``text`` (a looping decoder
    writes one phrase dozens of times)."""
    from collections import Counter

    words = ["".join(ch for ch in w.lower() if ch.isalnum()) for w in text.split()]
    pairs = Counter(zip(words, words[1:], strict=False))
    return max(pairs.values(), default=0)


def test_batched_8khz_stereo_call_does_not_loop(norwegian, tmp_path):
    """Issue 21's regression: on the 8 kHz mu-law copy of a stereo sample call, the batched pass
    of both channels decoded one 30-second chunk of the caller's channel as "uke trep til en"
    some thirty times (WER 2.2 on that channel; the batched decoder keeps its first try at a
    chunk). Looping chunks are decoded again sequentially with repeated tokens penalised, channel
    by channel: each channel's text stays free of loops and near the reference (0.82 and 0.68
    measured), and every word stays on its own channel at the time its party spoke."""
    import json

    import soundfile as sf

    call = "ep1-c2-lvs"
    data, rate = sf.read(str(SAMPLES / "audio" / f"{call}.flac"), always_2d=True, dtype="float32")
    path = tmp_path / f"{call}.8k-ulaw.wav"
    sf.write(str(path), resample_poly(data, 8000, rate, axis=0).clip(-1, 1), 8000, subtype="ULAW")
    audio = decode_audio(path)
    assert audio.layout == "stereo"
    result = norwegian.transcribe(audio)
    _check_shape(result, audio.duration_s, 1.0)
    refs = _reference_by_channel(call)
    texts = {ch: " ".join(s.text for s in result.segments if s.channel == ch) for ch in refs}
    for ch, text in texts.items():
        assert _most_repeated_pair(text) <= 3, (ch, _most_repeated_pair(text))
        assert wer(refs[ch], text) < 0.95, (ch, wer(refs[ch], text))
    # each word lies within (1 s of) a reference turn of its own channel
    turns = json.loads((SAMPLES / "reference" / f"{call}.json").read_text())["segments"]
    words = [w for s in result.segments for w in s.words]
    placed = sum(
        any(t["channel"] == w.channel and t["start"] - 1 <= w.start <= t["end"] + 1 for t in turns)
        for w in words
    )
    assert placed >= 0.95 * len(words), (placed, len(words))
