"""The pyannote strategy, run through pyannote.audio's own pipeline code on real audio.

The real pyannote weights are gated on the Hugging Face hub and cannot be fetched here, so the
pipeline folder is built the way a user lays out a downloaded one (config.yaml beside
segmentation/, embedding/ and plda/), from pyannote's own model classes with random weights.
What is tested is everything around the weights: loading from a folder, offline, in-memory
audio, the output's shape and the ways of failing.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcription.diarization.pyannote_adapter import (
    DiarizationUnavailable,
    PyannoteSettings,
    diarize_pyannote,
    load_pipeline,
    resolve_pipeline,
    turns_from_tracks,
)
from transcription.diarization.types import Diarization, SpeakerTurn

EXCERPT_S = 10.0  # one 10 s chunk of the segmentation model: the fastest real run


def _pyannote_installed() -> bool:
    try:
        return importlib.util.find_spec("pyannote.audio") is not None
    except (ImportError, ValueError):
        return False


needs_pyannote = pytest.mark.skipif(
    not _pyannote_installed(),
    reason="pyannote.audio is not installed (the optional `pyannote` extra; see docs/pyannote.md)",
)


def _save_checkpoint(model, path: Path) -> None:
    """Write a pyannote model checkpoint as Lightning's trainer would (pytorch_model.bin)."""
    import lightning
    import torch

    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)


def build_random_pipeline(folder: Path) -> Path:
    """A speaker-diarization-community-1 style folder with pyannote's models and random weights."""
    import os

    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    import torch
    import yaml
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(0)
    segmentation = PyanNet()
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.build()
    _save_checkpoint(segmentation, folder / "segmentation" / "pytorch_model.bin")
    embedding = WeSpeakerResNet34()
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=10.0
    )
    _save_checkpoint(embedding, folder / "embedding" / "pytorch_model.bin")
    rng = np.random.default_rng(0)
    (folder / "plda").mkdir()
    np.savez(
        folder / "plda" / "xvec_transform.npz",
        mean1=np.zeros(256),
        mean2=np.zeros(128),
        lda=rng.standard_normal((256, 128)) / 16,
    )
    np.savez(folder / "plda" / "plda.npz", mu=np.zeros(128), tr=np.eye(128), psi=np.linspace(2.0, 0.1, 128))
    config = {
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "clustering": "VBxClustering",
                "segmentation": "$model/segmentation",
                "embedding": "$model/embedding",
                "plda": "$model/plda",
                "embedding_exclude_overlap": True,
                "segmentation_batch_size": 32,
                "embedding_batch_size": 32,
            },
        },
        "params": {
            "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
            "segmentation": {"min_duration_off": 0.0},
        },
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    return folder


@pytest.fixture(scope="module")
def random_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_pipeline(tmp_path_factory.mktemp("pyannote-random"))


@pytest.fixture(scope="module")
def meeting_excerpt(testdata: Path) -> np.ndarray:
    samples, rate = sf.read(
        testdata / "meeting_2spk" / "dev00.wav", dtype="float32", frames=int(EXCERPT_S * 16_000)
    )
    assert rate == 16_000
    return samples


@pytest.mark.parametrize(
    ("tracks", "duration", "expected"),
    [
        ([], 5.0, ()),
        (
            [(0.5, 2.0, "SPEAKER_01"), (2.5, 4.0, "SPEAKER_00")],
            5.0,
            (SpeakerTurn(0.5, 2.0, "S1"), SpeakerTurn(2.5, 4.0, "S2")),
        ),
        # pyannote pads the last chunk: turns past the end are cut, turns left empty dropped
        ([(0.03, 30.96, "SPEAKER_00"), (30.2, 30.9, "SPEAKER_01")], 30.0, (SpeakerTurn(0.03, 30.0, "S1"),)),
        ([(-0.2, 1.0, "A")], 3.0, (SpeakerTurn(0.0, 1.0, "S1"),)),
        # unsorted input comes out in time order, named by first speech
        (
            [(3.0, 4.0, "B"), (1.0, 2.0, "A"), (2.0, 3.0, "B")],
            10.0,
            (SpeakerTurn(1.0, 2.0, "S1"), SpeakerTurn(2.0, 3.0, "S2"), SpeakerTurn(3.0, 4.0, "S2")),
        ),
        ([(1.0, 1.0, "A"), (0.12345, 0.98765, "A")], 2.0, (SpeakerTurn(0.123, 0.988, "S1"),)),
    ],
)
def test_turns_from_tracks(tracks, duration, expected) -> None:
    assert turns_from_tracks(tracks, duration) == expected


