"""Labels and small helpers shared by the pages (bokmål)."""

from __future__ import annotations

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


def playable_audio(service, call_id: str):  # noqa: ANN001, ANN201 - a ReviewService; Path | None
    """The recording the browser can play (a cached PCM copy for GSM, ADPCM, AMR, ...)."""
    from lydlogg.settings import load_settings
    from transcription.audio import AudioError

    try:
        cache_dir = load_settings(None, db_path=service.db_path).audio.playback_dir
        return service.playable_audio_path(call_id, cache_dir)
    except (AudioError, OSError):
        return None
