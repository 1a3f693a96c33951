"""A GSM 6.10 WAV call plays in a real browser: the page gets a PCM copy, the <audio> has a duration."""

from __future__ import annotations

import pytest
from conftest import build_reference_db, make_settings, write_tone
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, log_in, serving

from lydlogg.ingest import ingest

pytestmark = pytest.mark.browser


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_a_gsm_wav_call_plays_with_a_duration(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    db = build_reference_db(tmp_path / "db")
    recording = write_tone(tmp_path / "opptak-gsm.wav", seconds=3.0, rate=8_000, subtype="GSM610")
    meta = tmp_path / "meta.csv"
    meta.write_text(
        "call_id;service;operator_id;unit;audio_file\ngsm-1;LVS;op-anne;Nordby legevakt;opptak-gsm.wav\n",
        encoding="utf-8",
    )
    assert ingest(make_settings(tmp_path / "db"), [], metadata=meta).added == ["gsm-1"]
    playback = tmp_path / "playback"
    monkeypatch.setenv("LYDLOGG_AUDIO__PLAYBACK_DIR", str(playback))
    before = recording.read_bytes()
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(db) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_default_timeout(60_000)
        log_in(page, base, "leder", "demo-leder")
        page.goto(f"{base}/samtale?samtale=gsm-1", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Samtale gsm-1").wait_for(timeout=60_000)
        audio = page.locator(".lydlogg-player audio")  # the player component owns the element
        audio.wait_for(timeout=30_000)
        page.wait_for_function(
            "a => a.readyState >= 1 && isFinite(a.duration) && a.duration > 2.5",
            arg=audio.element_handle(),
            timeout=30_000,
        )
        duration = audio.evaluate("a => a.duration")
        page.screenshot(path=str(ARTIFACTS / "samtale-gsm.png"), full_page=True)
        browser.close()
    assert 2.9 < duration < 3.1
    assert [p.suffix for p in playback.iterdir()] == [".wav"]
    assert recording.read_bytes() == before
