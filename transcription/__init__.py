"""Transcription: decode a recording once, then turn its speech into time-stamped words.

The stages, in order: :func:`decode_audio` (file -> 16 kHz float32, stereo/dual-mono detected),
:func:`resolve_model` + :func:`load_model` (offline-first model lookup),
:class:`Transcriber` (faster-whisper per channel, speech regions only).
"""

from transcription.asr import AsrOptions, AsrResult, Transcriber
from transcription.audio import (
    ACCEPTED_EXTENSIONS,
    AudioError,
    AudioInfo,
    DecodedAudio,
    decode_audio,
    file_sha256,
    probe_audio,
)
from transcription.formats import TranscriptFormatError, from_json, to_json, to_txt, to_vtt
from transcription.models import (
    ModelNotAvailableError,
    ModelSpec,
    list_models,
    load_model,
    pick_device,
    prepare_bundled,
    resolve_model,
)
from transcription.types import Segment, Transcript, Word

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "AsrOptions",
    "AsrResult",
    "AudioError",
    "AudioInfo",
    "DecodedAudio",
    "ModelNotAvailableError",
    "ModelSpec",
    "Segment",
    "Transcriber",
    "Transcript",
    "TranscriptFormatError",
    "Word",
    "decode_audio",
    "file_sha256",
    "from_json",
    "list_models",
    "load_model",
    "pick_device",
    "prepare_bundled",
    "probe_audio",
    "resolve_model",
    "to_json",
    "to_txt",
    "to_vtt",
]
