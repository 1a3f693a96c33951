"""Schema v25: units (a legevakt or a site). A call belongs to one unit (metadata column ``unit``);
a user belongs to one or more (``user_units``). Leaders, supervisors, operators and doctors see
the calls of their own units only (:mod:`lydlogg.access`).

An upgraded database puts every existing call and every existing user in the unit ``standard``
(:data:`lydlogg.units.DEFAULT_UNIT`), so that nobody loses sight of a call they saw before.
A new database starts with no unit at all: its calls get theirs from metadata.
"""

MIGRATION = (
    25,
    "units: a unit per call, and the units each user belongs to",
    """
    ALTER TABLE calls ADD COLUMN unit VARCHAR;
    UPDATE calls SET unit = 'standard';

    CREATE TABLE user_units (
        username    VARCHAR NOT NULL,
        unit        VARCHAR NOT NULL,
        updated_by  VARCHAR NOT NULL,
        updated_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        PRIMARY KEY (username, unit)
    );
    INSERT INTO user_units (username, unit, updated_by) SELECT username, 'standard', 'migration 25' FROM users;
    """,
)
