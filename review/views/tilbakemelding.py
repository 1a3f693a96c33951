"""Page script: feedback session (see review.views.feedback_session)."""

import streamlit as st

from review.views import feedback_session

feedback_session.render(st.session_state["service"])
