"""The append-only audit trail: one function writes every row.

Who did what, to which object, with a short detail that never holds transcript text, names or
phone numbers. Callers check access first and write the row in the same transaction as the
change it records.
"""

from __future__ import annotations

import duckdb

__all__ = ["record"]


def record(
    con: duckdb.DuckDBPyConnection,
    username: str,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one row to ``audit``."""
    con.execute(
        "INSERT INTO audit (username, action, object_type, object_id, detail) VALUES (?, ?, ?, ?, ?)",
        [username, action, object_type, object_id, detail],
    )
