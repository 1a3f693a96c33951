"""Page script: users and roles for admins (see review.views.admin)."""

import streamlit as st

from lydlogg.settings import load_settings
from review.views import admin

service = st.session_state["service"]
admin.render(service, production=load_settings(None, db_path=service.db_path).env == "production")
