"""A long call through ``lydlogg process`` in blocks read from its file, against one pass over the
call held in memory: the real model on real speech (the sample call and the NPSC clips)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLES, make_settings

from lydlogg.batch import asr_options, process
from lydlogg.ingest import ingest
from transcription import AsrOptions, Transcriber, decode_audio
from transcription.asr import _CUT_SEARCH_S, block_starts
from transcription.audio import SAMPLE_RATE

pytestmark = pytest.mark.model

BLOCK_S = 60  # the smallest `asr.block_s` the settings take: a 4-minute call is four blocks


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def _long_call(testdata: Path, folder: Path) -> tuple[Path, tuple[float, float]]:
    """A mono call with a 96 s conversation (the sample call twice), so the first block boundary
    must fall inside talk, then NPSC clips each 35 s of silence apart. Returns the file and where
    the conversation lies."""
    talk = sf.read(str(SAMPLES / "audio" / "lvs-004-kuttskade.wav"), dtype="float32")[0]
    clips = [decode_audio(testdata / "norwegian_npsc" / f"norwegian-{n}.mp3").samples[0]
             for n in ("medium-8s", "short-3s", "medium-8s")]  # fmt: skip
    parts = [_silence(5), talk, talk]
    for clip in clips:
        parts += [_silence(35), clip]
    target = folder / "long-call.wav"
    sf.write(target, np.concatenate([*parts, _silence(5)]), SAMPLE_RATE, subtype="PCM_16")
    return target, (5.0, 5.0 + 2 * len(talk) / SAMPLE_RATE)


class _Recording(Transcriber):
    """The real transcriber, noting how many samples each decoder pass is given."""

    sizes: list[int] = []

    def _decode(self, samples, progress, **kwargs):  # noqa: ANN001, ANN202 - as Transcriber._decode
        type(self).sizes.append(len(samples))
        return super()._decode(samples, progress, **kwargs)


def _norm(text: str) -> str:
    return re.sub(r"\W", "", text.lower())


@pytest.fixture(scope="module")
def long_run(tmp_path_factory, testdata, whisper_base):
    """The call through ingest and process with ``asr.block_s = 60``, and one pass of the same
    model and options over the whole call in memory."""
    folder = tmp_path_factory.mktemp("long-call")
    path, talk = _long_call(testdata, folder)
    settings = make_settings(folder, block_s=BLOCK_S)
    assert not ingest(settings, [path]).failures

    _Recording.sizes = []
    report = process(settings, transcriber_factory=lambda _spec, options: _Recording(whisper_base, options))
    assert report.done and not report.failed, report.failed
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        blocked = con.execute(
            "SELECT start_s, end_s, text FROM words ORDER BY start_s, segment_index, word_index"
        ).fetchall()
    sizes = list(_Recording.sizes)
    whole_audio = decode_audio(path)
    one_pass = Transcriber(whisper_base, replace(asr_options(settings), block_s=100_000))
    whole = one_pass.transcribe(whole_audio)
    words = [(w.start, w.end, w.text) for s in whole.segments for w in s.words]
    cuts = [s / SAMPLE_RATE for s in block_starts(whole_audio.samples, BLOCK_S)[1:]]
    return {"blocked": blocked, "whole": words, "sizes": sizes, "cuts": cuts, "talk": talk,
            "samples": whole_audio.samples.shape[1]}  # fmt: skip


def test_no_decoder_pass_is_given_more_than_a_block(long_run):
    assert len(long_run["cuts"]) >= 2  # the call was cut into three blocks or more
    longest = int((1.1 * BLOCK_S + 2 * _CUT_SEARCH_S) * SAMPLE_RATE)
    assert long_run["sizes"] and max(long_run["sizes"]) <= longest, long_run["sizes"]
    assert max(long_run["sizes"]) < long_run["samples"] / 2


def _covered(words, by, slack: float = 0.3) -> float:
    """Share of ``words`` whose time span meets a word of ``by`` (within ``slack`` seconds)."""
    return float(
        np.mean([any(s < end + slack and start - slack < e for s, e, _t in by) for start, end, _t in words])
    )


def test_words_keep_their_call_times_across_blocks(long_run):
    """The blocks' words sit where the one pass put them. Whisper base hears these clips poorly
    (WER 0.6-0.75), and a different grouping of chunks into batches changes some words, so the
    check is on time: nearly every word of either run meets one of the other, and words both runs
    wrote alike start at the same moment."""
    import difflib

    blocked, whole = long_run["blocked"], long_run["whole"]
    assert len(whole) > 150
    assert _covered(whole, blocked) >= 0.95 and _covered(blocked, whole) >= 0.95
    same = difflib.SequenceMatcher(
        a=[_norm(w[2]) for w in whole], b=[_norm(w[2]) for w in blocked], autojunk=False
    )
    matched = [(m.a + k, m.b + k) for m in same.get_matching_blocks() for k in range(m.size)]
    shifts = [abs(whole[i][0] - blocked[j][0]) for i, j in matched]
    assert len(shifts) >= 0.5 * len(whole)
    assert np.mean(np.array(shifts) <= 0.1) >= 0.85
    assert max(w[1] for w in blocked) > long_run["cuts"][-1]  # the last block's words are there


def test_nothing_is_lost_where_a_block_boundary_cuts_the_conversation(long_run):
    """The first boundary falls inside the conversation (at its quietest quarter second): every
    word the one pass heard near it is heard in the blocks too, at about the same time, and the
    conversation keeps its length in words."""
    lo, hi = long_run["talk"]
    cut = long_run["cuts"][0]
    assert lo < cut < hi
    near = [w for w in long_run["whole"] if abs(w[0] - cut) < 3.0]
    assert near and _covered(near, long_run["blocked"]) == 1.0, (cut, near)
    in_talk = [w for w in long_run["blocked"] if lo <= w[0] < hi]
    whole_talk = [w for w in long_run["whole"] if lo <= w[0] < hi]
    assert abs(len(in_talk) - len(whole_talk)) <= 0.1 * len(whole_talk)
    times = [w[0] for w in long_run["blocked"]]
    assert times == sorted(times) and all(0 <= s <= e for s, e, _t in long_run["blocked"])


@pytest.mark.parametrize("batch_size", [8, 1])
def test_a_short_call_is_one_pass_over_the_whole_array_as_before(whisper_base, batch_size):
    """A call no longer than one block takes the path it always took: decoded whole into memory
    and given whole to the decoder, so its words are plain faster-whisper's on the whole call to
    the last digit (batched, and sequential which now also decodes long calls in blocks)."""
    from faster_whisper import BatchedInferencePipeline

    path = SAMPLES / "audio" / "lvs-004-kuttskade.wav"
    audio = decode_audio(path, block_s=600)
    assert not audio.streamed
    assert np.array_equal(audio.samples, decode_audio(path).samples)
    options = AsrOptions(language="no", batch_size=batch_size)
    engine = BatchedInferencePipeline(whisper_base) if options.batched else whisper_base
    raw, _info = engine.transcribe(audio.samples[0], **options.transcribe_kwargs())
    plain = [(w.word.strip(), round(w.start, 3), round(w.end, 3), w.probability)
             for s in raw for w in s.words if w.word.strip()]  # fmt: skip
    ours = [(w.text, w.start, w.end, w.probability)
            for s in Transcriber(whisper_base, options).transcribe(audio).segments for w in s.words]  # fmt: skip
    assert len(plain) > 50
    assert ours == plain


@pytest.fixture(scope="module")
def whisper_base(bundled_model):
    from transcription import load_model, resolve_model

    spec = resolve_model("bundled-base", models_dir=bundled_model.parent, offline=True)
    return load_model(spec, device="cpu", compute_type="int8")
