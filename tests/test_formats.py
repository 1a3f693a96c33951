import pytest

from transcription.formats import TranscriptFormatError, from_json, to_json, to_txt, to_vtt
from transcription.types import Segment, Transcript, Word

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

T = Transcript(
    call_id="c1",
    language="no",
    segments=(
        Segment(
            0.0,
            2.5,
            "Legevakten, du snakker med Kari.",
            channel=0,
            words=(Word(0.0, 0.9, "Legevakten,", 0.91, 0), Word(1.0, 2.5, "Kari.", 0.5, 0)),
        ),
        Segment(61.25, 64.0, "Hei, jeg ringer om datteren min.", channel=1, speaker="S2", role="caller"),
    ),
)


def test_json_round_trip_keeps_the_contract_shape():
    doc = to_json(T)
    assert set(doc) == {"call_id", "language", "segments"}
    assert set(doc["segments"][0]) == {"start", "end", "channel", "speaker", "role", "text", "words"}
    assert doc["segments"][0]["speaker"] is None and doc["segments"][0]["role"] is None
    assert from_json(doc) == T


def test_vtt_has_cues_with_times_and_voices():
    vtt = to_vtt(T)
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:00.000 --> 00:00:02.500\n<v kanal 1>Legevakten" in vtt
    assert "00:01:01.250 --> 00:01:04.000\n<v caller>Hei" in vtt


def test_txt_lines():
    assert to_txt(T).splitlines() == [
        "[00:00] kanal 1: Legevakten, du snakker med Kari.",
        "[01:01] caller: Hei, jeg ringer om datteren min.",
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({"language": "no", "segments": []}, "call_id"),
        ({"call_id": "x", "segments": {}}, "'segments' must be a list"),
        ({"call_id": "x", "segments": [{"start": 0, "end": 1}]}, "segments[0]"),
        ({"call_id": "x", "segments": [{"start": "0", "end": 1, "text": "a"}]}, "segments[0].start"),
        ({"call_id": "x", "segments": [{"start": 2, "end": 1, "text": "a"}]}, "before start"),
        (
            {"call_id": "x", "segments": [{"start": 0, "end": 1, "text": "a", "role": "nurse"}]},
            "operator, doctor",
        ),
    ],
)
def test_bad_documents_are_rejected_saying_what_is_accepted(doc, message):
    with pytest.raises(TranscriptFormatError) as err:
        from_json(doc)
    assert message in str(err.value)
