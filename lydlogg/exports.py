"""Review data out: calls, rubric suggestions, human reviews and episodes as CSV, Parquet or XLSX.

Each dataset is one flat table with documented columns (README, "Transcripts and review data
out"). Access rules apply (only roles with ``export``; operators and doctors never see others'
calls), reviewers appear only as keyed pseudonyms, and every export writes an audit row. XLSX goes
through DuckDB's ``excel`` extension, loaded from the ``duckdb-extension-excel`` package pinned to
DuckDB's release (as :mod:`lydlogg.db.fts` does for full-text search).
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd

from lydlogg.access import call_scope, check
from lydlogg.audit import record
from lydlogg.auth import User
from lydlogg.csv_safety import safe_csv, safe_frame
from lydlogg.episodes import EPISODE_COLUMNS, episodes_for
from lydlogg.pseudonym import pseudonymise

__all__ = [
    "DATASETS",
    "DATASET_COLUMNS",
    "ExcelUnavailable",
    "csv_bytes",
    "dataset",
    "escape_formulas",
    "export_bytes",
    "export_dataset",
    "load_excel",
    "parquet_bytes",
    "write_xlsx",
    "xlsx_bytes",
]

log = logging.getLogger(__name__)

Dataset = Literal["calls", "suggestions", "reviews", "episodes"]
Format = Literal["csv", "parquet", "xlsx"]
DATASETS: tuple[Dataset, ...] = ("calls", "suggestions", "reviews", "episodes")

DATASET_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": (
        "call_id", "started_at", "service", "operator_id", "team", "unit", "urgency", "duration_s", "channels",
        "layout", "status",
    ),
    "suggestions": (
        "call_id", "transcript_id", "rubric_id", "rubric_version", "criterion_id", "value", "confidence",
        "abstained", "created_at",
    ),
    "reviews": (
        "review_id", "call_id", "reviewer", "kind", "rubric_id", "rubric_version", "criterion_id", "value",
        "suggested_value", "created_at",
    ),
    "episodes": EPISODE_COLUMNS,
}  # fmt: skip


class ExcelUnavailable(RuntimeError):
    """DuckDB's excel extension cannot be loaded."""


_CALLS_SQL = """
WITH latest AS (
    SELECT l.call_id, t.layout FROM latest_transcripts l JOIN transcripts t USING (transcript_id)
)
SELECT c.call_id, c.started_at, c.service, c.operator_id, c.team, c.unit, c.urgency,
       a.duration_s, a.channels, l.layout,
       CASE WHEN l.call_id IS NOT NULL THEN 'transcribed'
            WHEN c.audio_sha256 IS NULL THEN 'no_audio' ELSE 'pending' END AS status
FROM calls c
LEFT JOIN audio_files a ON a.sha256 = c.audio_sha256
LEFT JOIN latest l ON l.call_id = c.call_id
WHERE {scope}
ORDER BY c.started_at NULLS LAST, c.call_id
"""

_SUGGESTIONS_SQL = """
SELECT s.call_id, s.transcript_id, s.rubric_id, s.rubric_version, s.criterion_id, s.value, s.confidence,
       coalesce(s.abstained, false) AS abstained, s.created_at
FROM suggestions s JOIN calls c USING (call_id)
WHERE {scope}
ORDER BY c.started_at NULLS LAST, s.call_id, s.rubric_id, s.criterion_id
"""

# Only the current version of each review: one that a later edit replaced is left out.
_REVIEWS_SQL = """
SELECT r.review_id, r.call_id, r.reviewer,
       CASE WHEN cr.review_id IS NOT NULL THEN 'calibration' ELSE r.kind END AS kind,
       r.rubric_id, r.rubric_version, rs.criterion_id, rs.value, rs.suggested_value, r.created_at
FROM reviews r
JOIN calls c USING (call_id)
JOIN review_scores rs USING (review_id)
LEFT JOIN calibration_reviews cr ON cr.review_id = r.review_id
WHERE r.review_id NOT IN (SELECT replaces FROM reviews WHERE replaces IS NOT NULL)
  AND {scope}
ORDER BY r.created_at, r.review_id, rs.criterion_id
"""


