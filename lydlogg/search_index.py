"""The full-text index behind call search: kept in step with the transcripts by the pipeline.

``search_segments`` holds the segments of every call's newest transcript, indexed by DuckDB's fts
extension (:mod:`lydlogg.db.fts`). The pipeline refreshes it after each processing run, scoring
run and transcript import; :mod:`review.search` queries it.
"""

from __future__ import annotations

import logging

import duckdb

from lydlogg.db import transaction
from lydlogg.db.fts import FullTextUnavailable, build_index

__all__ = ["refresh_after_change", "refresh_search_index"]

log = logging.getLogger(__name__)


_FILL = """
DELETE FROM search_segments;
INSERT INTO search_segments (doc_id, call_id, transcript_id, segment_index, start_s, role, text)
SELECT row_number() OVER (ORDER BY l.call_id, s.segment_index), l.call_id, l.transcript_id, s.segment_index,
       s.start_s, s.role, s.text
FROM latest_transcripts l JOIN segments_current s ON s.transcript_id = l.transcript_id
WHERE trim(s.text) <> '';
"""


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Refill ``search_segments`` from every call's newest transcript and rebuild its index."""
    with transaction(con):
        con.execute(_FILL)
        build_index(con, "search_segments", "doc_id", "text")
    count = con.execute("SELECT count(*) FROM search_segments").fetchone()[0]
    log.info("search index rebuilt over %d segments", count)
    return count


def refresh_after_change(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the index after transcripts changed; a missing fts extension is logged, not raised
    (the transcripts are stored; search rebuilds the index on first use once it loads)."""
    try:
        refresh_search_index(con)
    except (FullTextUnavailable, duckdb.Error) as e:
        log.warning("search index not rebuilt: %s", e)
