"""A leader's review of one call in a real browser, counted: clicks and seconds from the inbox to a
saved review (open the call, listen to two evidence spans, change a suggestion, one comment, save).

The figures go to ``test-artifacts/review-bench.json`` and are printed; README's *Review in the
browser, counted* holds the before/after pair. The same run takes the README's screenshots
(``docs/img/``): the inbox, a call, the operator's self-review beside the supervisor's, Oversikt.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from conftest import build_reference_db, make_settings
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, log_in, serving, settled

from lydlogg.db import connect
from lydlogg.ingest import ingest

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
SCREENSHOTS = REPO / "docs" / "img"
CALL = "lvs-003-brystsmerter"  # op-lise's call, with evidence on several segments
WAIT = 60_000


class Counter:
    """Clicks and seconds per step of the review."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, float]] = {}
        self._step = ""
        self._started = 0.0

    def start(self, step: str) -> None:
        self._step, self._started = step, time.perf_counter()
        self.steps[step] = {"clicks": 0, "seconds": 0.0}

    def click(self, locator, **kwargs) -> None:  # noqa: ANN001 - a Playwright locator
        locator.click(**kwargs)
        self.steps[self._step]["clicks"] += 1

    def stop(self) -> None:
        self.steps[self._step]["seconds"] = round(time.perf_counter() - self._started, 2)

    def totals(self) -> dict[str, float]:
        return {
            "clicks": sum(s["clicks"] for s in self.steps.values()),
            "seconds": round(sum(s["seconds"] for s in self.steps.values()), 1),
        }


