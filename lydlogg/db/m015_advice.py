"""Schema v15: standard worsening advice per contact reason (rubrics/advice).

``advice_results`` holds, per transcript and advice-library content hash, the contact reason used
(detected, or a reviewer's correction) and how much of that reason's standard advice the staff
gave; a changed library is analysed again under its new hash, and nothing else is redone.
``advice_reason_corrections`` is append-only: the newest row per call is the reviewer's answer.
"""

MIGRATION = (
    15,
    "standard worsening advice: per-call coverage and contact-reason corrections",
    """
    CREATE TABLE advice_results (
        transcript_id    VARCHAR NOT NULL,
        call_id          VARCHAR NOT NULL,
        library_sha256   VARCHAR NOT NULL,
        reason_id        VARCHAR,
        reason_source    VARCHAR NOT NULL,
        reasons_json     VARCHAR NOT NULL,
        home_care        BOOLEAN,
        signs_said       INTEGER,
        signs_total      INTEGER,
        action_said      BOOLEAN,
        meets_standard   BOOLEAN,
        missing_json     VARCHAR,
        coverage_json    VARCHAR,
        software_version VARCHAR NOT NULL,
        created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (transcript_id, library_sha256),
        CHECK (reason_source IN ('detected', 'correction'))
    );

    CREATE SEQUENCE advice_correction_ids START 1;
    CREATE TABLE advice_reason_corrections (
        correction_id  BIGINT PRIMARY KEY DEFAULT nextval('advice_correction_ids'),
        call_id        VARCHAR NOT NULL,
        reason_ids     VARCHAR NOT NULL,
        corrected_by   VARCHAR NOT NULL,
        corrected_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );
    """,
)
