"""The session cookie in a real browser: set by the app's own page (a v2 component, no frame),
SameSite=Strict, carried over a reload, cleared by log-out."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _session_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == "lydlogg_session"), None)


def test_the_session_cookie_is_set_kept_over_a_reload_and_cleared_by_log_out(tmp_path):
    from conftest import build_reference_db
    from playwright.sync_api import sync_playwright
    from test_browser import CHROMIUM, CHROMIUM_FLAGS, log_in, serving

    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    db = build_reference_db(tmp_path / "db")
    with serving(db) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(60_000)
        log_in(page, base, "leder", "demo-leder")
        page.wait_for_function("() => document.cookie.includes('lydlogg_session=')", timeout=30_000)
        cookie = _session_cookie(page)
        assert cookie is not None and len(cookie["value"]) >= 32 and cookie["sameSite"] == "Strict"
        assert page.locator("iframe").count() == 0  # the cookie comes from no frame
        page.reload()  # a new Streamlit session, continued through the cookie
        page.get_by_role("heading", name="Innboks").wait_for(timeout=60_000)
        page.get_by_role("button", name="Logg ut").click()
        page.get_by_role("button", name="Logg inn").wait_for(timeout=30_000)
        page.wait_for_function("() => !document.cookie.includes('lydlogg_session=')", timeout=30_000)
        assert _session_cookie(page) is None
        browser.close()
