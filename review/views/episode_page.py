"""Page script: an episode of repeat contacts (see review.views.episode)."""

import streamlit as st

from review.views import episode

episode.render(st.session_state["service"])
