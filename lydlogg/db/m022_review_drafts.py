"""Schema v22: a half-filled review kept as a draft, one per user and call.

The call page writes the reviewer's unsaved choices here as they make them, so that leaving the
page (another call, the inbox, a reload) loses nothing; the next visit offers the draft back.
Saving the review, or discarding the draft, deletes the row. ``draft_json`` holds the form as the
reviewer left it (values, override reasons, comments): the same kind of content as a saved review,
kept under the same access rules and never written to the log.
"""

MIGRATION = (
    22,
    "review drafts per user and call",
    """
    CREATE TABLE review_drafts (
        username    VARCHAR NOT NULL,
        call_id     VARCHAR NOT NULL,
        kind        VARCHAR NOT NULL,
        draft_json  VARCHAR NOT NULL,
        updated_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (username, call_id),
        CHECK (kind IN ('peer', 'self'))
    );
    """,
)
