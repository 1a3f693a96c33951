"""A browser-safe copy of a recording for the app's audio player; the original is never touched.

Browsers play PCM WAV, MP3, FLAC and Ogg (Vorbis, Opus). A GSM 6.10, ADPCM, G.711, G.722 or
G.729 WAV, AMR, WMA, VOX or AAC (not in Chromium's open-source build) recording is decoded once
(the same decode the pipeline uses) and written as 16-bit PCM WAV named by the original's sha256, so the copy is
made once and shared by every page that plays the call.

With the database encrypted (``encryption.enabled``) a decoded copy on disk would be the one plain
rendering of the call beside an encrypted database, so the copy is then made in memory for each
playing and never written; a copy left on disk from before encryption was turned on is deleted.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from transcription.audio import SAMPLE_RATE, AudioInfo, decode_audio, file_sha256, probe_audio

__all__ = ["browser_safe", "playable_copy"]

log = logging.getLogger(__name__)

_SAFE_WAV = {"PCM_16", "PCM_U8", "PCM_24", "PCM_32", "FLOAT"}


def browser_safe(info: AudioInfo) -> bool:
    """Whether every current browser plays the file as it is."""
    if info.decoder != "libsndfile":
        return False
    if info.container in ("WAV", "WAVEX"):
        return info.subtype in _SAFE_WAV
    if info.container == "OGG":
        return info.subtype in ("VORBIS", "OPUS")
    return info.container in ("MP3", "FLAC")


def _write_pcm_wav(path: Path, fh: io.IOBase) -> None:
    """Decode ``path`` (the pipeline's decode) and write it to ``fh`` as 16-bit PCM WAV."""
    audio = decode_audio(path)
    pcm = np.ascontiguousarray(audio.samples.T)
    sf.write(fh, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")


def playable_copy(
    path: Path, cache_dir: Path, sha256: str | None = None, *, in_memory: bool = False
) -> Path | bytes:
    """``path`` itself when browsers play it, else its PCM WAV copy: a file in ``cache_dir`` (made
    when needed), or with ``in_memory`` the WAV bytes, never written (a stale file copy is deleted)."""
    path = Path(path)
    info = probe_audio(path)
    if browser_safe(info):
        return path
    target = Path(cache_dir) / f"{sha256 or file_sha256(path)}.wav"
    if in_memory:
        target.unlink(missing_ok=True)  # made before the database was encrypted
        buffer = io.BytesIO()
        _write_pcm_wav(path, buffer)
        return buffer.getvalue()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        _write_pcm_wav(path, fh)
    partial.replace(target)  # atomic: a second viewer never plays half a file
    log.info("playback copy of %s made (%s %s)", path.name, info.container, info.subtype)
    return target
