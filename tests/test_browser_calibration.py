"""A two-reviewer calibration round in a real browser: created, scored blind, compared and agreed."""

from __future__ import annotations

import re

import pytest
from conftest import build_reference_db
from test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, log_in, serving, settled

from lydlogg.db import connect

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the browser tests skip without playwright
    PlaywrightTimeout = TimeoutError

CALL = "lvs-001-feber-barn"  # op-anne's LVS call
RUBRIC = "lvs_operator"
RUBRIC_TITLE = "Telefonkommunikasjon ved legevaktsentralen (LVS)"  # the select box shows titles, not ids
TITLE = "Kalibrering feber barn"
INTERPRETATION = "«Presenterer seg» krever både navn og tjeneste i første replikk."
WAIT = 60_000  # ms; the machine is a slow shared box

pytestmark = pytest.mark.browser


@pytest.fixture
def calibration_server(tmp_path):
    """A fresh reference database (no model needed) served by ``lydlogg serve`` on a free port."""
    db = build_reference_db(tmp_path / "db")
    with serving(db) as base:
        yield base, db


def open_calibration(page) -> None:
    """Go to the calibration page through the sidebar menu (same Streamlit session)."""
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Kalibrering").click(timeout=WAIT)
    page.get_by_role("heading", name="Kalibrering").wait_for(timeout=WAIT)


def pick_option(page, selectbox, name: str) -> None:
    """Open a select box and pick ``name``; retry the opening click, which a busy page may swallow."""
    settled(page)
    option = page.get_by_role("option", name=name, exact=True)
    for _ in range(5):
        selectbox.click(timeout=WAIT)
        try:
            option.wait_for(timeout=5_000)
            option.click(timeout=5_000)  # a rerun may close the list between opening and choosing
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            settled(page)
            continue
        option.wait_for(state="hidden", timeout=WAIT)  # the list closed on the choice
        return
    raise AssertionError(f"the option {name!r} never appeared in the select box")


def choose(page, criterion: str, label: str) -> None:
    """Pick ``label`` on the radio group of one criterion in the blind form."""
    page.get_by_role("radiogroup", name=criterion).get_by_text(label, exact=True).click(timeout=WAIT)


def choose_the_rest(page) -> None:
    """The blind form starts with nothing selected: give every criterion still open its lowest value."""
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Lagre min vurdering"))
    for group in form.get_by_role("radiogroup").all():
        if group.locator("input:checked").count() == 0:
            group.locator("label").first.click(timeout=WAIT)


def assert_blind(page, other: str) -> None:
    """Before saving their own review a member sees neither the others' values nor any results."""
    page.get_by_text("Resultatene vises når du har lagret din egen vurdering").wait_for(timeout=WAIT)
    page.get_by_role("heading", name="Din vurdering (blind)").wait_for(timeout=WAIT)
    settled(page)
    assert page.get_by_role("heading", name="Uenighet, kriterium for kriterium").count() == 0
    assert page.get_by_text(re.compile(f"^{other}: ")).count() == 0
    assert page.get_by_text("Bygger på").count() == 0


def save_own_review(page) -> None:
    page.get_by_role("button", name="Lagre min vurdering").click(timeout=WAIT)
    page.get_by_text("Bygger på 1 av 1 samtaler.").wait_for(timeout=WAIT)


def assert_disagreements(page) -> None:
    """Both criteria the reviewers split on are listed with each reviewer's value and the figures."""
    page.get_by_role("heading", name="Uenighet, kriterium for kriterium").wait_for(timeout=WAIT)
    for heading in ("Presenterer seg", "Åpne spørsmål"):
        page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=WAIT)
    for line in ("veileder: ja", "leder: nei", "veileder: 3", "leder: 1"):
        page.get_by_text(line, exact=True).wait_for(timeout=WAIT)
    page.get_by_text("Bygger på 1 av 1 samtaler.").wait_for(timeout=WAIT)
    page.get_by_text("Strenghet").wait_for(timeout=WAIT)
    # Ten criteria on one call, split on two of them: 8 of 10 equal, 9 of 10 within one point.
    total = agreement_row(page, "Samlet")
    assert total[:4] == ["Samlet", "10", "80%", "90%"], total
    assert all(float(figure) <= 1 for figure in total[4:]), total  # kappa and alpha are shown
    assert agreement_row(page, "Presenterer seg")[:4] == ["Presenterer seg", "1", "0%", "100%"]
    assert agreement_row(page, "Åpne spørsmål")[:4] == ["Åpne spørsmål", "1", "0%", "0%"]