def whole_page(page, path: Path) -> None:
    """Streamlit scrolls its main block, not the document: grow the viewport to fit it, then shoot."""
    settled(page)
    height = page.evaluate("() => document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 120), 4000)})
    settled(page)
    page.wait_for_timeout(500)  # let the grid and charts paint
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def open_from_inbox(page, counter: Counter, call_id: str):  # noqa: ANN001, ANN201 - Playwright pages
    """Click the call's row in the inbox table until its page shows; the page it shows on (the same
    tab, or a new one the click opened)."""
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for(timeout=WAIT)
    rows = grid.locator("[role=row]")  # the grid's accessible copy of its canvas, header first
    rows.first.wait_for(state="attached", timeout=WAIT)
    texts = rows.all_text_contents()
    index = next(i for i, t in enumerate(texts) if call_id in t)  # 0 is the header row
    box = grid.bounding_box()
    header = 35
    y = box["y"] + header + (index - 1) * 35 + 17
    opened: list = []
    page.context.on("page", lambda new: opened.append(new))
    heading = re.compile(f"Samtale {re.escape(call_id)}")
    for x in (box["x"] + 12, box["x"] + 12, box["x"] + 60, box["x"] + 60):  # row marker, then the first cell
        page.mouse.click(x, y)
        counter.steps[counter._step]["clicks"] += 1
        clicked = time.monotonic()
        idle = page.locator("[data-testid=stApp][data-test-script-state=notRunning]")
        while time.monotonic() - clicked < 30:
            quiet = time.monotonic() - clicked > 1.5 and idle.count() and not opened
            if quiet and not page.get_by_role("heading", name=heading).count():
                break  # the click changed nothing that is still loading: click again
            if opened:
                new = opened[0]
                new.wait_for_load_state("domcontentloaded")
                new.get_by_role("heading", name=heading).wait_for(timeout=WAIT)
                return new
            if page.get_by_role("heading", name=heading).count():
                return page
            page.wait_for_timeout(200)
    raise AssertionError(f"four clicks on the inbox row did not open {call_id}")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_a_review_from_the_inbox_counted_in_clicks_and_seconds(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    db = build_reference_db(tmp_path / "db")
    meta = tmp_path / "meta.csv"
    meta.write_text(f"call_id,audio_file\n{CALL},{CALL}.flac\n", encoding="utf-8")
    (tmp_path / f"{CALL}.flac").write_bytes((SAMPLES / "audio" / f"{CALL}.flac").read_bytes())
    assert ingest(make_settings(tmp_path / "db"), [], metadata=meta).added == [CALL]
    monkeypatch.setenv("LYDLOGG_AUDIO__PLAYBACK_DIR", str(tmp_path / "playback"))
    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = Counter()
    with serving(db) as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, "--autoplay-policy=no-user-gesture-required"]
        )
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(WAIT)
        try:
            log_in(page, base, "leder", "demo-leder")
            page.get_by_test_id("stDataFrame").first.wait_for(timeout=WAIT)
            settled(page)
            whole_page(page, SCREENSHOTS / "innboks.png")

            counter.start("open from inbox")
            page = open_from_inbox(page, counter, CALL)
            page.set_default_timeout(WAIT)
            audio = page.locator(".lydlogg-player audio")
            audio.wait_for(timeout=WAIT)
            settled(page)
            counter.stop()
            audio.evaluate("a => { a.muted = true; }")

            counter.start("listen to two evidence spans")
            spans = page.locator(".lydlogg-player .seg.evidence")
            spans.first.wait_for(timeout=WAIT)
            for n in range(2):
                span = spans.nth(n)
                start = float(span.get_attribute("data-start"))
                counter.click(span)
                page.wait_for_function(
                    f"a => !a.paused && a.currentTime >= {start}", arg=audio.element_handle(), timeout=20_000
                )
            counter.stop()

            counter.start("change a suggestion")
            group = page.get_by_role("radiogroup", name=re.compile("Presenterer seg"))
            target = "ja" if group.get_by_role("radio", name="nei").is_checked() else "nei"
            counter.click(group.get_by_text(target, exact=True))
            settled(page)
            counter.stop()

            counter.start("one comment")
            box = page.get_by_label(re.compile("Kommentarer til segmenter"))
            counter.click(box)
            box.fill("2: Godt spørsmål om smertene.")
            counter.stop()

            counter.start("save")
            counter.click(page.get_by_role("button", name="Lagre vurdering").first)
            page.get_by_text("Vurderingen er lagret.").wait_for(timeout=WAIT)
            counter.stop()
            whole_page(page, SCREENSHOTS / "samtale.png")

            page.get_by_test_id("stSidebarNavLink").filter(has_text="Oversikt").click()
            page.get_by_role("heading", name="Oversikt").wait_for(timeout=WAIT)
            page.get_by_test_id("stVegaLiteChart").first.locator("canvas, svg").first.wait_for(timeout=WAIT)
            whole_page(page, SCREENSHOTS / "oversikt.png")

            operator = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            operator.set_default_timeout(WAIT)
            page = operator
            log_in(
                operator, f"{base}/samtale?samtale={CALL}", "lise", "demo-lise-1", heading=f"Samtale {CALL}"
            )
            group = operator.get_by_role("radiogroup", name=re.compile("Presenterer seg"))
            # the key handler is installed (its component loads after the form)
            operator.wait_for_function("() => document.lydloggKeys === true", timeout=WAIT)
            group.get_by_role("radio").first.focus()  # what Tab reaches
            operator.keyboard.press("j")  # a key chooses the value
            operator.wait_for_function(
                "g => [...g.querySelectorAll('input')].some((i) => i.checked && i.closest('label').innerText.trim() === 'ja')",
                arg=group.element_handle(),
                timeout=WAIT,
            )
            settled(operator)
            operator.get_by_role("button", name="Lagre vurdering").first.click()
            operator.get_by_role("heading", name="Egenvurdering mot veileder").wait_for(timeout=WAIT)
            operator.get_by_role("heading", name="Egenvurdering mot veileder").scroll_into_view_if_needed()
            whole_page(operator, SCREENSHOTS / "egenvurdering.png")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "review-bench-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    figures = {"steps": counter.steps, **counter.totals()}
    (ARTIFACTS / "review-bench.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print(json.dumps(figures, ensure_ascii=False))
    with connect(db) as con:
        saved = con.execute(
            "SELECT r.kind, c.segment_index, c.text FROM reviews r JOIN review_comments c USING (review_id)"
            " WHERE r.call_id = ? AND r.reviewer = 'leder'",
            [CALL],
        ).fetchall()
    assert saved == [("peer", 1, "Godt spørsmål om smertene.")]
    assert counter.steps["listen to two evidence spans"]["clicks"] == 2
