"""Schema v2: the scorers' suggestions per transcript and rubric, calls from imported transcripts
(``calls.source``), and failures that may now come from importing or scoring.

``failures`` is rebuilt because DuckDB cannot change a CHECK constraint in place.
"""

MIGRATION = (
    2,
    "rubric suggestions, imported transcripts, scoring failures",
    """
    ALTER TABLE calls ADD COLUMN source VARCHAR DEFAULT 'audio';

    CREATE TABLE suggestions (
        transcript_id     VARCHAR NOT NULL,
        call_id           VARCHAR NOT NULL,
        rubric_id         VARCHAR NOT NULL,
        rubric_version    INTEGER NOT NULL,
        rubric_sha256     VARCHAR NOT NULL,
        criterion_id      VARCHAR NOT NULL,
        value             INTEGER,
        confidence        DOUBLE NOT NULL,
        evidence_json     VARCHAR NOT NULL,
        rationale         VARCHAR NOT NULL,
        software_version  VARCHAR NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (transcript_id, rubric_sha256, criterion_id)
    );

    CREATE TABLE failures_v2 (
        failure_id   BIGINT PRIMARY KEY DEFAULT nextval('failure_ids'),
        run_id       VARCHAR,
        call_id      VARCHAR,
        path         VARCHAR,
        stage        VARCHAR NOT NULL,
        reason       VARCHAR NOT NULL,
        occurred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        resolved_at  TIMESTAMPTZ,
        CHECK (stage IN ('ingest', 'metadata', 'decode', 'transcribe', 'import', 'score'))
    );
    INSERT INTO failures_v2 (failure_id, run_id, call_id, path, stage, reason, occurred_at, resolved_at)
    SELECT failure_id, run_id, call_id, path, stage, reason, occurred_at, resolved_at FROM failures;
    DROP TABLE failures;
    ALTER TABLE failures_v2 RENAME TO failures;
    """,
)
