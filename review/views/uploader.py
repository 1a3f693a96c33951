"""A file uploader that speaks Norwegian.

Streamlit draws its uploader's button ("Upload"/"Browse files") and size hint ("Drag and drop file
here", "200MB per file") itself, in English, with no option to change them. A small style block,
scoped to one uploader by its key (Streamlit gives the widget's container the class
``st-key-<key>``), hides those texts and shows Norwegian ones in their place. :func:`uploader_css`
is the pure part; :func:`file_uploader` injects it and draws the widget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import streamlit as st

__all__ = ["BUTTON_TEXT", "file_uploader", "limit_text", "uploader_css"]

BUTTON_TEXT = "Last opp"
_KEY = re.compile(r"[A-Za-z0-9_-]+")


def limit_text(max_mb: float, types: Sequence[str]) -> str:
    """The hint under the drop zone: ``Dra filen hit · maks 200 MB · ZIP``."""
    kinds = ", ".join(t.upper() for t in types)
    return " · ".join(part for part in ("Dra filen hit", f"maks {max_mb:g} MB", kinds) if part)


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (quotes, backslashes and line breaks escaped)."""
    escaped = "".join(c if c.isalnum() or c in " ·.,()-" else f"\\{ord(c):06x}" for c in text)
    return f'"{escaped}"'


def uploader_css(key: str, hint: str, button: str = BUTTON_TEXT) -> str:
    """A ``<style>`` block giving the uploader with ``key`` the Norwegian ``button`` and ``hint``."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"uploader key {key!r}: only letters, digits, '-' and '_' are accepted")
    zone = f".st-key-{key} [data-testid=stFileUploaderDropzone]"
    label = f"{zone} [data-testid=stBaseButton-secondary] [data-testid=stMarkdownContainer]"
    hints = f"{zone} [data-testid=stFileUploaderDropzoneInstructions]"
    return (
        "<style>"
        f"{label} p {{display: none;}}"
        f"{label}::after {{content: {_css_string(button)};}}"
        f"{hints} span, {hints} small {{display: none;}}"
        f"{hints}::after {{content: {_css_string(hint)}; font-size: 0.875rem; opacity: 0.7;}}"
        "</style>"
    )


def file_uploader(label: str, types: Sequence[str], key: str):
    """``st.file_uploader`` for one file of ``types``, with Norwegian button and hint text."""
    hint = limit_text(float(st.get_option("server.maxUploadSize")), types)
    st.markdown(uploader_css(key, hint), unsafe_allow_html=True)
    return st.file_uploader(label, type=list(types), key=key)
