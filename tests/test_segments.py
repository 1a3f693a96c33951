"""Splitting segments at pauses and mapping a joint decoder pass back to channels (pure)."""

import numpy as np
import pytest

from transcription.asr import AsrOptions, block_starts
from transcription.segments import ChannelSpan, split_at_pauses, split_by_channel
from transcription.types import Segment, Word


def _segment(*timed: tuple[float, float, str], channel=None) -> Segment:
    words = tuple(Word(a, b, t, 0.9, channel) for a, b, t in timed)
    return Segment(
        timed[0][0], timed[-1][1], " ".join(t for *_, t in timed), channel, words=words, avg_logprob=-0.3,
        no_speech_prob=0.1,
    )  # fmt: skip


def test_a_segment_is_cut_where_the_words_pause():
    seg = _segment((0.0, 0.4, "Legevakten,"), (0.5, 0.9, "hva"), (1.0, 1.3, "skjer?"), (4.2, 4.6, "Har"),
                   (4.7, 5.0, "du"), (5.1, 5.5, "feber?"))  # fmt: skip
    first, second = split_at_pauses(seg, 1.0)
    assert (first.start, first.end, first.text) == (0.0, 1.3, "Legevakten, hva skjer?")
    assert (second.start, second.end, second.text) == (4.2, 5.5, "Har du feber?")
    assert [len(p.words) for p in (first, second)] == [3, 3]
    assert first.avg_logprob == second.avg_logprob == -0.3 and second.no_speech_prob == 0.1


@pytest.mark.parametrize("pause", [0.0, 5.0])
def test_no_cut_when_splitting_is_off_or_no_pause_is_long_enough(pause):
    seg = _segment((0.0, 0.4, "ja"), (3.0, 3.4, "nei"))
    assert split_at_pauses(seg, pause) == [seg]


def test_a_segment_without_words_stays_whole():
    seg = Segment(0.0, 9.0, "tekst uten ord")
    assert split_at_pauses(seg, 0.5) == [seg]


def test_a_pause_exactly_at_the_threshold_cuts():
    seg = _segment((0.0, 1.0, "a"), (2.0, 2.5, "b"))
    assert [p.text for p in split_at_pauses(seg, 1.0)] == ["a", "b"]


def test_joint_pass_words_go_back_to_their_channel_and_call_time():
    # channel 0 occupies [0, 60) of the joint array, a 2 s gap, channel 1 [62, 122); block starts at 600 s
    spans = [ChannelSpan(0, 0.0, 60.0, 600.0), ChannelSpan(1, 62.0, 60.0, 600.0)]
    seg = _segment((58.0, 58.5, "ring"), (58.6, 59.2, "igjen."), (62.4, 62.9, "Takk"), (63.0, 63.3, "skal"))
    left, right = split_by_channel(seg, spans)
    assert (left.channel, left.start, left.end, left.text) == (0, 658.0, 659.2, "ring igjen.")
    assert (right.channel, right.start, right.end, right.text) == (1, 600.4, 601.3, "Takk skal")
    assert {w.channel for w in left.words} == {0} and {w.channel for w in right.words} == {1}


def test_a_word_in_the_gap_goes_to_the_nearest_channel():
    spans = [ChannelSpan(0, 0.0, 10.0), ChannelSpan(1, 12.0, 10.0)]
    (only,) = split_by_channel(_segment((11.8, 11.95, "ja")), spans)
    assert only.channel == 1 and only.start == pytest.approx(-0.2)


def test_a_segment_on_one_channel_keeps_its_text():
    seg = _segment((1.0, 1.5, "Hei"), (1.6, 2.0, "du"))
    seg = Segment(seg.start, seg.end, "Hei du!", words=seg.words)
    (same,) = split_by_channel(seg, [ChannelSpan(None, 0.0, 30.0, 5.0)])
    assert same.text == "Hei du!" and same.start == 6.0 and same.channel is None


def test_a_short_call_is_one_block():
    assert block_starts(np.zeros((2, 16_000 * 600)), 600) == [0]
    assert block_starts(np.zeros((1, 16_000 * 650)), 600) == [0]


def test_long_calls_are_cut_at_the_quietest_moment_near_each_boundary():
    rate = 16_000
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal((2, rate * 1500))).astype(np.float32)
    audio[:, rate * 610 : rate * 612] = 0.0  # a pause 10 s after the first boundary
    audio[:, rate * 1185 : rate * 1186] = 0.0  # one 15 s before the second (counted from the first cut)
    starts = block_starts(audio, 600)
    assert starts[0] == 0 and len(starts) == 3
    assert rate * 610 <= starts[1] < rate * 612
    assert rate * 1185 <= starts[2] < rate * 1186


def test_batching_needs_the_voice_activity_filter():
    assert AsrOptions(batch_size=8).batched
    assert not AsrOptions(batch_size=1).batched
    assert not AsrOptions(batch_size=8, vad_filter=False).batched
    assert "batch_size" not in AsrOptions(batch_size=1).transcribe_kwargs()
    assert AsrOptions(batch_size=8).hash() != AsrOptions(batch_size=1).hash()
    assert AsrOptions(pause_split_s=1.0).hash() != AsrOptions(pause_split_s=0.0).hash()
