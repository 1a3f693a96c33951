from pathlib import Path

import pytest

from lydlogg.metadata import COLUMNS, MetadataError, read_metadata

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

HEADER = ",".join(COLUMNS)


def write_csv(folder: Path, *rows: str, header: str = HEADER) -> Path:
    path = folder / "meta.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_good_row_is_parsed(tmp_path):
    (tmp_path / "audio").mkdir()
    path = write_csv(
        tmp_path, "c1,2026-03-02T18:40:00+01:00,lvs,op-anne,+47 400 12 345,pas-1,yellow,audio/c1.wav"
    )
    rows, errors = read_metadata(path)
    assert errors == []
    (row,) = rows
    assert row.call_id == "c1" and row.service == "lvs" and row.urgency == "yellow"
    assert row.started_at.utcoffset().total_seconds() == 3600
    assert row.audio_file == (tmp_path / "audio" / "c1.wav").resolve()
    assert row.line == 2


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("c2,2026-03-29 02:30,lvs,,,,,", "does not exist in Europe/Oslo"),
        ("c2,2026-10-25 02:30,lvs,,,,,", "ambiguous in Europe/Oslo"),
        ("c2,yesterday,lvs,,,,,", "expected ISO-8601"),
        ("c2,,ambulance,,,,,", "service is not one of lvs, amk, legevaktlege, fastlege"),
        ("c2,,,,,,orange,", "urgency is not one of red, yellow, green"),
        (",,lvs,,,,,", "call_id is empty"),
        ("c 2,,lvs,,,,,", "call_id is empty or has characters"),
        ("c2,,,,,,,../../etc/passwd.wav", "outside the CSV's folder"),
        ("c2,,,,,,,/etc/passwd.wav", "is absolute"),
        ("c2,,,,,,,,,,extra", "more fields"),
    ],
)
def test_bad_row_is_reported_with_file_line_and_reason_and_good_rows_survive(tmp_path, row, reason):
    path = write_csv(tmp_path, "ok1,,lvs,,,,,", row, "ok2,,amk,,,,,")
    rows, errors = read_metadata(path)
    assert [r.call_id for r in rows] == ["ok1", "ok2"]
    (error,) = errors
    assert error.line == 3 and error.file == path
    assert reason in error.reason
    assert str(path) in str(error) and ":3:" in str(error)
    for raw in ("yesterday", "ambulance", "orange", "passwd"):  # no field value is echoed
        assert raw not in error.reason


def test_bad_caller_number_is_reported_without_echoing_it(tmp_path):
    path = write_csv(tmp_path, "c1,,lvs,,x1,,,")
    _rows, errors = read_metadata(path)
    assert "caller_number" in errors[0].reason and "x1" not in errors[0].reason


def test_duplicate_call_id_in_one_file(tmp_path):
    path = write_csv(tmp_path, "c1,,lvs,,,,,", "c1,,amk,,,,,")
    rows, errors = read_metadata(path)
    assert len(rows) == 1 and "appears twice" in errors[0].reason


def test_columns_may_come_in_any_order_and_be_left_out(tmp_path):
    path = write_csv(tmp_path, "lvs,c9", header="service,call_id")
    rows, errors = read_metadata(path)
    assert errors == [] and rows[0].call_id == "c9" and rows[0].audio_file is None


@pytest.mark.parametrize(
    ("header", "message"),
    [("id,service", "call_id required"), ("phone;service", "call_id required")],
)
def test_bad_header_rejects_the_file_naming_accepted_columns(tmp_path, header, message):
    path = write_csv(tmp_path, "x,y", header=header)
    with pytest.raises(MetadataError) as err:
        read_metadata(path)
    assert message in str(err.value) and "started_at" in str(err.value) and str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(MetadataError, match="not found"):
        read_metadata(tmp_path / "none.csv")


def test_a_phone_number_in_the_wrong_column_is_never_echoed(tmp_path):
    path = write_csv(tmp_path, "c1,+4799887766,98765432,,,,,")
    _rows, errors = read_metadata(path)
    assert errors and all("99887766" not in e.reason and "98765432" not in e.reason for e in errors)
