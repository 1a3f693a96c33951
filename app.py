"""Lydlogg review app: navigation and shared resources only; pages live in review/views."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lydlogg.settings import load_settings
from review.service import ReviewService
from review.views import calls


@st.cache_resource
def _service(db_path: str) -> ReviewService:
    return ReviewService(Path(db_path))


st.set_page_config(page_title="Lydlogg", page_icon="🎧", layout="wide")
service = _service(str(load_settings().db_path))
pages = [st.Page(lambda: calls.render(service), title="Samtaler", url_path="samtaler", default=True)]
st.navigation(pages).run()
