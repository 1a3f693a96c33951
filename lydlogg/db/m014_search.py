"""Schema v14: the segments of every call's newest transcript, for full-text search.

One row per segment with a single integer key (DuckDB's fts index wants one); refreshed (changed
calls' rows only) with its index after each processing run and transcript import (``lydlogg.search_index.refresh_search_index``).
"""

MIGRATION = (
    14,
    "search over every call's transcript segments",
    """
    CREATE TABLE search_segments (
        doc_id         BIGINT PRIMARY KEY,
        call_id        VARCHAR NOT NULL,
        transcript_id  VARCHAR NOT NULL,
        segment_index  INTEGER NOT NULL,
        start_s        DOUBLE NOT NULL,
        role           VARCHAR,
        text           VARCHAR NOT NULL
    );
    """,
)
