"""Streamlit's own texts in a real browser: the case-package uploader's button and hint, and the charts'
numbers, read Norwegian."""

from __future__ import annotations

import re

import pytest
from conftest import build_reference_db
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, log_in, serving

pytestmark = pytest.mark.browser

ENGLISH = re.compile(r"\b(upload|browse|drag|drop|files?|limit|per file)\b", re.IGNORECASE)
_SHOWN = """zone => {
    const words = [];
    const walk = node => {
        if (node.nodeType === Node.TEXT_NODE) { words.push(node.textContent); return; }
        if (node.nodeType !== Node.ELEMENT_NODE) return;
        const style = getComputedStyle(node);
        if (style.display === 'none' || style.visibility === 'hidden') return;
        if (node.dataset.testid === 'stIconMaterial' || node.tagName === 'INPUT') return;
        for (const when of ['::before', '::after']) {
            const content = getComputedStyle(node, when).content;
            if (content && content !== 'none' && content !== 'normal') words.push(JSON.parse(content));
        }
        node.childNodes.forEach(walk);
    };
    walk(zone);
    return words.join(' ').replace(/\\s+/g, ' ').trim();
}"""


@pytest.fixture(scope="module")
def reference_app_db(tmp_path_factory):
    return build_reference_db(tmp_path_factory.mktemp("norsk") / "db")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_case_package_uploader_reads_norwegian(reference_app_db):
    from playwright.sync_api import sync_playwright

    db = reference_app_db
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(db) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        log_in(page, base, "leder", "demo-leder")
        # through the menu, in this session (a fresh page load could race the session cookie's write)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Kasusbibliotek").click()
        try:
            page.get_by_role("heading", name="Kasusbibliotek").wait_for()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "kasus-failure.png"), full_page=True)
            raise
        page.get_by_text("Importer kasuspakke").click()
        zone = page.locator(".st-key-kasus-import [data-testid=stFileUploaderDropzone]")
        zone.wait_for()
        shown = zone.evaluate(_SHOWN)
        button = zone.get_by_role("button", name="Last opp")  # the generated text is its accessible name
        page.locator(".st-key-kasus-import").screenshot(path=str(ARTIFACTS / "kasus-import.png"))
        with page.expect_file_chooser() as chooser:  # the relabelled button still opens the file picker
            button.click()
        assert chooser.value.is_multiple() is False
        browser.close()
    assert "Last opp" in shown and "Dra filen hit" in shown and "MB" in shown and "ZIP" in shown, shown
    assert not ENGLISH.search(shown), shown


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_chart_axes_show_norwegian_numbers(reference_app_db):
    from playwright.sync_api import sync_playwright

    with serving(reference_app_db) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        log_in(page, base, "leder", "demo-leder")
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Oversikt").click()  # this session
        page.get_by_role("heading", name="Oversikt").wait_for()
        chart = page.locator("[data-testid=stVegaLiteChart]").first  # Kvalitet: a share criterion
        chart.locator("svg text").first.wait_for()
        labels = chart.evaluate("e => [...e.querySelectorAll('svg text')].map(t => t.textContent)")
        browser.close()
    percents = [t for t in labels if t.endswith("%")]
    assert percents and all(re.fullmatch(r"\d+(,\d+)?\u00a0%", t) for t in percents), labels
    assert not any(re.search(r"\d\.\d|\b[AP]M\b", t) for t in labels), labels
