"""Call metadata from a CSV file: parsed and checked row by row.

Columns (header row required, order free, only ``call_id`` mandatory):

=============  ==============================================================================
call_id        unique id of the contact in the source system (letters, digits, ``-_.:``)
started_at     ISO-8601 time, e.g. ``2026-03-02T18:40:00+01:00``, or ``02.03.2026 18:40``; a time
               without offset is local time in ``metadata.timezone`` (Europe/Oslo), and the hour
               that occurs twice when clocks go back (or is skipped in spring) is reported, not guessed
service        ``lvs`` | ``amk`` | ``legevaktlege`` | ``fastlege`` (any letter case)
operator_id    who handled the call (operator, doctor) in the source system
caller_number  the caller's phone number; pseudonymised at once, never stored raw; ``ukjent``
               (or skjult, anonym, unknown, withheld) for a withheld number
patient_ref    the patient's reference; pseudonymised at once, never stored raw
urgency        ``red`` | ``yellow`` | ``green`` or ``rød`` | ``gul`` | ``grønn`` (any letter case)
audio_file     recording, relative to the CSV's folder; empty for a contact without audio
team           the handler's team (vaktlag) at the time of the call, free text up to 64
               characters; when empty the team an admin gave the operator is used
unit           the legevakt or site that took the call: 1-64 letters, digits, spaces or ``-_.'``;
               leaders, supervisors and operators see only their own units' calls
=============  ==============================================================================

The file may be separated by ``,`` or ``;`` (sniffed from the header) and encoded as UTF-8 (with or
without BOM) or Windows-1252. A telephony system's own column names are mapped through the
``[metadata.columns]`` setting (``call_id = "SamtaleID"``); other columns are ignored with one
warning. A bad row is reported with file, line and reason and skipped; good rows are returned.
A reason never repeats a raw value that holds digits (it could be a phone number).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lydlogg.formatting import known_timezone
from lydlogg.vocabulary import SERVICES, URGENCIES, URGENCY_WORDS

__all__ = [
    "COLUMNS",
    "DEMO_DATA_SOURCE",
    "SERVICES",
    "URGENCIES",
    "MetadataError",
    "MetadataRow",
    "MetadataSettings",
    "RowError",
    "check_team",
    "check_unit",
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
    "unit",
)
_URGENCY_WORDS = URGENCY_WORDS
_DELIMITERS = (",", ";", "\t")
_LOCAL_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y kl. %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)

log = logging.getLogger(__name__)


class MetadataSettings(BaseModel):
    """Reading the call-metadata CSV exported by the telephony system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(
        "Europe/Oslo",
        description=(
            "Time zone of `started_at` values written without a UTC offset (IANA name). The hour that "
            "occurs twice when clocks go back is reported as a bad row rather than guessed."
        ),
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "The telephony export's own column names for Lydlogg's columns, e.g. "
            '`{ call_id = "SamtaleID", started_at = "Starttid" }` under `[metadata.columns]`; '
            "matched in any letter case. Columns neither named here nor Lydlogg's own are ignored "
            "with one warning."
        ),
    )

    default_unit: str | None = Field(
        "standard",
        description=(
            "Unit (legevakt or site) given to a new call whose metadata names none, or that arrives "
            "without metadata. The default is the unit an upgraded database puts its existing calls and "
            'users in. `""`: leave such calls without a unit; then only the regional quality role sees them.'
        ),
    )

    @field_validator("default_unit")
    @classmethod
    def _checked_unit(cls, value: str | None) -> str | None:
        return check_unit(value) if value else None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(COLUMNS))
        if unknown:
            raise ValueError(
                f"unknown Lydlogg column(s) {', '.join(unknown)}; accepted: {', '.join(COLUMNS)}"
            )
        return value


WITHHELD = frozenset({"ukjent", "skjult", "hemmelig", "anonym", "unknown", "withheld", "private"})
TEAM_MAX = 64
# ``calls.metadata_source`` of the demo's invented history (scripts/make_demo_extras.py): Oversikt
# says how many of the calls it counts are demo data.
DEMO_DATA_SOURCE = "demodata"
UNIT_MAX = 64
_UNIT = re.compile(r"^[^\W_][\w .'-]*$")
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
    unit: str | None = None
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


def check_unit(text: str) -> str:
    """A unit name (legevakt or site), spaces tidied: 1-64 letters, digits, spaces or ``-_.'``,
    starting with a letter or digit. Units are compared exactly as written here."""
    unit = " ".join(text.split())
    if not unit or len(unit) > UNIT_MAX or not _UNIT.match(unit):
        raise ValueError(
            f"unit must be 1-{UNIT_MAX} letters, digits, spaces or -_.' and start with a letter or digit"
        )
    return unit


def _shown(text: str) -> str:
    """A raw value for an error message, or a stand-in when it holds digits (it may be a phone number)."""
    if sum(c.isdigit() for c in text) >= 3 or len(text) > 40:
        return "(value not shown: it holds digits)" if len(text) <= 40 else "(value not shown: too long)"
    return repr(text)


def _parse_time(text: str, zone: ZoneInfo) -> datetime:
    """ISO-8601 or ``dd.mm.yyyy HH:MM``; a time without offset is local time in ``zone``."""
    value: datetime | None = None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _LOCAL_FORMATS:
            try:
                value = datetime.strptime(text, fmt)  # noqa: DTZ007 - the zone is attached below
                break
            except ValueError:
                continue
    if value is None:
        raise ValueError(
            "started_at is not a time Lydlogg reads; expected ISO-8601 (2026-03-02T18:40:00+01:00, "
            "2026-03-02 18:40) or 02.03.2026 18:40"
        )
    if value.tzinfo is not None:
        return value
    return _localise(value, zone)


