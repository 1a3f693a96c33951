"""Schema v1: recordings, calls, processing runs, transcripts with their segments and words, and
the failures a batch records and carries on past.
"""

MIGRATION = (
    1,
    "calls, audio files, transcripts, segments, words, runs and failures",
    """
    CREATE TABLE audio_files (
        sha256        VARCHAR PRIMARY KEY,
        path          VARCHAR NOT NULL,
        size_bytes    BIGINT NOT NULL,
        container     VARCHAR NOT NULL,
        subtype       VARCHAR,
        sample_rate   INTEGER NOT NULL,
        channels      INTEGER NOT NULL,
        frames        BIGINT NOT NULL,
        duration_s    DOUBLE NOT NULL,
        ingested_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );

    CREATE TABLE calls (
        call_id            VARCHAR PRIMARY KEY,
        audio_sha256       VARCHAR UNIQUE,
        started_at         TIMESTAMPTZ,
        service            VARCHAR,
        operator_id        VARCHAR,
        caller_pseudonym   VARCHAR,
        patient_pseudonym  VARCHAR,
        urgency            VARCHAR,
        metadata_source    VARCHAR,
        created_at         TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (service IS NULL OR service IN ('lvs', 'amk', 'legevaktlege', 'fastlege')),
        CHECK (urgency IS NULL OR urgency IN ('red', 'yellow', 'green'))
    );

    CREATE TABLE runs (
        run_id            VARCHAR PRIMARY KEY,
        started_at        TIMESTAMPTZ NOT NULL,
        finished_at       TIMESTAMPTZ,
        software_version  VARCHAR NOT NULL,
        model_id          VARCHAR NOT NULL,
        model_sha256      VARCHAR,
        options_json      VARCHAR NOT NULL,
        options_hash      VARCHAR NOT NULL,
        files_total       INTEGER NOT NULL DEFAULT 0,
        files_done        INTEGER NOT NULL DEFAULT 0,
        files_failed      INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE transcripts (
        transcript_id        VARCHAR PRIMARY KEY,
        call_id              VARCHAR NOT NULL,
        audio_sha256         VARCHAR NOT NULL,
        run_id               VARCHAR NOT NULL,
        model_id             VARCHAR NOT NULL,
        options_hash         VARCHAR NOT NULL,
        language             VARCHAR NOT NULL,
        layout               VARCHAR NOT NULL,
        channels_transcribed INTEGER NOT NULL,
        duration_s           DOUBLE NOT NULL,
        speech_s             DOUBLE NOT NULL,
        asr_seconds          DOUBLE NOT NULL,
        created_at           TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        UNIQUE (audio_sha256, model_id, options_hash),
        CHECK (layout IN ('mono', 'stereo', 'dual_mono'))
    );

    CREATE TABLE segments (
        transcript_id   VARCHAR NOT NULL,
        segment_index   INTEGER NOT NULL,
        channel         INTEGER,
        start_s         DOUBLE NOT NULL,
        end_s           DOUBLE NOT NULL,
        text            VARCHAR NOT NULL,
        speaker         VARCHAR,
        role            VARCHAR,
        avg_logprob     DOUBLE,
        no_speech_prob  DOUBLE,
        PRIMARY KEY (transcript_id, segment_index)
    );

    CREATE TABLE words (
        transcript_id   VARCHAR NOT NULL,
        segment_index   INTEGER NOT NULL,
        word_index      INTEGER NOT NULL,
        channel         INTEGER,
        start_s         DOUBLE NOT NULL,
        end_s           DOUBLE NOT NULL,
        text            VARCHAR NOT NULL,
        probability     DOUBLE NOT NULL,
        PRIMARY KEY (transcript_id, segment_index, word_index)
    );

    CREATE SEQUENCE failure_ids START 1;
    CREATE TABLE failures (
        failure_id   BIGINT PRIMARY KEY DEFAULT nextval('failure_ids'),
        run_id       VARCHAR,
        call_id      VARCHAR,
        path         VARCHAR,
        stage        VARCHAR NOT NULL,
        reason       VARCHAR NOT NULL,
        occurred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        resolved_at  TIMESTAMPTZ,
        CHECK (stage IN ('ingest', 'metadata', 'decode', 'transcribe'))
    );
    """,
)
