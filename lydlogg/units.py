"""Units (a legevakt or a site): which units each user belongs to.

A call's unit comes from its metadata (``unit`` column, else ``metadata.default_unit``); a user's
units are kept in ``user_units`` and set by an admin (:class:`lydlogg.users.UserAdminService`,
``lydlogg users units``). Who sees which unit's calls is decided in :mod:`lydlogg.access`; this
module only reads and writes the memberships. Every change is audited by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from lydlogg.metadata import check_unit

__all__ = ["DEFAULT_UNIT", "check_units", "known_units", "set_user_units", "user_units"]

DEFAULT_UNIT = "standard"
"""The unit an upgraded database (schema v25) puts every existing call and user in."""


def check_units(units: Iterable[str]) -> tuple[str, ...]:
    """Unit names tidied by :func:`lydlogg.metadata.check_unit`, sorted, each once; at least one."""
    checked = tuple(sorted({check_unit(u) for u in units}))
    if not checked:
        raise ValueError("a user belongs to at least one unit")
    return checked


def user_units(con: duckdb.DuckDBPyConnection, username: str) -> tuple[str, ...]:
    """The units ``username`` belongs to, sorted (none for an unknown user)."""
    rows = con.execute("SELECT unit FROM user_units WHERE username = ? ORDER BY unit", [username]).fetchall()
    return tuple(r[0] for r in rows)


def known_units(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Every unit a call or a user names, sorted: what an admin may choose from."""
    rows = con.execute(
        "SELECT unit FROM calls WHERE unit IS NOT NULL UNION SELECT unit FROM user_units ORDER BY unit"
    ).fetchall()
    return tuple(r[0] for r in rows)


def set_user_units(
    con: duckdb.DuckDBPyConnection, username: str, units: Iterable[str], by: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Make ``units`` the units of ``username`` (the caller holds the transaction); the previous
    and the new units."""
    new = check_units(units)
    old = user_units(con, username)
    if new != old:
        con.execute("DELETE FROM user_units WHERE username = ?", [username])
        con.executemany(
            "INSERT INTO user_units (username, unit, updated_by) VALUES (?, ?, ?)",
            [(username, u, by) for u in new],
        )
    return old, new
