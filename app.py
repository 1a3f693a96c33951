"""Lydlogg review app: log-in, navigation and shared resources only; pages live in review/views."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from lydlogg.audit import configure_forwarding
from lydlogg.auth import AuthError, User, authenticate, demo_accounts
from lydlogg.crypto import use_encryption
from lydlogg.db import connect, register_wait
from lydlogg.fileperms import private_umask
from lydlogg.settings import load_settings, production_problems
from lydlogg.sso import claims_identity, identity_fresh, sso_login
from lydlogg.vocabulary import USER_ROLE_LABELS
from review.access import allowed
from review.dashboard import DashboardService, warm_in_background
from review.login_sessions import (
    COOKIE,
    cookie_script,
    end_session,
    idle_expired,
    live_session,
    resume_session,
    start_session,
)
from review.service import ReviewService
from review.views import not_found
from review.views.database import database_guard

log = logging.getLogger("lydlogg.app")
st.set_page_config(page_title="Lydlogg", page_icon="🎧", layout="wide")
private_umask()  # the database, its log and case audio written by the app are owner-only
settings = load_settings()
db_path = Path(settings.db_path)
use_encryption(db_path, settings.encryption)  # every connect() of this process opens it with the key
register_wait(db_path, settings.db_wait_seconds)  # then a page says the database is busy, and offers a retry


@st.cache_resource(show_spinner=False)
def forward_audit(address: str, facility: str) -> bool:
    """Once per server process: send every audit row to syslog when audit.syslog_address is set."""
    configure_forwarding(settings.audit)
    return True


@st.cache_resource(show_spinner=False)
def schema_checked(path: str) -> bool:
    """Once per server process and database: it is at this Lydlogg's schema (connect() refuses an
    older one, and a refusal is not cached, so the page says so until `lydlogg db migrate` ran)."""
    with connect(Path(path)):
        return True


forward_audit(settings.audit.syslog_address, settings.audit.syslog_facility)
if production_problems(settings):  # named in English for the operator, in the log
    st.error("Lydlogg er ikke satt opp for produksjon: data ville bli lagret ukryptert. Se loggen.")
    log.error("env = production refuses to serve: %s", "; ".join(production_problems(settings)))
    st.stop()
with database_guard():  # a busy, older or unreadable database: a message, never a traceback
    if db_path.exists():
        schema_checked(str(db_path))
    if settings.env == "production" and db_path.exists():
        with connect(db_path) as con:
            demo = demo_accounts(con)
        if demo:  # the demo passwords are public: refuse to serve until they are gone
            st.error("Lydlogg kjører i produksjon med demokontoer. Deaktiver dem eller gi dem nye passord.")
            st.stop()
st.session_state["display_timezone"] = settings.display.timezone  # read by review.views.common.timezone
timeout = settings.server.session_timeout_minutes
max_hours = settings.server.session_max_hours
now = datetime.now(UTC)
# Every page: (action that opens it, script, title, url path). The menu, the log-in page's
# placeholders (a link to any page survives log-in) and the tests read this one list; the first page
# a user may open is their default.
PAGES = (
    ("list_calls", "review/views/innboks.py", "Innboks", "innboks"),
    ("view_call", "review/views/samtale.py", "Samtale", "samtale"),
    ("list_calls", "review/views/sok.py", "Søk", "sok"),
    ("view_episodes", "review/views/episode_page.py", "Episode", "episode"),
    ("view_dashboard", "review/views/oversikt.py", "Oversikt", "oversikt"),
    ("calibrate", "review/views/kalibrering.py", "Kalibrering", "kalibrering"),
    ("run_feedback", "review/views/tilbakemelding.py", "Tilbakemeldingsmøte", "tilbakemelding"),
    ("read_cases", "review/views/kasus.py", "Kasusbibliotek", "kasus"),
    ("publish_case", "review/views/publiser.py", "Publiser kasus", "publiser"),
    ("manage_users", "review/views/brukere.py", "Brukere", "brukere"),
    ("manage_users", "review/views/talegjenkjenning.py", "Talegjenkjenning", "talegjenkjenning"),
    ("view_audit", "review/views/revisjonslogg.py", "Revisjonslogg", "revisjonslogg"),
)
MENU_PATHS = tuple(path for *_, path in PAGES)
COOKIE_MAX_AGE_S = int(max_hours * 3600)  # the browser forgets the token when the session must end
ENDED = {
    "idle": "Økten ble avsluttet etter inaktivitet. Logg inn igjen.",
    "ended": "Økten er avsluttet. Logg inn igjen.",
}


def login() -> None:
    st.title("Lydlogg")
    if (ended := st.session_state.pop("expired", None)) in ENDED:
        st.info(ENDED[ended])
    if (refused := st.session_state.get("sso_refused")) is not None:
        st.error(refused)
        if st.button("Logg ut fra identitetstjenesten"):
            st.logout()
        return
    if settings.sso.enabled and st.button(settings.sso.label, type="primary"):
        st.login()
    with st.form("login"):
        username = st.text_input("Brukernavn")
        password = st.text_input("Passord", type="password")
        if st.form_submit_button("Logg inn"):
            try:
                with connect(db_path) as con:
                    user = authenticate(
                        con,
                        username,
                        password,
                        production=settings.env == "production",
                        settings=settings.login,
                        source=_source(),
                    )
                    st.session_state["token"] = start_session(con, user)
                st.session_state.update(user=user, last_activity=datetime.now(UTC))
                st.session_state["set_cookie"] = True
                st.rerun()
            except AuthError as e:
                st.error(str(e))


def _source() -> str:
    """Where a log-in comes from, for the back-off: the client's address as Streamlit sees it."""
    try:
        address = st.context.ip_address
    except AttributeError:
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"  # AppTest has no client


