"""Page script: the inbox (see review.views.inbox)."""

import streamlit as st

from review.views import inbox

inbox.render(st.session_state["service"])
