"""Schema v28: a reviewer's mark that a corrected segment is free of identifiers.

``lydlogg export asr-dataset`` exports a corrected segment's text and audio as they are only when
a reviewer marked that very corrected text (``correction_id``) free of identifiers (no names,
national identity numbers, phone numbers, addresses); every other corrected segment goes out with
the anonymiser's placeholders in the text and the tone over the audio. A mark belongs to one
correction: a newer correction of the segment is unmarked until someone marks it again. Rows are
appended; the newest mark of a correction wins, so a mark can be taken back.
"""

MIGRATION = (
    28,
    "marks that a corrected segment is free of identifiers",
    """
    CREATE SEQUENCE identifier_mark_ids START 1;
    CREATE TABLE segment_identifier_marks (
        mark_id              BIGINT PRIMARY KEY DEFAULT nextval('identifier_mark_ids'),
        transcript_id        VARCHAR NOT NULL,
        segment_index        INTEGER NOT NULL,
        correction_id        BIGINT NOT NULL,
        free_of_identifiers  BOOLEAN NOT NULL,
        marked_by            VARCHAR NOT NULL,
        marked_at            TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );
    """,
)
