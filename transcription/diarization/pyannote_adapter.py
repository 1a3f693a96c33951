"""The pyannote strategy: pyannote.audio's speaker-diarization pipeline on an already-decoded call.

pyannote.audio is optional (the ``pyannote`` extra, see ``docs/pyannote.md``) and its weights are
gated on the Hugging Face hub, so nothing here is imported until it is needed, and every way of
not having it ends at once in :class:`DiarizationUnavailable`, whose message says how to get it.
The audio goes in as an in-memory waveform, so pyannote's own file decoding (torchcodec) is never
used. Telemetry of pyannote.audio 4.x is switched off before it is imported.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from transcription.diarization.types import Diarization, SpeakerTurn

__all__ = [
    "INSTALL_HINT",
    "WEIGHTS_HINT",
    "DiarizationUnavailable",
    "PyannoteSettings",
    "diarize_pyannote",
    "load_pipeline",
    "resolve_pipeline",
    "turns_from_tracks",
]

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install it with the `pyannote` extra: `pip install torch==2.13.0` first, then the commands "
    "in docs/pyannote.md (pyannote.audio==4.0.7 with --no-deps beside a torchaudio without its "
    "compiled libraries)."
)
WEIGHTS_HINT = (
    "Ways to provide the weights: on a machine with network access, accept the licence of "
    "pyannote/speaker-diarization-community-1 on huggingface.co, download it with a token "
    "(`hf download pyannote/speaker-diarization-community-1 --local-dir <folder>`), copy the "
    "folder here and set `pipeline` to it (the folder holds config.yaml beside the subfolders "
    "segmentation/, embedding/ and plda/ it names); or set `pipeline` to the hub id, `hf_token` "
    "to a token and `offline` to false."
)


class DiarizationUnavailable(RuntimeError):
    """pyannote.audio or its pipeline weights are not to be had here; the message says how to get them."""


class PyannoteSettings(BaseModel):
    """Speaker diarization with pyannote.audio (optional extra; weights on disk)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str = Field(
        "",
        description=(
            "The pyannote speaker-diarization pipeline: a local folder holding its `config.yaml` "
            "(and the model subfolders the file names), the path of such a `config.yaml`, or, when "
            "`offline` is false or the hub cache holds it, a Hugging Face id such as "
            "`pyannote/speaker-diarization-community-1`. Empty means not configured."
        ),
    )
    hf_token: str = Field(
        "",
        description=(
            "Hugging Face access token for the gated pyannote models (only used to download). "
            "Give it through the environment rather than writing it in a file."
        ),
    )
    offline: bool = Field(
        True,
        description=(
            "Never contact the Hugging Face hub: a hub id must then already be in the local hub "
            "cache. Set false, with `hf_token`, to download once on a connected machine."
        ),
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the pipeline runs; `auto` takes CUDA when torch sees a GPU, else the CPU."
    )
    segmentation_batch_size: int = Field(
        32, ge=1, le=512, description="Chunks the segmentation model takes per batch."
    )
    embedding_batch_size: int = Field(
        32, ge=1, le=512, description="Chunks the speaker-embedding model takes per batch."
    )
    exclusive: bool = Field(
        True,
        description=(
            "Use pyannote.audio 4's exclusive diarization (one speaker at a time), which suits "
            "assigning words to speakers; false keeps overlapping turns. Ignored by 3.x pipelines."
        ),
    )


_lock = threading.Lock()
_pipelines: dict[tuple[str, str], Any] = {}


def _looks_like_repo_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "/", "~"))


def _require_pyannote() -> None:
    try:
        found = importlib.util.find_spec("pyannote.audio") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise DiarizationUnavailable(f"pyannote.audio is not installed. {INSTALL_HINT}")


def resolve_pipeline(settings: PyannoteSettings) -> str:
    """What to hand ``Pipeline.from_pretrained``: a local config.yaml folder/file or a hub id.

    Fails at once, without importing pyannote or touching the network, when the weights are not
    on this machine and may not be downloaded.
    """
    from transcription.models import configure_hub

    configure_hub(settings.offline)
    ref = settings.pipeline.strip()
    if not ref:
        raise DiarizationUnavailable(
            f"no pyannote pipeline is configured (`pipeline` is empty). {WEIGHTS_HINT}"
        )
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.yaml").is_file():
            raise DiarizationUnavailable(f"{path}: the folder has no config.yaml. {WEIGHTS_HINT}")
        return str(path.resolve())
    if path.is_file():
        if path.suffix not in (".yaml", ".yml"):
            raise DiarizationUnavailable(
                f"{path}: expected a pipeline folder or its config.yaml. {WEIGHTS_HINT}"
            )
        return str(path.resolve())
    if not _looks_like_repo_id(ref):
        raise DiarizationUnavailable(
            f"pipeline = {ref!r} is neither an existing folder or config.yaml nor a Hugging Face id "
            f"(owner/name). {WEIGHTS_HINT}"
        )
    if settings.offline and not _in_hub_cache(ref):
        raise DiarizationUnavailable(
            f"pipeline = {ref!r} is not in the local Hugging Face cache and `offline` is true, so "
            f"it cannot be downloaded. {WEIGHTS_HINT}"
        )
    return ref


def _in_hub_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    cached = try_to_load_from_cache(repo_id, "config.yaml")
    return isinstance(cached, str)


def _pick_device(wanted: str) -> str:
    import torch

    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted == "cuda" and not torch.cuda.is_available():
        raise DiarizationUnavailable("pyannote device = 'cuda' but torch sees no CUDA device")
    return wanted


