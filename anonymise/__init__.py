"""Anonymisation of call transcripts and audio for the case library of training calls.

:func:`find_identifiers` finds names, phone numbers, national identity numbers, addresses,
dates and places in bokmål text; :func:`apply_redactions` / :func:`anonymise_text` replace them
with typed placeholders (``[NAVN]``, ``[TELEFON]`` ...); :func:`redact_transcript` does the same
to a :class:`~transcription.types.Transcript` and returns the time span of each redaction, which
:func:`redact_audio` covers with a tone or silence in every channel; :func:`disguise_voice` moves
the pitch and formants of every voice in a recording (WORLD vocoder). A trainer's edited list of
redactions can be passed to each of them instead of the detected one.
"""

import importlib

# Each public name and the module it lives in: importing the package (as the settings do for
# AnonymiseSettings) loads none of them; the first use of a name loads its module.
_HOMES = {
    "AnonymiseSettings": "anonymise.audio",
    "VoiceSettings": "anonymise.voice",
    "disguise_voice": "anonymise.voice",
    "KINDS": "anonymise.types",
    "Kind": "anonymise.types",
    "PLACEHOLDERS": "anonymise.types",
    "Redaction": "anonymise.types",
    "WordRedaction": "anonymise.types",
    "anonymise_text": "anonymise.text",
    "apply_redactions": "anonymise.text",
    "cli_anonymise": "anonymise.text",
    "cover_redactions": "anonymise.audio",
    "find_identifiers": "anonymise.text",
    "find_transcript_identifiers": "anonymise.transcript",
    "redact_audio": "anonymise.audio",
    "redact_transcript": "anonymise.transcript",
}


__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "AnonymiseSettings",
    "Kind",
    "VoiceSettings",
    "Redaction",
    "WordRedaction",
    "anonymise_text",
    "apply_redactions",
    "cover_redactions",
    "cli_anonymise",
    "disguise_voice",
    "find_identifiers",
    "find_transcript_identifiers",
    "redact_audio",
    "redact_transcript",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'anonymise' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
