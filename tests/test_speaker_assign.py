"""Words to speakers, segment splitting, turn joining and label smoothing: pure, in milliseconds."""

from __future__ import annotations

import numpy as np
import pytest

from transcription.diarization import Diarization, SpeakerTurn, assign_segments, speaker_for
from transcription.diarization.pipeline import join_turns
from transcription.diarization.windows import labels_to_diarization, region_windows, smooth_labels
from transcription.types import Segment, Word

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

TURNS = (SpeakerTurn(0.0, 2.0, "S1"), SpeakerTurn(2.5, 5.0, "S2"), SpeakerTurn(6.0, 8.0, "S1"))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0.5, 1.0, "S1"),  # inside a turn
        (1.8, 2.6, "S1"),  # overlaps both; more of S1 (0.2 vs 0.1)
        (1.9, 2.8, "S2"),  # overlaps both; more of S2 (0.1 vs 0.3)
        (2.1, 2.3, "S1"),  # in the gap, nearer S1's end (0.1) than S2's start (0.2)
        (2.3, 2.45, "S2"),  # in the gap, nearer S2
        (5.4, 5.5, "S2"),  # gap between S2 and S1: nearer S2
        (9.0, 9.5, "S1"),  # after every turn
        (-1.0, -0.5, "S1"),  # before every turn
    ],
)
def test_a_word_goes_to_the_turn_it_overlaps_most_else_the_nearest(start, end, expected):
    assert speaker_for(TURNS, start, end) == expected


def test_an_exact_tie_goes_to_the_turn_whose_centre_is_nearer():
    turns = (SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.0, 4.0, "B"))
    assert speaker_for(turns, 0.5, 1.5) == "A"  # 0.5 s each; A's centre (0.5) is nearer than B's (2.5)


def test_no_turns_means_no_speaker():
    assert speaker_for((), 0.0, 1.0) is None


def _words(*spans: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(a, b, text, 0.9) for a, b, text in spans)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (_words((0.1, 0.5, "Legevakten,"), (0.6, 1.2, "hei.")), [("S1", "Legevakten, hei.")]),
        (
            _words((0.1, 0.5, "Hei."), (2.6, 3.0, "Jeg"), (3.1, 3.5, "ringer")),
            [("S1", "Hei."), ("S2", "Jeg ringer")],
        ),
        (
            _words((0.1, 0.5, "a"), (2.6, 3.0, "b"), (6.1, 6.5, "c")),
            [("S1", "a"), ("S2", "b"), ("S1", "c")],
        ),
    ],
)
def test_a_segment_is_split_where_its_words_change_speaker(words, expected):
    segment = Segment(0.0, 7.0, " ".join(w.text for w in words), words=words, avg_logprob=-0.3)
    out = assign_segments([segment], Diarization("builtin", TURNS))
    assert [(s.speaker, s.text) for s in out] == expected
    assert [w for s in out for w in s.words] == list(words)  # no word lost or repeated
    assert out[0].start == 0.0 and out[-1].end == 7.0
    assert all(s.avg_logprob == -0.3 for s in out)


def test_an_unsplit_segment_keeps_its_text_and_a_wordless_one_goes_by_its_span():
    words = _words((0.1, 0.5, "Hei"), (0.6, 1.0, "du"))
    kept = assign_segments([Segment(0.0, 1.1, "Hei, du!", words=words)], Diarization("builtin", TURNS))
    assert [(s.speaker, s.text) for s in kept] == [("S1", "Hei, du!")]
    bare = assign_segments([Segment(2.6, 4.0, "Ja.")], Diarization("builtin", TURNS))
    assert bare[0].speaker == "S2"


def test_on_a_channel_call_the_channel_decides_even_against_the_timing():
    diarization = Diarization("channels", TURNS, channel_speakers=((0, "S1"), (1, "S2")))
    words = (Word(0.1, 0.5, "crosstalk", 0.9, channel=1),)
    out = assign_segments([Segment(0.0, 0.6, "crosstalk", channel=1, words=words)], diarization)
    assert out[0].speaker == "S2"


