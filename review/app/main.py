"""The review app's body: log-in, navigation and the shared resources; pages live in review/views.

Streamlit runs :func:`main` on every rerun (through ``review/app/streamlit_app.py``, or the
repository's ``app.py``). The application context (settings and database) is built once per
server process and configuration (:func:`app_context`) and reaches the pages through the
``ReviewService`` each session gets.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from lydlogg.access import allowed
from lydlogg.audit import configure_forwarding
from lydlogg.auth import AuthError, User, authenticate, demo_accounts
from lydlogg.context import AppContext, config_fingerprint, load_context
from lydlogg.crypto import use_encryption
from lydlogg.db import connect, register_wait
from lydlogg.fileperms import private_umask
from lydlogg.login_sessions import (
    COOKIE,
    end_session,
    idle_expired,
    live_session,
    resume_session,
    session_cookie,
    start_session,
)
from lydlogg.settings import production_problems
from lydlogg.sso import claims_identity, identity_fresh, sso_login
from lydlogg.vocabulary import USER_ROLE_LABELS
from review.app.pages import MENU_PATHS, home_page, menu
from review.app.session_cookie import write_cookie
from review.dashboard import DashboardService, warm_in_background
from review.service import ReviewService
from review.views import not_found
from review.views.database import database_guard

__all__ = ["app_context", "main"]

log = logging.getLogger("lydlogg.app")
ENDED = {
    "idle": "Økten ble avsluttet etter inaktivitet. Logg inn igjen.",
    "ended": "Økten er avsluttet. Logg inn igjen.",
}


@st.cache_resource(show_spinner=False)
def _context(fingerprint: str) -> AppContext:
    """Once per server process (and configuration): read the settings, set up the database's key
    and the audit forwarding. ``fingerprint`` only keys the cache (see :func:`config_fingerprint`)."""
    context = load_context()
    use_encryption(context.db_path, context.settings.encryption)  # every connect() opens it with the key
    register_wait(
        context.db_path, context.settings.db_wait_seconds
    )  # then a page says "busy" and offers a retry
    configure_forwarding(context.settings.audit)
    return context


def app_context() -> AppContext:
    """The application context of this server process."""
    return _context(config_fingerprint())


@st.cache_resource(show_spinner=False)
def _schema_checked(path: str) -> bool:
    """Once per server process and database: it is at this Lydlogg's schema (connect() refuses an
    older one, and a refusal is not cached, so the page says so until `lydlogg db migrate` ran)."""
    with connect(Path(path)):
        return True


@st.cache_resource(show_spinner=False)
def _warm_dashboard(path: str, _user: User, _app: AppContext) -> bool:
    """Once per server process and database: fill the dashboard's memory in the background."""
    settings = _app.settings
    service = DashboardService(
        Path(path), _user, settings.dashboard, window_hours=settings.episodes.window_hours
    )
    warm_in_background(service)
    return True


def _source() -> str:
    """Where a log-in comes from, for the back-off: the client's address as Streamlit sees it."""
    try:
        address = st.context.ip_address
    except AttributeError:
        return "unknown"
    return address if isinstance(address, str) and address else "unknown"  # AppTest has no client


def _login_form(context: AppContext) -> None:
    settings = context.settings
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
                with connect(context.db_path) as con:
                    user = authenticate(
                        con,
                        username,
                        password,
                        production=context.production,
                        settings=settings.login,
                        source=_source(),
                    )
                    st.session_state["token"] = start_session(con, user)
                st.session_state.update(user=user, last_activity=datetime.now(UTC))
                st.session_state["set_cookie"] = True
                st.rerun()
            except AuthError as e:
                st.error(str(e))


def _log_out(context: AppContext, expired: str | None = None) -> None:
    """End this browser's session (and so every tab sharing its cookie) and forget the user."""
    with connect(context.db_path) as con:
        end_session(con, st.session_state.pop("token", None), st.session_state.pop("user"))
    st.session_state["clear_cookie"] = True
    st.session_state["expired"] = expired
    if st.session_state.pop("sso", False):
        st.logout()  # also forget the identity provider's log-in kept in Streamlit's cookie


def _signed_in_identity(context: AppContext) -> dict | None:
    """The identity token's claims when the user came back from the identity provider."""
    if not context.settings.sso.enabled or "sso_refused" in st.session_state:
        return None
    try:
        if st.user.is_logged_in is not True:
            return None
        return st.user.to_dict()
    except (AttributeError, KeyError):  # no [auth] secrets (AppTest, SSO off)
        return None


