"""Schema v4: a reviewer's corrections kept beside the recognised segments, never over them.

``segments_current`` shows each segment with its newest corrected text and role.
"""

MIGRATION = (
    4,
    "transcript corrections kept beside the original segments",
    """
    CREATE SEQUENCE correction_ids START 1;
    CREATE TABLE segment_corrections (
        correction_id  BIGINT PRIMARY KEY DEFAULT nextval('correction_ids'),
        transcript_id  VARCHAR NOT NULL,
        segment_index  INTEGER NOT NULL,
        text           VARCHAR,
        role           VARCHAR,
        corrected_by   VARCHAR NOT NULL,
        corrected_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (text IS NOT NULL OR role IS NOT NULL),
        CHECK (role IS NULL OR role IN ('operator', 'doctor', 'caller', 'other'))
    );

    CREATE VIEW segments_current AS
    WITH latest AS (
        SELECT transcript_id, segment_index,
               arg_max(text, correction_id) FILTER (WHERE text IS NOT NULL) AS text,
               arg_max(role, correction_id) FILTER (WHERE role IS NOT NULL) AS role
        FROM segment_corrections GROUP BY transcript_id, segment_index
    )
    SELECT s.transcript_id, s.segment_index, s.channel, s.start_s, s.end_s,
           coalesce(l.text, s.text) AS text, s.speaker, coalesce(l.role, s.role) AS role,
           s.avg_logprob, s.no_speech_prob, l.text IS NOT NULL AS text_corrected
    FROM segments s LEFT JOIN latest l USING (transcript_id, segment_index);
    """,
)
