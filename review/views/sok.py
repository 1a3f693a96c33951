"""Page script: search every call's transcript (see review.views.search_page)."""

import streamlit as st

from review.views import search_page

search_page.render(st.session_state["service"])
