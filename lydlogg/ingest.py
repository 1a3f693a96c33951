"""Ingest: register recordings and their metadata as calls, without touching the originals.

A recording is identified by the sha256 of its bytes, so ingesting the same file twice (under any
name) is a no-op. Metadata rows are matched to recordings by their ``audio_file`` path; a row with
no audio file stores a contact without audio. Caller numbers and patient references are replaced
by keyed pseudonyms before anything is written. The calls that arrived or changed are linked
into re-contact episodes at the end (:func:`lydlogg.episodes.update_episodes`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lydlogg.db import connect, transaction
from lydlogg.episodes import update_episodes
from lydlogg.metadata import MetadataRow, RowError, read_metadata
from lydlogg.pseudonym import load_or_create_key, pseudonymise
from lydlogg.settings import Settings
from transcription.audio import ACCEPTED_EXTENSIONS, AudioError, AudioInfo, file_sha256, probe_audio

__all__ = ["IngestFailure", "IngestReport", "discover_audio", "ingest"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestFailure:
    path: str
    stage: str
    reason: str

    def __str__(self) -> str:
        return self.reason if self.reason.startswith(self.path) else f"{self.path}: {self.reason}"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    already_known: list[str] = field(default_factory=list)
    metadata_updated: list[str] = field(default_factory=list)
    without_audio: list[str] = field(default_factory=list)
    failures: list[IngestFailure] = field(default_factory=list)
    skipped: list[IngestFailure] = field(default_factory=list)


def discover_audio(paths: Iterable[Path]) -> tuple[list[Path], list[IngestFailure]]:
    """Expand folders (recursively) into recordings with an accepted extension.

    Returns the recordings and one entry per file left out of a folder (stage ``skipped``,
    with the reason), so that nothing in a telephony export is passed over silently.
    """
    found: list[Path] = []
    skipped: list[IngestFailure] = []
    for path in map(Path, paths):
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if not p.is_file():
                    continue
                if p.suffix.lower() in ACCEPTED_EXTENSIONS:
                    found.append(p)
                else:
                    reason = (
                        f"extension {p.suffix or '(none)'} not accepted; "
                        f"expected one of {' '.join(ACCEPTED_EXTENSIONS)}"
                    )
                    skipped.append(IngestFailure(str(p), "skipped", reason))
        elif path.is_file():
            found.append(path)
    return found, skipped


def _missing(paths: Iterable[Path]) -> list[IngestFailure]:
    return [
        IngestFailure(str(p), "ingest", "no such file or folder") for p in map(Path, paths) if not p.exists()
    ]


def _record_failure(
    con: duckdb.DuckDBPyConnection, failure: IngestFailure, call_id: str | None = None
) -> None:
    con.execute(
        "INSERT INTO failures (call_id, path, stage, reason) VALUES (?, ?, ?, ?)",
        [call_id, failure.path, failure.stage, failure.reason],
    )


_METADATA_FIELDS = (
    "started_at",
    "service",
    "operator_id",
    "caller_pseudonym",
    "patient_pseudonym",
    "urgency",
    "team",
    "unit",
)


def _metadata_values(row: MetadataRow, key: bytes | None) -> dict[str, object]:
    return {
        "started_at": row.started_at,
        "service": row.service,
        "operator_id": row.operator_id,
        "caller_pseudonym": pseudonymise(key, "phone", row.caller_number)
        if key and row.caller_number
        else None,
        "patient_pseudonym": pseudonymise(key, "patient", row.patient_ref)
        if key and row.patient_ref
        else None,
        "urgency": row.urgency,
        "team": row.team,
        "unit": row.unit,
    }


def _upsert_metadata(
    con: duckdb.DuckDBPyConnection, call_id: str, values: dict[str, object], source: str
) -> None:
    """Fill in metadata fields of an existing call; a value already there is only replaced by a new one."""
    sets = ", ".join(f"{name} = coalesce(?, {name})" for name in values)
    con.execute(
        f"UPDATE calls SET {sets}, metadata_source = ? WHERE call_id = ?",  # noqa: S608 - column names are constants
        [*values.values(), source, call_id],
    )


def _insert_call(
    con: duckdb.DuckDBPyConnection,
    call_id: str,
    sha: str | None,
    values: dict[str, object],
    source: str | None,
    default_unit: str | None,
) -> None:
    values = {**values, "unit": values["unit"] or default_unit}
    con.execute(
        "INSERT INTO calls (call_id, audio_sha256, started_at, service, operator_id, caller_pseudonym,"
        " patient_pseudonym, urgency, team, unit, metadata_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [call_id, sha, *values.values(), source],
    )


def _store_recording(
    con: duckdb.DuckDBPyConnection,
    info: AudioInfo,
    sha: str,
    row: MetadataRow | None,
    key: bytes | None,
    source: str | None,
    report: IngestReport,
    default_unit: str | None,
) -> None:
    values = _metadata_values(row, key) if row else dict.fromkeys(_METADATA_FIELDS)
    holder = con.execute("SELECT call_id FROM calls WHERE audio_sha256 = ?", [sha]).fetchone()
    if holder:
        if row is None:
            report.already_known.append(holder[0])
            return
        if row.call_id != holder[0]:
            clash = con.execute("SELECT 1 FROM calls WHERE call_id = ?", [row.call_id]).fetchone()
            if clash:
                raise ValueError(f"call_id {row.call_id!r} is already used by another call")
            log.info(
                "recording of %s was ingested earlier as %s; metadata merged there", row.call_id, holder[0]
            )
        with transaction(con):
            _upsert_metadata(con, holder[0], values, source or "")
        report.metadata_updated.append(holder[0])
        return
    call_id = row.call_id if row else f"call-{sha[:12]}"
    existing = con.execute("SELECT audio_sha256 FROM calls WHERE call_id = ?", [call_id]).fetchone()
    if existing and existing[0] is not None:
        raise ValueError(f"call_id {call_id!r} already has another recording")
    with transaction(con):
        con.execute(
            "INSERT INTO audio_files (sha256, path, size_bytes, container, subtype, sample_rate, channels,"
            " frames, duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                sha,
                str(info.path.resolve()),
                info.size_bytes,
                info.container,
                info.subtype,
                info.sample_rate,
                info.channels,
                info.frames,
                info.duration_s,
            ],
        )
        if existing:  # a contact stored earlier without audio gets its recording now
            con.execute("UPDATE calls SET audio_sha256 = ? WHERE call_id = ?", [sha, call_id])
            if row:
                _upsert_metadata(con, call_id, values, source or "")
        else:
            _insert_call(con, call_id, sha, values, source, default_unit)
    report.added.append(call_id)


def _store_contact(
    con: duckdb.DuckDBPyConnection,
    row: MetadataRow,
    key: bytes | None,
    source: str,
    report: IngestReport,
    default_unit: str | None,
) -> None:
    values = _metadata_values(row, key)
    with transaction(con):
        if con.execute("SELECT 1 FROM calls WHERE call_id = ?", [row.call_id]).fetchone():
            _upsert_metadata(con, row.call_id, values, source)
            report.metadata_updated.append(row.call_id)
        else:
            _insert_call(con, row.call_id, None, values, source, default_unit)
            report.without_audio.append(row.call_id)


def ingest(settings: Settings, paths: Iterable[Path], metadata: Path | None = None) -> IngestReport:
    """Register ``paths`` (files or folders) and the recordings named in ``metadata``."""
    report = IngestReport()
    rows: list[MetadataRow] = []
    row_errors: list[RowError] = []
    if metadata is not None:
        rows, row_errors = read_metadata(
            metadata, settings.metadata
        )  # MetadataError for an unreadable file propagates
    paths = list(paths)
    files, report.skipped = discover_audio(paths)
    missing = _missing(paths)
    report.failures += missing
    for skip in report.skipped:
        log.warning("ingest skipped %s", skip)
    by_path: dict[Path, MetadataRow] = {}
    for row in rows:
        if row.audio_file is None:
            continue
        if not row.audio_file.is_file():
            row_errors.append(
                RowError(Path(metadata), row.line, "audio_file not found (the file named in this row)")
            )
            continue
        by_path[row.audio_file] = row
    report.failures += [IngestFailure(str(e.file), "metadata", str(e)) for e in row_errors]
    targets = list(dict.fromkeys([*(f.resolve() for f in files), *by_path]))
    needs_key = any(r.caller_number or r.patient_ref for r in rows)
    key = load_or_create_key(settings.key_file) if needs_key else None
    source = str(Path(metadata).resolve()) if metadata else None

    with connect(settings.db_path) as con:
        for path in targets:
            row = by_path.get(path)
            try:
                info = probe_audio(path)
                if info.size_bytes > settings.audio.max_file_mb * 2**20:
                    raise AudioError(
                        f"{path}: {info.size_bytes / 2**20:.0f} MiB is over audio.max_file_mb ({settings.audio.max_file_mb})"
                    )
                _store_recording(
                    con, info, file_sha256(path), row, key, source, report, settings.metadata.default_unit
                )
            except (AudioError, ValueError, OSError) as e:
                failure = IngestFailure(str(path), "ingest", str(e))
                report.failures.append(failure)
                _record_failure(con, failure, row.call_id if row else None)
        for row in rows:
            if row.audio_file is None:
                _store_contact(con, row, key, source or "", report, settings.metadata.default_unit)
        for failure in report.failures:
            if failure.stage != "ingest":
                _record_failure(con, failure)
        for failure in missing:
            _record_failure(con, failure)
        episodes = update_episodes(con, settings.episodes.window_hours)  # the calls that arrived
    log.info(
        "ingest: %d added, %d already known, %d metadata updates, %d without audio, %d failures;"
        " %d contacts relinked into episodes",
        len(report.added),
        len(report.already_known),
        len(report.metadata_updated),
        len(report.without_audio),
        len(report.failures),
        episodes.relinked,
    )
    return report
