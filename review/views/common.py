"""Labels and small helpers shared by the pages (bokmål)."""

from __future__ import annotations

import html

from lydlogg import vocabulary
from lydlogg.formatting import DEFAULT_TIMEZONE, display_frame, display_time, score_text

SERVICE_LABELS = vocabulary.SERVICE_LABELS
STATUS_LABELS = {
    "transcribed": "transkribert",
    "pending": "venter",
    "failed": "feilet",
    "no_audio": "uten lydfil",
}
ROLE_LABELS = vocabulary.SPEAKER_ROLE_LABELS
CHANNEL_LABELS = {0: "Venstre kanal", 1: "Høyre kanal", None: "Mono"}
LOW_CONFIDENCE = 0.5
QUALITY_LABELS = {
    "god": "god",
    "usikker": "usikker",
    "dårlig": "dårlig – lytt",
    "skrevet": "skrevet/rettet",
}


def timezone() -> str:
    """The time zone pages show times in: ``display.timezone``, which app.py puts in the session."""
    import streamlit as st

    return st.session_state.get("display_timezone", DEFAULT_TIMEZONE)


def shown_time(value: object) -> str:
    """A time as the pages show it: ``02.03.2026 18:40`` in Norwegian time, ``–`` when missing."""
    return display_time(value, timezone())


def shown_frame(frame, **columns):  # noqa: ANN001, ANN201 - pandas DataFrame in and out
    """A table as the pages show it (:func:`lydlogg.formatting.display_frame` in the session's zone)."""
    return display_frame(frame, timezone(), **columns)


def in_norwegian(error: Exception, translations: tuple[tuple[str, str], ...], fallback: str) -> str:
    """A refusal raised in English (the service layer and the CLI share the messages) as the page
    says it: the first translation whose English part the message holds; a translation ending in
    ": " keeps what follows (names the user typed). Nothing English reaches the page."""
    text = str(error)
    for english, norwegian in translations:
        if english in text:
            return norwegian + text.split(english, 1)[1] if english.endswith(": ") else norwegian
    return fallback


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
    return score_text(value, yes_no)


def playable_audio(service, call_id: str):  # noqa: ANN001, ANN201 - a ReviewService; Path | None
    """The recording the browser can play (a cached PCM copy for GSM, ADPCM, AMR, ...)."""
    from lydlogg.settings import load_settings
    from transcription.audio import AudioError

    try:
        cache_dir = load_settings(None, db_path=service.db_path).audio.playback_dir
        return service.playable_audio_path(call_id, cache_dir)
    except (AudioError, OSError):
        return None


def md_text(text: object) -> str:
    """User text made safe for markdown (titles, captions, markdown): HTML escaped, markdown's
    own signs taken literally. Every text from a user, a recording or metadata goes through it."""
    escaped = html.escape("" if text is None else str(text))
    for sign in "\\`*_{}[]()#+-.!|~$<>":
        escaped = escaped.replace(sign, "\\" + sign)
    return escaped
