"""Reading recordings: probe, fingerprint, and decode once into 16 kHz float32.

Every later stage takes the :class:`DecodedAudio` made here; nothing decodes a file twice. A call
longer than one decoding block (``block_s``, :func:`fits_one_block`) is the exception: it is not
held whole but read from its file block by block as the stages ask, decoded again for each
stage's pass (:mod:`transcription.stream`), so memory does not grow with the call.
libsndfile reads first (WAV with PCM, G.711 mu-law/A-law, GSM 6.10, IMA/MS ADPCM; FLAC; Ogg
Vorbis/Opus; MP3; headerless Dialogic ``.vox`` at 8 kHz); whatever it cannot read goes to FFmpeg
through PyAV (AAC in M4A, AMR, WMA, G.722/G.729 WAV, ...). The file itself is never modified.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import av
import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from transcription.types import Layout

if TYPE_CHECKING:
    from transcription.stream import StreamedSamples

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "SAMPLE_RATE",
    "AudioError",
    "AudioInfo",
    "VOX_SAMPLE_RATE",
    "DecodedAudio",
    "decode_audio",
    "file_sha256",
    "fits_one_block",
    "is_dual_mono",
    "native_chunks",
    "probe_audio",
]

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
ACCEPTED_EXTENSIONS = (
    ".wav",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".m4a",
    ".mp4",
    ".aac",
    ".amr",
    ".wma",
    ".vox",
)
_ACCEPTED_CONTAINERS = {"WAV", "WAVEX", "RF64", "FLAC", "OGG", "MP3", "RAW"}
_ACCEPTED_TEXT = (
    "WAV (PCM, G.711 mu-law/A-law, GSM 6.10, IMA/MS ADPCM, G.722, G.729), FLAC, OGG/Opus (Vorbis, Opus), "
    "MP3, M4A/AAC, AMR, WMA or Dialogic VOX (8 kHz); mono or stereo; any sample rate "
    f"(extensions {' '.join(ACCEPTED_EXTENSIONS)})"
)
VOX_SAMPLE_RATE = 8_000  # Dialogic VOX has no header; telephony systems write 8 kHz mono


class AudioError(ValueError):
    """A file that is not a recording Lydlogg can read; the message says what is accepted."""


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, read without decoding the samples."""

    path: Path
    container: str
    subtype: str | None
    sample_rate: int
    channels: int
    frames: int
    size_bytes: int
    decoder: Literal["libsndfile", "ffmpeg"] = "libsndfile"

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True, eq=False)
class DecodedAudio:
    """Samples as float32 in [-1, 1] at 16 kHz, shaped (channels, samples).

    ``layout`` is ``stereo`` for two different channels (one party each), ``dual_mono`` for a
    two-channel file whose channels carry the same signal (kept as one channel), else ``mono``.
    ``samples`` is an array, or for a call longer than one block a
    :class:`~transcription.stream.StreamedSamples` read from the file by slices (``streamed``).
    """

    samples: np.ndarray | StreamedSamples
    layout: Layout
    info: AudioInfo

    @property
    def streamed(self) -> bool:
        return not isinstance(self.samples, np.ndarray)

    @property
    def channels(self) -> int:
        return self.samples.shape[0]

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / SAMPLE_RATE


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of the file's bytes: the identity of a recording."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def probe_audio(path: Path, *, max_channels: int = 2) -> AudioInfo:
    """Read the header of ``path``; raise :class:`AudioError` naming what is accepted."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.suffix.lower() not in ACCEPTED_EXTENSIONS:
        raise AudioError(
            f"{path}: extension {path.suffix or '(none)'} not accepted; expected {_ACCEPTED_TEXT}"
        )
    try:
        info = _probe_sndfile(path)
    except (sf.LibsndfileError, RuntimeError, _NotSndfile):
        info = _probe_ffmpeg(path)
    if info.channels > max_channels:
        raise AudioError(f"{path}: {info.channels} channels; expected mono or stereo (one party per channel)")
    if info.frames <= 0 or info.sample_rate <= 0:
        raise AudioError(f"{path}: the recording holds no audio")
    return info


class _NotSndfile(Exception):
    """libsndfile opened the file but it is not a container Lydlogg takes from libsndfile."""


def _sf_open_args(path: Path) -> dict[str, object]:
    if path.suffix.lower() == ".vox":
        return {"format": "RAW", "subtype": "VOX_ADPCM", "samplerate": VOX_SAMPLE_RATE, "channels": 1}
    return {}


def _probe_sndfile(path: Path) -> AudioInfo:
    with sf.SoundFile(str(path), **_sf_open_args(path)) as raw:
        if raw.format not in _ACCEPTED_CONTAINERS:
            raise _NotSndfile(raw.format)
        return AudioInfo(
            path=path,
            container="VOX" if raw.format == "RAW" else raw.format,
            subtype=raw.subtype,
            sample_rate=int(raw.samplerate),
            channels=int(raw.channels),
            frames=int(raw.frames),
            size_bytes=path.stat().st_size,
        )


def _open_ffmpeg(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise AudioError(f"{path}: not a readable recording ({e}); expected {_ACCEPTED_TEXT}") from e
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{path}: no audio stream; expected {_ACCEPTED_TEXT}")
    return container


def _probe_ffmpeg(path: Path) -> AudioInfo:
    """Header of a file libsndfile cannot read; frames counted by decoding when the header lacks them."""
    with _open_ffmpeg(path) as container:
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        channels = int(stream.codec_context.channels or 0)
        frames = 0
        if stream.duration and stream.time_base:
            frames = round(float(stream.duration * stream.time_base) * rate)
        elif container.duration:
            frames = round(container.duration / av.time_base * rate)
        container_name = container.format.name.split(",")[0].upper()
        codec = stream.codec_context.name.upper()
    if frames <= 0 and rate > 0:
        frames = _decode_ffmpeg(path)[0].shape[1]
    return AudioInfo(
        path=path,
        container=container_name,
        subtype=codec,
        sample_rate=rate,
        channels=channels,
        frames=frames,
        size_bytes=path.stat().st_size,
        decoder="ffmpeg",
    )


def _decode_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    """All samples of the first audio stream as float32 (channels, n) at the file's own rate."""
    with _open_ffmpeg(path) as container:
        codec = container.streams.audio[0].codec_context
        rate, channels = int(codec.sample_rate), int(codec.channels) or 1
    chunks = list(_ffmpeg_chunks(path))
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32), rate
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False), rate


