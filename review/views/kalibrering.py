"""Page script: calibration rounds (see review.views.calibration)."""

import streamlit as st

from review.views import calibration

calibration.render(st.session_state["service"])
