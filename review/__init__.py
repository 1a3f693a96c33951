"""The review app's service layer: what the Streamlit pages call. Pages stay thin."""

from review.service import CallInfo, Review, ReviewService, Suggestion

__all__ = ["CallInfo", "Review", "ReviewService", "Suggestion"]
