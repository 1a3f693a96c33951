"""One real run: `lydlogg serve` starts Streamlit, headless Chromium opens the page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lydlogg.db import connect
from lydlogg.login_sessions import COOKIE

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


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextmanager
def serving(db: Path) -> Iterator[str]:
    """``lydlogg serve`` on ``db`` at a free local port; yields the base address, stops it after."""
    port = free_port()
    env = dict(os.environ, LYDLOGG_SERVER__ADDRESS="127.0.0.1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lydlogg.cli", "serve", "--db", str(db), "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()  # Streamlit may hold on to open websockets; do not leave it running
            proc.wait(timeout=20)


@pytest.fixture
def server(app_db):
    with serving(app_db) as base:
        yield base, app_db


def settled(page) -> None:
    """Wait until the Streamlit script run that the last action started has finished."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for(timeout=60_000)


def log_in(page, url: str, username: str, password: str, heading: str = "Innboks") -> None:
    """Open ``url`` (a new session shows the log-in form), log in, wait for ``heading``."""
    page.goto(url, wait_until="networkidle")
    page.get_by_role("button", name="Logg inn").wait_for(timeout=60_000)
    try:
        page.get_by_label("Brukernavn").fill(username, timeout=10_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "login-failure.png"), full_page=True)
        raise
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
    # The session cookie is written by a component after the page shows; a new address opened
    # before it lands starts a fresh session at the log-in form. Wait for it like a user's next click would.
    page.wait_for_function(
        "name => document.cookie.split('; ').some(c => c.startsWith(name + '=') && c.length > name.length + 1)",
        arg=COOKIE,
        timeout=60_000,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_review_a_call_in_a_real_browser(server):
    from playwright.sync_api import sync_playwright

    base, db = server
    with connect(db) as con:
        first, second = [
            r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY started_at").fetchall()
        ]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(60_000)  # the machine is a slow shared box
        log_in(page, base, "veileder", "demo-veileder")
        page.wait_for_selector("[data-testid=stDataFrame]", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "innboks.png"), full_page=True)

        call_url = f"{base}/samtale?samtale={first}"
        page.goto(call_url, wait_until="domcontentloaded")  # a shared link: the session cookie carries over
        page.get_by_role("heading", name=f"Samtale {first}").wait_for(timeout=60_000)
        page.wait_for_selector("audio", timeout=30_000)
        page.eval_on_selector("audio", "a => { a.muted = true; }")
        transcript = page.locator("#seg-1")  # the player component's row; clicking it plays from there
        transcript.wait_for(timeout=30_000)
        start = float(transcript.get_attribute("data-start"))
        transcript.click()
        page.wait_for_function(  # the <audio> lives in the player component's shadow root
            f"a => !a.paused && a.currentTime >= {start}",
            arg=page.locator(".lydlogg-player audio").element_handle(),
            timeout=20_000,
        )
        criterion = page.get_by_role("radiogroup", name="Presenterer seg")
        criterion.get_by_text("nei", exact=True).click()
        settled(page)  # the choice reran the script; save only once that run is over
        page.get_by_role("button", name="Lagre vurdering").first.click()  # above the form (also below)
        page.get_by_text("Vurderingen er lagret.").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "samtale.png"), full_page=True)

        page.reload()  # a new Streamlit session, continued through the session cookie: no log-in
        page.get_by_role("heading", name=f"Samtale {first}").wait_for(timeout=60_000)
        saved = page.get_by_role("radiogroup", name="Presenterer seg").get_by_role("radio", name="nei")
        saved.wait_for(timeout=30_000)
        assert saved.is_checked()
        page.get_by_role("button", name="Logg ut").click()
        page.get_by_role("button", name="Logg inn").wait_for(timeout=30_000)
        page.reload()  # after log-out the cookie's session is gone on the server too
        page.get_by_role("button", name="Logg inn").wait_for(timeout=60_000)

        other = browser.new_page()
        other.set_default_timeout(60_000)
        other.goto(f"{base}/samtale?samtale={second}", wait_until="domcontentloaded")
        other.get_by_label("Brukernavn").fill("anne")
        other.get_by_label("Passord").fill("demo-anne-1")
        other.get_by_role("button", name="Logg inn").click()
        other.get_by_text("ingen tilgang").wait_for(timeout=60_000)
        assert other.get_by_role("heading", name=f"Samtale {second}").count() == 0
        browser.close()
    with connect(db) as con:
        value = con.execute(
            "SELECT s.value FROM review_scores s JOIN reviews r USING (review_id)"
            " WHERE r.call_id = ? AND r.reviewer = 'veileder' AND s.criterion_id = 'introduces_self'"
            " ORDER BY r.created_at DESC LIMIT 1",
            [first],
        ).fetchone()
    assert value == (0,)
