"""The review app's service layer: what the Streamlit pages call. Pages stay thin."""

from review.service import CallRow, ReviewService

__all__ = ["CallRow", "ReviewService"]
