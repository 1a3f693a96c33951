"""Labels and small helpers shared by the pages (bokmål)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from lydlogg import vocabulary
from lydlogg.formatting import DEFAULT_TIMEZONE, display_frame, display_time, percent, score_text

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


VIEWS_DIR = Path(__file__).resolve().parent


def view(script: str) -> str:
    """The absolute path of a page script in review/views, as ``st.switch_page``/``st.page_link``
    want it: a relative path would be read from the main script's folder, which differs between
    ``streamlit run app.py`` and the installed ``lydlogg serve`` (review/app/streamlit_app.py)."""
    return str(VIEWS_DIR / script)


NO_DATABASE = (
    "Ingen samtaler er lest inn ennå. Når administrator har lest inn og behandlet lydloggene, vises de her."
)


def no_form_text(service: str | None, reviewable: bool) -> str:
    """Why a call page shows no review form: its service has no rubric, or its suggestions are not
    made yet (never a command line: the reader is a leader, not the operator of the server)."""
    name = SERVICE_LABELS.get(service or "", "ukjent tjeneste")
    if not reviewable:
        return (
            f"Samtaler fra {name} har ikke noe vurderingsskjema i Lydlogg: skjemaene er laget for LVS og "
            "legevaktlege. Du kan lytte til og lese samtalen, men den vurderes ikke her og trekkes ikke ut "
            "i utvalgsplaner."
        )
    return (
        "Forslagene til vurdering er ikke laget for denne samtalen ennå. De lages automatisk når "
        "samtalen er ferdig behandlet; står den fast, kan administrator se på det."
    )


def page_link(page: str, label: str, query_params: dict | None = None) -> None:
    """A link to another page of the app in the same tab; nothing when the page is not in the
    navigation (a page script run on its own, as the page tests do)."""
    import streamlit as st
    from streamlit.errors import StreamlitPageNotFoundError

    try:
        st.page_link(page, label=label, query_params=query_params or None)
    except StreamlitPageNotFoundError:
        return


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
    return f"{QUALITY_LABELS.get(level, level)} ({percent(quality)} ord)"


def value_label(value: int | None, yes_no: bool, abstained: bool = False) -> str:
    if abstained:
        return "kan ikke vurderes automatisk – lytt"
    return score_text(value, yes_no)


def playable_audio(service, call_id: str):  # noqa: ANN001, ANN201 - a ReviewService; Path | bytes | None
    """The recording the browser can play (a cached PCM copy for GSM, ADPCM, AMR, ...; WAV bytes
    made in memory when the database is encrypted)."""
    from transcription.audio import AudioError

    try:
        cache_dir = service.settings.audio.playback_dir
        return service.playable_audio_path(call_id, cache_dir)
    except (AudioError, OSError):
        return None


def audio_source(audio: object) -> object:
    """What ``st.audio`` takes for :func:`playable_audio`'s answer: WAV bytes as they are, a file by its path."""
    return audio if isinstance(audio, bytes) else str(audio)


def md_text(text: object) -> str:
    """User text made safe for markdown (titles, captions, markdown): HTML escaped, markdown's
    own signs taken literally. Every text from a user, a recording or metadata goes through it."""
    # quote=False: an apostrophe stays an apostrophe (its entity &#x27; would lose its "#" below)
    escaped = html.escape("" if text is None else str(text), quote=False)
    for sign in "\\`*_{}[]()#+-.!|~$<>":
        escaped = escaped.replace(sign, "\\" + sign)
    return escaped


_LIST_ITEM = re.compile(r"^\s*(?:([-*•–])|(\d{1,3})[.)])\s+(.*)$")


def formatted_text(text: object) -> str:
    """A trainer's or reviewer's text as safe markdown that keeps its shape: each line break stays
    a line break, lines starting with "-", "*", "•" or "1." stay a list, a blank line a new
    paragraph; everything else is taken literally (escaped once, by :func:`md_text`)."""
    out: list[str] = []
    previous = "blank"
    for line in ("" if text is None else str(text)).splitlines():
        if not line.strip():
            out.append("")
            previous = "blank"
            continue
        item = _LIST_ITEM.match(line)
        kind = "item" if item else "line"
        if previous not in ("blank", kind):
            out.append("")  # a list and a paragraph need a blank line between them in markdown
        elif previous == "line" and kind == "line":
            out[-1] += "  "  # two spaces: a hard line break
        if item:
            marker = "-" if item.group(1) else f"{int(item.group(2))}."
            out.append(f"{marker} {md_text(item.group(3))}")
        else:
            out.append(md_text(line.strip()))
        previous = kind
    return "\n".join(out).strip("\n")
