"""Reading a YAML file as a pydantic model, with errors that name the file and every problem
(rubrics, the advice library, reflection questions, the confidence map)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["RubricError", "read_yaml_model"]

M = TypeVar("M", bound=BaseModel)


class RubricError(ValueError):
    """A rubric file that cannot be used; the message names the file and each problem."""


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
