"""Schema v30: review drafts under retention.

``deletions`` is rebuilt with the same columns and rows so that its checks admit the retention
rule ``draft`` (object type ``review_draft``, object id ``username:call_id``): a half-filled review
left untouched longer than ``retention.delete_drafts_after_days`` is deleted, and so is every draft
of a call whose transcript text goes (a draft holds the reviewer's choices and comments on that
text). The deletion is written to the log like a recording's.
"""

MIGRATION = (
    30,
    "review drafts under retention in the deletions log",
    """
    CREATE TABLE deletions_v30 (
        deletion_id   BIGINT PRIMARY KEY DEFAULT nextval('deletion_ids'),
        run_id        VARCHAR NOT NULL,
        occurred_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        username      VARCHAR NOT NULL,
        rule          VARCHAR NOT NULL,
        object_type   VARCHAR NOT NULL,
        object_id     VARCHAR NOT NULL,
        call_id       VARCHAR,
        CHECK (rule IN ('audio', 'transcript', 'case', 'draft')),
        CHECK (object_type IN ('audio_file', 'transcript', 'case', 'review_draft'))
    );
    INSERT INTO deletions_v30 (deletion_id, run_id, occurred_at, username, rule, object_type, object_id, call_id)
        SELECT deletion_id, run_id, occurred_at, username, rule, object_type, object_id, call_id FROM deletions;
    DROP TABLE deletions;
    ALTER TABLE deletions_v30 RENAME TO deletions;
    """,
)
