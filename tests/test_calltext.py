import pytest

from lydlogg.calltext import build_call_text
from transcription.types import Segment, Transcript

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding


def T(*segments: Segment) -> Transcript:
    return Transcript("c1", "no", tuple(segments))


def test_roles_from_the_transcript_are_kept():
    call = build_call_text(
        T(Segment(0, 1, "Legevakten", role="operator"), Segment(1, 2, "hei", role="caller"))
    )
    assert [u.role for u in call.utterances] == ["operator", "caller"] and not call.roles_inferred
    assert [u.index for u in call.staff] == [0]


@pytest.mark.parametrize("staff_channel", [0, 1])
def test_stereo_without_roles_picks_the_operator_channel_from_the_words(staff_channel):
    other = 1 - staff_channel
    call = build_call_text(T(
        Segment(0, 2, "hallo ja hei", channel=other),
        Segment(2, 5, "Legevakten, du snakker med sykepleier Kari. Hva kan jeg hjelpe deg med?", channel=staff_channel),
        Segment(5, 9, "min sønn har hatt feber siden i går", channel=other),
        Segment(9, 11, "Hvordan har han det nå?", channel=staff_channel),
    ))  # fmt: skip
    assert call.roles_inferred
    assert {u.channel for u in call.staff} == {staff_channel}
    assert {u.channel for u in call.callers} == {other}


def test_mono_without_speakers_is_read_as_staff_and_says_so():
    call = build_call_text(T(Segment(0, 1, "hei"), Segment(1, 2, "hallo")))
    assert call.roles_inferred and len(call.staff) == 2 and "roller ukjent" in call.notes[0]
