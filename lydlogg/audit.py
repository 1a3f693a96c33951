"""The append-only audit trail: one function writes every row (:func:`record`; a restore carries
rows over with :func:`carry_over`), and each row is chained to the one before it.

Who did what, to which object, with a short detail that never holds transcript text, names or
phone numbers. Callers check access first and write the row in the same transaction as the
change it records.

Tamper evidence: every row carries ``prev_hash`` (the ``row_hash`` of the row before it) and
``row_hash``, the SHA-256 of ``prev_hash`` and the row's own fields. ``audit_head`` holds the hash
of the newest row, and every writer updates it, so two writers cannot both extend the chain from
the same row (DuckDB refuses the second update; :func:`record` retries when it owns the
transaction). Editing, deleting or inserting a row anywhere breaks the chain, and
:func:`verify_chain` (``lydlogg audit verify``) names the first broken link. The chain makes
changes visible; it cannot stop someone with write access to the file from rebuilding it, which
is why :func:`configure_forwarding` can also send every row to syslog, an independent reader.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import logging.handlers
import random
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "GENESIS",
    "AuditSettings",
    "ChainReport",
    "carry_over",
    "configure_forwarding",
    "record",
    "row_hash",
    "verify_chain",
]

log = logging.getLogger(__name__)
_forward = logging.getLogger("lydlogg.audit.forward")  # only the syslog handler listens here
_forward.propagate = False

GENESIS = "0" * 64  # the prev_hash of the first chained row
_RETRIES = 50  # writers racing for the head retry after a short random pause


class AuditSettings(BaseModel):
    """The audit trail: forwarding every row to syslog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    syslog_address: str = Field(
        "",
        description=(
            "Forward every audit row to syslog, an independent reader of the trail: a socket path "
            "(`/dev/log`), or `host:port` for UDP. Empty: no forwarding. Only user names, actions "
            "and object ids travel, never transcript text."
        ),
    )
    syslog_facility: str = Field(
        "local0", description="Syslog facility of the forwarded rows (`local0` ... `local7`, `auth`)."
    )


def row_hash(
    prev_hash: str,
    audit_id: int,
    occurred_at: datetime,
    username: str,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: str | None,
) -> str:
    """The chained SHA-256 of one audit row (pure)."""
    when = occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    fields = [prev_hash, audit_id, when, username, action, object_type, object_id, detail]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Start a transaction and say so, or say that the caller's is open already.

    DuckDB has no "in a transaction?" call, and a BEGIN inside one aborts it; but every statement
    outside a transaction gets a new transaction id, and statements inside one share it.
    """
    first = con.execute("SELECT txid_current()").fetchone()[0]
    if con.execute("SELECT txid_current()").fetchone()[0] == first:
        return False
    con.execute("BEGIN TRANSACTION")
    return True


def _append(
    con: duckdb.DuckDBPyConnection, fields: tuple[str, str, str | None, str | None, str | None]
) -> int:
    head = con.execute("SELECT last_hash FROM audit_head WHERE id = 1").fetchone()
    prev = head[0] if head else GENESIS
    audit_id = con.execute("SELECT nextval('audit_ids')").fetchone()[0]
    now = datetime.now(UTC)
    digest = row_hash(prev, audit_id, now, *fields)
    con.execute(
        "INSERT INTO audit (audit_id, occurred_at, username, action, object_type, object_id, detail,"
        " prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [audit_id, now, *fields, prev, digest],
    )
    con.execute(
        "INSERT INTO audit_head (id, last_hash, last_id) VALUES (1, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET last_hash = excluded.last_hash, last_id = excluded.last_id",
        [digest, audit_id],
    )
    return audit_id


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.TransactionException):  # a failed COMMIT rolled back already
        con.execute("ROLLBACK")


def record(
    con: duckdb.DuckDBPyConnection,
    username: str,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Append one row to ``audit``, chained to the row before it, and forward it when configured."""
    fields = (username, action, object_type, object_id, detail)
    for attempt in range(_RETRIES):
        own = _begin(con)
        try:
            _append(con, fields)
            if own:
                con.execute("COMMIT")
            break
        except duckdb.TransactionException:
            if own:
                _rollback(con)
            if not own or attempt == _RETRIES - 1:
                raise  # the caller's transaction lost the race: it fails as a whole
            time.sleep(random.uniform(0.001, 0.02))  # noqa: S311 - jitter, not a secret
        except BaseException:
            if own:
                _rollback(con)
            raise
    if _forward.handlers:
        _forward.info(
            "lydlogg-audit %s",
            json.dumps(dict(zip(("user", "action", "object_type", "object_id", "detail"), fields, strict=True)),
                       ensure_ascii=False),
        )  # fmt: skip


