"""Schema v12: transcript quality per segment, and suggestions that abstain.

``segment_quality`` holds the estimated word accuracy of each recognised segment
(:func:`transcription.quality.segment_quality`), written when a call is scored; a segment a
reviewer has corrected is trusted as written whatever its row says. ``suggestions.abstained`` marks
a suggestion that could not be made because it rests on not finding something in speech the
recogniser did not hear well: its value is NULL (missing, never zero) and its evidence holds the
time spans to listen to.
"""

MIGRATION = (
    12,
    "transcript quality per segment; abstaining suggestions",
    """
    CREATE TABLE segment_quality (
        transcript_id   VARCHAR NOT NULL,
        segment_index   INTEGER NOT NULL,
        quality         DOUBLE NOT NULL,
        PRIMARY KEY (transcript_id, segment_index)
    );

    ALTER TABLE suggestions ADD COLUMN abstained BOOLEAN DEFAULT false;

    CREATE VIEW transcript_quality AS
    SELECT s.transcript_id,
           sum(q.quality * greatest(s.end_s - s.start_s, 0.05)) / sum(greatest(s.end_s - s.start_s, 0.05))
               AS quality,
           min(q.quality) AS worst,
           count(*) AS segments
    FROM segments_current s JOIN segment_quality q USING (transcript_id, segment_index)
    WHERE NOT s.text_corrected
    GROUP BY s.transcript_id;
    """,
)
