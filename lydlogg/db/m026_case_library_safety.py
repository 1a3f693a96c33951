"""Schema v26: cases that are drafts until a trainer publishes them, and cases under retention.

``published`` is false for a case imported from a package until a trainer (``publish_case``)
publishes it; cases published before this version stay published. ``voice_disguised`` says
whether the case's audio was disguised (``anonymise.voice``) when it was published here: true or
false for new cases with audio, NULL where unknown (older cases, imported audio).

``deletions`` is rebuilt with the same columns and rows so that its checks admit the retention
rule ``case`` (object type ``case``): a case older than ``retention.delete_cases_after_days``
goes with its audio, and the deletion is written there like a recording's.
"""

MIGRATION = (
    26,
    "case drafts, voice disguise flag, case retention in the deletions log",
    """
    ALTER TABLE cases ADD COLUMN published BOOLEAN DEFAULT true;
    ALTER TABLE cases ADD COLUMN voice_disguised BOOLEAN;

    CREATE TABLE deletions_v26 (
        deletion_id   BIGINT PRIMARY KEY DEFAULT nextval('deletion_ids'),
        run_id        VARCHAR NOT NULL,
        occurred_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        username      VARCHAR NOT NULL,
        rule          VARCHAR NOT NULL,
        object_type   VARCHAR NOT NULL,
        object_id     VARCHAR NOT NULL,
        call_id       VARCHAR,
        CHECK (rule IN ('audio', 'transcript', 'case')),
        CHECK (object_type IN ('audio_file', 'transcript', 'case'))
    );
    INSERT INTO deletions_v26 (deletion_id, run_id, occurred_at, username, rule, object_type, object_id, call_id)
        SELECT deletion_id, run_id, occurred_at, username, rule, object_type, object_id, call_id FROM deletions;
    DROP TABLE deletions;
    ALTER TABLE deletions_v26 RENAME TO deletions;
    """,
)
