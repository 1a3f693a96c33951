"""Lydlogg review app: log-in, navigation and shared resources only; pages live in review/views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import streamlit as st

from lydlogg.auth import AuthError, User, authenticate
from lydlogg.crypto import use_encryption
from lydlogg.db import connect
from lydlogg.settings import load_settings
from lydlogg.sso import claims_identity, sso_login
from review.access import allowed
from review.dashboard import DashboardService, warm_in_background
from review.login_sessions import (
    COOKIE,
    cookie_script,
    end_session,
    idle_expired,
    resume_session,
    start_session,
    touch_session,
)
from review.service import ReviewService

st.set_page_config(page_title="Lydlogg", page_icon="🎧", layout="wide")
settings = load_settings()
db_path = Path(settings.db_path)
use_encryption(db_path, settings.encryption)  # every connect() of this process opens it with the key
timeout = settings.server.session_timeout_minutes
now = datetime.now(UTC)
MENU_PATHS = (
    "innboks",
    "samtale",
    "episode",
    "oversikt",
    "kalibrering",
    "tilbakemelding",
    "brukere",
    "revisjonslogg",
    "talegjenkjenning",
)
COOKIE_MAX_AGE_S = (
    12 * 3600
)  # the browser forgets the token after this; the database ends idle sessions sooner


def login() -> None:
    st.title("Lydlogg")
    if st.session_state.pop("expired", False):
        st.info("Økten ble avsluttet etter inaktivitet. Logg inn igjen.")
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
                    )
                    st.session_state["token"] = start_session(con, user)
                st.session_state["user"] = user
                st.session_state["set_cookie"] = True
                st.rerun()
            except AuthError as e:
                st.error(str(e))


def log_out(expired: bool = False) -> None:
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


user = st.session_state.get("user")
token = st.context.cookies.get(COOKIE)
if user is None and db_path.exists() and isinstance(token, str) and token:
    # A reload starts a new Streamlit session: continue the one the browser's cookie names.
    with connect(db_path) as con:
        user = resume_session(con, token, timeout, now)
    if user is not None:
        st.session_state.update(user=user, token=token, last_activity=now, last_touch=now)
elif user is None and db_path.exists() and (claims := signed_in_identity()) is not None:
    try:
        with connect(db_path) as con:
            user = sso_login(con, claims_identity(claims, settings.sso))
        st.session_state.update(user=user, sso=True, last_activity=now)
    except AuthError as e:
        st.session_state["sso_refused"] = str(e)
elif user is not None and idle_expired(st.session_state.get("last_activity", now), now, timeout):
    log_out(expired=True)
    user = None
if user is not None:
    st.session_state["last_activity"] = now
    token = st.session_state.get("token")
    if token and now - st.session_state.get("last_touch", now) > timedelta(minutes=1):
        with connect(db_path) as con:
            touch_session(con, token, now)
        st.session_state["last_touch"] = now

if user is None:
    if st.session_state.pop("clear_cookie", False):
        st.iframe(cookie_script(None, 0), height=1)
    # Every page's address shows the log-in form, so a shared link opens its page after log-in.
    login_pages = [st.Page(login, title="Logg inn", url_path="logg-inn", default=True)] + [
        st.Page(lambda: login(), title="Logg inn", url_path=path) for path in MENU_PATHS
    ]
    st.navigation(login_pages, position="hidden").run()
else:
    st.session_state["service"] = ReviewService(db_path, user)
    if allowed(user, "view_dashboard") and not user.own_calls_only and db_path.exists():
        warm_dashboard(str(db_path), user)
    with st.sidebar:
        st.write(f"Innlogget som **{user.display_name}** ({user.role})")
        if st.button("Logg ut"):
            log_out()
            st.rerun()
        if st.session_state.pop("set_cookie", False):
            st.iframe(cookie_script(st.session_state["token"], COOKIE_MAX_AGE_S), height=1)
    # (action that opens the page, script, title, url path); the first page a user may open is the default
    menu = [
        ("list_calls", "review/views/innboks.py", "Innboks", "innboks"),
        ("view_call", "review/views/samtale.py", "Samtale", "samtale"),
        ("view_episodes", "review/views/episode_page.py", "Episode", "episode"),
        ("view_dashboard", "review/views/oversikt.py", "Oversikt", "oversikt"),
        ("calibrate", "review/views/kalibrering.py", "Kalibrering", "kalibrering"),
        ("run_feedback", "review/views/tilbakemelding.py", "Tilbakemeldingsmøte", "tilbakemelding"),
        ("read_cases", "review/views/kasus.py", "Kasusbibliotek", "kasus"),
        ("publish_case", "review/views/publiser.py", "Publiser kasus", "publiser"),
        ("manage_users", "review/views/brukere.py", "Brukere", "brukere"),
        ("manage_users", "review/views/talegjenkjenning.py", "Talegjenkjenning", "talegjenkjenning"),
        ("view_audit", "review/views/revisjonslogg.py", "Revisjonslogg", "revisjonslogg"),
    ]
    allowed_menu = [m for m in menu if allowed(user, m[0])]
    actions = [m[0] for m in allowed_menu]
    home_action = next((a for a in ("list_calls", "manage_users") if a in actions), actions[0])
    home = allowed_menu[actions.index(home_action)][3]
    pages = [
        st.Page(script, title=title, url_path=path, default=path == home)
        for _action, script, title, path in allowed_menu
    ]
    st.navigation(pages).run()
