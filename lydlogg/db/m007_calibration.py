"""Schema v7: calibration rounds between reviewers, agreed interpretations, feedback-session notes."""

MIGRATION = (
    7,
    "calibration rounds, agreed criterion interpretations, feedback session notes",
    """
    CREATE TABLE calibration_rounds (
        round_id    VARCHAR PRIMARY KEY,
        title       VARCHAR NOT NULL,
        rubric_id   VARCHAR NOT NULL,
        created_by  VARCHAR NOT NULL,
        created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        closed_at   TIMESTAMPTZ
    );

    CREATE TABLE calibration_calls (
        round_id  VARCHAR NOT NULL,
        call_id   VARCHAR NOT NULL,
        position  INTEGER NOT NULL,
        PRIMARY KEY (round_id, call_id)
    );

    CREATE TABLE calibration_members (
        round_id  VARCHAR NOT NULL,
        username  VARCHAR NOT NULL,
        PRIMARY KEY (round_id, username)
    );

    -- A review saved in a round is an ordinary review (kind 'peer'); this row ties it to the round.
    CREATE TABLE calibration_reviews (
        review_id  VARCHAR PRIMARY KEY,
        round_id   VARCHAR NOT NULL,
        call_id    VARCHAR NOT NULL,
        reviewer   VARCHAR NOT NULL
    );

    -- Append-only: the newest row per (rubric_id, criterion_id) is the guidance shown to reviewers.
    CREATE SEQUENCE interpretation_ids START 1;
    CREATE TABLE criterion_interpretations (
        interpretation_id  BIGINT PRIMARY KEY DEFAULT nextval('interpretation_ids'),
        rubric_id          VARCHAR NOT NULL,
        criterion_id       VARCHAR NOT NULL,
        round_id           VARCHAR,
        text               VARCHAR NOT NULL,
        decided_by         VARCHAR NOT NULL,
        decided_at         TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );

    CREATE SEQUENCE feedback_note_ids START 1;
    CREATE TABLE feedback_notes (
        note_id        BIGINT PRIMARY KEY DEFAULT nextval('feedback_note_ids'),
        call_id        VARCHAR NOT NULL,
        segment_index  INTEGER,
        text           VARCHAR NOT NULL,
        written_by     VARCHAR NOT NULL,
        written_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );
    """,
)
