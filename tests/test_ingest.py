import duckdb
from conftest import write_tone

from lydlogg.ingest import ingest
from lydlogg.metadata import COLUMNS
from transcription.audio import file_sha256

HEADER = ",".join(COLUMNS)


def rows(settings, sql, params=()):
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_ingest_registers_files_and_is_a_no_op_the_second_time(tmp_path, settings):
    folder = tmp_path / "rec"
    folder.mkdir()
    a = write_tone(folder / "a.wav")
    write_tone(folder / "b.flac", channels=2)
    (folder / "notes.txt").write_text("ignored: not an audio extension")
    before = file_sha256(a), a.stat().st_mtime_ns
    first = ingest(settings, [folder])
    assert len(first.added) == 2 and not first.failures
    copy = tmp_path / "copy-of-a.wav"
    copy.write_bytes(a.read_bytes())
    second = ingest(settings, [folder, copy])
    assert second.added == [] and len(second.already_known) == 3
    assert rows(settings, "SELECT count(*) FROM calls") == [(2,)]
    assert rows(settings, "SELECT channels FROM audio_files ORDER BY channels") == [(1,), (2,)]
    assert (file_sha256(a), a.stat().st_mtime_ns) == before  # the original is untouched


def test_metadata_rows_are_attached_pseudonymised_and_bad_rows_reported(tmp_path, settings):
    audio = tmp_path / "audio"
    audio.mkdir()
    write_tone(audio / "c1.wav")
    write_tone(audio / "c2.wav", seconds=1.5)
    csv = tmp_path / "meta.csv"
    csv.write_text(
        "\n".join(
            [
                HEADER,
                "c1,2026-03-02T18:40:00+01:00,lvs,op-anne,+47 400 12 345,pas-1001,yellow,audio/c1.wav",
                "c2,2026-03-03T08:00:00+01:00,amk,op-bo,40012345,pas-1001,red,audio/c2.wav",
                "c3,2026-03-03T09:00:00+01:00,ambulance,op-bo,,,red,audio/c3.wav",
                "c4,2026-03-03T10:00:00+01:00,fastlege,lege-ali,+47 400 12 345,,green,",
                "c5,2026-03-03T11:00:00+01:00,lvs,,,,,audio/missing.wav",
            ]
        )
        + "\n"
    )
    report = ingest(settings, [], metadata=csv)
    assert sorted(report.added) == ["c1", "c2"] and report.without_audio == ["c4"]
    reasons = sorted(str(f) for f in report.failures)
    assert len(reasons) == 2
    assert any(f"{csv}:4: service is not one of" in r for r in reasons)
    assert any(f"{csv}:6: audio_file not found" in r for r in reasons)
    assert not [r for r in reasons if "ambulance" in r or "missing.wav" in r]  # no field value echoed
    got = rows(
        settings, "SELECT call_id, service, caller_pseudonym, patient_pseudonym FROM calls ORDER BY call_id"
    )
    assert [g[0] for g in got] == ["c1", "c2", "c4"]
    assert got[0][2] == got[1][2] == got[2][2]  # the same phone, written two ways, one pseudonym
    assert got[0][3] == got[1][3] and got[2][3] is None
    stored = rows(settings, "SELECT count(*) FROM failures WHERE stage = 'metadata'")
    assert stored == [(2,)]
    # raw numbers never reach the database file
    raw = settings.db_path.read_bytes()
    for secret in (b"40012345", b"400 12 345", b"pas-1001"):
        assert secret not in raw


def test_late_metadata_merges_into_a_recording_ingested_before(tmp_path, settings):
    audio = tmp_path / "audio"
    audio.mkdir()
    write_tone(audio / "late.wav")
    first = ingest(settings, [audio / "late.wav"])
    (call_id,) = first.added
    csv = tmp_path / "meta.csv"
    csv.write_text(f"{HEADER}\namk-77,2026-03-04T01:00:00+01:00,amk,op-x,,,red,audio/late.wav\n")
    second = ingest(settings, [], metadata=csv)
    assert second.metadata_updated == [call_id]
    assert rows(settings, "SELECT service, urgency FROM calls WHERE call_id = ?", [call_id]) == [
        ("amk", "red")
    ]


def test_contact_without_audio_gets_its_recording_later(tmp_path, settings):
    csv = tmp_path / "meta.csv"
    csv.write_text(f"{HEADER}\nk1,2026-03-04T01:00:00+01:00,lvs,op-x,,,green,\n")
    assert ingest(settings, [], metadata=csv).without_audio == ["k1"]
    write_tone(tmp_path / "k1.wav")
    csv.write_text(f"{HEADER}\nk1,2026-03-04T01:00:00+01:00,lvs,op-x,,,green,k1.wav\n")
    assert ingest(settings, [], metadata=csv).added == ["k1"]
    assert rows(settings, "SELECT audio_sha256 IS NOT NULL FROM calls WHERE call_id = 'k1'") == [(True,)]


def test_bad_files_are_recorded_and_the_rest_goes_in(tmp_path, settings):
    write_tone(tmp_path / "good.wav")
    (tmp_path / "broken.wav").write_bytes(b"RIFF garbage")
    write_tone(tmp_path / "six.wav", channels=6)
    report = ingest(settings, [tmp_path, tmp_path / "nowhere.wav"])
    assert len(report.added) == 1
    assert sorted(f.path.rsplit("/", 1)[-1] for f in report.failures) == [
        "broken.wav",
        "nowhere.wav",
        "six.wav",
    ]
    stored = rows(settings, "SELECT path, stage, reason FROM failures ORDER BY path")
    assert len(stored) == 3 and all(r[1] == "ingest" for r in stored)
    assert any("6 channels" in r[2] for r in stored)


def test_oversized_file_is_refused(tmp_path):
    from conftest import make_settings

    from lydlogg.settings import AudioSettings

    s = make_settings(tmp_path).model_copy(update={"audio": AudioSettings(max_file_mb=1)})
    write_tone(tmp_path / "big.wav", seconds=40)  # ~1.2 MiB
    report = ingest(s, [tmp_path / "big.wav"])
    assert not report.added and "over audio.max_file_mb" in report.failures[0].reason
