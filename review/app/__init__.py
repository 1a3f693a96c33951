"""The review app: log-in, navigation and the shared application context (the top layer).

``streamlit_app.py`` is the script Streamlit runs (``lydlogg serve`` finds it through the
installed package); :mod:`review.app.main` holds the app's body and :mod:`review.app.pages` the
one page registry. Importing this package loads nothing.
"""
