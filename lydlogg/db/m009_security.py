"""Schema v9: log-in lock-out state and the log of data removed by retention rules."""

MIGRATION = (
    9,
    "log-in lock-out per user, retention deletion log",
    """
    CREATE TABLE login_state (
        username       VARCHAR PRIMARY KEY,
        failed_logins  INTEGER NOT NULL DEFAULT 0,
        locked_until   TIMESTAMPTZ,
        updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );

    CREATE SEQUENCE deletion_ids START 1;
    CREATE TABLE deletions (
        deletion_id   BIGINT PRIMARY KEY DEFAULT nextval('deletion_ids'),
        run_id        VARCHAR NOT NULL,
        occurred_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        username      VARCHAR NOT NULL,
        rule          VARCHAR NOT NULL,
        object_type   VARCHAR NOT NULL,
        object_id     VARCHAR NOT NULL,
        call_id       VARCHAR,
        CHECK (rule IN ('audio', 'transcript')),
        CHECK (object_type IN ('audio_file', 'transcript'))
    );
    """,
)
