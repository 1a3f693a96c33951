"""Schema v10: log-in sessions that survive a browser reload."""

MIGRATION = (
    10,
    "log-in sessions (hashed tokens) for local accounts",
    """
    CREATE TABLE login_sessions (
        token_sha256  VARCHAR PRIMARY KEY,
        username      VARCHAR NOT NULL,
        created_at    TIMESTAMPTZ NOT NULL,
        last_seen_at  TIMESTAMPTZ NOT NULL
    );
    """,
)
