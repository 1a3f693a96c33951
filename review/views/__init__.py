"""Streamlit pages; each is thin over :class:`review.service.ReviewService`."""
