"""Anonymisation of call transcripts and audio for the case library of training calls.

:func:`find_identifiers` finds names, phone numbers, national identity numbers, addresses,
dates and places in bokmål text; :func:`apply_redactions` / :func:`anonymise_text` replace them
with typed placeholders (``[NAVN]``, ``[TELEFON]`` ...); :func:`redact_transcript` does the same
to a :class:`~transcription.types.Transcript` and returns the time span of each redaction, which
:func:`redact_audio` covers with a tone or silence in every channel. A trainer's edited list of
redactions can be passed to each of them instead of the detected one.
"""

from anonymise.audio import AnonymiseSettings, cover_redactions, redact_audio
from anonymise.text import anonymise_text, apply_redactions, cli_anonymise, find_identifiers
from anonymise.transcript import find_transcript_identifiers, redact_transcript
from anonymise.types import KINDS, PLACEHOLDERS, Kind, Redaction, WordRedaction

__all__ = [
    "KINDS",
    "PLACEHOLDERS",
    "AnonymiseSettings",
    "Kind",
    "Redaction",
    "WordRedaction",
    "anonymise_text",
    "apply_redactions",
    "cover_redactions",
    "cli_anonymise",
    "find_identifiers",
    "find_transcript_identifiers",
    "redact_audio",
    "redact_transcript",
]
