"""The audit trail for those who may ``view_audit`` (admin, leder): filters, pages, CSV.

Rows come newest first, a page of at most :data:`PAGE_SIZE` at a time; details are cut to short
codes. Every view and every download of the trail is itself written to the trail. The page is
:mod:`review.views.audit_log`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from lydlogg.access import check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.csv_safety import safe_csv
from lydlogg.db import connect, transaction

__all__ = [
    "COLUMNS",
    "PAGE_SIZE",
    "AuditFilter",
    "AuditLogService",
    "AuditPage",
    "COUNT_SQL",
    "ROWS_SQL",
    "audit_params",
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
