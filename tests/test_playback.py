"""Browser-safe playback copies (cached by sha256, original untouched) and the call page's measures."""

import io
import json
import shutil

import duckdb
import numpy as np
import pytest
import soundfile as sf
from conftest import write_encoded, write_g729_wav, write_tone
from test_app import app

from lydlogg.access import AccessDenied
from lydlogg.auth import User, create_user
from lydlogg.crypto import EncryptionSettings
from lydlogg.db import DatabaseKey, connect, is_encrypted, register_key
from lydlogg.ingest import ingest
from lydlogg.playback import browser_safe, playable_copy
from lydlogg.units import DEFAULT_UNIT
from review.service import ReviewService
from transcription.audio import file_sha256, probe_audio


@pytest.mark.parametrize(
    ("name", "subtype", "safe"),
    [("pcm.wav", "PCM_16", True), ("gsm.wav", "GSM610", False), ("ima.wav", "IMA_ADPCM", False),
     ("ulaw.wav", "ULAW", False), ("flac.flac", None, True), ("vorbis.ogg", "VORBIS", True)],
)  # fmt: skip
def test_which_files_browsers_play_as_they_are(tmp_path, name, subtype, safe):
    path = write_tone(tmp_path / name, rate=8_000, subtype=subtype)
    assert browser_safe(probe_audio(path)) is safe


def test_a_gsm_wav_gets_one_cached_pcm_copy_and_the_original_is_untouched(tmp_path):
    original = write_tone(tmp_path / "gsm.wav", seconds=2.0, rate=8_000, subtype="GSM610")
    before = original.read_bytes()
    cache = tmp_path / "playback"
    copy = playable_copy(original, cache)
    assert copy == cache / f"{file_sha256(original)}.wav"
    info = sf.info(str(copy))
    assert (info.format, info.subtype, info.samplerate) == ("WAV", "PCM_16", 16_000)
    assert abs(info.duration - 2.0) < 0.05
    assert copy.stat().st_mode & 0o077 == 0  # readable by the service account only
    made = copy.stat().st_mtime_ns
    assert playable_copy(original, cache) == copy and copy.stat().st_mtime_ns == made  # cached
    assert original.read_bytes() == before
    pcm = write_tone(tmp_path / "pcm.wav")
    assert playable_copy(pcm, cache) == pcm


def test_an_amr_recording_plays_through_a_copy(tmp_path):
    amr = write_encoded(tmp_path / "call.amr", "amr", "libopencore_amrnb", rate=8_000)
    copy = playable_copy(amr, tmp_path / "cache")
    assert copy.suffix == ".wav" and sf.info(str(copy)).subtype == "PCM_16"


def test_a_g729_recording_plays_through_a_copy(tmp_path, bcg729):
    t = np.arange(8_000) / 8_000
    g729 = write_g729_wav(tmp_path / "call.wav", bcg729, 0.3 * np.sin(2 * np.pi * 220 * t))
    assert not browser_safe(probe_audio(g729))
    copy = playable_copy(g729, tmp_path / "cache")
    info = sf.info(str(copy))
    assert (info.subtype, info.samplerate) == ("PCM_16", 16_000) and abs(info.duration - 1.0) < 0.02


def test_the_service_checks_access_and_audits_playing(tmp_path, settings):
    write_tone(tmp_path / "gsm.wav", rate=8_000, subtype="GSM610")
    (tmp_path / "m.csv").write_text("call_id,operator_id,audio_file\ng1,op-anne,gsm.wav\n", encoding="utf-8")
    assert ingest(settings, [], metadata=tmp_path / "m.csv").added == ["g1"]
    cache = tmp_path / "cache"
    path = ReviewService(
        settings.db_path, User("anne", "Anne", "operator", "op-anne", (DEFAULT_UNIT,))
    ).playable_audio_path("g1", cache)
    assert path.parent == cache and sf.info(str(path)).subtype == "PCM_16"
    with pytest.raises(AccessDenied):
        ReviewService(
            settings.db_path, User("lise", "Lise", "operator", "op-lise", (DEFAULT_UNIT,))
        ).playable_audio_path("g1", cache)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        assert con.execute("SELECT username FROM audit WHERE action = 'play_audio'").fetchall() == [("anne",)]


def test_in_memory_the_copy_is_never_written_and_a_stale_file_copy_is_deleted(tmp_path):
    original = write_tone(tmp_path / "gsm.wav", seconds=2.0, rate=8_000, subtype="GSM610")
    cache = tmp_path / "playback"
    stale = playable_copy(original, cache)  # made before the database was encrypted
    on_disk = stale.read_bytes()
    data = playable_copy(original, cache, in_memory=True)
    assert isinstance(data, bytes) and data == on_disk  # the same WAV, only not written
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate) == ("WAV", "PCM_16", 16_000)
    assert abs(info.duration - 2.0) < 0.05
    assert list(cache.iterdir()) == []
    pcm = write_tone(tmp_path / "pcm.wav")
    assert playable_copy(pcm, cache, in_memory=True) == pcm  # played as it is: nothing to copy


