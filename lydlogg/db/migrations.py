"""Versioned schema of the Lydlogg database: one module per migration.

A module ``lydlogg/db/mNNN_<name>.py`` defines ``MIGRATION = (NNN, description, sql)``; the number
in the file name must match the version it declares. Each migration is applied once, in order,
inside one transaction together with the row that records it in ``schema_version``. Never edit a
migration that has shipped: add a new one.

A new (empty) database is created at the newest version; an older one is upgraded only by
``lydlogg db migrate``, which backs it up first (:mod:`lydlogg.db_upgrade`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re

Migration = tuple[int, str, str]  # (version, description, SQL)


def _discover() -> tuple[Migration, ...]:
    import lydlogg.db as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        match = re.fullmatch(r"m(\d{3})_\w+", info.name)
        if not match:
            continue
        migration = importlib.import_module(f"lydlogg.db.{info.name}").MIGRATION
        if migration[0] != int(match.group(1)):
            raise RuntimeError(f"lydlogg/db/{info.name}.py declares version {migration[0]}")
        found.append(migration)
    return tuple(sorted(found))


MIGRATIONS: tuple[Migration, ...] = _discover()
_versions = [m[0] for m in MIGRATIONS]
if len(set(_versions)) != len(_versions):
    raise RuntimeError(f"two schema migrations share a version: {_versions}")
LATEST_VERSION = MIGRATIONS[-1][0]