def _localise(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone``; refuse the hour that occurs twice (autumn) or never (spring)."""
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        shown = naive.strftime("%Y-%m-%d %H:%M")
        if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise ValueError(f"started_at {shown} does not exist in {zone.key} (clocks go forward then)")
        raise ValueError(
            f"started_at {shown} is ambiguous in {zone.key}: that hour occurs twice when clocks go back; "
            f"give the UTC offset ({early.isoformat(timespec='minutes')[-6:]} or "
            f"{late.isoformat(timespec='minutes')[-6:]})"
        )
    return early


def _resolve_audio(base: Path, text: str) -> Path:
    relative = Path(text)
    if relative.is_absolute():
        raise ValueError("audio_file is absolute; give it relative to the CSV's folder")
    resolved = (base / relative).resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise ValueError("audio_file points outside the CSV's folder")
    return resolved


def _parse_row(raw: dict[str, str], line: int, base: Path, zone: ZoneInfo) -> MetadataRow:
    value = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    if not _CALL_ID.match(value["call_id"]):
        raise ValueError("call_id is empty or has characters other than letters, digits and -_.:")
    service = value["service"].casefold()
    if service and service not in SERVICES:
        raise ValueError(f"service is not one of {', '.join(SERVICES)}")
    urgency = _URGENCY_WORDS.get(value["urgency"].casefold(), "")
    if value["urgency"] and not urgency:
        raise ValueError(f"urgency is not one of {', '.join(URGENCIES)} (or rød, gul, grønn)")
    if value["team"]:
        value["team"] = check_team(value["team"])
    if value["unit"]:
        value["unit"] = check_unit(value["unit"])
    if value["caller_number"].casefold() in WITHHELD:
        value["caller_number"] = ""  # a withheld number links nothing
    if value["caller_number"] and len(re.sub(r"\D", "", value["caller_number"])) < 3:
        raise ValueError("caller_number has fewer than 3 digits")  # never echo the number itself
    return MetadataRow(
        line=line,
        call_id=value["call_id"],
        started_at=_parse_time(value["started_at"], zone) if value["started_at"] else None,
        service=service or None,
        operator_id=value["operator_id"] or None,
        team=value["team"] or None,
        unit=value["unit"] or None,
        caller_number=value["caller_number"] or None,
        patient_ref=value["patient_ref"] or None,
        urgency=urgency or None,
        audio_file=_resolve_audio(base, value["audio_file"]) if value["audio_file"] else None,
    )


def _read_text(path: Path) -> str:
    """The file as text: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise MetadataError(f"{path}: metadata file not found") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as e:
        raise MetadataError(f"{path}: neither UTF-8 nor Windows-1252 text ({e})") from e
    log.info("%s: read as Windows-1252 (not valid UTF-8)", path.name)
    return text


def _sniff_delimiter(header_line: str) -> str:
    """The separator the header uses most: ``,``, ``;`` or a tab."""
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header_map(header: list[str], columns: dict[str, str], path: Path) -> dict[str, str]:
    """Source column name -> Lydlogg column, from the mapping setting and Lydlogg's own names."""
    wanted = {source.strip().casefold(): target for target, source in columns.items()}
    wanted.update({c: c for c in COLUMNS if c not in columns})
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for name in header:
        target = wanted.get(name.strip().casefold())
        if target is None or target in mapping.values():
            unknown.append(name.strip() or "(empty)")
        else:
            mapping[name] = target
    if "call_id" not in mapping.values():
        named = f" (metadata.columns maps call_id to {columns['call_id']!r})" if "call_id" in columns else ""
        raise MetadataError(
            f"{path}: header must name columns from {', '.join(COLUMNS)} (call_id required){named}; "
            "map the export's own names with [metadata.columns]"
        )
    if unknown:
        log.warning("%s: ignoring %d unknown column(s): %s", path, len(unknown), ", ".join(unknown))
    return mapping


def read_metadata(
    path: Path, settings: MetadataSettings | None = None
) -> tuple[list[MetadataRow], list[RowError]]:
    """Parse ``path``; return the good rows and one error per bad row."""
    path = Path(path)
    settings = settings or MetadataSettings()
    zone = ZoneInfo(settings.timezone)
    text = _read_text(path)
    first_line = text.split("\n", 1)[0]
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
        header = next(reader, [])
        mapping = _header_map(header, settings.columns, path)
        rows: list[MetadataRow] = []
        errors: list[RowError] = []
        seen: set[str] = set()
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank line, e.g. at the end of a spreadsheet export
            if len(fields) > len(header):
                errors.append(
                    RowError(path, line, f"more fields than the {len(header)} columns in the header")
                )
                continue
            raw = {
                mapping[name]: value for name, value in zip(header, fields, strict=False) if name in mapping
            }
            try:
                row = _parse_row(raw, line, path.parent, zone)
            except ValueError as e:
                errors.append(RowError(path, line, str(e)))
                continue
            if row.call_id in seen:
                errors.append(
                    RowError(path, line, f"call_id {_shown(row.call_id)} appears twice in this file")
                )
                continue
            seen.add(row.call_id)
            rows.append(row)
    except csv.Error as e:
        raise MetadataError(f"{path}: not a CSV file separated by , or ; ({e})") from e
    return rows, errors
