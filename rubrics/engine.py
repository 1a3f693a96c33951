"""Scoring a call against a rubric: every criterion's scorer, run over one CallText."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rubrics.confidence import CALIBRATION, Calibration
from rubrics.loader import LoadedRubric, load_rubrics
from rubrics.recognition import abstain_by_probability, adjust_for_recognition, rests_on_factor
from rubrics.stretch import stretch_indices
from rubrics.types import CallText, CriterionScore

__all__ = ["Assessment", "RubricResult", "assess_call", "choose_rubric", "score_call"]


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


@dataclass(frozen=True)
class Assessment:
    """One criterion's suggestion and the steps that made it (what benchmarks and calibration read).

    ``rule`` is the scorer's value and rule confidence; ``recognised`` the same after
    :func:`adjust_for_recognition` (an abstention, or the confidence scaled by ``factor``);
    ``final`` what is stored and shown: ``recognised`` with its confidence calibrated
    (:mod:`rubrics.confidence`) when a map is in use, else ``recognised``. A map with an
    ``abstain_below`` threshold decides the abstention of a "not found" itself."""

    kind: str  # the criterion's scale type: "yes_no" or "ordinal"
    lowest: int  # the scale's lowest value: a suggestion of it rests on not finding something
    rule: CriterionScore
    factor: float  # recognition factor of what the value rests on (rests_on_factor); 1 for written text
    recognised: CriterionScore
    final: CriterionScore


def assess_call(
    call: CallText, loaded: LoadedRubric, calibration: Calibration | None
) -> tuple[Assessment, ...]:
    """Every criterion of ``loaded`` scored on ``call``, step by step (pure: no I/O).

    ``calibration`` maps each suggestion's rule confidence and recognition factor to the
    probability that it is right (:data:`rubrics.confidence.CALIBRATION` is the shipped map);
    None keeps the uncalibrated confidence, rule confidence times recognition factor."""
    from rubrics.scorers import REGISTRY

    out = []
    for criterion in loaded.rubric.criteria:
        params_model, fn = REGISTRY[criterion.scorer.type]
        params = params_model.model_validate(criterion.scorer.params)
        result = fn(call, params)
        lowest = criterion.scale.values[0]
        value = result.value
        if value is None and not criterion.scale.not_applicable:
            value = lowest  # the scale has no "ikke aktuelt": the lowest value stands in
        if value is not None:
            value = max(lowest, min(criterion.scale.values[-1], value))
        rule = CriterionScore(criterion.id, value, result.confidence, result.evidence, result.rationale)
        stretch = stretch_indices(call, params.looks_at)
        recognised = adjust_for_recognition(
            rule, call, lowest=lowest, listen_below=params.listen_below, abstain_share=params.abstain_share,
            trusted_from=params.trusted_from, stretch=stretch, where=params.looks_at.label,
        )  # fmt: skip
        finding = criterion.scale.type == "yes_no" and value is not None and value > lowest
        factor = rests_on_factor(
            rule, call, finding=finding, trusted_from=params.trusted_from, stretch=stretch
        )
        final = recognised
        if calibration is not None:
            p = calibration.probability(criterion.scale.type, rule.confidence, factor)
            if calibration.abstain_below is not None:  # the map's threshold decides, not the share rule
                final = abstain_by_probability(
                    rule, call, probability=p, abstain_below=calibration.abstain_below, lowest=lowest,
                    listen_below=params.listen_below, stretch=stretch, where=params.looks_at.label,
                )  # fmt: skip
            elif not recognised.abstained:
                final = replace(recognised, confidence=p)
        out.append(Assessment(criterion.scale.type, lowest, rule, factor, recognised, final))
    return tuple(out)


def score_call(call: CallText, loaded: LoadedRubric, *, calibrated: bool = True) -> RubricResult:
    """Suggested values for every criterion of ``loaded`` (pure: no I/O); each confidence is the
    probability that the value is right by the shipped calibration map (``calibrated=False``:
    rule confidence times recognition factor, as before the map; see :func:`assess_call`)."""
    scores = tuple(a.final for a in assess_call(call, loaded, CALIBRATION if calibrated else None))
    rubric = loaded.rubric
    return RubricResult(rubric.id, rubric.version, loaded.sha256, scores)


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
