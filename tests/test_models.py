import shutil
import time

import pytest

from transcription.models import (
    BUNDLED_SHA256,
    ModelNotAvailableError,
    list_models,
    pick_device,
    prepare_bundled,
    resolve_model,
)


def test_bundled_model_is_assembled_and_verified(bundled_model):
    assert (bundled_model / "model.bin").stat().st_size > 100_000_000
    spec = resolve_model("bundled-base", models_dir=bundled_model.parent, offline=True)
    assert spec.sha256 == BUNDLED_SHA256["model.bin"]


def test_a_corrupted_bundled_model_is_refused(bundled_model, tmp_path):
    folder = tmp_path / "whisper-base-bundled"
    shutil.copytree(bundled_model, folder)
    with open(folder / "vocabulary.txt", "a") as fh:
        fh.write("tampered\n")
    with pytest.raises(ModelNotAvailableError, match="does not match the published"):
        prepare_bundled(tmp_path)


def test_a_local_ctranslate2_folder_is_accepted_by_path(bundled_model, tmp_path):
    folder = tmp_path / "my-nb-whisper"
    folder.mkdir()
    for f in bundled_model.iterdir():
        (folder / f.name).symlink_to(f)
    spec = resolve_model(str(folder), models_dir=tmp_path / "elsewhere", offline=True)
    assert spec.load_from == str(folder.resolve()) and spec.sha256 == BUNDLED_SHA256["model.bin"]
    by_name = resolve_model("my-nb-whisper", models_dir=tmp_path, offline=True)
    assert by_name.load_from == str(folder.resolve())
    listed = list_models("my-nb-whisper", models_dir=tmp_path, offline=True)
    assert [e.name for e in listed if e.active] == ["my-nb-whisper"]


@pytest.mark.parametrize("name", ["large-v3", "NbAiLab/nb-whisper-large"])
def test_a_missing_hub_model_fails_at_once_offline_saying_how_to_get_one(tmp_path, name):
    t0 = time.monotonic()
    with pytest.raises(ModelNotAvailableError) as err:
        resolve_model(name, models_dir=tmp_path, offline=True)
    assert time.monotonic() - t0 < 5
    message = str(err.value)
    assert name in message and "bundled-model" in message and "CTranslate2 folder" in message


def test_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailableError, match="not a CTranslate2 model folder"):
        resolve_model(str(tmp_path / "empty"), models_dir=tmp_path, offline=True)


def test_an_unknown_name(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="neither 'bundled-base'"):
        resolve_model("whisper-giant", models_dir=tmp_path, offline=True)


def test_device_is_picked_automatically_here():
    import ctranslate2

    device, compute = pick_device()
    if ctranslate2.get_cuda_device_count() == 0:
        assert (device, compute) == ("cpu", "int8")
        with pytest.raises(ModelNotAvailableError, match="no CUDA device"):
            pick_device("cuda")
    else:
        assert (device, compute) == ("cuda", "float16")
