"""Page script: the audit trail (see review.views.audit_log)."""

import streamlit as st

from review.views import audit_log

audit_log.render(st.session_state["service"])
