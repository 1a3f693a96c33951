"""Covering redacted spans of a recording: pure signal checks, real sample audio, the real model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from anonymise import AnonymiseSettings, redact_audio, redact_transcript
from anonymise.audio import merge_spans
from transcription import decode_audio
from transcription.audio import SAMPLE_RATE, DecodedAudio
from transcription.formats import from_json
from transcription.types import Transcript

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
RATE = 16_000


def speech_like(channels: int, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rows = [0.5 * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)]
    return np.stack(rows).astype(np.float32)


@pytest.mark.parametrize(
    ("spans", "margin", "merged"),
    [
        ([(1.0, 2.0)], 0.0, [(1.0, 2.0)]),
        ([(1.0, 2.0)], 0.15, [(0.85, 2.15)]),
        ([(0.05, 0.3)], 0.15, [(0.0, 0.45)]),
        ([(2.0, 3.0), (1.0, 1.9)], 0.1, [(0.9, 3.1)]),
        ([(2.0, 3.0), (1.0, 1.5)], 0.1, [(0.9, 1.6), (1.9, 3.1)]),
        ([(2.0, 1.0)], 0.1, []),
    ],
)
def test_merge_spans(spans, margin, merged):
    got = merge_spans(spans, margin)
    assert len(got) == len(merged)
    assert [x for span in got for x in span] == pytest.approx([x for span in merged for x in span])


@pytest.mark.parametrize("channels", [1, 2])
def test_tone_replaces_the_span_in_every_channel_and_nothing_else(channels):
    audio = speech_like(channels)
    out = redact_audio(audio, RATE, [(1.0, 1.5)], margin_s=0.1, fade_ms=10)
    assert out.shape == audio.shape and out.dtype == np.float32
    a, b, fade = int(0.9 * RATE), int(1.6 * RATE), int(0.01 * RATE)
    tone = 10 ** (-24 / 20) * np.sin(2 * np.pi * 1000 * np.arange(a, b) / RATE)
    for c in range(channels):
        assert np.allclose(out[c, a:b], tone, atol=1e-5)
        assert np.array_equal(out[c, : a - fade], audio[c, : a - fade])
        assert np.array_equal(out[c, b + fade :], audio[c, b + fade :])
    assert np.array_equal(audio, speech_like(channels)), "the input must not be changed"


def test_mono_vector_and_silence_mode():
    audio = speech_like(1)[0]
    out = redact_audio(audio, RATE, [(0.5, 1.0)], margin_s=0.0, mode="silence")
    assert out.shape == audio.shape
    assert np.all(out[int(0.5 * RATE) : int(1.0 * RATE)] == 0)
    assert np.array_equal(out[: int(0.49 * RATE)], audio[: int(0.49 * RATE)])


def test_edges_are_faded_without_clicks():
    t = np.arange(2 * RATE) / RATE
    audio = np.stack([0.5 * np.cos(2 * np.pi * 50 * t)] * 2).astype(np.float32)  # at a peak where cut
    tone_step = 2 * np.pi * 1000 / RATE * 10 ** (-24 / 20)
    smooth = redact_audio(audio, RATE, [(1.0, 1.2)], margin_s=0.05, fade_ms=10)
    hard = redact_audio(audio, RATE, [(1.0, 1.2)], margin_s=0.05, fade_ms=0)
    assert np.abs(np.diff(smooth, axis=1)).max() <= 1.5 * tone_step
    assert np.abs(np.diff(hard, axis=1)).max() > 0.4


def test_spans_at_the_edges_of_the_recording():
    audio = speech_like(1, seconds=1.0)
    out = redact_audio(audio, RATE, [(0.0, 0.1), (0.95, 5.0)], margin_s=0.15, mode="silence")
    assert np.all(out[0, : int(0.25 * RATE)] == 0) and np.all(out[0, int(0.8 * RATE) :] == 0)


@pytest.mark.parametrize(
    ("samples", "kwargs", "message"),
    [
        (np.zeros((1, 2, 3)), {}, r"\(n,\) or \(channels, n\)"),
        (np.zeros(10), {"mode": "beep"}, "'tone' or 'silence'"),
        (np.zeros(10), {"sample_rate": 0}, "positive"),
    ],
)
def test_rejects_bad_input(samples, kwargs, message):
    args = {"sample_rate": RATE, **kwargs}
    with pytest.raises(ValueError, match=message):
        redact_audio(samples, args.pop("sample_rate"), [(0, 0.001)], **args)


def test_settings_defaults_and_rejects_unknown_fields():
    s = AnonymiseSettings()
    assert (s.margin_s, s.mode, s.tone_hz) == (0.15, "tone", 1000.0)
    with pytest.raises(ValueError):
        AnonymiseSettings(margin=1)


def _reference(call_id: str) -> Transcript:
    return from_json(json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text()))


def test_sample_call_reference_spans_are_covered_on_the_right_channel():
    """amk-001: "Storgata tolv i Lillevik" is on the caller's channel; both channels get the tone."""
    audio = decode_audio(SAMPLES / "audio" / "amk-001-bevisstlos.mp3")
    redacted, spans = redact_transcript(_reference("amk-001-bevisstlos"))
    assert "[ADRESSE] i [STED], andre etasje." in redacted.text
    address = [s for s in spans if s.kind in ("ADRESSE", "STED")]
    assert address and all(
        s.estimated and s.channel == 1 and 14.7 <= s.start_s < s.end_s <= 18.1 for s in address
    )
    out = redact_audio(audio.samples, SAMPLE_RATE, [(s.start_s, s.end_s) for s in address], margin_s=0.5)
    a, b = int(address[0].start_s * SAMPLE_RATE), int(address[-1].end_s * SAMPLE_RATE)
    before = float(np.sqrt(np.mean(audio.samples[1, a:b] ** 2)))
    after = out[1, a:b]
    assert before > 0.02
    assert float(np.sqrt(np.mean(after**2))) == pytest.approx(10 ** (-24 / 20) / np.sqrt(2), rel=0.02)
    assert np.array_equal(out[:, : int(10 * SAMPLE_RATE)], audio.samples[:, : int(10 * SAMPLE_RATE)])


