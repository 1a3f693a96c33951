"""Metadata as telephony systems and spreadsheets really export it."""

import logging
from datetime import UTC, datetime

import pytest

from lydlogg.ingest import ingest
from lydlogg.metadata import MetadataError, MetadataSettings, read_metadata
from lydlogg.settings import load_settings

NORWEGIAN_EXPORT = (
    "SamtaleID;Starttid;Tjeneste;Hastegrad;Operatør;Kø;Kommentar\r\n"
    "s-1;02.03.2026 18:40;LVS;Rød;op-anne;Kø 1;ring tilbake\r\n"
    "s-2;2026-07-01 08:15:00;Legevaktlege;GUL;op-lise;Kø 2;\r\n"
    "s-3;2026-03-02T18:40:00+01:00;amk;grønn;op-per;;\r\n"
)
MAPPING = MetadataSettings(
    columns={
        "call_id": "SamtaleID",
        "started_at": "starttid",
        "service": "Tjeneste",
        "urgency": "Hastegrad",
        "operator_id": "Operatør",
    }
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_semicolon_export_with_own_column_names_in_any_encoding(tmp_path, caplog, encoding):
    path = tmp_path / "eksport.csv"
    path.write_bytes(NORWEGIAN_EXPORT.encode(encoding))
    with caplog.at_level(logging.WARNING, logger="lydlogg.metadata"):
        rows, errors = read_metadata(path, MAPPING)
    assert errors == []
    assert [(r.call_id, r.service, r.urgency, r.operator_id) for r in rows] == [
        ("s-1", "lvs", "red", "op-anne"),
        ("s-2", "legevaktlege", "yellow", "op-lise"),
        ("s-3", "amk", "green", "op-per"),
    ]
    # local Oslo time: CET in March, CEST in July
    assert rows[0].started_at.astimezone(UTC) == datetime(2026, 3, 2, 17, 40, tzinfo=UTC)
    assert rows[1].started_at.astimezone(UTC) == datetime(2026, 7, 1, 6, 15, tzinfo=UTC)
    assert rows[2].started_at.astimezone(UTC) == datetime(2026, 3, 2, 17, 40, tzinfo=UTC)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Kø" in warnings[0].getMessage() and "Kommentar" in warnings[0].getMessage()


def test_the_ambiguous_autumn_hour_is_reported_not_guessed(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        "call_id,started_at\na,2026-10-25 01:59\nb,2026-10-25 02:30\nc,2026-10-25 03:00\n"
        "d,2026-10-25T02:30:00+01:00\n",
        encoding="utf-8",
    )
    rows, errors = read_metadata(path)
    assert [r.call_id for r in rows] == ["a", "c", "d"]
    (error,) = errors
    assert str(error).startswith(f"{path}:3: started_at 2026-10-25 02:30 is ambiguous in Europe/Oslo")
    assert "+02:00 or +01:00" in error.reason
    assert rows[2].started_at.utcoffset().total_seconds() == 3600


def test_the_time_zone_is_a_setting(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("call_id,started_at\na,2026-10-25 02:30\n", encoding="utf-8")
    rows, errors = read_metadata(path, MetadataSettings(timezone="UTC"))
    assert errors == [] and rows[0].started_at == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown time zone"):
        MetadataSettings(timezone="Europe/Atlantis")
    with pytest.raises(ValueError, match="unknown Lydlogg column"):
        MetadataSettings(columns={"phone": "Telefon"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("service", "+47 41234567"),
        ("urgency", "41234567"),
        ("started_at", "41234567"),
        ("call_id", "4741 234567"),
    ],
)
def test_a_bad_value_that_could_be_a_phone_number_is_never_echoed(tmp_path, field, value):
    path = tmp_path / "m.csv"
    row = {"call_id": "c1", "service": "", "urgency": "", "started_at": ""} | {field: value}
    path.write_text("call_id;service;urgency;started_at\n" + ";".join(row.values()) + "\n", encoding="utf-8")
    _rows, (error,) = read_metadata(path)
    assert str(error).startswith(f"{path}:2: ")
    assert "41234567" not in str(error) and "234567" not in str(error)


def test_a_bad_word_names_what_is_accepted_without_echoing_the_value(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("call_id,urgency\nc1,oransje\n", encoding="utf-8")
    _rows, (error,) = read_metadata(path)
    assert error.reason == "urgency is not one of red, yellow, green (or rød, gul, grønn)"


def test_a_mapping_that_names_a_missing_column_says_so(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("ID;Tjeneste\n1;lvs\n", encoding="utf-8")
    with pytest.raises(
        MetadataError, match=r"call_id required\) \(metadata.columns maps call_id to 'SamtaleID'\)"
    ):
        read_metadata(path, MetadataSettings(columns={"call_id": "SamtaleID"}))


def test_the_mapping_comes_from_the_config_file_and_reaches_ingest(tmp_path):
    config = tmp_path / "lydlogg.toml"
    config.write_text(
        f'db_path = "{tmp_path / "db.duckdb"}"\nkey_file = "{tmp_path / "key"}"\n'
        '[metadata.columns]\ncall_id = "SamtaleID"\nservice = "Tjeneste"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    assert settings.metadata.columns == {"call_id": "SamtaleID", "service": "Tjeneste"}
    assert settings.metadata.timezone == "Europe/Oslo"
    path = tmp_path / "eksport.csv"
    path.write_bytes("SamtaleID;Tjeneste;Ukjent\nk-1;AMK;x\n".encode("cp1252"))
    report = ingest(settings, [], metadata=path)
    assert report.without_audio == ["k-1"] and not report.failures
