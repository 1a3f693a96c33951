import pytest

from review.comparison import compare_reviews, parse_segment_comments, unanchored_lines
from review.service import Review
from transcription.types import Segment, Transcript

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

T = Transcript("c", "no", tuple(Segment(float(i * 10), float(i * 10 + 5), f"s{i}") for i in range(3)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("2: godt spørsmål", [(1, 10.0, "godt spørsmål")]),
        ("1) her\n\n3 - og her", [(0, 0.0, "her"), (2, 20.0, "og her")]),
        ("9: finnes ikke", [(None, None, "9: finnes ikke")]),
        ("bare en merknad", [(None, None, "bare en merknad")]),
    ],
)
def test_segment_comments_are_parsed_from_numbered_lines(text, expected):
    assert parse_segment_comments(text, T) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("2: godt\n\n3) her", []),
        ("0: før første\n4: etter siste\n1: ok", ["0: før første", "4: etter siste"]),
        ("bare en merknad", ["bare en merknad"]),
        ("  2 godt spørsmål", ["2 godt spørsmål"]),  # no sign after the number: not an anchor
    ],
)
def test_lines_that_name_no_segment_are_found(text, expected):
    assert unanchored_lines(text, 3) == expected


def test_comparison_marks_differences():
    own = Review("r1", "c", "anne", "self", "lvs_operator", 1, None, None, values={"a": 1, "b": 2})
    peer = Review("r2", "c", "veileder", "peer", "lvs_operator", 1, None, None, values={"a": 1, "b": 3})
    table = compare_reviews(own, [peer], [("a", "A"), ("b", "B")])
    assert table["Ulik"].tolist() == [False, True]
    assert table["veileder"].tolist() == [1, 3] and table["Egen vurdering"].tolist() == [1, 2]
