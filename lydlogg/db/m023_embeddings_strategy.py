"""Schema v23: ``embeddings`` (Resemblyzer speaker embeddings) as a diarization strategy.

DuckDB cannot alter a CHECK constraint in place, so ``diarizations`` is rebuilt with the wider
list and its rows copied over; nothing else refers to the table.
"""

MIGRATION = (
    23,
    "embeddings diarization strategy",
    """
    CREATE TABLE diarizations_v23 (
        transcript_id    VARCHAR PRIMARY KEY,
        strategy         VARCHAR,
        options_json     VARCHAR NOT NULL,
        speakers         INTEGER NOT NULL DEFAULT 0,
        notes            VARCHAR,
        error            VARCHAR,
        diarize_seconds  DOUBLE,
        created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (strategy IS NULL OR strategy IN ('channels', 'pyannote', 'embeddings', 'builtin')),
        CHECK (strategy IS NOT NULL OR error IS NOT NULL)
    );
    INSERT INTO diarizations_v23
        (transcript_id, strategy, options_json, speakers, notes, error, diarize_seconds, created_at)
        SELECT transcript_id, strategy, options_json, speakers, notes, error, diarize_seconds, created_at
        FROM diarizations;
    DROP TABLE diarizations;
    ALTER TABLE diarizations_v23 RENAME TO diarizations;
    """,
)