def test_with_an_encrypted_database_the_service_plays_a_copy_from_memory(tmp_path, settings):
    write_tone(tmp_path / "gsm.wav", rate=8_000, subtype="GSM610")
    (tmp_path / "m.csv").write_text("call_id,operator_id,audio_file\ng1,op-anne,gsm.wav\n", encoding="utf-8")
    register_key(settings.db_path, DatabaseKey("0123456789abcdef" * 4, allow_mbedtls=True))
    try:
        assert ingest(settings, [], metadata=tmp_path / "m.csv").added == ["g1"]
        encrypted = settings.model_copy(
            update={"encryption": EncryptionSettings(enabled=True, allow_mbedtls=True)}
        )
        cache = tmp_path / "cache"
        service = ReviewService(
            settings.db_path, User("anne", "Anne", "operator", "op-anne", (DEFAULT_UNIT,)), encrypted
        )
        data = service.playable_audio_path("g1", cache)
        assert isinstance(data, bytes) and sf.info(io.BytesIO(data)).subtype == "PCM_16"
        assert not cache.exists() or list(cache.iterdir()) == []
        plain = ReviewService(
            settings.db_path, User("anne", "Anne", "operator", "op-anne", (DEFAULT_UNIT,)), settings
        )
        assert plain.playable_audio_path("g1", cache).parent == cache  # unencrypted: the cached file
    finally:
        register_key(settings.db_path, None)
    assert is_encrypted(settings.db_path)


def test_the_call_page_shows_conversation_measures_beside_the_transcript(monkeypatch, tmp_path, reference_db):
    db = tmp_path / "db.duckdb"
    shutil.copy(reference_db, db)
    at = app(monkeypatch, db, "leder", "samtale", samtale="ep1-c3-lvs")
    assert not at.exception, at.exception
    (panel,) = [e for e in at.expander if e.label.startswith("Samtalemål")]
    assert "eksakt (stereo" in panel.label
    labels = {m.label: m.value for m in at.metric}
    assert (
        labels["Personal snakker"].count(":") == 1 and labels["Avbrudd (personal/innringer)"].count("/") == 1
    )
    at = app(monkeypatch, db, "leder", "samtale", samtale="ep1-c4-amk")
    assert any("anslått (mono" in e.label for e in at.expander)


def test_retention_deletes_the_playback_copies_of_expired_recordings(tmp_path, settings):
    from datetime import UTC, datetime, timedelta

    from lydlogg.retention import RetentionSettings, apply_retention

    old = write_tone(tmp_path / "old.wav", rate=8_000, subtype="GSM610")
    new = write_tone(tmp_path / "new.wav", seconds=1.5, rate=8_000, subtype="GSM610")
    assert len(ingest(settings, [old, new]).added) == 2
    now = datetime(2026, 9, 1, tzinfo=UTC)
    with duckdb.connect(str(settings.db_path)) as con:
        for path, age in ((old, 200), (new, 1)):
            con.execute(
                "UPDATE calls SET started_at = ? WHERE audio_sha256 = ?",
                [now - timedelta(days=age), file_sha256(path)],
            )
    cache = tmp_path / "cache"
    copies = {p: playable_copy(p, cache) for p in (old, new)}
    plan = apply_retention(
        settings.db_path, RetentionSettings(managed_audio_dir=tmp_path / "managed"), user=User("a", "A", "admin"),
        now=now, playback_dir=cache,
    )  # fmt: skip
    assert plan.audio_sha256 == (file_sha256(old),)
    assert not copies[old].exists() and copies[new].exists()
    assert old.exists()  # outside the managed folder: someone else's original


def test_the_call_page_plays_an_in_memory_copy_on_an_encrypted_database(monkeypatch, tmp_path, settings):
    secret = "0123456789abcdef" * 4
    write_tone(tmp_path / "gsm.wav", rate=8_000, subtype="GSM610")
    (tmp_path / "m.csv").write_text("call_id,operator_id,audio_file\ng1,op-anne,gsm.wav\n", encoding="utf-8")
    register_key(settings.db_path, DatabaseKey(secret, allow_mbedtls=True))
    cache = tmp_path / "cache"
    try:
        assert ingest(settings, [], metadata=tmp_path / "m.csv").added == ["g1"]
        with connect(settings.db_path) as con:
            create_user(con, "anne", "Anne", "operator", "demo-anne-1", operator_id="op-anne")
        for name, value in (("ENCRYPTION__ENABLED", "true"), ("ENCRYPTION__ALLOW_MBEDTLS", "true"),
                            ("DB_KEY", secret), ("AUDIO__PLAYBACK_DIR", str(cache))):  # fmt: skip
            monkeypatch.setenv(f"LYDLOGG_{name}", value)
        # an operator: no dashboard warm-up thread holding a second connection to the file
        at = app(monkeypatch, settings.db_path, "anne", "samtale", samtale="g1")
        assert not at.exception, at.exception
        (player,) = [e for e in at.main if e.type == "bidi_component"]
        assert json.loads(player.proto.json)["url"]  # the browser gets the copy from the media server
    finally:
        register_key(settings.db_path, None)
    assert not cache.exists() or list(cache.iterdir()) == []
