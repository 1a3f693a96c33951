"""Conversation measures: constructed turn lists (exact answers) and the stereo sample calls."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import maximum_filter1d

from lydlogg.conversation import Turn, measure, party_of
from transcription.audio import SAMPLE_RATE, decode_audio

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def S(start, end, text=""):  # noqa: N802 - reads like a transcript
    return Turn(start, end, "staff", text)


def C(start, end, text=""):  # noqa: N802
    return Turn(start, end, "caller", text)


def test_plain_alternating_call():
    m = measure([S(0, 4, "Legevakten."), C(5, 9), S(10, 12, "Hvor gammel er han?"), C(14, 15)], exact=True)
    assert m.basis == "exact"
    assert (m.staff_talk_s, m.caller_talk_s, m.talk_ratio) == (6, 5, 1.2)
    assert m.silence_share == pytest.approx(4 / 15, abs=1e-3)  # gaps 1 + 1 + 2 over 0-15 s
    assert m.longest_silence_s == 2
    assert (m.overlap_s, m.interruptions_by_staff, m.interruptions_by_caller) == (0, 0, 0)
    assert m.time_to_first_question_s == 10
    assert m.longest_staff_monologue_s == 4


def test_talk_over_counts_who_started_inside_the_other():
    turns = [S(0, 10), C(8, 12), S(11.5, 15), C(14.9, 16)]  # caller cuts in at 8; staff at 11.5; 0.1 s jitter
    m = measure(turns, exact=False)
    assert m.basis == "estimated"
    assert m.overlap_s == 2.5  # 8-10 and 11.5-12; 14.9-15 is under the 0.3 s bar
    assert (m.interruptions_by_caller, m.interruptions_by_staff) == (1, 1)
    assert m.silence_share == 0 and m.longest_silence_s == 0


def test_monologue_spans_staff_turns_until_the_caller_speaks():
    m = measure([S(0, 5), S(6, 20), C(21, 22), S(23, 25)], exact=True)
    assert m.longest_staff_monologue_s == 20
    assert m.time_to_first_question_s is None


@pytest.mark.parametrize(
    ("turns", "ratio"),
    [([S(0, 3)], None), ([C(0, 3)], 0.0), ([S(0, 2), C(2, 6)], 0.5)],
)
def test_one_sided_calls(turns, ratio):
    assert measure(turns, exact=True).talk_ratio == ratio


def test_nobody_heard_gives_nothing():
    assert measure([], exact=True) is None and measure([S(3, 3)], exact=True) is None


@pytest.mark.parametrize(("role", "party"), [("operator", "staff"), ("doctor", "staff"), ("caller", "caller"),
                                             ("other", None), (None, None)])  # fmt: skip
def test_roles_map_to_parties(role, party):
    assert party_of(role) == party


def _active_seconds(channel: np.ndarray) -> float:
    """Seconds of 20 ms frames above a tenth of the loudest, gaps under 300 ms bridged."""
    frame = SAMPLE_RATE // 50
    n = channel.size // frame
    rms = np.sqrt((channel[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    return float(maximum_filter1d((rms > 0.1 * rms.max()).astype(int), 15).sum()) / 50


STEREO = sorted(
    p for p in (SAMPLES / "reference").glob("*.json") if json.loads(p.read_text())["channels"] == 2
)


@pytest.mark.parametrize("path", STEREO, ids=lambda p: p.stem)
def test_stereo_sample_talk_times_match_each_channels_audio(path):
    doc = json.loads(path.read_text())
    turns = [Turn(s["start"], s["end"], party_of(s["role"]), s["text"]) for s in doc["segments"]]
    m = measure(turns, exact=True)
    audio = decode_audio(SAMPLES / doc["audio_file"])
    assert audio.layout == "stereo"
    staff_channel = next(s["channel"] for s in doc["segments"] if party_of(s["role"]) == "staff")
    heard_staff = _active_seconds(audio.samples[staff_channel])
    heard_caller = _active_seconds(audio.samples[1 - staff_channel])
    # each party's talk time from the turns agrees with the energy on its own channel
    assert m.staff_talk_s == pytest.approx(heard_staff, rel=0.1)
    assert m.caller_talk_s == pytest.approx(heard_caller, rel=0.1)
    assert 0 <= m.silence_share < 0.5 and m.time_to_first_question_s is not None
