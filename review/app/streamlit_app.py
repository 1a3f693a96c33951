"""The script Streamlit runs for ``lydlogg serve``: the app itself is review.app.main."""

from review.app.main import main

main()