def log_out(expired: str | None = None) -> None:
    """End this browser's session (and so every tab sharing its cookie) and forget the user."""
    with connect(db_path) as con:
        end_session(con, st.session_state.pop("token", None), st.session_state.pop("user"))
    st.session_state["clear_cookie"] = True
    st.session_state["expired"] = expired
    if st.session_state.pop("sso", False):
        st.logout()  # also forget the identity provider's log-in kept in Streamlit's cookie


@st.cache_resource(show_spinner=False)
def warm_dashboard(path: str, _user: User) -> bool:
    """Once per server process and database: fill the dashboard's memory in the background."""
    service = DashboardService(
        Path(path), _user, settings.dashboard, window_hours=settings.episodes.window_hours
    )
    warm_in_background(service)
    return True


def signed_in_identity() -> dict | None:
    """The identity token's claims when the user came back from the identity provider."""
    if not settings.sso.enabled or "sso_refused" in st.session_state:
        return None
    try:
        if st.user.is_logged_in is not True:
            return None
        return st.user.to_dict()
    except (AttributeError, KeyError):  # no [auth] secrets (AppTest, SSO off)
        return None


with database_guard():  # every page below: the database may be busy for a moment
    user = st.session_state.get("user")
    token = st.context.cookies.get(COOKIE)
    if user is not None:
        # Every rerun: the session row must still be alive (not logged out in another tab, revoked,
        # idle or past its lifetime) and the user is read afresh (role, deactivation).
        live = None
        idle = idle_expired(st.session_state.get("last_activity", now), now, timeout)
        if not idle and db_path.exists() and (own := st.session_state.get("token")):
            with connect(db_path) as con:
                live = live_session(con, own, timeout, now, max_age_hours=max_hours)
        if live is None:
            log_out(expired="idle" if idle else "ended")
            user = None
        else:
            user = live
            st.session_state["user"] = live
    elif db_path.exists() and isinstance(token, str) and token:
        # A reload starts a new Streamlit session: continue the one the browser's cookie names.
        with connect(db_path) as con:
            user = resume_session(con, token, timeout, now, max_age_hours=max_hours)
        if user is not None:
            st.session_state.update(user=user, token=token)
    elif db_path.exists() and (claims := signed_in_identity()) is not None:
        if not identity_fresh(claims, now.timestamp(), settings.sso.max_identity_age_seconds):
            st.logout()  # a stale identity from the cookie: forget it, never log in with it
        try:
            with connect(db_path) as con:
                user = sso_login(con, claims_identity(claims, settings.sso))
                # Single sign-on gets the same server-side session, idle timeout and lifetime.
                st.session_state["token"] = start_session(con, user, now)
            st.session_state.update(user=user, sso=True, set_cookie=True)
        except AuthError as e:
            st.session_state["sso_refused"] = str(e)
    if user is not None:
        st.session_state["last_activity"] = now

    if user is None:
        if st.session_state.pop("clear_cookie", False):
            st.iframe(cookie_script(None, 0), height=1)
        # Every page's address shows the log-in form, so a shared link opens its page after log-in.
        login_pages = [st.Page(login, title="Logg inn", url_path="logg-inn", default=True)] + [
            st.Page(lambda: login(), title="Logg inn", url_path=path) for path in MENU_PATHS
        ]
        missing = not_found.unknown_page(not_found.requested_page(), [p.url_path for p in login_pages])
        if missing:  # log in first; the address then answers «finner ikke siden»
            login_pages.append(st.Page(lambda: login(), title="Logg inn", url_path=missing))
        st.navigation(login_pages, position="hidden").run()
    else:
        st.session_state["service"] = ReviewService(db_path, user)
        if allowed(user, "view_dashboard") and not user.own_calls_only and db_path.exists():
            warm_dashboard(str(db_path), user)
        with st.sidebar:
            role = USER_ROLE_LABELS.get(user.role, user.role).lower()
            st.write(f"Innlogget som **{user.display_name}** ({role})")
            if st.button("Logg ut"):
                log_out()
                st.rerun()
            if st.session_state.pop("set_cookie", False):
                st.iframe(cookie_script(st.session_state["token"], COOKIE_MAX_AGE_S), height=1)
        allowed_menu = [m for m in PAGES if allowed(user, m[0])]
        actions = [m[0] for m in allowed_menu]
        home_action = next((a for a in ("list_calls", "manage_users") if a in actions), actions[0])
        home = allowed_menu[actions.index(home_action)][3]
        pages = [
            st.Page(script, title=title, url_path=path, default=path == home)
            for _action, script, title, path in allowed_menu
        ]
        # An address that is no page this user may open gets a Norwegian page, not Streamlit's dialog.
        missing = not_found.unknown_page(not_found.requested_page(), [p.url_path for p in pages])
        if missing:
            home_title = allowed_menu[actions.index(home_action)][2]
            pages.append(st.Page(lambda: not_found.render(home_title, home), title="Finner ikke siden",
                                 url_path=missing, visibility="hidden"))  # fmt: skip
        st.navigation(pages).run()
