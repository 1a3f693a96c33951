"""Schema v17: why a reviewer overrode a scorer's suggestion.

A reviewer who saves a value other than the suggestion can say why in one line ("feil bevis",
"sa det til kollega", "dialekt"). ``lydlogg export scorer-feedback`` hands these to rubric authors
with the transcript span the suggestion rested on.
"""

MIGRATION = (
    17,
    "override reasons on review scores",
    """
    ALTER TABLE review_scores ADD COLUMN override_reason VARCHAR;
    """,
)
