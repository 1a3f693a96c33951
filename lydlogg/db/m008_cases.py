"""Schema v8: the case library (kasusbibliotek) of anonymised, published training calls.

A case holds only anonymised material: the redacted transcript, the assessment with anonymised
comments, the trainer's learning points, tags and reflection questions, and the path of the
covered audio copy in the cases folder. ``source_call_id`` ties a case to its original call (NULL
for a case imported from a package); ``redactions_json`` keeps the confirmed offsets and kinds
only, never the hidden text. ``search_text`` is the lower-cased text the library searches.
"""

MIGRATION = (
    8,
    "case library: anonymised published cases and their criterion scores",
    """
    CREATE TABLE cases (
        case_id          VARCHAR PRIMARY KEY,
        source_call_id   VARCHAR,
        title            VARCHAR NOT NULL,
        service          VARCHAR,
        rubric_id        VARCHAR,
        rubric_version   INTEGER,
        transcript_json  VARCHAR NOT NULL,
        assessment_json  VARCHAR NOT NULL,
        learning_points  VARCHAR NOT NULL,
        tags             VARCHAR[] NOT NULL,
        reflection_json  VARCHAR NOT NULL,
        redactions_json  VARCHAR NOT NULL,
        audio_file       VARCHAR,
        audio_sha256     VARCHAR,
        search_text      VARCHAR NOT NULL,
        published_by     VARCHAR NOT NULL,
        published_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        imported_sha256  VARCHAR
    );

    CREATE TABLE case_scores (
        case_id       VARCHAR NOT NULL,
        criterion_id  VARCHAR NOT NULL,
        value         INTEGER,
        PRIMARY KEY (case_id, criterion_id)
    );
    """,
)
