"""Schema v11: teams (vaktlag), for the leader's overview by service and team.

A call's team comes from its metadata (``team`` column of the CSV) when the source system knows
it; otherwise from ``operator_teams``, the team an admin has put each operator or doctor in
(``lydlogg teams import``). The overview uses the first of the two that is set.
"""

MIGRATION = (
    11,
    "teams: a team per call from metadata, and each operator's team",
    """
    ALTER TABLE calls ADD COLUMN team VARCHAR;

    CREATE TABLE operator_teams (
        operator_id  VARCHAR PRIMARY KEY,
        team         VARCHAR NOT NULL,
        updated_by   VARCHAR NOT NULL,
        updated_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    );
    """,
)
