"""DuckDB full-text search (the ``fts`` extension), loaded offline from a Python package.

DuckDB fetches extensions from its own server, which a legevakt's network (and this build
machine) may not reach. The ``duckdb-extension-fts`` package on PyPI carries the extension
binary for one exact DuckDB release, so ``pyproject.toml`` pins ``duckdb`` and that package to the
same version and :func:`load_fts` loads the file from the package. Where the package is missing
it falls back to an extension installed the usual way (``INSTALL fts``), and otherwise fails with
a message that names the package and version to install.

An index is a snapshot: DuckDB does not update it when rows change, so whoever writes the
indexed table calls :func:`build_index` in the same transaction. The index lives in the schema
``fts_main_<table>`` of the database itself, so an encrypted database keeps it encrypted.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

__all__ = ["FullTextUnavailable", "build_index", "extension_file", "has_index", "load_fts", "match_sql"]

# Characters that separate words: everything but letters (Norwegian included) and digits.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_IGNORE = r"(\.|[^a-z0-9æøåäöüéèáàóòç])+"


class FullTextUnavailable(RuntimeError):
    """DuckDB's fts extension cannot be loaded."""


def _extensions_folder() -> Path | None:
    """The folder of per-version extension binaries in ``duckdb-extension-fts``, if installed."""
    try:
        import duckdb_extension_fts
    except ImportError:
        return None
    return Path(duckdb_extension_fts.__file__).parent / "extensions"


def extension_file(version: str | None = None) -> Path | None:
    """The fts extension shipped by ``duckdb-extension-fts`` for ``version`` (DuckDB's, by default)."""
    folder = _extensions_folder()
    if folder is None:
        return None
    path = folder / f"v{version or duckdb.__version__}" / "fts.duckdb_extension"
    return path if path.is_file() else None


def _shipped_versions() -> list[str]:
    folder = _extensions_folder()
    if folder is None:
        return []
    return sorted(p.name.removeprefix("v") for p in folder.glob("v*") if p.is_dir())


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension into ``con`` (idempotent), or raise :class:`FullTextUnavailable`."""
    path = extension_file()
    try:
        if path is not None:
            con.execute(f"LOAD '{path.as_posix()}'")  # a file of our own package, not user input
        else:
            con.execute("LOAD fts")
    except duckdb.Error as e:
        shipped = _shipped_versions()
        found = f" (the installed package is built for DuckDB {', '.join(shipped)})" if shipped else ""
        raise FullTextUnavailable(
            f"DuckDB {duckdb.__version__} cannot load its full-text search extension{found}: "
            f"install it with `pip install duckdb-extension-fts=={duckdb.__version__}` "
            f"(or run `INSTALL fts` once where extensions.duckdb.org is reachable). DuckDB said: {e}"
        ) from e


def has_index(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` has a full-text index in the connection's default database."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name = current_database() AND schema_name = ?",
        [f"fts_main_{table}"],
    ).fetchone()
    return bool(row[0])


def build_index(con: duckdb.DuckDBPyConnection, table: str, key: str, *columns: str) -> None:
    """(Re)build the index of ``table`` over ``columns``: Norwegian Snowball stems, no stop words.

    Stop words are kept because a conjunctive query with a word the index dropped finds nothing;
    BM25's inverse document frequency already weighs common words down.
    """
    for name in (table, key, *columns):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain table or column name")
    load_fts(con)
    names = ", ".join(f"'{c}'" for c in (table, key, *columns))  # checked identifiers of our own schema
    con.execute(
        f"PRAGMA create_fts_index({names}, stemmer = 'norwegian', stopwords = 'none',"
        f" ignore = '{_IGNORE}', strip_accents = 0, lower = 1, overwrite = 1)"
    )


def match_sql(table: str, key_expr: str) -> str:
    """The SQL expression of the BM25 score of the row ``key_expr`` for the query in a ``?`` parameter
    (NULL where the row lacks any of the query's words)."""
    return f"fts_main_{table}.match_bm25({key_expr}, ?, conjunctive := 1)"
