"""Reflection questions for feedback sessions (``rubrics/reflection_questions/questions.yaml``).

Questions are grouped in themes; a theme names the criteria it belongs to (any rubric), or none
when it concerns the whole session. One loader reads and validates the file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from rubrics.loader import RUBRICS_DIR, LoadedRubric, RubricError, read_yaml_model

__all__ = ["REFLECTION_FILE", "ReflectionQuestions", "ReflectionTheme", "load_reflection_questions"]

# Not directly in rubrics/: load_rubrics() reads every rubrics/*.yaml as a rubric.
REFLECTION_FILE = RUBRICS_DIR / "reflection_questions" / "questions.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReflectionTheme(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable theme id.")
    title: str = Field(min_length=3, description="Theme title in bokmål.")
    criteria: tuple[str, ...] = Field(
        description="Criterion ids (from any rubric) the theme belongs to; empty: the whole session."
    )
    questions: tuple[str, ...] = Field(min_length=1, description="Open questions in bokmål.")


class ReflectionQuestions(_Strict):
    version: int = Field(ge=1, description="Raised when the questions change.")
    themes: tuple[ReflectionTheme, ...] = Field(min_length=1, description="The themes, in display order.")

    def for_criterion(self, criterion_id: str) -> tuple[ReflectionTheme, ...]:
        """The themes attached to ``criterion_id``."""
        return tuple(t for t in self.themes if criterion_id in t.criteria)

    @property
    def session_themes(self) -> tuple[ReflectionTheme, ...]:
        """The themes that concern the whole session rather than one criterion."""
        return tuple(t for t in self.themes if not t.criteria)


def load_reflection_questions(
    path: Path = REFLECTION_FILE, rubrics: dict[str, LoadedRubric] | None = None
) -> ReflectionQuestions:
    """Read and validate the file; with ``rubrics``, every criterion id must exist in one of them."""
    path = Path(path)
    found = read_yaml_model(path, ReflectionQuestions, "version and themes")
    ids = [t.id for t in found.themes]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RubricError(f"{path}: duplicate theme id(s): {', '.join(dupes)}")
    if rubrics is not None:
        known = {c.id for r in rubrics.values() for c in r.rubric.criteria}
        unknown = sorted({c for t in found.themes for c in t.criteria} - known)
        if unknown:
            raise RubricError(f"{path}: criteria not in any rubric: {', '.join(unknown)}")
    return found