def agreement_row(page, label: str) -> list[str]:
    """The cells of one row of the agreement table (the grid's accessible copy of its canvas)."""
    table = page.get_by_test_id("stDataFrame").first
    table.wait_for(timeout=WAIT)
    row = table.locator("[role=row]").filter(has_text=label).first  # hidden from view, kept for readers
    row.wait_for(state="attached", timeout=WAIT)
    return [cell.strip() for cell in row.locator("[role=gridcell]").all_text_contents()]


def screenshot_whole_page(page, name: str) -> None:
    """Streamlit scrolls its main block, not the document: grow the viewport to fit it, then shoot."""
    settled(page)
    height = page.evaluate("() => document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height + 200)})
    settled(page)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size(size)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_a_two_reviewer_calibration_round_in_a_real_browser(calibration_server):
    from playwright.sync_api import sync_playwright

    base, db = calibration_server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        viewport = {"width": 1400, "height": 1800}
        leder = browser.new_context(viewport=viewport).new_page()
        veileder = browser.new_context(viewport=viewport).new_page()  # its own cookie jar
        for page in (leder, veileder):
            page.set_default_timeout(WAIT)
        current = leder
        try:
            # The leader creates the round through the page's own form.
            log_in(leder, base, "leder", "demo-leder")
            open_calibration(leder)
            leder.get_by_text("Ingen kalibreringsrunder ennå.").wait_for(timeout=WAIT)
            leder.get_by_text("Ny kalibreringsrunde").click()
            form = leder.get_by_test_id("stForm").filter(has=leder.get_by_label("Navn på runden"))
            form.get_by_label("Navn på runden").fill(TITLE)
            pick_option(leder, form.get_by_test_id("stSelectbox"), RUBRIC_TITLE)
            form.get_by_label("Samtaler (id-er, kommaseparert)").fill(CALL)
            form.get_by_label("Vurderere (brukernavn, kommaseparert)").fill("leder, veileder")
            form.get_by_role("button", name="Opprett runde").click()
            leder.get_by_text("Runden er opprettet.").wait_for(timeout=WAIT)
            leder.get_by_text("vurderere: leder, veileder").wait_for(timeout=WAIT)
            assert_blind(leder, "veileder")

            # The supervisor scores first, blind.
            current = veileder
            log_in(veileder, base, "veileder", "demo-veileder")
            open_calibration(veileder)
            veileder.get_by_text("vurderere: leder, veileder").wait_for(timeout=WAIT)
            assert_blind(veileder, "leder")
            choose(veileder, "Presenterer seg", "ja")
            choose(veileder, "Åpne spørsmål", "3")
            choose(veileder, "Oppsummerer", "ja")
            choose_the_rest(veileder)
            save_own_review(veileder)
            settled(veileder)
            assert veileder.get_by_text(re.compile("^leder: ")).count() == 0  # the leader has not scored yet

            # The leader is still blind to the supervisor's saved review, then scores differently.
            current = leder
            leder.reload()  # a new Streamlit session through the cookie; the round comes from ?runde=
            leder.get_by_text("vurderere: leder, veileder").wait_for(timeout=WAIT)
            assert_blind(leder, "veileder")
            choose(leder, "Presenterer seg", "nei")
            choose(leder, "Åpne spørsmål", "1")
            choose(leder, "Oppsummerer", "ja")
            choose_the_rest(leder)
            save_own_review(leder)
            assert_disagreements(leder)

            # The leader records what the group agreed «Presenterer seg» means.
            agree = leder.get_by_test_id("stForm").filter(
                has=leder.locator(".st-key-tolkning-introduces_self")
            )
            agree.get_by_label("Omforent tolkning").fill(INTERPRETATION)
            agree.get_by_role("button", name="Lagre tolkning").click()
            leder.get_by_text("Tolkningen er lagret og vises som veiledning i neste runde.").wait_for(
                timeout=WAIT
            )

            # Both now see the disagreements, the figures and the agreed interpretation.
            current = veileder
            veileder.reload()
            assert_disagreements(veileder)
            veileder.get_by_text("Gjeldende omforente tolkning:").wait_for(timeout=WAIT)
            veileder.get_by_text(INTERPRETATION, exact=True).first.wait_for(timeout=WAIT)
            agreed = veileder.locator(".st-key-tolkning-introduces_self textarea").first
            assert agreed.input_value() == INTERPRETATION  # the next edit starts from the agreed text

            current = leder
            leder.reload()
            assert_disagreements(leder)
            leder.get_by_text("Gjeldende omforente tolkning:").wait_for(timeout=WAIT)
            screenshot_whole_page(leder, "kalibrering.png")

            leder.get_by_test_id("stSidebarNavLink").filter(has_text="Oversikt").click(timeout=WAIT)
            leder.get_by_role("heading", name="Oversikt").wait_for(timeout=WAIT)
            chart = leder.get_by_test_id("stVegaLiteChart").first
            chart.locator("canvas, svg").first.wait_for(state="visible", timeout=WAIT)
            screenshot_whole_page(leder, "oversikt.png")
            # Round reviews are peer reviews: two colleagues on one call give the strictness chart data.
            leder.get_by_role("tab", name="Vurderernes strenghet").click()
            panel = leder.get_by_role("tabpanel", name="Vurderernes strenghet")
            panel.get_by_test_id("stVegaLiteChart").locator("canvas, svg").first.wait_for(
                state="visible", timeout=WAIT
            )
            assert panel.get_by_text("Ingen samtaler er vurdert av mer enn én kollega").count() == 0
        except Exception:
            current.screenshot(path=str(ARTIFACTS / "calibration-failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    with connect(db) as con:
        saved = con.execute(
            "SELECT c.reviewer, s.criterion_id, s.value FROM calibration_reviews c"
            " JOIN calibration_rounds r USING (round_id) JOIN review_scores s USING (review_id)"
            " WHERE r.title = ? AND c.call_id = ? AND s.criterion_id IN ('introduces_self', 'open_questions')"
            " ORDER BY c.reviewer, s.criterion_id",
            [TITLE, CALL],
        ).fetchall()
        rounds = con.execute(
            "SELECT round_id, rubric_id, created_by FROM calibration_rounds WHERE title = ?", [TITLE]
        ).fetchall()
        interpretations = con.execute(
            "SELECT rubric_id, criterion_id, text, decided_by, round_id FROM criterion_interpretations"
        ).fetchall()
        audit = con.execute(
            "SELECT username, action, count(*), min(audit_id) FROM audit WHERE action IN"
            " ('create_round', 'save_round_review', 'view_round_scores', 'agreed_interpretation')"
            " GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert saved == [
        ("leder", "introduces_self", 0), ("leder", "open_questions", 1),
        ("veileder", "introduces_self", 1), ("veileder", "open_questions", 3),
    ]  # fmt: skip
    [(round_id, rubric_id, created_by)] = rounds
    assert (rubric_id, created_by) == (RUBRIC, "leder")
    assert interpretations == [(RUBRIC, "introduces_self", INTERPRETATION, "leder", round_id)]
    counts = {(who, action): n for who, action, n, _first in audit}
    first = {(who, action): at for who, action, _n, at in audit}
    assert counts[("leder", "create_round")] == 1
    assert counts[("leder", "save_round_review")] == counts[("veileder", "save_round_review")] == 1
    assert counts[("leder", "agreed_interpretation")] == 1
    assert counts[("leder", "view_round_scores")] >= 1 and counts[("veileder", "view_round_scores")] >= 1
    assert ("veileder", "create_round") not in counts and ("veileder", "agreed_interpretation") not in counts
    for who in ("leder", "veileder"):  # blind: nobody saw another's scores before saving their own
        assert first[(who, "save_round_review")] < first[(who, "view_round_scores")]
    assert first[("veileder", "save_round_review")] < first[("leder", "save_round_review")]
