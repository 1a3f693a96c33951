"""Page script: the leader's overview (see review.views.dashboard)."""

import streamlit as st

from review.views import advice_section, dashboard

review = st.session_state["service"]
dashboard.render(dashboard.service_for(review), review.settings.key_file)
advice_section.render_overview(review)