@pytest.mark.parametrize(
    ("turns", "pause", "expected"),
    [
        ([(0, 1, "A"), (1.5, 3, "A")], 1.0, [(0, 3, "A")]),  # a pause inside one speaker's talk
        ([(0, 1, "A"), (2.5, 3, "A")], 1.0, [(0, 1, "A"), (2.5, 3, "A")]),  # too long a pause
        ([(0, 1, "A"), (1.1, 1.3, "B"), (1.5, 3, "A")], 1.0, [(0, 1, "A"), (1.1, 1.3, "B"), (1.5, 3, "A")]),
        ([(0, 2, "A"), (0.5, 1.0, "B"), (2.2, 3, "A")], 1.0, [(0, 3, "A"), (0.5, 1.0, "B")]),  # B inside A
        ([(0, 1, "A"), (1.5, 3, "A")], 0.0, [(0, 1, "A"), (1.5, 3, "A")]),
    ],
)
def test_turns_join_across_short_pauses_when_nobody_else_speaks(turns, pause, expected):
    joined = join_turns(tuple(SpeakerTurn(*t) for t in turns), pause)
    assert sorted((t.start, t.end, t.speaker) for t in joined) == sorted(expected)


@pytest.mark.parametrize(
    ("labels", "groups", "min_windows", "expected"),
    [
        ([0, 0, 0, 1, 0, 0, 0], [0] * 7, 2, [0] * 7),  # a one-window flip inside a region
        ([0, 0, 0, 1, 1, 1, 1], [0] * 7, 2, [0, 0, 0, 1, 1, 1, 1]),  # a real change stays
        (
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 2, 2, 2],
            2,
            [0, 0, 0, 1, 0, 0, 0],
        ),  # a short reply in its own region
        ([0, 1, 0, 1], [0] * 4, 1, [0, 1, 0, 1]),  # smoothing off
        ([1, 0, 0, 0], [0] * 4, 2, [0, 0, 0, 0]),  # a flip at the region's start
    ],
)
def test_short_speaker_flips_are_smoothed_inside_a_region_only(labels, groups, min_windows, expected):
    out = smooth_labels(np.array(labels), np.array(groups), min_windows)
    assert out.tolist() == expected


REGIONS = [(0.0, 3.0), (4.0, 5.0)]  # windows every 0.5 s at 0.5 .. 2.5 in the first, one at 4.5 in the second


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([0, 0, 1, 0, 0, 1], [(0.0, 3.0, "S1"), (4.0, 5.0, "S2")]),  # a one-window flip is smoothed away
        (
            [0, 0, 1, 1, 1, 1],
            [(0.0, 1.25, "S1"), (1.25, 3.0, "S2"), (4.0, 5.0, "S2")],
        ),  # a change cut halfway
        ([3, 3, 3, 3, 3, 7], [(0.0, 3.0, "S1"), (4.0, 5.0, "S2")]),  # names by first appearance
    ],
)
def test_the_mono_methods_last_steps_smooth_cut_and_name_the_turns(labels, expected, caplog):
    windows = region_windows(REGIONS, 1.0, 0.5)
    assert windows[:, 0].tolist() == [0.5, 1.0, 1.5, 2.0, 2.5, 4.5]
    with caplog.at_level("INFO", logger="transcription.diarization.windows"):
        out = labels_to_diarization(
            "embeddings", REGIONS, windows, np.array(labels), min_turn_s=1.0, hop_s=0.5, notes=("n",)
        )
    assert out.strategy == "embeddings" and out.notes == ("n",)
    assert [(t.start, t.end, t.speaker) for t in out.turns] == expected
    assert caplog.messages == [
        f"embeddings diarization: 2 regions, 6 windows, 2 speakers, {len(expected)} turns"
    ]
