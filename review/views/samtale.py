"""Page script: one call (see review.views.call)."""

import streamlit as st

from review.views import call

call.render(st.session_state["service"])
