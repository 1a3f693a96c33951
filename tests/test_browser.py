"""One real run: `lydlogg serve` starts Streamlit, headless Chromium opens the page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.model, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited early: {proc.stdout.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


@pytest.fixture
def server(processed_db):
    port = free_port()
    env = dict(os.environ, LYDLOGG_SERVER__ADDRESS="127.0.0.1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lydlogg.cli", "serve", "--db", str(processed_db), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_app_shows_calls_and_a_transcript_in_a_real_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(server + "/samtaler", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Samtaler").wait_for(timeout=60_000)
        page.get_by_text("Transkripsjon").wait_for(timeout=60_000)
        page.wait_for_selector("audio", timeout=30_000)
        assert "samtale=" in page.url  # the chosen call is in the URL, so the link can be shared
        body = page.inner_text("body")
        assert "Velg samtale" in body and ("Venstre kanal" in body or "Mono" in body)
        page.screenshot(path=str(tmp_path / "samtaler.png"), full_page=True)
        browser.close()
