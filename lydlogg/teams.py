"""Teams (vaktlag): which team each operator or doctor belongs to.

The leader's overview shows figures by service and by team. A call's team is the ``team`` of its
metadata where the source system gives one, else the team an admin has put its operator in here
(:class:`lydlogg.users.UserAdminService`, ``lydlogg teams``). Assignments are kept in
``operator_teams``; every change is audited by the caller.

A teams file is CSV with a header naming ``operator_id`` and ``team``; a bad row is reported
with file, line and reason, and the good rows are kept.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from lydlogg.metadata import MetadataError, RowError, check_team

__all__ = ["TEAMS_COLUMNS", "assign_team", "operator_teams", "read_teams_csv"]

TEAMS_COLUMNS = ("operator_id", "team")


def read_teams_csv(path: Path) -> tuple[list[tuple[str, str]], list[RowError]]:
    """The (operator_id, team) rows of a teams file, and one error per bad row."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [c.strip() for c in reader.fieldnames or []]
            if sorted(header) != sorted(TEAMS_COLUMNS):
                raise MetadataError(f"{path}: header must be exactly the columns operator_id,team")
            rows: list[tuple[str, str]] = []
            errors: list[RowError] = []
            seen: set[str] = set()
            for raw in reader:
                raw = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
                operator_id = raw.get("operator_id", "")
                try:
                    if not operator_id:
                        raise ValueError("operator_id is empty")
                    if operator_id in seen:
                        raise ValueError(f"operator_id {operator_id!r} appears more than once")
                    rows.append((operator_id, check_team(raw.get("team", ""))))
                    seen.add(operator_id)
                except ValueError as e:
                    errors.append(RowError(path, reader.line_num, str(e)))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise MetadataError(f"{path}: cannot be read as UTF-8 CSV ({e})") from e
    return rows, errors


def operator_teams(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every operator's team, by operator id."""
    return dict(con.execute("SELECT operator_id, team FROM operator_teams ORDER BY operator_id").fetchall())


def assign_team(
    con: duckdb.DuckDBPyConnection, operator_id: str, team: str | None, by: str
) -> tuple[str | None, str | None]:
    """Put ``operator_id`` in ``team`` (None takes them out of any); the previous and the new team
    (tidied by :func:`lydlogg.metadata.check_team`)."""
    if not operator_id.strip():
        raise ValueError("operator_id is empty")
    row = con.execute("SELECT team FROM operator_teams WHERE operator_id = ?", [operator_id]).fetchone()
    if team is None:
        con.execute("DELETE FROM operator_teams WHERE operator_id = ?", [operator_id])
    else:
        team = check_team(team)
        con.execute(
            "INSERT INTO operator_teams (operator_id, team, updated_by) VALUES (?, ?, ?)"
            " ON CONFLICT (operator_id) DO UPDATE SET team = excluded.team, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at",
            [operator_id, team, by],
        )
    return (row[0] if row else None), team
