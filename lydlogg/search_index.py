"""The full-text index behind call search: kept in step with the transcripts by the pipeline.

``search_segments`` holds the segments of every call's newest transcript (with reviewers'
corrections), indexed by DuckDB's fts extension (:mod:`lydlogg.db.fts`). The pipeline refreshes it
after each processing run, scoring run and transcript import; :mod:`review.search` queries it.

DuckDB's fts index cannot be updated in place: it is a snapshot that ``create_fts_index`` rebuilds
over the whole table. A refresh therefore does the rest incrementally: it compares the table with
what ``latest_transcripts`` and ``segments_current`` hold now, replaces the rows of only the calls
that differ (a new transcript, a correction, a call removed), and rebuilds the index only when a
row changed or the index is missing. A refresh with nothing to do reads and writes no index.
"""

from __future__ import annotations

import logging

import duckdb

from lydlogg.db import transaction
from lydlogg.db.fts import FullTextUnavailable, build_index, has_index

__all__ = ["refresh_after_change", "refresh_search_index"]

log = logging.getLogger(__name__)

_COLUMNS = "call_id, transcript_id, segment_index, start_s, role, text"

# What search_segments should hold, without its key: every non-blank segment of each newest transcript.
_WANTED = """
SELECT l.call_id, l.transcript_id, s.segment_index, s.start_s, s.role, s.text
FROM latest_transcripts l JOIN segments_current s ON s.transcript_id = l.transcript_id
WHERE trim(s.text) <> ''
"""

# Calls with a row the table lacks or a row it should no longer have (set operations treat NULLs as equal).
_CHANGED_CALLS = f"""
SELECT DISTINCT call_id FROM (
    ({_WANTED} EXCEPT ALL SELECT {_COLUMNS} FROM search_segments)
    UNION ALL
    (SELECT {_COLUMNS} FROM search_segments EXCEPT ALL {_WANTED})
)
"""  # noqa: S608 - constant SQL

_DELETE = "DELETE FROM search_segments WHERE call_id IN (SELECT unnest(?::VARCHAR[]))"

_INSERT = f"""
INSERT INTO search_segments (doc_id, {_COLUMNS})
SELECT (SELECT coalesce(max(doc_id), 0) FROM search_segments)
       + row_number() OVER (ORDER BY w.call_id, w.segment_index), w.*
FROM ({_WANTED}) w
WHERE w.call_id IN (SELECT unnest(?::VARCHAR[]))
"""  # noqa: S608 - constant SQL


def refresh_search_index(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> int:
    """Bring ``search_segments`` and its index in step with every call's newest transcript.

    Only the rows of calls whose segments changed are replaced, and the index is rebuilt only if
    a row changed or it is missing; ``full`` empties the table first and rebuilds everything.
    Returns the number of indexed segments.
    """
    with transaction(con):
        if full:
            con.execute("DELETE FROM search_segments")
        changed = [row[0] for row in con.execute(_CHANGED_CALLS).fetchall()]
        if changed:
            con.execute(_DELETE, [changed])
            con.execute(_INSERT, [changed])
        rebuild = bool(changed) or full or not has_index(con, "search_segments")
        if rebuild:
            build_index(con, "search_segments", "doc_id", "text")
    count = con.execute("SELECT count(*) FROM search_segments").fetchone()[0]
    if rebuild:
        log.info("search index rebuilt over %d segments (%d calls changed)", count, len(changed))
    else:
        log.debug("search index already in step with %d segments", count)
    return count


def refresh_after_change(con: duckdb.DuckDBPyConnection) -> None:
    """Refresh the index after transcripts changed; a missing fts extension is logged, not raised
    (the transcripts are stored; search rebuilds the index on first use once it loads)."""
    try:
        refresh_search_index(con)
    except (FullTextUnavailable, duckdb.Error) as e:
        log.warning("search index not refreshed: %s", e)
