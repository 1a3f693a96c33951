import pandas as pd
import pytest

from review.filters import InboxFilter

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

CALLS = pd.DataFrame({
    "call_id": ["a", "b", "c", "d"],
    "service": ["lvs", "lvs", "amk", "legevaktlege"],
    "operator_id": ["op-anne", "op-lise", "op-anne", None],
    "status": ["transcribed", "pending", "transcribed", "no_audio"],
    "flagged": [True, False, False, False],
    "unit": ["Nordby", "Sørvik", "Nordby", "Sørvik"],
    "quality_level": ["dårlig", None, "skrevet", None],
})  # fmt: skip


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (InboxFilter(), ["a", "b", "c", "d"]),
        (InboxFilter(services=("lvs",)), ["a", "b"]),
        (InboxFilter(services=("lvs", "amk"), operators=("op-anne",)), ["a", "c"]),
        (InboxFilter(statuses=("transcribed",)), ["a", "c"]),
        (InboxFilter(only_flagged=True), ["a"]),
        (InboxFilter(services=("fastlege",)), []),
        (InboxFilter(units=("Sørvik",)), ["b", "d"]),
        (InboxFilter(services=("lvs",), units=("Nordby",)), ["a"]),
        (InboxFilter(qualities=("dårlig",)), ["a"]),  # transcript quality, «kvalitet=» in the URL
        (InboxFilter(qualities=("dårlig", "skrevet")), ["a", "c"]),
        (InboxFilter(qualities=("god",)), []),
    ],
)
def test_filters_narrow_the_inbox(chosen, expected):
    assert chosen.apply(CALLS)["call_id"].tolist() == expected


@pytest.mark.parametrize(
    "chosen",
    [
        InboxFilter(),
        InboxFilter(
            services=("lvs", "amk"), operators=("op-anne",), statuses=("pending",), only_flagged=True
        ),
        InboxFilter(units=("Nordby legevakt", "Sørvik legevakt")),
        InboxFilter(qualities=("dårlig", "usikker")),
    ],
)
def test_filters_round_trip_through_the_url(chosen):
    assert InboxFilter.from_query(chosen.to_query()) == chosen


def test_the_quality_filter_lives_in_the_url_as_kvalitet():
    assert InboxFilter(qualities=("dårlig",)).to_query()["kvalitet"] == ["dårlig"]
    assert InboxFilter.from_query({"kvalitet": ["usikker"]}).qualities == ("usikker",)
