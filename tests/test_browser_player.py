"""The call page's player component in a real browser: the highlight follows playback, a click
seeks, the speed changes, arrow keys jump 5 s, and the playing time reaches Python."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import build_reference_db, make_settings
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, log_in, serving, settled

from lydlogg.ingest import ingest

pytestmark = pytest.mark.browser
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
CALL = "lvs-003-brystsmerter"  # segments 2 (11.4-12.8 s) and 3 (13.5-15.0 s)


def playing(page) -> list[str]:
    return page.locator(".lydlogg-player .seg.playing").evaluate_all("els => els.map(e => e.id)")


# True when the highlighted segments are exactly the one holding the audio's current time (none in
# a pause between segments): read in one go in the page, so playback cannot move on in between.
HIGHLIGHT_MATCHES_TIME = """el => {
  const t = el.currentTime;
  const segs = Array.from(el.closest(".lydlogg-player").querySelectorAll(".seg"));
  const want = segs.filter((s) => t >= parseFloat(s.dataset.start) && t < parseFloat(s.dataset.end));
  const got = segs.filter((s) => s.classList.contains("playing"));
  return want.length === got.length && want.every((s, i) => s === got[i]);
}"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_highlight_follows_playback(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    db = build_reference_db(tmp_path / "db")
    meta = tmp_path / "meta.csv"
    meta.write_text(f"call_id,audio_file\n{CALL},{CALL}.flac\n", encoding="utf-8")
    (tmp_path / f"{CALL}.flac").write_bytes((SAMPLES / "audio" / f"{CALL}.flac").read_bytes())
    assert ingest(make_settings(tmp_path / "db"), [], metadata=meta).added == [
        CALL
    ]  # the call gets its recording
    monkeypatch.setenv("LYDLOGG_AUDIO__PLAYBACK_DIR", str(tmp_path / "playback"))
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(db) as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, "--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.set_default_timeout(60_000)
        log_in(page, base, "leder", "demo-leder")
        page.goto(f"{base}/samtale?samtale={CALL}", wait_until="domcontentloaded")
        page.get_by_role("heading", name=f"Samtale {CALL}").wait_for()
        audio = page.locator(".lydlogg-player audio")
        audio.wait_for()
        audio.evaluate("a => { a.muted = true; }")
        assert page.locator(".lydlogg-player select option").all_inner_texts() == [
            "0,75x", "1x", "1,25x", "1,5x", "1,75x", "2x",
        ]  # fmt: skip
        page.locator(".lydlogg-player select").select_option("2")
        assert audio.evaluate("a => a.playbackRate") == 2
        page.locator("#seg-2").click()  # seeks to 11.43 s and plays
        page.wait_for_function(
            "el => !el.paused && el.currentTime >= 11.4", arg=audio.element_handle(), timeout=20_000
        )
        page.locator("#seg-2.playing").wait_for(timeout=20_000)
        page.locator("#seg-3.playing").wait_for(timeout=20_000)  # playback moved on, so did the highlight
        assert "seg-2" not in playing(page) and len(playing(page)) <= 1  # at 2x it may be on seg-4 by now
        page.locator(".lydlogg-player").focus()
        page.keyboard.press("Space")  # pause
        page.wait_for_function("el => el.paused", arg=audio.element_handle())
        page.wait_for_function(HIGHLIGHT_MATCHES_TIME, arg=audio.element_handle(), timeout=5_000)
        before = audio.evaluate("a => a.currentTime")
        page.keyboard.press("ArrowRight")
        after = audio.evaluate("a => a.currentTime")
        assert 4.9 < after - before < 5.1
        page.wait_for_function(
            HIGHLIGHT_MATCHES_TIME, arg=audio.element_handle(), timeout=5_000
        )  # the jump too
        settled(page)
        page.get_by_text("Avspilt til").wait_for(timeout=30_000)  # the time went back to Python
        page.screenshot(path=str(ARTIFACTS / "spiller.png"), full_page=True)
        browser.close()
