"""Reading rubric files: one loader for every ``rubrics/*.yaml``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from rubrics.confidence import CALIBRATION_SHA256
from rubrics.schema import Rubric
from rubrics.tolerance import TABLES_SHA256
from rubrics.yaml_models import RubricError, read_yaml_model

__all__ = ["RUBRICS_DIR", "LoadedRubric", "RubricError", "load_rubric", "load_rubrics"]

RUBRICS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class LoadedRubric:
    rubric: Rubric
    path: Path
    sha256: str  # of the validated content, the tolerance tables and the calibration map; reformatting does not change it

    @property
    def key(self) -> str:
        return f"{self.rubric.id}@v{self.rubric.version}#{self.sha256[:12]}"


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
