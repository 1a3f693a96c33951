"""Schema v13: security round two.

- ``audit`` rows are chained by hash (``prev_hash``, ``row_hash``); ``audit_head`` holds the
  newest hash, so concurrent writers cannot fork the chain. Rows written before v13 keep NULL
  hashes and are reported as not covered by ``lydlogg audit verify``.
- ``login_throttle``: failed log-ins per source (the client address, or ``local``), for a
  back-off that slows a guesser down instead of locking an account out.
"""

MIGRATION = (
    13,
    "hash-chained audit trail, log-in back-off per source",
    """
    ALTER TABLE audit ADD COLUMN prev_hash VARCHAR;
    ALTER TABLE audit ADD COLUMN row_hash VARCHAR;

    CREATE TABLE audit_head (
        id         INTEGER PRIMARY KEY,
        last_hash  VARCHAR NOT NULL,
        last_id    BIGINT NOT NULL,
        CHECK (id = 1)
    );

    CREATE TABLE login_throttle (
        source        VARCHAR PRIMARY KEY,
        failures      INTEGER NOT NULL DEFAULT 0,
        last_failure  TIMESTAMPTZ NOT NULL
    );
    """,
)
