"""Schema v25: units (a legevakt or a site). A call belongs to one unit (metadata column ``unit``);
a user belongs to one or more (``user_units``). Leaders, supervisors, operators and doctors see
the calls of their own units only (:mod:`lydlogg.access`).

An upgraded database puts every existing call and every existing user in the unit ``standard``
(:data:`lydlogg.units.DEFAULT_UNIT`), so that nobody loses sight of a call they saw before.
A new database starts with no unit at all: its calls get theirs from metadata.

It also admits the role ``regional`` (regional quality): DuckDB cannot change a table's CHECK
constraint, so ``users`` is copied into a new table with the wider one, column for column.
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

    CREATE TABLE users_v25 (
        username       VARCHAR PRIMARY KEY,
        display_name   VARCHAR NOT NULL,
        role           VARCHAR NOT NULL,
        operator_id    VARCHAR,
        password_hash  VARCHAR,
        active         BOOLEAN NOT NULL DEFAULT true,
        created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        CHECK (role IN ('admin', 'leder', 'veileder', 'operator', 'lege', 'regional'))
    );
    INSERT INTO users_v25 (username, display_name, role, operator_id, password_hash, active, created_at)
        SELECT username, display_name, role, operator_id, password_hash, active, created_at FROM users;
    DROP TABLE users;
    ALTER TABLE users_v25 RENAME TO users;
    """,
)
