"""Scoring a call against a rubric: every criterion's scorer, run over one CallText."""

from __future__ import annotations

from dataclasses import dataclass

from rubrics.loader import LoadedRubric, load_rubrics
from rubrics.recognition import adjust_for_recognition
from rubrics.stretch import stretch_indices
from rubrics.types import CallText, CriterionScore

__all__ = ["RubricResult", "choose_rubric", "score_call"]


@dataclass(frozen=True)
class RubricResult:
    rubric_id: str
    version: int
    rubric_sha256: str
    scores: tuple[CriterionScore, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "rubric": self.rubric_id,
            "version": self.version,
            "criteria": {s.criterion_id: s.as_dict() for s in self.scores},
        }


def score_call(call: CallText, loaded: LoadedRubric) -> RubricResult:
    """Suggested values for every criterion of ``loaded`` (pure: no I/O)."""
    from rubrics.scorers import REGISTRY

    scores = []
    for criterion in loaded.rubric.criteria:
        params_model, fn = REGISTRY[criterion.scorer.type]
        params = params_model.model_validate(criterion.scorer.params)
        result = fn(call, params)
        value = result.value
        if value is None and not criterion.scale.not_applicable:
            value = criterion.scale.values[0]  # the scale has no "ikke aktuelt": the lowest value stands in
        if value is not None:
            value = max(criterion.scale.values[0], min(criterion.scale.values[-1], value))
        score = CriterionScore(criterion.id, value, result.confidence, result.evidence, result.rationale)
        scores.append(
            adjust_for_recognition(score, call, lowest=criterion.scale.values[0], listen_below=params.listen_below,
                                   abstain_share=params.abstain_share, trusted_from=params.trusted_from,
                                   stretch=stretch_indices(call, params.looks_at), where=params.looks_at.label)
        )  # fmt: skip
    rubric = loaded.rubric
    return RubricResult(rubric.id, rubric.version, loaded.sha256, tuple(scores))


def choose_rubric(rubrics: dict[str, LoadedRubric], service: str | None) -> LoadedRubric | None:
    """The rubric that applies to a call of ``service`` (the first in id order), if any."""
    for rubric_id in sorted(rubrics):
        if service in rubrics[rubric_id].rubric.applies_to.services:
            return rubrics[rubric_id]
    return None


def rubric_services(rubrics: dict[str, LoadedRubric] | None = None) -> frozenset[str]:
    """The services some rubric assesses; calls of any other service have no form to fill in."""
    if rubrics is None:
        rubrics = load_rubrics()
    return frozenset(s for loaded in rubrics.values() for s in loaded.rubric.applies_to.services)
