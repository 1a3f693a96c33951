"""Lydlogg review app, for `streamlit run app.py` in a source checkout: the app is review.app.main
(`lydlogg serve` runs it from the installed package)."""

from review.app.main import main

main()
