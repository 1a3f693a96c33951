"""Call metadata from a CSV file: parsed and checked row by row.

Columns (header row required, order free, only ``call_id`` mandatory):

=============  ==============================================================================
call_id        unique id of the contact in the source system (letters, digits, ``-_.:``)
started_at     ISO-8601 time with offset, e.g. ``2026-03-02T18:40:00+01:00``
service        ``lvs`` | ``amk`` | ``legevaktlege`` | ``fastlege``
operator_id    who handled the call (operator, doctor) in the source system
caller_number  the caller's phone number; pseudonymised at once, never stored raw; ``ukjent``
               (or skjult, anonym, unknown, withheld) for a withheld number
patient_ref    the patient's reference; pseudonymised at once, never stored raw
urgency        ``red`` | ``yellow`` | ``green``
audio_file     recording, relative to the CSV's folder; empty for a contact without audio
team           the handler's team (vaktlag) at the time of the call, free text up to 64
               characters; when empty the team an admin gave the operator is used
=============  ==============================================================================

A bad row is reported with file, line and reason and skipped; good rows are returned.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = [
    "COLUMNS",
    "SERVICES",
    "URGENCIES",
    "MetadataError",
    "MetadataRow",
    "RowError",
    "check_team",
    "read_metadata",
]

COLUMNS = (
    "call_id",
    "started_at",
    "service",
    "operator_id",
    "caller_number",
    "patient_ref",
    "urgency",
    "audio_file",
    "team",
)
SERVICES = ("lvs", "amk", "legevaktlege", "fastlege")
URGENCIES = ("red", "yellow", "green")
WITHHELD = frozenset({"ukjent", "skjult", "hemmelig", "anonym", "unknown", "withheld", "private"})
TEAM_MAX = 64
_CALL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


class MetadataError(ValueError):
    """The metadata file as a whole cannot be read (missing, wrong header, not CSV)."""


@dataclass(frozen=True)
class MetadataRow:
    line: int
    call_id: str
    started_at: datetime | None = None
    service: str | None = None
    operator_id: str | None = None
    team: str | None = None
    caller_number: str | None = None
    patient_ref: str | None = None
    urgency: str | None = None
    audio_file: Path | None = None


@dataclass(frozen=True)
class RowError:
    file: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def check_team(text: str) -> str:
    """A team name, stripped: 1-64 characters, no control characters."""
    team = " ".join(text.split())
    if not team or len(team) > TEAM_MAX or any(not c.isprintable() for c in team):
        raise ValueError(f"team must be 1-{TEAM_MAX} printable characters")
    return team


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        raise ValueError("started_at is not ISO-8601 (e.g. 2026-03-02T18:40:00+01:00)") from e
    if value.tzinfo is None:
        raise ValueError("started_at has no UTC offset (e.g. +01:00)")
    return value


def _resolve_audio(base: Path, text: str) -> Path:
    relative = Path(text)
    if relative.is_absolute():
        raise ValueError("audio_file is absolute; give it relative to the CSV's folder")
    resolved = (base / relative).resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise ValueError("audio_file points outside the CSV's folder")
    return resolved


def _parse_row(raw: dict[str, str], line: int, base: Path) -> MetadataRow:
    value = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    if not _CALL_ID.match(value["call_id"]):
        raise ValueError("call_id is empty or has characters other than letters, digits and -_.:")
    if value["service"] and value["service"] not in SERVICES:
        raise ValueError(f"service is not one of {', '.join(SERVICES)}")
    if value["urgency"] and value["urgency"] not in URGENCIES:
        raise ValueError(f"urgency is not one of {', '.join(URGENCIES)}")
    if value["team"]:
        value["team"] = check_team(value["team"])
    if value["caller_number"].casefold() in WITHHELD:
        value["caller_number"] = ""  # a withheld number links nothing
    if value["caller_number"] and len(re.sub(r"\D", "", value["caller_number"])) < 3:
        raise ValueError("caller_number has fewer than 3 digits")  # never echo the number itself
    return MetadataRow(
        line=line,
        call_id=value["call_id"],
        started_at=_parse_time(value["started_at"]) if value["started_at"] else None,
        service=value["service"] or None,
        operator_id=value["operator_id"] or None,
        team=value["team"] or None,
        caller_number=value["caller_number"] or None,
        patient_ref=value["patient_ref"] or None,
        urgency=value["urgency"] or None,
        audio_file=_resolve_audio(base, value["audio_file"]) if value["audio_file"] else None,
    )


def read_metadata(path: Path) -> tuple[list[MetadataRow], list[RowError]]:
    """Parse ``path``; return the good rows and one error per bad row."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            unknown = [c for c in header if c.strip() not in COLUMNS]
            if "call_id" not in header or unknown:
                raise MetadataError(
                    f"{path}: header must name columns from {', '.join(COLUMNS)} (call_id required)"
                    + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                )
            rows: list[MetadataRow] = []
            errors: list[RowError] = []
            seen: set[str] = set()
            for raw in reader:
                line = reader.line_num
                if None in raw:
                    errors.append(
                        RowError(path, line, f"more fields than the {len(header)} columns in the header")
                    )
                    continue
                try:
                    row = _parse_row(raw, line, path.parent)
                except ValueError as e:
                    errors.append(RowError(path, line, str(e)))
                    continue
                if row.call_id in seen:
                    errors.append(RowError(path, line, f"call_id {row.call_id!r} appears twice in this file"))
                    continue
                seen.add(row.call_id)
                rows.append(row)
    except FileNotFoundError as e:
        raise MetadataError(f"{path}: metadata file not found") from e
    except (UnicodeDecodeError, csv.Error) as e:
        raise MetadataError(f"{path}: not a UTF-8 CSV file ({e})") from e
    return rows, errors