@pytest.mark.parametrize(
    ("pipeline", "says"),
    [
        ("", "`pipeline` is empty"),
        ("./no/such/folder", "neither an existing folder"),
        ("not an id", "neither an existing folder"),
        ("pyannote/speaker-diarization-community-1", "not in the local Hugging Face cache"),
    ],
)
def test_unusable_pipeline_setting_fails_at_once_saying_how_to_get_weights(
    pipeline: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    with pytest.raises(DiarizationUnavailable) as raised:
        resolve_pipeline(PyannoteSettings(pipeline=pipeline, offline=True))
    message = str(raised.value)
    assert says in message
    assert "config.yaml" in message and "hf_token" in message and "offline" in message


def test_folder_without_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "segmentation").mkdir()
    with pytest.raises(DiarizationUnavailable, match="has no config.yaml"):
        resolve_pipeline(PyannoteSettings(pipeline=str(tmp_path)))


@needs_pyannote
def test_offline_hub_id_without_weights_fails_within_two_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub-cache"))
    settings = PyannoteSettings(pipeline="pyannote/speaker-diarization-3.1", offline=True)
    t0 = time.perf_counter()
    with pytest.raises(DiarizationUnavailable, match="offline"):
        diarize_pyannote(np.zeros(16_000, dtype=np.float32), 16_000, settings)
    assert time.perf_counter() - t0 < 2.0


def test_not_installed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)  # how Python marks a module unimportable
    with pytest.raises(DiarizationUnavailable) as raised:
        diarize_pyannote(np.zeros(16_000, dtype=np.float32), 16_000, PyannoteSettings(pipeline="x/y"))
    message = str(raised.value)
    assert "not installed" in message and "`pyannote` extra" in message and "docs/pyannote.md" in message


@pytest.mark.parametrize(
    "audio",
    [
        np.zeros(0, dtype=np.float32),
        np.zeros((1, 0), dtype=np.float32),
        np.zeros((2, 2, 100), dtype=np.float32),
        np.zeros(1000, dtype=np.int16),
    ],
)
def test_audio_it_cannot_take_is_refused_before_loading(audio: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"expected float samples shaped \(samples,\)"):
        diarize_pyannote(audio, 16_000, PyannoteSettings())


@needs_pyannote
def test_real_pipeline_from_local_folder_on_meeting_audio(
    random_pipeline: Path, meeting_excerpt: np.ndarray
) -> None:
    settings = PyannoteSettings(pipeline=str(random_pipeline), offline=True, device="auto")
    # (channels, samples) input is mixed down to mono
    result = diarize_pyannote(meeting_excerpt[np.newaxis, :], 16_000, settings, device="cpu", max_speakers=2)
    assert isinstance(result, Diarization)
    assert result.strategy == "pyannote"
    assert result.turns, "the pipeline found no speech at all"
    assert 1 <= len(result.speakers) <= 2
    for turn in result.turns:
        assert isinstance(turn.speaker, str) and turn.speaker.startswith("S")
        assert 0.0 <= turn.start < turn.end <= EXCERPT_S
    assert list(result.turns) == sorted(result.turns, key=lambda t: (t.start, t.end, t.speaker))

    # the loaded pipeline is cached per (pipeline, device)
    pipeline, device = load_pipeline(settings, "cpu")
    assert device == "cpu"
    assert load_pipeline(settings, "cpu")[0] is pipeline


@needs_pyannote
def test_cuda_without_a_gpu_is_refused(random_pipeline: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible here")
    settings = PyannoteSettings(pipeline=str(random_pipeline), device="cuda")
    with pytest.raises(DiarizationUnavailable, match="no CUDA device"):
        diarize_pyannote(np.zeros(16_000, dtype=np.float32), 16_000, settings)
