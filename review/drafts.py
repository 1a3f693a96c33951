"""Review drafts: a reviewer's unsaved choices on the call page, kept per user and call.

The page hands :meth:`DraftStore.keep` the whole form as a :class:`Draft` after every change;
leaving the page loses nothing, and the next visit gets it back from :meth:`DraftStore.load`.
Saving the review (or discarding the draft) removes it. Only the user's own drafts are ever read
or written, and only for calls they may review. Draft text is never logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lydlogg.access import OWNER_SQL, check_call
from lydlogg.auth import User
from lydlogg.db import connect

__all__ = ["Draft", "DraftStore", "draft_from_json", "draft_to_json"]


@dataclass(frozen=True)
class Draft:
    """The review form as the reviewer left it. ``values`` holds only the criteria they have
    answered (``None`` is «ikke aktuelt»); the rest are still open."""

    kind: str
    values: dict[str, int | None] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    overall_comment: str = ""
    segment_comments: str = ""
    updated_at: datetime | None = None

    def same_form(self, other: Draft | None) -> bool:
        """Whether ``other`` holds the same answers and text (the time aside)."""
        return other is not None and draft_to_json(self) == draft_to_json(other)


def draft_to_json(draft: Draft) -> str:
    """The stored form of a draft (pure); the time is kept in its own column."""
    return json.dumps(
        {
            "values": draft.values,
            "reasons": {k: v for k, v in draft.reasons.items() if v},
            "overall_comment": draft.overall_comment,
            "segment_comments": draft.segment_comments,
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def draft_from_json(kind: str, text: str, updated_at: datetime | None = None) -> Draft:
    """A draft read back; criteria and comments as stored (pure)."""
    doc = json.loads(text)
    return Draft(
        kind,
        {str(k): (None if v is None else int(v)) for k, v in doc.get("values", {}).items()},
        {str(k): str(v) for k, v in doc.get("reasons", {}).items()},
        str(doc.get("overall_comment", "")),
        str(doc.get("segment_comments", "")),
        updated_at,
    )


_ACTIONS = {"peer": "peer_review", "self": "self_review"}


class DraftStore:
    """The logged-in user's review drafts in the Lydlogg database."""

    def __init__(self, db_path: Path, user: User) -> None:
        self.db_path = Path(db_path)
        self.user = user

    def _check(self, con, kind: str, call_id: str) -> None:  # noqa: ANN001 - a DuckDB connection
        if kind not in _ACTIONS:
            raise ValueError(f"draft kind {kind!r} is not 'peer' or 'self'")
        check_call(self.user, _ACTIONS[kind], con.execute(OWNER_SQL, [call_id]).fetchone())

    def load(self, call_id: str, kind: str) -> Draft | None:
        """This user's draft of ``kind`` for the call, if one is kept."""
        with connect(self.db_path) as con:
            self._check(con, kind, call_id)
            row = con.execute(
                "SELECT draft_json, updated_at FROM review_drafts WHERE username = ? AND call_id = ? AND kind = ?",
                [self.user.username, call_id, kind],
            ).fetchone()
        return None if row is None else draft_from_json(kind, row[0], row[1])

    def keep(self, call_id: str, draft: Draft) -> None:
        """Store ``draft`` as this user's draft for the call (replacing an older one)."""
        with connect(self.db_path) as con:
            self._check(con, draft.kind, call_id)
            con.execute(
                "INSERT INTO review_drafts (username, call_id, kind, draft_json, updated_at)"
                " VALUES (?, ?, ?, ?, current_timestamp) ON CONFLICT (username, call_id) DO UPDATE SET"
                " kind = excluded.kind, draft_json = excluded.draft_json, updated_at = excluded.updated_at",
                [self.user.username, call_id, draft.kind, draft_to_json(draft)],
            )

    def discard(self, call_id: str) -> None:
        """Forget this user's draft for the call (after saving the review, or on request)."""
        with connect(self.db_path) as con:
            con.execute(
                "DELETE FROM review_drafts WHERE username = ? AND call_id = ?", [self.user.username, call_id]
            )