def carry_over(con: duckdb.DuckDBPyConnection, rows: list[tuple] | None) -> int:
    """Append ``rows`` (read from another copy of the trail) that are newer than this trail's newest
    row, as they are, hashes and ids included; how many.

    A restore uses it to keep what the replaced database recorded after its backup was made, so the
    chain stays verifiable. The only writer of audit rows besides :func:`record`.
    """
    if not rows:
        return 0
    newest = con.execute("SELECT coalesce(max(audit_id), 0) FROM audit").fetchone()[0]
    newer = [r for r in rows if r[0] > newest]
    if not newer:
        return 0
    con.executemany(
        "INSERT INTO audit (audit_id, occurred_at, username, action, object_type, object_id, detail,"
        " prev_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        newer,
    )
    last = newer[-1]
    if last[8] is not None:
        con.execute(
            "INSERT INTO audit_head (id, last_hash, last_id) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_hash = excluded.last_hash, last_id = excluded.last_id",
            [last[8], last[0]],
        )
    # the restored sequence is behind the carried-over ids: move it past them
    con.execute("SELECT max(nextval('audit_ids')) FROM range(?)", [last[0]]).fetchone()
    return len(newer)


@dataclass(frozen=True)
class ChainReport:
    """What ``lydlogg audit verify`` found: ``broken_at`` is None when the chain holds."""

    rows: int
    legacy_rows: int  # written before the chain existed (schema < 13): not covered
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(con: duckdb.DuckDBPyConnection) -> ChainReport:
    """Walk the trail in order and report the first row whose link or content does not match."""
    rows = con.execute(
        "SELECT audit_id, occurred_at, username, action, object_type, object_id, detail, prev_hash, row_hash"
        " FROM audit ORDER BY audit_id"
    ).fetchall()
    legacy = 0
    while legacy < len(rows) and rows[legacy][8] is None:
        legacy += 1
    prev = GENESIS
    for audit_id, when, user, action, otype, oid, detail, stored_prev, stored in rows[legacy:]:
        if stored is None or stored_prev != prev:
            return ChainReport(len(rows), legacy, audit_id, "does not follow the row before it")
        if row_hash(prev, audit_id, when, user, action, otype, oid, detail) != stored:
            return ChainReport(len(rows), legacy, audit_id, "content changed after it was written")
        prev = stored
    head = con.execute("SELECT last_hash, last_id FROM audit_head WHERE id = 1").fetchone()
    if head is not None and head[0] != prev:
        return ChainReport(len(rows), legacy, head[1], "the newest rows are missing")
    return ChainReport(len(rows), legacy, None, None)


def configure_forwarding(settings: AuditSettings) -> logging.Handler | None:
    """Send every audit row written by this process to syslog (once per process); the handler."""
    for handler in list(_forward.handlers):
        _forward.removeHandler(handler)
        handler.close()
    if not settings.syslog_address:
        return None
    address: str | tuple[str, int] = settings.syslog_address
    if not address.startswith("/"):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"audit.syslog_address {address!r}: give a socket path (/dev/log) or host:port")
        address = (host, int(port))
    handler = logging.handlers.SysLogHandler(
        address=address,
        facility=settings.syslog_facility,
        socktype=socket.SOCK_DGRAM,
    )
    _forward.addHandler(handler)
    _forward.setLevel(logging.INFO)
    return handler
