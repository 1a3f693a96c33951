"""Reading rubric files: one loader for every ``rubrics/*.yaml``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rubrics.confidence import CALIBRATION_SHA256
from rubrics.schema import Rubric
from rubrics.tolerance import TABLES_SHA256

M = TypeVar("M", bound=BaseModel)

__all__ = ["RUBRICS_DIR", "LoadedRubric", "RubricError", "load_rubric", "load_rubrics"]

RUBRICS_DIR = Path(__file__).resolve().parent


class RubricError(ValueError):
    """A rubric file that cannot be used; the message names the file and each problem."""


@dataclass(frozen=True)
class LoadedRubric:
    rubric: Rubric
    path: Path
    sha256: str  # of the validated content, the tolerance tables and the calibration map; reformatting does not change it

    @property
    def key(self) -> str:
        return f"{self.rubric.id}@v{self.rubric.version}#{self.sha256[:12]}"


def read_yaml_model(path: Path, model: type[M], top: str) -> M:
    """Read ``path`` as YAML and validate it as ``model``; errors name the file and every problem.

    ``top`` says what the top-level mapping holds, for the message when the file is not a mapping.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise RubricError(f"{path}: cannot read YAML ({e})") from e
    if not isinstance(doc, dict):
        raise RubricError(f"{path}: expected a mapping with {top} at the top level")
    try:
        return model.model_validate(doc)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        raise RubricError(f"{path}: {problems}") from e


def load_rubric(path: Path) -> LoadedRubric:
    path = Path(path)
    rubric = read_yaml_model(path, Rubric, "id, version, title, ...")
    canonical = json.dumps(rubric.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    # the scorers' recognition-error tables are data that changes scores, like the rubric itself
    canonical += "+tolerance:" + TABLES_SHA256
    # so is the calibration map: it sets every suggestion's confidence
    canonical += "+calibration:" + CALIBRATION_SHA256
    return LoadedRubric(rubric, path, hashlib.sha256(canonical.encode()).hexdigest())


def load_rubrics(folder: Path = RUBRICS_DIR) -> dict[str, LoadedRubric]:
    """Every ``*.yaml`` in ``folder`` by rubric id; two files with one id is an error."""
    found: dict[str, LoadedRubric] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        loaded = load_rubric(path)
        if loaded.rubric.id in found:
            raise RubricError(
                f"{path}: rubric id {loaded.rubric.id!r} is also used by {found[loaded.rubric.id].path}"
            )
        found[loaded.rubric.id] = loaded
    if not found:
        raise RubricError(f"{folder}: no rubric files (*.yaml)")
    return found
