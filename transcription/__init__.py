"""Transcription: decode a recording once, then turn its speech into time-stamped words.

The stages, in order: :func:`decode_audio` (file -> 16 kHz float32, stereo/dual-mono detected),
:func:`resolve_model` + :func:`load_model` (offline-first model lookup),
:class:`Transcriber` (faster-whisper per channel, speech regions only).
"""

import importlib

# Each public name and the module it lives in: importing the package loads none of them (the
# speech-recognition stack is heavy), the first use of a name loads its module.
_HOMES = {
    "ACCEPTED_EXTENSIONS": "transcription.audio",
    "AsrOptions": "transcription.asr",
    "AsrResult": "transcription.asr",
    "AudioError": "transcription.audio",
    "AudioInfo": "transcription.audio",
    "DecodedAudio": "transcription.audio",
    "ModelNotAvailableError": "transcription.models",
    "ModelSpec": "transcription.models",
    "Segment": "transcription.types",
    "Transcriber": "transcription.asr",
    "Transcript": "transcription.types",
    "TranscriptFormatError": "transcription.formats",
    "Word": "transcription.types",
    "decode_audio": "transcription.audio",
    "file_sha256": "transcription.audio",
    "from_json": "transcription.formats",
    "list_models": "transcription.models",
    "load_model": "transcription.models",
    "pick_device": "transcription.models",
    "prepare_bundled": "transcription.models",
    "probe_audio": "transcription.audio",
    "resolve_model": "transcription.models",
    "shared_speech_probabilities": "transcription.speech_probs",
    "to_json": "transcription.formats",
    "to_txt": "transcription.formats",
    "to_vtt": "transcription.formats",
}


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
    "shared_speech_probabilities",
    "to_json",
    "to_txt",
    "to_vtt",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'transcription' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