# --- the real model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def norwegian(bundled_model):
    from transcription import AsrOptions, Transcriber, load_model, resolve_model

    spec = resolve_model("bundled-base", models_dir=bundled_model.parent, offline=True)
    return Transcriber(load_model(spec, device="cpu", compute_type="int8"), AsrOptions(language="no"))


def _tokens(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) >= 3}


def _transcribe(transcriber, audio: DecodedAudio, call_id: str) -> Transcript:
    return Transcript(call_id, "no", tuple(transcriber.transcribe(audio).segments))


@pytest.mark.model
def test_redacted_names_are_gone_when_real_speech_is_transcribed_again(testdata, norwegian):
    """Real parliament speech naming "Trond Giske": find the names, cover them, transcribe again."""
    audio = decode_audio(testdata / "norwegian_npsc" / "norwegian-medium-8s.mp3")
    transcript = _transcribe(norwegian, audio, "npsc-medium")
    redacted, spans = redact_transcript(transcript)
    assert "giske" in transcript.text.lower() and "[NAVN]" in redacted.text, redacted.text
    assert not any(s.estimated for s in spans)
    hidden = {
        tok
        for seg, new in zip(transcript.segments, redacted.segments, strict=True)
        for w in seg.words
        if w not in new.words
        for tok in _tokens(w.text)
    }
    out = redact_audio(audio.samples, SAMPLE_RATE, [(s.start_s, s.end_s) for s in spans], margin_s=0.15)
    again = _transcribe(norwegian, DecodedAudio(out, audio.layout, audio.info), "npsc-medium-redacted")
    heard_again = again.text.lower().replace(" ", "")
    assert any("giske" in tok for tok in hidden), (transcript.text, hidden)
    assert not [tok for tok in hidden if tok in heard_again], (transcript.text, again.text)
    kept = _tokens(transcript.text) - hidden
    assert len(kept & _tokens(again.text)) >= 2, (transcript.text, again.text)


@pytest.mark.model
def test_reference_spans_of_a_sample_call_hide_what_the_model_heard(norwegian):
    """amk-001, caller's channel 11-19 s ("Storgata tolv i Lillevik"): spans interpolated from the
    reference turn (no word timings) hide every word the model recognises inside them."""
    full = decode_audio(SAMPLES / "audio" / "amk-001-bevisstlos.mp3")
    a, b = 11 * SAMPLE_RATE, 19 * SAMPLE_RATE
    crop = DecodedAudio(np.ascontiguousarray(full.samples[1:2, a:b]), "mono", full.info)
    _, spans = redact_transcript(_reference("amk-001-bevisstlos"))
    covered = [(s.start_s - 11, s.end_s - 11) for s in spans if s.kind in ("ADRESSE", "STED")]
    margin = AnonymiseSettings().estimated_margin_s
    before = _transcribe(norwegian, crop, "amk-crop")
    inside = {
        tok
        for seg in before.segments
        for w in seg.words
        if any(w.start < e + margin and w.end > s - margin for s, e in covered)
        for tok in _tokens(w.text)
    }
    out = redact_audio(crop.samples, SAMPLE_RATE, covered, margin_s=margin)
    after = _transcribe(norwegian, DecodedAudio(out, "mono", full.info), "amk-crop-redacted")
    assert inside, before.text
    assert not inside & _tokens(after.text), (before.text, after.text)


def test_cover_redactions_widens_estimated_spans_more():
    from anonymise import WordRedaction, cover_redactions

    audio = speech_like(2)
    spans = [WordRedaction(0, 0.5, 0.6, "NAVN", 0), WordRedaction(1, 2.0, 2.1, "TELEFON", 1, estimated=True)]
    out = cover_redactions(
        audio, RATE, spans, AnonymiseSettings(mode="silence", margin_s=0.1, estimated_margin_s=0.3)
    )
    assert np.all(out[:, int(0.4 * RATE) : int(0.7 * RATE)] == 0)
    assert np.array_equal(
        out[:, int(0.75 * RATE) : int(1.6 * RATE)], audio[:, int(0.75 * RATE) : int(1.6 * RATE)]
    )
    assert np.all(out[:, int(1.7 * RATE) : int(2.4 * RATE)] == 0)
