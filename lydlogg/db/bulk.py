"""Many rows into one table with one statement: the rows go in as typed columns (an Arrow table)
that DuckDB reads in bulk, where ``executemany`` would run the INSERT once per row.

Measured on the transcription batch's writes of a call (three sample calls): 83 -> 60 ms of CPU,
most of what is left being the transaction's commit (README, *Measured*).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb

__all__ = ["COLUMN_TYPES", "insert_columns"]

# The DuckDB column types these inserts write, and the Arrow type each one travels as.
COLUMN_TYPES = ("VARCHAR", "INTEGER", "BIGINT", "DOUBLE")
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def _arrow_type(sql_type: str) -> Any:
    import pyarrow as pa

    types = {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64()}
    try:
        return types[sql_type]
    except KeyError:
        raise ValueError(f"column type {sql_type!r}: accepted are {', '.join(COLUMN_TYPES)}") from None


def insert_columns(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, tuple[str, Sequence[Any]]]
) -> int:
    """Insert rows into ``table`` given column by column: ``{name: (type, values)}``, every column
    as long as the others, ``type`` one of :data:`COLUMN_TYPES` and None a NULL. Returns the number
    of rows; nothing is run for none. It runs inside the caller's transaction, if any."""
    import pyarrow as pa

    odd = [n for n in (table, *columns) if not _NAME.fullmatch(n)]
    if odd:
        raise ValueError(f"{', '.join(odd)}: a table or column name here is lower-case letters, digits and _")
    lengths = {len(values) for _type, values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(
            f"{table}: columns of different lengths ({sorted(lengths)}); each must have one value a row"
        )
    rows = lengths.pop() if lengths else 0
    if not rows:
        return 0
    frame = pa.table(
        {name: pa.array(values, type=_arrow_type(sql_type)) for name, (sql_type, values) in columns.items()}
    )
    view = f"bulk_{table}"
    names = ", ".join(columns)
    con.register(view, frame)
    try:
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {view}")  # noqa: S608 - checked names
    finally:
        con.unregister(view)
    return rows
