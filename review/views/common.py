"""Labels and small helpers shared by the pages (bokmål)."""

from __future__ import annotations

import html

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


def clock(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def value_label(value: int | None, yes_no: bool) -> str:
    if value is None:
        return "ikke aktuelt"
    if yes_no:
        return "ja" if value == 1 else "nei"
    return str(value)


def md_text(text: object) -> str:
    """User text made safe for markdown (titles, captions, markdown): HTML escaped, markdown's
    own signs taken literally. Every text from a user, a recording or metadata goes through it."""
    escaped = html.escape("" if text is None else str(text))
    for sign in "\\`*_{}[]()#+-.!|~$<>":
        escaped = escaped.replace(sign, "\\" + sign)
    return escaped
