"""Search every call's transcript, not only published cases.

DuckDB's fts index (Norwegian Snowball stems, :mod:`lydlogg.db.fts`) over the segments of each
call's newest transcript, rebuilt after each processing run. A query names words that a segment
must hold (every word, any inflection), optionally said by one role, and words that no staff
segment of the call may hold ("nobody advised 113"); filters narrow by service, period, operator,
a criterion's value (a reviewer's, else the suggestion's), whether the call is reviewed, whether
it is flagged as a re-contact nobody recognised and whether its transcript was heard badly (the
inbox's two flags: :mod:`review.quality_marks` decides the second with the inbox's rule).
Operators and doctors only ever find their own calls. Every search is audited without its words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pandas as pd

from lydlogg.access import call_scope, check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.db.fts import has_index, load_fts, match_sql
from lydlogg.episodes import read_episodes
from lydlogg.search_index import refresh_search_index
from lydlogg.settings import TranscriptQualitySettings
from lydlogg.vocabulary import SEARCH_ROLES
from review.quality_marks import poor_quality_calls

__all__ = ["SearchQuery", "search_calls"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    role: str | None = None  # operator | doctor | caller | staff
    without: str = ""  # words no staff segment of the call holds
    service: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    operator_id: str | None = None
    criterion_id: str | None = None
    criterion_value: int | None = None
    reviewed: bool | None = None
    limit: int = 500
    flagged: bool = False  # only re-contacts nobody recognised (the inbox's "rekontakt" flag)
    poor_quality: bool = False  # only calls whose newest transcript the inbox marks "dårlig"


_ROLES = SEARCH_ROLES
_STAFF_SQL = ", ".join(f"'{role}'" for role in SEARCH_ROLES["staff"])  # constant codes, no user input
_CURRENT_REVIEWS = "r.review_id NOT IN (SELECT replaces FROM reviews WHERE replaces IS NOT NULL)"


def search_calls(
    con: duckdb.DuckDBPyConnection,
    user: User | None,
    query: SearchQuery,
    *,
    who: str,
    marks: TranscriptQualitySettings | None = None,
) -> pd.DataFrame:
    """Matching segments (best first), one row each: call, time, service, operator, segment, role, text.

    ``user`` None is the CLI's service account (every call); ``who`` names the searcher in the audit;
    ``marks`` are the installation's ``[transcript_quality]`` thresholds (the documented defaults
    without them), which decide ``query.poor_quality`` as they decide the inbox's mark.
    """
    if user is not None:
        check(user, "list_calls")
    if query.role is not None and query.role not in _ROLES:
        raise ValueError(f"role {query.role!r} is not one of {', '.join(_ROLES)}")
    words, without = query.text.lower().split(), query.without.lower().split()
    if not words and not without:
        raise ValueError("give words to search for (or words no staff member said)")
    load_fts(con)
    if not has_index(con, "search_segments"):
        refresh_search_index(con)
    # Segment and call filters narrow the rows before BM25 is computed (it costs per row).
    inner: list[str] = ["true"]
    inner_params: list[object] = []
    where: list[str] = ["true"]
    params: list[object] = []
    score_params: list[object] = []
    if words:
        score = match_sql("search_segments", "search_segments.doc_id")
        score_params.append(" ".join(words))
        where.append("g.score IS NOT NULL")
    else:
        score = "NULL::DOUBLE"
    if query.role:
        inner.append("list_contains(?, search_segments.role)")
        inner_params.append(list(_ROLES[query.role]))
    calls: list[str] = []  # call filters, one subquery; their parameters follow the segment filters'
    call_params: list[object] = []
    for clause, value in (
        ("c.service = ?", query.service),
        ("c.started_at >= ?::DATE", query.since),
        ("c.started_at < ?::DATE", query.until + timedelta(days=1) if query.until else None),
        ("c.operator_id = ?", query.operator_id),
    ):
        if value is not None:
            calls.append(clause)
            call_params.append(value)
    scope = call_scope(user)  # the operator's own calls, the user's units
    if not scope.everything:
        clause, scope_params = scope.where("c")
        calls.append(clause)
        call_params += scope_params
    if query.flagged:
        episodes = read_episodes(con)
        inner.append("list_contains(?, search_segments.call_id)")
        inner_params.append(episodes.loc[episodes["flagged"].fillna(False).astype(bool), "call_id"].tolist())
    if query.poor_quality:
        inner.append("list_contains(?, search_segments.call_id)")
        inner_params.append(
            poor_quality_calls(con, marks if marks is not None else TranscriptQualitySettings())
        )
    if calls:
        inner.append(
            f"search_segments.call_id IN (SELECT c.call_id FROM calls c WHERE {' AND '.join(calls)})"  # noqa: S608 - constant clauses
        )
        inner_params += call_params
    if without:
        where.append(
            "NOT EXISTS (SELECT 1 FROM search_segments w WHERE w.call_id = c.call_id"  # noqa: S608 - constant SQL
            f" AND w.role IN ({_STAFF_SQL}) AND " + match_sql("search_segments", "w.doc_id") + " IS NOT NULL)"
        )
        params.append(" ".join(without))
    if query.criterion_id:
        where.append(
            "(EXISTS (SELECT 1 FROM reviews r JOIN review_scores rs USING (review_id) WHERE r.call_id = c.call_id"  # noqa: S608
            f" AND {_CURRENT_REVIEWS} AND rs.criterion_id = ? AND rs.value IS NOT DISTINCT FROM ?)"
            " OR (NOT EXISTS (SELECT 1 FROM reviews r JOIN review_scores rs USING (review_id)"
            "  WHERE r.call_id = c.call_id AND rs.criterion_id = ?)"
            "  AND EXISTS (SELECT 1 FROM suggestions s WHERE s.call_id = c.call_id AND s.transcript_id = g.transcript_id"
            "  AND s.criterion_id = ? AND s.value IS NOT DISTINCT FROM ?)))"
        )
        params += [query.criterion_id, query.criterion_value, query.criterion_id, query.criterion_id,
                   query.criterion_value]  # fmt: skip
    if query.reviewed is not None:
        where.append(
            ("" if query.reviewed else "NOT ")  # noqa: S608 - constant SQL
            + "EXISTS (SELECT 1 FROM reviews r WHERE r.call_id = c.call_id)"
        )
    params.append(int(query.limit))
    params = [*score_params, *inner_params, *params]
    sql = (
        f"SELECT g.call_id, c.started_at, c.service, c.operator_id, g.segment_index, g.start_s, g.role, g.text,"  # noqa: S608
        f" g.score FROM (SELECT search_segments.*, {score} AS score FROM search_segments WHERE {' AND '.join(inner)}) g"
        f" JOIN calls c USING (call_id) WHERE {' AND '.join(where)}"
        " ORDER BY g.score DESC NULLS LAST, c.started_at DESC NULLS LAST, g.call_id, g.segment_index LIMIT ?"
    )
    hits = con.execute(sql, params).df()
    filters = [k for k in ("role", "service", "since", "until", "operator_id", "criterion_id", "reviewed")
               if getattr(query, k) is not None] + [k for k in ("flagged", "poor_quality") if getattr(query, k)]  # fmt: skip
    record(con, who, "search", "calls", None, f"{len(hits)} hits; filters: {', '.join(filters) or 'none'}")
    return hits
