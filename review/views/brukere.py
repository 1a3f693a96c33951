"""Page script: users and roles for admins (see review.views.admin)."""

import streamlit as st

from review.views import admin

service = st.session_state["service"]
admin.render(service, production=service.settings.env == "production")
