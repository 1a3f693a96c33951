"""Labels and small helpers shared by the pages (bokmål)."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from lydlogg.db import DatabaseBusyError, DatabaseError, SchemaOutdatedError

log = logging.getLogger(__name__)

SERVICE_LABELS = {"lvs": "LVS", "amk": "AMK", "legevaktlege": "Legevaktlege", "fastlege": "Fastlege"}
STATUS_LABELS = {
    "transcribed": "transkribert",
    "pending": "venter",
    "failed": "feilet",
    "no_audio": "uten lydfil",
}
ROLE_LABELS = {"operator": "Operatør", "doctor": "Lege", "caller": "Innringer", "other": "Annen"}
CHANNEL_LABELS = {0: "Venstre kanal", 1: "Høyre kanal", None: "Mono"}
LOW_CONFIDENCE = 0.5
BUSY_MESSAGE = (
    "Databasen er opptatt akkurat nå: en annen prosess (for eksempel transkribering, poengsetting "
    "eller sikkerhetskopiering) bruker den. Vent litt og trykk «Prøv igjen». Det som ikke ble "
    "lagret, kan du lagre på nytt etterpå."
)
RETRY_LABEL = "Prøv igjen"
QUALITY_LABELS = {
    "god": "god",
    "usikker": "usikker",
    "dårlig": "dårlig – lytt",
    "skrevet": "skrevet/rettet",
}


def clock(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def quality_cell(level: str | None, quality: float | None) -> str:
    """Inbox cell for a call's transcript quality: the level and the estimated share of right words."""
    if level is None:
        return ""
    if quality is None or quality != quality:
        return QUALITY_LABELS.get(level, level)
    return f"{QUALITY_LABELS.get(level, level)} ({quality:.0%} ord)"


def value_label(value: int | None, yes_no: bool, abstained: bool = False) -> str:
    if abstained:
        return "kan ikke vurderes automatisk – lytt"
    if value is None:
        return "ikke aktuelt"
    if yes_no:
        return "ja" if value == 1 else "nei"
    return str(value)


def playable_audio(service, call_id: str):  # noqa: ANN001, ANN201 - a ReviewService; Path | None
    """The recording the browser can play (a cached PCM copy for GSM, ADPCM, AMR, ...)."""
    from lydlogg.settings import load_settings
    from transcription.audio import AudioError

    try:
        cache_dir = load_settings(None, db_path=service.db_path).audio.playback_dir
        return service.playable_audio_path(call_id, cache_dir)
    except (AudioError, OSError):
        return None


def number_text(value: object, kind: str = "count") -> str:
    """A figure as a reader expects it in a table: "33 %" for a share, "2,3" for a mean, "4" for a
    count, "–" when missing (never "NaN", "None", "0.333333" or "1.000000")."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if kind == "share":
        return f"{x:.0%}".replace("%", " %")
    if kind == "mean":
        return f"{x:.1f}".replace(".", ",")
    return f"{x:.0f}"


def md_text(text: object) -> str:
    """User text made safe for markdown (titles, captions, markdown): HTML escaped, markdown's
    own signs taken literally. Every text from a user, a recording or metadata goes through it."""
    escaped = html.escape("" if text is None else str(text))
    for sign in "\\`*_{}[]()#+-.!|~$<>":
        escaped = escaped.replace(sign, "\\" + sign)
    return escaped


def database_problem(error: DatabaseError) -> str:
    """What a page tells the user about a database it cannot use (pure; bokmål)."""
    if isinstance(error, DatabaseBusyError):
        return BUSY_MESSAGE
    if isinstance(error, SchemaOutdatedError):
        return (
            f"Databasen {md_text(error.path)} har skjemaversjon {error.version}, men denne versjonen av "
            f"Lydlogg trenger versjon {error.latest}. Driftsansvarlig må kjøre `lydlogg db migrate` "
            "(den tar sikkerhetskopi først)."
        )
    return "Databasen kan ikke åpnes. Driftsansvarlig finner årsaken i serverloggen."


@contextmanager
def database_guard() -> Iterator[None]:
    """Run a part of the app; a database that is busy, at an older schema or unreadable ends the
    run with a message (and, when busy, a button to try again) instead of a traceback.

    The English reason goes to the server log: the file and what happened, never any content.
    """
    try:
        yield
    except DatabaseError as e:
        if isinstance(e, DatabaseBusyError):
            log.warning("page gave up waiting for the database: %s", e)
            st.warning(database_problem(e), icon="⏳")
            st.button(RETRY_LABEL, key="database-retry", type="primary")  # a click runs the page again
        else:
            log.error("page cannot use the database: %s", e)
            st.error(database_problem(e))
        st.stop()