def dataset(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    key: bytes,
    user: User | None = None,
    window_hours: float = 72.0,
    extra: Callable[[duckdb.DuckDBPyConnection, pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The rows of dataset ``name`` that ``user`` may see (``None``: the CLI's service account).

    ``key`` pseudonymises reviewers; ``extra`` may add columns to ``calls`` (conversation measures).
    """
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r} is not one of {', '.join(DATASETS)}")
    if user is not None:
        check(user, "export")
    scope = call_scope(user)  # the operator's own calls, the user's units
    where, params = scope.where("c")
    if name == "calls":
        df = con.execute(_CALLS_SQL.format(scope=where), params).df()
        if extra is not None:
            df = extra(con, df)
        return df
    if name == "suggestions":
        return con.execute(_SUGGESTIONS_SQL.format(scope=where), params).df()
    if name == "reviews":
        df = con.execute(_REVIEWS_SQL.format(scope=where), params).df()
        df["reviewer"] = [pseudonymise(key, "reviewer", r) for r in df["reviewer"]]
        return df
    df = episodes_for(con, window_hours)
    if not scope.everything:
        seen = {r[0] for r in con.execute(f"SELECT c.call_id FROM calls c WHERE {where}", params).fetchall()}  # noqa: S608 - constant clauses
        df = df[df["call_id"].isin(seen)]
    return df[list(EPISODE_COLUMNS)].reset_index(drop=True)


def escape_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every cell a spreadsheet would run as a formula made inert: the core's one rule,
    :func:`lydlogg.csv_safety.safe_frame`."""
    return safe_frame(df)


def _text_times(df: pd.DataFrame) -> pd.DataFrame:
    """Time zone-aware timestamps as ISO-8601 text (spreadsheets drop the offset otherwise)."""
    out = df.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].map(lambda t: t.isoformat() if pd.notna(t) else None)
    return out


def csv_bytes(df: pd.DataFrame, *, excel: bool = False) -> bytes:
    """CSV; ``excel`` for Norwegian Excel: UTF-8 with BOM, ``;`` between fields, decimal comma."""
    if excel:
        return safe_csv(_text_times(df), sep=";", decimal=",").encode("utf-8-sig")
    return safe_csv(_text_times(df)).encode("utf-8")


def _excel_extension_file() -> Path | None:
    try:
        import duckdb_extension_excel
    except ImportError:
        return None
    path = Path(duckdb_extension_excel.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = path / "excel.duckdb_extension"
    return path if path.is_file() else None


def load_excel(con: duckdb.DuckDBPyConnection) -> None:
    """Load the excel extension from its package (or an installed one), else raise ExcelUnavailable."""
    path = _excel_extension_file()
    try:
        con.execute(f"LOAD '{path.as_posix()}'" if path else "LOAD excel")  # our own package's file
    except duckdb.Error as e:
        raise ExcelUnavailable(
            f"DuckDB {duckdb.__version__} cannot load its excel extension: install it with "
            f"`pip install duckdb-extension-excel=={duckdb.__version__}`. DuckDB said: {e}"
        ) from e


def write_xlsx(df: pd.DataFrame, target: Path) -> None:
    """An XLSX workbook of ``df`` at ``target``, written by DuckDB's excel extension."""
    safe = escape_formulas(_text_times(df))
    with duckdb.connect() as con:
        load_excel(con)
        con.register("export_frame", safe)
        con.execute("COPY export_frame TO ? (FORMAT xlsx, HEADER true)", [target.as_posix()])


def xlsx_bytes(df: pd.DataFrame) -> bytes:
    """The XLSX workbook of ``df`` as bytes (for a download button)."""
    with tempfile.TemporaryDirectory(prefix="lydlogg-xlsx-") as folder:
        target = Path(folder) / "export.xlsx"
        write_xlsx(df, target)
        return target.read_bytes()


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def export_dataset(
    con: duckdb.DuckDBPyConnection,
    name: str,
    fmt: Format,
    target: Path,
    *,
    key: bytes,
    username: str,
    user: User | None = None,
    excel: bool = False,
    window_hours: float = 72.0,
    extra: Callable[[duckdb.DuckDBPyConnection, pd.DataFrame], pd.DataFrame] | None = None,
) -> int:
    """Write dataset ``name`` to ``target`` as ``fmt``; audit it; return the number of rows."""
    df = dataset(con, name, key=key, user=user, window_hours=window_hours, extra=extra)
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        target.write_bytes(csv_bytes(df, excel=excel))
    elif fmt == "parquet":
        target.write_bytes(parquet_bytes(df))
    elif fmt == "xlsx":
        write_xlsx(df, target)
    else:
        raise ValueError(f"format {fmt!r} is not one of csv, parquet, xlsx")
    record(con, username, "export", "dataset", name, f"{fmt}{' excel' if excel else ''} {len(df)} rows")
    log.info("exported %s: %d rows as %s", name, len(df), fmt)
    return len(df)


def export_bytes(
    db_path: Path,
    name: str,
    fmt: Format,
    *,
    user: User,
    key_file: Path,
    excel: bool = False,
    window_hours: float = 72.0,
) -> bytes:
    """Dataset ``name`` as a file's bytes for ``user`` (the app's download buttons); audited."""
    from lydlogg.conversation import add_call_measures
    from lydlogg.db import connect
    from lydlogg.pseudonym import load_or_create_key

    key = load_or_create_key(key_file)
    with connect(db_path) as con:
        df = dataset(con, name, key=key, user=user, window_hours=window_hours, extra=add_call_measures)
        if fmt == "csv":
            data = csv_bytes(df, excel=excel)
        elif fmt == "parquet":
            data = parquet_bytes(df)
        elif fmt == "xlsx":
            data = xlsx_bytes(df)
        else:
            raise ValueError(f"format {fmt!r} is not one of csv, parquet, xlsx")
        record(
            con, user.username, "export", "dataset", name, f"{fmt}{' excel' if excel else ''} {len(df)} rows"
        )
    return data
