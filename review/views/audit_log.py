"""Revisjonslogg: the audit trail for those who may ``view_audit`` (admin, leder).

Filters (user, action, call id, date range) live in the URL; rows come newest first, a page of at
most :data:`PAGE_SIZE` at a time, and can be downloaded as CSV. Every view and every download of
the trail is itself written to the trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.csv_safety import safe_csv
from lydlogg.db import connect, transaction
from lydlogg.formatting import display_time
from lydlogg.vocabulary import AUDIT_ACTION_LABELS
from review.access import AccessDenied, allowed, check
from review.service import ReviewService
from review.views.common import timezone

__all__ = [
    "COLUMNS",
    "PAGE_SIZE",
    "AuditFilter",
    "AuditLogService",
    "AuditPage",
    "COUNT_SQL",
    "ROWS_SQL",
    "audit_params",
    "render",
    "safe_detail",
    "to_csv",
]

log = logging.getLogger(__name__)

PAGE_SIZE = 500
DETAIL_MAX = 120  # audit details are short codes ("peer <id>", "segment 3: text"); never more than this
COLUMNS = {
    "occurred_at": "Tidspunkt",
    "username": "Bruker",
    "action": "Handling",
    "object_type": "Objekttype",
    "object_id": "Objekt",
    "detail": "Detaljer",
}
_QUERY_KEYS = ("bruker", "handling", "samtale", "fra", "til", "side")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditFilter:
    """Which audit rows to show; empty fields do not filter. ``end`` includes that whole day."""

    username: str | None = None
    action: str | None = None
    call_id: str | None = None
    start: date | None = None
    end: date | None = None
    page: int = 0

    @classmethod
    def from_query(cls, query: dict[str, str | None]) -> AuditFilter:
        """Read the filter from URL parameters; values that do not parse are ignored."""
        try:
            page = max(int(query.get("side") or 1) - 1, 0)
        except ValueError:
            page = 0
        return cls(
            username=(query.get("bruker") or "").strip() or None,
            action=(query.get("handling") or "").strip() or None,
            call_id=(query.get("samtale") or "").strip() or None,
            start=_day(query.get("fra")),
            end=_day(query.get("til")),
            page=page,
        )

    def to_query(self) -> dict[str, str]:
        query = {
            "bruker": self.username,
            "handling": self.action,
            "samtale": self.call_id,
            "fra": self.start.isoformat() if self.start else None,
            "til": self.end.isoformat() if self.end else None,
            "side": str(self.page + 1) if self.page else None,
        }
        return {k: v for k, v in query.items() if v}

    def describe(self) -> str:
        """The filter as it is written to the audit trail (names and ids only, never free text)."""
        parts = [f"{k}={v}" for k, v in self.to_query().items()]
        return " ".join(parts) or "alle"


COUNT_SQL = """
SELECT count(*) FROM audit
WHERE ($username IS NULL OR username = $username)
  AND ($action IS NULL OR action = $action)
  AND ($call_id IS NULL OR (object_type = 'call' AND object_id = $call_id))
  AND ($start IS NULL OR occurred_at >= $start)
  AND ($end IS NULL OR occurred_at < $end)
"""
ROWS_SQL = """
SELECT occurred_at, username, action, object_type, object_id, detail FROM audit
WHERE ($username IS NULL OR username = $username)
  AND ($action IS NULL OR action = $action)
  AND ($call_id IS NULL OR (object_type = 'call' AND object_id = $call_id))
  AND ($start IS NULL OR occurred_at >= $start)
  AND ($end IS NULL OR occurred_at < $end)
ORDER BY occurred_at DESC, audit_id DESC
LIMIT $limit OFFSET $offset
"""


def audit_params(wanted: AuditFilter, *, limit: int = PAGE_SIZE) -> dict[str, object]:
    """The parameters of :data:`ROWS_SQL` and :data:`COUNT_SQL` for ``wanted`` (pure).

    Dates are whole days in the database session's time zone: ``end`` includes its own day.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    return {
        "username": wanted.username,
        "action": wanted.action,
        "call_id": wanted.call_id,
        "start": datetime.combine(wanted.start, time()) if wanted.start else None,
        "end": datetime.combine(wanted.end + timedelta(days=1), time()) if wanted.end else None,
        "limit": limit,
        "offset": wanted.page * limit,
    }


def safe_detail(detail: object) -> str:
    """An audit detail as shown: short codes only, cut at :data:`DETAIL_MAX` characters.

    Services write identifiers and counts, never transcript text; the cut keeps a future mistake
    from showing a whole utterance.
    """
    if detail is None or (isinstance(detail, float) and detail != detail):
        return ""
    text = " ".join(str(detail).split())
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


