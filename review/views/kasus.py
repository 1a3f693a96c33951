"""Page script: the case library (see review.views.cases)."""

import streamlit as st

from review.views import cases

cases.render_library(cases.service_for(st.session_state["service"]))