def _refuses_to_serve(context: AppContext) -> bool:
    """Show why the app will not serve in production with this database (public demo passwords)."""
    if context.production and context.db_path.exists():
        with connect(context.db_path) as con:
            demo = demo_accounts(con)
        if demo:  # the demo passwords are public: refuse to serve until they are gone
            st.error("Lydlogg kjører i produksjon med demokontoer. Deaktiver dem eller gi dem nye passord.")
            return True
    return False


def _current_user(context: AppContext, now: datetime) -> User | None:
    """The logged-in user of this rerun: the session's (checked afresh), the browser cookie's, or
    the identity provider's; None when nobody is logged in."""
    settings, db_path = context.settings, context.db_path
    timeout = settings.server.session_timeout_minutes
    max_hours = settings.server.session_max_hours
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
            _log_out(context, expired="idle" if idle else "ended")
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
    elif db_path.exists() and (claims := _signed_in_identity(context)) is not None:
        if not identity_fresh(claims, now.timestamp(), settings.sso.max_identity_age_seconds):
            st.logout()  # a stale identity from the cookie: forget it, never log in with it
        try:
            with connect(db_path) as con:
                identity = claims_identity(claims, settings.sso)
                user = sso_login(con, identity, accepted_acr=settings.sso.acr_values)
                # Single sign-on gets the same server-side session, idle timeout and lifetime.
                st.session_state["token"] = start_session(con, user, now)
            st.session_state.update(user=user, sso=True, set_cookie=True)
        except AuthError as e:
            st.session_state["sso_refused"] = str(e)
    if user is not None:
        st.session_state["last_activity"] = now
    return user


def main() -> None:
    """One run of the app: check the session, then show the log-in form or the user's pages."""
    st.set_page_config(page_title="Lydlogg", page_icon="🎧", layout="wide")
    private_umask()  # the database, its log and case audio written by the app are owner-only
    context = app_context()
    if problems := production_problems(context.settings):  # named in English for the operator, in the log
        st.error("Lydlogg er ikke satt opp for produksjon: data ville bli lagret ukryptert. Se loggen.")
        log.error("env = production refuses to serve: %s", "; ".join(problems))
        st.stop()
    with database_guard():  # a busy, older or unreadable database: a message, never a traceback
        if context.db_path.exists():
            _schema_checked(str(context.db_path))
        if _refuses_to_serve(context):
            st.stop()
        _run_pages(context)


def _run_pages(context: AppContext) -> None:
    """Check the session, then show the log-in form or the user's pages (the database may be busy)."""
    st.session_state["display_timezone"] = context.settings.display.timezone  # read by views.common.timezone
    user = _current_user(context, datetime.now(UTC))

    def login() -> None:
        _login_form(context)

    if user is None:
        if st.session_state.pop("clear_cookie", False):
            write_cookie(session_cookie(None, 0))
        # Every page's address shows the log-in form, so a shared link opens its page after log-in.
        login_pages = [st.Page(login, title="Logg inn", url_path="logg-inn", default=True)] + [
            st.Page(lambda: login(), title="Logg inn", url_path=path) for path in MENU_PATHS
        ]
        missing = not_found.unknown_page(not_found.requested_page(), [p.url_path for p in login_pages])
        if missing:  # log in first; the address then answers «finner ikke siden»
            login_pages.append(st.Page(lambda: login(), title="Logg inn", url_path=missing))
        st.navigation(login_pages, position="hidden").run()
        return
    st.session_state["service"] = ReviewService(context.db_path, user, context.settings)
    if allowed(user, "view_dashboard") and not user.own_calls_only and context.db_path.exists():
        _warm_dashboard(str(context.db_path), user, context)
    with st.sidebar:
        role = USER_ROLE_LABELS.get(user.role, user.role).lower()
        st.write(f"Innlogget som **{user.display_name}** ({role})")
        if st.button("Logg ut"):
            _log_out(context)
            st.rerun()
        if st.session_state.pop("set_cookie", False):
            max_age_s = int(context.settings.server.session_max_hours * 3600)  # the browser forgets it then
            write_cookie(session_cookie(st.session_state["token"], max_age_s))
    offered = menu(user)
    home = home_page(offered)
    pages = [st.Page(p.file, title=p.title, url_path=p.path, default=p == home) for p in offered]
    # An address that is no page this user may open gets a Norwegian page, not Streamlit's dialog.
    if missing := not_found.unknown_page(not_found.requested_page(), [p.url_path for p in pages]):
        pages.append(st.Page(lambda: not_found.render(home.title, home.path), title="Finner ikke siden",
                             url_path=missing, visibility="hidden"))  # fmt: skip
    st.navigation(pages).run()
