"""The browser's session cookie, set and cleared by a fixed script in the app's own page.

A Streamlit v2 component (``st.components.v2``, as the call's player) runs in the app's document
itself, not in an iframe, so no frame with same-origin script exists for it. Its script is a
constant; the cookie's name, value and age reach it as data (JSON), which
:func:`lydlogg.login_sessions.session_cookie` has checked (a token holds only letters, digits,
``-`` and ``_``). The cookie is ``SameSite=Strict``, and ``Secure`` when the app is served over HTTPS.
"""

from __future__ import annotations

import streamlit as st

from lydlogg.login_sessions import SessionCookie

__all__ = ["COOKIE_JS", "write_cookie"]

COOKIE_JS = """
export default function (component) {
  const { data } = component;
  if (!data || !/^[A-Za-z0-9_]+$/.test(data.name) || !/^[A-Za-z0-9_-]*$/.test(data.value)) return;
  const age = Math.max(0, Math.floor(Number(data.max_age_s) || 0));
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = data.name + "=" + data.value + "; path=/; max-age=" + age + "; SameSite=Strict" + secure;
}
"""

_component = st.components.v2.component("lydlogg.session_cookie", js=COOKIE_JS)


def write_cookie(cookie: SessionCookie) -> None:
    """Set (or clear) the session cookie in this browser."""
    _component(
        key="lydlogg-session-cookie",
        data={"name": cookie.name, "value": cookie.value, "max_age_s": cookie.max_age_s},
    )
