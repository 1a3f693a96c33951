"""Schema v18: ``latest_transcripts``, the one definition of "a call's newest transcript".

A call can have several transcripts (another model, other options, an imported one). Every page,
export and scorer that shows "the" transcript of a call reads this view: the transcript created
last, and of two created at the same moment the one with the greater id, so the choice never
depends on the order rows happen to be read in. It holds ``call_id`` and ``transcript_id`` only
(join ``transcripts`` for the rest); ``arg_max`` over a group is cheaper than a window here.
"""

MIGRATION = (
    18,
    "view latest_transcripts: each call's newest transcript",
    """
    CREATE VIEW latest_transcripts AS
    SELECT call_id, arg_max(transcript_id, (created_at, transcript_id)) AS transcript_id
    FROM transcripts
    GROUP BY call_id;
    """,
)
