"""The one page registry: the menu, the log-in page's placeholders and the tests read it.

Each page names the action that opens it (:mod:`lydlogg.access`), its script under
``review/views``, its title and its URL path. A user's menu is every page whose action their role
is allowed; the first of "Innboks" and "Brukere" they may open is their home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lydlogg.access import allowed
from lydlogg.auth import User

__all__ = ["HOME_ACTIONS", "MENU_PATHS", "PAGES", "VIEWS_DIR", "Page", "home_page", "menu"]

VIEWS_DIR = Path(__file__).resolve().parent.parent / "views"


@dataclass(frozen=True)
class Page:
    action: str  # the access action that opens the page
    script: str  # file name under review/views
    title: str
    path: str  # the URL path

    @property
    def file(self) -> Path:
        return VIEWS_DIR / self.script


PAGES = (
    Page("list_calls", "innboks.py", "Innboks", "innboks"),
    Page("view_call", "samtale.py", "Samtale", "samtale"),
    Page("list_calls", "sok.py", "Søk", "sok"),
    Page("view_episodes", "episode_page.py", "Episode", "episode"),
    Page("view_dashboard", "oversikt.py", "Oversikt", "oversikt"),
    Page("calibrate", "kalibrering.py", "Kalibrering", "kalibrering"),
    Page("run_feedback", "tilbakemelding.py", "Tilbakemeldingsmøte", "tilbakemelding"),
    Page("read_cases", "kasus.py", "Kasusbibliotek", "kasus"),
    Page("publish_case", "publiser.py", "Publiser kasus", "publiser"),
    Page("manage_users", "brukere.py", "Brukere", "brukere"),
    Page("manage_users", "talegjenkjenning.py", "Talegjenkjenning", "talegjenkjenning"),
    Page("view_audit", "revisjonslogg.py", "Revisjonslogg", "revisjonslogg"),
)
MENU_PATHS = tuple(p.path for p in PAGES)
HOME_ACTIONS = ("list_calls", "manage_users")  # the home page: the first of these the role may open


def menu(user: User) -> tuple[Page, ...]:
    """The pages ``user``'s role may open, in menu order (pure)."""
    return tuple(p for p in PAGES if allowed(user, p.action))


def home_page(pages: tuple[Page, ...]) -> Page:
    """The page a user lands on: Innboks, else Brukere, else the first page offered (pure)."""
    actions = [p.action for p in pages]
    home_action = next((a for a in HOME_ACTIONS if a in actions), actions[0])
    return pages[actions.index(home_action)]
