"""Schema v6: who spoke when (turns), each speaker's role with confidence and evidence, and the
diarization strategy used per transcript."""

MIGRATION = (
    6,
    "speaker turns, speakers with roles, diarization per transcript",
    """
    CREATE TABLE diarizations (
        transcript_id    VARCHAR PRIMARY KEY,
        strategy         VARCHAR,
        options_json     VARCHAR NOT NULL,
        speakers         INTEGER NOT NULL DEFAULT 0,
        notes            VARCHAR,
        error            VARCHAR,
        diarize_seconds  DOUBLE,
        created_at       TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (strategy IS NULL OR strategy IN ('channels', 'pyannote', 'builtin')),
        CHECK (strategy IS NOT NULL OR error IS NOT NULL)
    );

    CREATE TABLE speaker_turns (
        transcript_id  VARCHAR NOT NULL,
        turn_index     INTEGER NOT NULL,
        start_s        DOUBLE NOT NULL,
        end_s          DOUBLE NOT NULL,
        speaker        VARCHAR NOT NULL,
        PRIMARY KEY (transcript_id, turn_index)
    );

    CREATE TABLE transcript_speakers (
        transcript_id  VARCHAR NOT NULL,
        speaker        VARCHAR NOT NULL,
        role           VARCHAR NOT NULL,
        confidence     DOUBLE NOT NULL,
        evidence_json  VARCHAR NOT NULL,
        strategy       VARCHAR NOT NULL,
        source         VARCHAR NOT NULL DEFAULT 'words',
        updated_by     VARCHAR,
        updated_at     TIMESTAMPTZ,
        PRIMARY KEY (transcript_id, speaker),
        CHECK (role IN ('operator', 'doctor', 'caller', 'other')),
        CHECK (confidence >= 0 AND confidence <= 1),
        CHECK (source IN ('words', 'channel_setting', 'corrected'))
    );
    """,
)
