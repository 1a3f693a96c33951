"""Lydlogg review app: log-in, navigation and shared resources only; pages live in review/views."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lydlogg.auth import AuthError, authenticate
from lydlogg.db import connect
from lydlogg.settings import load_settings
from review.service import ReviewService

st.set_page_config(page_title="Lydlogg", page_icon="🎧", layout="wide")
settings = load_settings()
db_path = Path(settings.db_path)


def login() -> None:
    st.title("Lydlogg")
    with st.form("login"):
        username = st.text_input("Brukernavn")
        password = st.text_input("Passord", type="password")
        if st.form_submit_button("Logg inn"):
            try:
                with connect(db_path) as con:
                    st.session_state["user"] = authenticate(
                        con, username, password, production=settings.env == "production"
                    )
                st.rerun()
            except AuthError as e:
                st.error(str(e))


user = st.session_state.get("user")
if user is None:
    # Every page's address shows the log-in form, so a shared link opens its page after log-in.
    login_pages = [st.Page(login, title="Logg inn", url_path="logg-inn", default=True)] + [
        st.Page(lambda: login(), title="Logg inn", url_path=path)
        for path in ("innboks", "samtale", "episode")
    ]
    st.navigation(login_pages, position="hidden").run()
else:
    st.session_state["service"] = ReviewService(db_path, user)
    with st.sidebar:
        st.write(f"Innlogget som **{user.display_name}** ({user.role})")
        if st.button("Logg ut"):
            del st.session_state["user"]
            st.rerun()
    pages = [
        st.Page("review/views/innboks.py", title="Innboks", url_path="innboks", default=True),
        st.Page("review/views/samtale.py", title="Samtale", url_path="samtale"),
        st.Page("review/views/episode_page.py", title="Episode", url_path="episode"),
    ]
    st.navigation(pages).run()