def _import_pipeline_class() -> Any:
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"  # 4.x telemetry; read at every pipeline call
    try:
        with warnings.catch_warnings():  # audio arrives in memory: pyannote's file decoder is never used
            warnings.filterwarnings("ignore", message=r"\s*torchcodec is not installed", category=UserWarning)
            from pyannote.audio import Pipeline
    except Exception as e:  # a broken torch/torchaudio install fails here with many error types
        raise DiarizationUnavailable(
            f"pyannote.audio is installed but does not import ({e}). {INSTALL_HINT}"
        ) from e
    return Pipeline


def load_pipeline(settings: PyannoteSettings, device: str | None = None) -> tuple[Any, str]:
    """The loaded pipeline and the device it is on, cached per (pipeline, device)."""
    _require_pyannote()
    ref = resolve_pipeline(settings)
    Pipeline = _import_pipeline_class()
    where = _pick_device(device or settings.device)
    key = (ref, where)
    with _lock:
        pipeline = _pipelines.get(key)
        if pipeline is None:
            t0 = time.perf_counter()
            token = settings.hf_token or None
            try:
                pipeline = Pipeline.from_pretrained(ref, token=token)
            except Exception as e:  # pyannote and the hub raise OSError, KeyError, ValueError, HTTP errors
                raise DiarizationUnavailable(
                    f"the pyannote pipeline {ref!r} could not be loaded ({type(e).__name__}: {e}). {WEIGHTS_HINT}"
                ) from e
            if pipeline is None:  # pyannote returns None when the hub refuses a gated download
                raise DiarizationUnavailable(
                    f"the pyannote pipeline {ref!r} could not be downloaded. {WEIGHTS_HINT}"
                )
            import torch

            pipeline.to(torch.device(where))
            _pipelines[key] = pipeline
            log.info("loaded pyannote pipeline %s on %s in %.1f s", ref, where, time.perf_counter() - t0)
    return pipeline, where


def _waveform(audio: np.ndarray) -> np.ndarray:
    samples = np.asarray(audio)
    if samples.ndim == 1:
        samples = samples[np.newaxis, :]
    if samples.ndim != 2 or samples.shape[1] == 0 or samples.shape[0] > 8 or samples.dtype.kind != "f":
        shape = "x".join(str(d) for d in samples.shape)
        raise ValueError(
            f"audio of shape {shape} and dtype {samples.dtype}: expected float samples shaped (samples,) "
            "for mono or (channels, samples) with 1 to 8 channels"
        )
    if samples.shape[0] > 1:
        samples = samples.mean(axis=0, keepdims=True)
    return np.ascontiguousarray(samples, dtype=np.float32)


def turns_from_tracks(
    tracks: Iterable[tuple[float, float, str]], duration_s: float
) -> tuple[SpeakerTurn, ...]:
    """Speaker turns from pyannote's (start, end, label) tracks, clipped to ``[0, duration_s]``.

    pyannote pads the last chunk, so its turns can run past the end of the audio; those are cut
    at the end, and turns left empty are dropped. Labels become S1, S2, ... in order of first
    speech, as in the other strategies.
    """
    clipped = []
    for start, end, label in tracks:
        a, b = max(0.0, float(start)), min(float(duration_s), float(end))
        if b > a:
            clipped.append((a, b, str(label)))
    clipped.sort(key=lambda t: (t[0], t[1], t[2]))
    names: dict[str, str] = {}
    for _, _, label in clipped:
        names.setdefault(label, f"S{len(names) + 1}")
    return tuple(SpeakerTurn(round(a, 3), round(b, 3), names[label]) for a, b, label in clipped)


def diarize_pyannote(
    audio: np.ndarray,
    sample_rate: int,
    settings: PyannoteSettings,
    *,
    device: str | None = None,
    num_speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
) -> Diarization:
    """Who spoke when in ``audio`` (float, (samples,) or (channels, samples); channels are mixed).

    Raises :class:`DiarizationUnavailable` when pyannote.audio or the pipeline's weights are
    missing, and ValueError for audio of a shape or type it cannot take.
    """
    samples = _waveform(audio)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate = {sample_rate}: expected a positive rate in Hz (16000 in Lydlogg)")
    pipeline, where = load_pipeline(settings, device)
    import torch

    if hasattr(pipeline, "segmentation_batch_size"):
        pipeline.segmentation_batch_size = settings.segmentation_batch_size
    if hasattr(pipeline, "embedding_batch_size"):
        pipeline.embedding_batch_size = settings.embedding_batch_size
    speakers = {"num_speakers": num_speakers, "min_speakers": min_speakers, "max_speakers": max_speakers}
    kwargs = {k: v for k, v in speakers.items() if v is not None}
    duration_s = samples.shape[1] / sample_rate
    t0 = time.perf_counter()
    output = pipeline({"waveform": torch.from_numpy(samples), "sample_rate": int(sample_rate)}, **kwargs)
    if settings.exclusive and hasattr(output, "exclusive_speaker_diarization"):
        annotation = output.exclusive_speaker_diarization
    else:  # 3.x returns the Annotation itself
        annotation = getattr(output, "speaker_diarization", output)
    tracks = ((seg.start, seg.end, label) for seg, _, label in annotation.itertracks(yield_label=True))
    turns = turns_from_tracks(tracks, duration_s)
    log.info(
        "pyannote diarized %.1f s on %s in %.1f s: %d turns, %d speakers",
        duration_s,
        where,
        time.perf_counter() - t0,
        len(turns),
        len({t.speaker for t in turns}),
    )
    return Diarization("pyannote", turns)
