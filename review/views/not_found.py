"""An address that names no page the user may open: a Norwegian page instead of Streamlit's
English "Page not found" dialog.

The same text answers an unknown address and a page the role may not open, so the answer
reveals nothing about which pages exist.
"""

from __future__ import annotations

import re

import streamlit as st

__all__ = ["MESSAGE", "requested_page", "unknown_page", "render"]

MESSAGE = "Siden finnes ikke, eller du har ikke tilgang til den."
_URL_PATH = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def requested_page() -> str | None:
    """The page address the browser asked for on this run, or None (Streamlit keeps it in its page
    manager; an internal attribute, so anything unexpected means "no answer")."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        return ctx.pages_manager.intended_page_name if ctx is not None else None
    except AttributeError:
        return None


def unknown_page(requested: str | None, known: list[str] | tuple[str, ...]) -> str | None:
    """``requested`` when it is a page address none of ``known`` answers, else None."""
    if not requested or requested in known or not _URL_PATH.match(requested):
        return None
    return requested


def render(home_title: str, home_path: str) -> None:
    st.title("Finner ikke siden")
    st.warning(MESSAGE)
    st.markdown(f"[Gå til {home_title}](/{home_path})")
