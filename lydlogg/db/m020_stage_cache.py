"""Schema v20: each pipeline stage keyed on its own options.

``asr_results`` and ``asr_segments`` keep what the recogniser made of a recording, before
diarization, keyed on (audio sha256, model, ASR options hash). Changing the ``[diarization]``
settings then re-diarizes from that cache without decoding speech again.

A stored transcript is the ASR result with speakers and roles, so its key gains the diarization
options' hash: ``transcripts`` is rebuilt (DuckDB cannot drop a UNIQUE constraint in place) with
``diarization_hash`` in its unique key. Existing rows get the hash of the diarization options they
were stored with (``diarizations.options_json``), the same hash :func:`lydlogg.pipeline.diarization_hash`
computes, or '' where none was recorded (imported text). ``runs.diarization_hash`` records the
diarization options a run used.
"""

MIGRATION = (
    20,
    "ASR output cached per recording, model and options; diarization options in the transcript key",
    """
    CREATE TABLE asr_results (
        asr_id               VARCHAR PRIMARY KEY,
        audio_sha256         VARCHAR NOT NULL,
        model_id             VARCHAR NOT NULL,
        options_hash         VARCHAR NOT NULL,
        run_id               VARCHAR NOT NULL,
        language             VARCHAR NOT NULL,
        channels_transcribed INTEGER NOT NULL,
        speech_s             DOUBLE NOT NULL,
        asr_seconds          DOUBLE NOT NULL,
        created_at           TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        UNIQUE (audio_sha256, model_id, options_hash)
    );

    CREATE TABLE asr_segments (
        asr_id          VARCHAR NOT NULL,
        segment_index   INTEGER NOT NULL,
        channel         INTEGER,
        start_s         DOUBLE NOT NULL,
        end_s           DOUBLE NOT NULL,
        text            VARCHAR NOT NULL,
        avg_logprob     DOUBLE,
        no_speech_prob  DOUBLE,
        words_json      VARCHAR NOT NULL,
        PRIMARY KEY (asr_id, segment_index)
    );

    CREATE TABLE transcripts_v20 (
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
        diarization_hash     VARCHAR NOT NULL DEFAULT '',
        UNIQUE (audio_sha256, model_id, options_hash, diarization_hash),
        CHECK (layout IN ('mono', 'stereo', 'dual_mono'))
    );

    INSERT INTO transcripts_v20 (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,
                                 layout, channels_transcribed, duration_s, speech_s, asr_seconds, created_at,
                                 diarization_hash)
    SELECT t.transcript_id, t.call_id, t.audio_sha256, t.run_id, t.model_id, t.options_hash, t.language, t.layout,
           t.channels_transcribed, t.duration_s, t.speech_s, t.asr_seconds, t.created_at,
           coalesce(substr(sha256(d.options_json), 1, 16), '')
    FROM transcripts t LEFT JOIN diarizations d USING (transcript_id);

    DROP TABLE transcripts;
    ALTER TABLE transcripts_v20 RENAME TO transcripts;

    ALTER TABLE runs ADD COLUMN diarization_hash VARCHAR;
    """,
)
