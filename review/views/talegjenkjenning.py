"""Page script: ASR measured on reviewers' corrections (see review.views.asr_eval_page)."""

import streamlit as st

from review.views import asr_eval_page

asr_eval_page.render(st.session_state["service"])
