"""Schema v3: users, the audit trail, and human reviews (a new review replaces an older one
through ``replaces``; scores and time-stamped comments beside it).
"""

MIGRATION = (
    3,
    "users, audit trail, human reviews with history and comments",
    """
    CREATE TABLE users (
        username       VARCHAR PRIMARY KEY,
        display_name   VARCHAR NOT NULL,
        role           VARCHAR NOT NULL,
        operator_id    VARCHAR,
        password_hash  VARCHAR,
        active         BOOLEAN NOT NULL DEFAULT true,
        created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (role IN ('admin', 'leder', 'veileder', 'operator', 'lege'))
    );

    CREATE SEQUENCE audit_ids START 1;
    CREATE TABLE audit (
        audit_id     BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
        occurred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        username     VARCHAR NOT NULL,
        action       VARCHAR NOT NULL,
        object_type  VARCHAR,
        object_id    VARCHAR,
        detail       VARCHAR
    );

    CREATE TABLE reviews (
        review_id        VARCHAR PRIMARY KEY,
        call_id          VARCHAR NOT NULL,
        transcript_id    VARCHAR,
        rubric_id        VARCHAR NOT NULL,
        rubric_version   INTEGER NOT NULL,
        rubric_sha256    VARCHAR NOT NULL,
        reviewer         VARCHAR NOT NULL,
        kind             VARCHAR NOT NULL,
        overall_comment  VARCHAR,
        replaces         VARCHAR,
        created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (kind IN ('peer', 'self'))
    );

    CREATE TABLE review_scores (
        review_id            VARCHAR NOT NULL,
        criterion_id         VARCHAR NOT NULL,
        value                INTEGER,
        suggested_value      INTEGER,
        comment              VARCHAR,
        PRIMARY KEY (review_id, criterion_id)
    );

    CREATE TABLE review_comments (
        review_id      VARCHAR NOT NULL,
        comment_index  INTEGER NOT NULL,
        segment_index  INTEGER,
        at_s           DOUBLE,
        text           VARCHAR NOT NULL,
        PRIMARY KEY (review_id, comment_index)
    );
    """,
)
