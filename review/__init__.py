"""The review app's service layer (what the pages call) and, on top of it, the pages and the app.

Importing the package loads nothing else: take what you need from its modules, e.g.
``review.service.ReviewService``. The layers are in pyproject.toml (``[tool.importlinter]``).
"""