@dataclass(frozen=True)
class AuditPage:
    rows: pd.DataFrame  # columns as in COLUMNS' keys, newest first
    total: int  # rows matching the filter, on every page
    wanted: AuditFilter
    limit: int

    @property
    def pages(self) -> int:
        return max((self.total + self.limit - 1) // self.limit, 1)


class AuditLogService:
    """The audit trail for one user; build it from the app's ReviewService (db_path, user)."""

    def __init__(self, db_path: Path, user: User) -> None:
        self.db_path = Path(db_path)
        self.user = user

    def _audit(self, con: duckdb.DuckDBPyConnection, action: str, detail: str) -> None:
        record(con, self.user.username, action, "audit", None, detail[:200])

    def entries(self, wanted: AuditFilter, *, limit: int = PAGE_SIZE) -> AuditPage:
        """One page of audit rows, newest first; the view itself is audited (after the query)."""
        check(self.user, "view_audit")
        params = audit_params(wanted, limit=limit)
        counted = {k: v for k, v in params.items() if k not in ("limit", "offset")}
        with connect(self.db_path) as con:
            rows = con.execute(ROWS_SQL, params).df()
            total = con.execute(COUNT_SQL, counted).fetchone()[0]
            with transaction(con):
                self._audit(con, "view_audit", f"{wanted.describe()}; {len(rows)} of {total} rows")
        rows["detail"] = rows["detail"].map(safe_detail)
        log.info("audit trail viewed (%d of %d rows)", len(rows), total)
        return AuditPage(rows, int(total), wanted, limit)

    def record_download(self, wanted: AuditFilter, count: int) -> None:
        """Note in the trail that a page of it was downloaded."""
        check(self.user, "view_audit")
        with connect(self.db_path) as con, transaction(con):
            self._audit(con, "export_audit", f"{wanted.describe()}; {count} rows")

    def choices(self) -> tuple[list[str], list[str]]:
        """The users and the actions that occur in the trail (for the filter lists)."""
        check(self.user, "view_audit")
        with connect(self.db_path) as con:
            users = [r[0] for r in con.execute("SELECT DISTINCT username FROM audit ORDER BY 1").fetchall()]
            actions = [r[0] for r in con.execute("SELECT DISTINCT action FROM audit ORDER BY 1").fetchall()]
        return users, actions


def to_csv(rows: pd.DataFrame) -> str:
    """The rows as CSV with the column ids as headers (what the table shows)."""
    return safe_csv(rows[list(COLUMNS)])


def shown_rows(rows: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """The rows as the page shows them: Norwegian time and Norwegian action labels (the CSV keeps
    ISO time with offset and the action codes)."""
    return rows.assign(
        occurred_at=rows["occurred_at"].map(lambda t: display_time(t, timezone)),
        action=rows["action"].map(lambda a: AUDIT_ACTION_LABELS.get(a, a)),
    )


def _pick(
    label: str, options: list[str], current: str | None, key: str, labels: dict[str, str] | None = None
) -> str | None:
    """A filter list whose first entry, «alle», does not filter."""
    choices = ["", *options] if current is None or current in options else ["", current, *options]
    chosen = st.selectbox(
        label,
        choices,
        index=choices.index(current or ""),
        key=key,
        format_func=lambda v: (labels or {}).get(v, v) if v else "alle",
    )
    return chosen or None


def render(service: ReviewService) -> None:
    st.title("Revisjonslogg")
    if not allowed(service.user, "view_audit"):
        st.error("ingen tilgang")
        return
    if not service.available():
        st.info("Ingen database ennå.")
        return
    trail = AuditLogService(service.db_path, service.user)
    try:
        users, actions = trail.choices()
    except AccessDenied:
        st.error("ingen tilgang")
        return
    current = AuditFilter.from_query({k: st.query_params.get(k) for k in _QUERY_KEYS})
    columns = st.columns(5)
    with columns[0]:
        username = _pick("Bruker", users, current.username, "revisjon-bruker")
    with columns[1]:
        action = _pick("Handling", actions, current.action, "revisjon-handling", AUDIT_ACTION_LABELS)
    call_id = columns[2].text_input("Samtale-id", value=current.call_id or "", key="revisjon-samtale")
    start = columns[3].date_input("Fra dato", value=current.start, key="revisjon-fra", format="DD.MM.YYYY")
    end = columns[4].date_input("Til dato", value=current.end, key="revisjon-til", format="DD.MM.YYYY")
    chosen = AuditFilter(username, action, call_id.strip() or None, start or None, end or None)
    if chosen == replace(current, page=0):
        chosen = current  # the same filter keeps its page; a new one starts on the first
    if chosen.start and chosen.end and chosen.start > chosen.end:
        st.error("Fra-datoen er etter til-datoen.")
        return
    page = trail.entries(chosen)
    if chosen.page >= page.pages:
        page = trail.entries(replace(chosen, page=page.pages - 1))
    for key in _QUERY_KEYS:
        st.query_params.pop(key, None)
    st.query_params.update(page.wanted.to_query())
    if page.rows.empty:
        st.info("Ingen hendelser passer filteret.")
        return
    st.dataframe(
        shown_rows(page.rows, timezone())[list(COLUMNS)].rename(columns=COLUMNS),
        hide_index=True,
        width="stretch",
    )
    first = page.wanted.page * page.limit + 1
    st.caption(
        f"Viser {first}–{first + len(page.rows) - 1} av {page.total} hendelser, nyeste først"
        f" (side {page.wanted.page + 1} av {page.pages}). Visningen er selv logget."
    )
    left, middle, right = st.columns(3)
    left.download_button(
        "Last ned CSV",
        to_csv(page.rows),
        file_name=f"revisjonslogg-side-{page.wanted.page + 1}.csv",
        mime="text/csv",
        key="revisjon-csv",
        on_click=trail.record_download,
        args=(page.wanted, len(page.rows)),
    )
    if page.wanted.page > 0 and middle.button("Forrige side", key="revisjon-forrige"):
        _go(replace(page.wanted, page=page.wanted.page - 1))
    if page.wanted.page + 1 < page.pages and right.button("Neste side", key="revisjon-neste"):
        _go(replace(page.wanted, page=page.wanted.page + 1))


def _go(wanted: AuditFilter) -> None:
    for key in _QUERY_KEYS:
        st.query_params.pop(key, None)
    st.query_params.update(wanted.to_query())
    st.rerun()
