"""Schema v17: why a reviewer overrode a scorer's suggestion, and ASR measured on corrections.

A reviewer who saves a value other than the suggestion can say why in one line ("feil bevis",
"sa det til kollega", "dialekt"). ``lydlogg export scorer-feedback`` hands these to rubric authors
with the transcript span the suggestion rested on.

``asr_eval_results`` keeps what each ``lydlogg asr-eval`` run measured (WER per model, service
and channel on the corrected spans), so the admin page shows it without running a model.
"""

MIGRATION = (
    17,
    "override reasons on review scores; asr-eval results",
    """
    ALTER TABLE review_scores ADD COLUMN override_reason VARCHAR;

    CREATE TABLE asr_eval_results (
        run_id           VARCHAR NOT NULL,
        run_at           TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        model            VARCHAR NOT NULL,
        service          VARCHAR NOT NULL,
        channel          VARCHAR NOT NULL,
        segments         INTEGER NOT NULL,
        reference_words  INTEGER NOT NULL,
        wer              DOUBLE NOT NULL,
        key_words        INTEGER NOT NULL,
        key_wer          DOUBLE NOT NULL,
        first_corrected  TIMESTAMPTZ,
        last_corrected   TIMESTAMPTZ,
        vocabulary       VARCHAR,
        PRIMARY KEY (run_id, model, service, channel)
    );
    """,
)