def native_chunks(info: AudioInfo, *, start: int = 0, frames: int = 1 << 16) -> Iterator[np.ndarray]:
    """The file's samples at its own rate as float32 (channels, k) pieces, in order, decoded by the
    decoder :func:`decode_audio` uses; ``start`` (libsndfile only) seeks to that frame first."""
    if info.decoder == "ffmpeg":
        yield from _ffmpeg_chunks(info.path)
        return
    try:
        with sf.SoundFile(str(info.path), **_sf_open_args(info.path)) as raw:
            if start:
                raw.seek(start)
            while True:
                data = raw.read(frames, dtype="float32", always_2d=True)
                if not len(data):
                    return
                yield np.ascontiguousarray(data.T)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{info.path}: decoding failed ({e}); expected {_ACCEPTED_TEXT}") from e


def _ffmpeg_chunks(path: Path) -> Iterator[np.ndarray]:
    """The first audio stream's frames as float32 (channels, k), as :func:`_decode_ffmpeg` joins them."""
    with _open_ffmpeg(path) as container:
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate)
        channels = int(stream.codec_context.channels) or 1
        resampler = av.AudioResampler(format="fltp", layout="stereo" if channels == 2 else "mono", rate=rate)
        try:
            for frame in container.decode(stream):
                for f in resampler.resample(frame):
                    yield f.to_ndarray()
            for f in resampler.resample(None):
                yield f.to_ndarray()
        except (av.FFmpegError, ValueError) as e:
            raise AudioError(f"{path}: decoding failed ({e}); expected {_ACCEPTED_TEXT}") from e


def fits_one_block(samples_16k: int, block_s: float) -> bool:
    """Whether a call of ``samples_16k`` samples is decoded as one block of ``block_s`` seconds:
    a call up to a tenth longer than a block is not cut (the last block takes the rest)."""
    step = int(block_s * SAMPLE_RATE)
    return step <= 0 or samples_16k <= int(1.1 * step)


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Polyphase resampling of (channels, n) samples to 16 kHz."""
    if rate == SAMPLE_RATE:
        return samples
    g = gcd(rate, SAMPLE_RATE)
    out = resample_poly(samples, SAMPLE_RATE // g, rate // g, axis=1)
    return out.astype(np.float32, copy=False)


def is_dual_mono(samples: np.ndarray, min_correlation: float) -> bool:
    """True when both channels carry the same signal (Pearson correlation at or above the bar).

    Lossy coding leaves copies of one signal slightly apart sample by sample (the public JFK
    file differs by 9 % of its peak yet correlates at 0.9996), while two parties on their own
    channels correlate near zero, so correlation separates the two cases where equality cannot.
    """
    if samples.shape[0] != 2:
        return False
    left, right = samples[0].astype(np.float64), samples[1].astype(np.float64)
    if not left.any() and not right.any():
        return True
    if not left.any() or not right.any():
        return False  # one silent channel: one party, but still a two-party layout
    return float(np.corrcoef(left, right)[0, 1]) >= min_correlation


def decode_audio(
    path: Path, *, dual_mono_correlation: float = 0.98, block_s: float | None = None
) -> DecodedAudio:
    """Decode the whole file to 16 kHz float32, one row per party.

    With ``block_s``, a recording longer than one block (:func:`fits_one_block`, by its header's
    length) is not decoded here: its samples are read from the file as the stages slice them
    (:func:`transcription.stream.open_streamed`), the same values in bounded memory.
    """
    path = Path(path)
    info = probe_audio(path)
    if block_s is not None and not fits_one_block(-(-info.frames * SAMPLE_RATE // info.sample_rate), block_s):
        from transcription.stream import open_streamed

        return open_streamed(info, dual_mono_correlation)
    if info.decoder == "ffmpeg":
        samples, rate = _decode_ffmpeg(path)
    else:
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True, **_sf_open_args(path))
        except (sf.LibsndfileError, RuntimeError) as e:
            raise AudioError(f"{path}: decoding failed ({e}); expected {_ACCEPTED_TEXT}") from e
        samples = np.ascontiguousarray(data.T)
    if samples.shape[1] == 0:
        raise AudioError(f"{path}: the recording holds no audio")
    layout: Layout = "mono"
    if samples.shape[0] == 2:
        if is_dual_mono(samples, dual_mono_correlation):
            layout = "dual_mono"
            samples = samples.mean(axis=0, keepdims=True, dtype=np.float32)
        else:
            layout = "stereo"
    samples = _resample(samples, int(rate))
    np.clip(samples, -1.0, 1.0, out=samples)
    log.debug(
        "decoded %s: %s, %d ch, %.1f s", path.name, layout, samples.shape[0], samples.shape[1] / SAMPLE_RATE
    )
    return DecodedAudio(samples=samples, layout=layout, info=info)
