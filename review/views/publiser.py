"""Page script: publish a case from a reviewed call (see review.views.cases)."""

import streamlit as st

from review.views import cases

cases.render_publish(cases.service_for(st.session_state["service"]))
