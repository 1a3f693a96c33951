"""Page script: the leader's overview (see review.views.dashboard)."""

import streamlit as st

from review.views import advice_section, dashboard

dashboard.render(dashboard.service_for(st.session_state["service"]))
advice_section.render_overview(st.session_state["service"])
