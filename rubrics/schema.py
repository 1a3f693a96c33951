"""The shape of a rubric file (``rubrics/*.yaml``), validated by pydantic.

Unknown fields are rejected everywhere; every field is described. A criterion's scale is a
discriminated union (``ordinal`` 0-4 or ``yes_no``), and its scorer names a registered
automatic scorer whose own parameter model validates ``params``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from norsk.vocabulary import SERVICES, StaffRole

__all__ = ["AppliesTo", "Criterion", "OrdinalScale", "Phase", "Rubric", "ScorerSpec", "YesNoScale"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrdinalScale(_Strict):
    type: Literal["ordinal"] = Field(description="A 0-4 scale (min to max).")
    min: int = Field(0, ge=0, description="Lowest value.")
    max: int = Field(4, ge=1, le=10, description="Highest value.")
    not_applicable: bool = Field(False, description="Whether 'ikke aktuelt' (null) is an allowed value.")

    @model_validator(mode="after")
    def _ordered(self) -> OrdinalScale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be above min ({self.min})")
        return self

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(range(self.min, self.max + 1))


class YesNoScale(_Strict):
    type: Literal["yes_no"] = Field(description="Yes (1) or no (0).")
    not_applicable: bool = Field(False, description="Whether 'ikke aktuelt' (null) is an allowed value.")

    @property
    def values(self) -> tuple[int, ...]:
        return (0, 1)


Scale = Annotated[OrdinalScale | YesNoScale, Field(discriminator="type")]


class ScorerSpec(_Strict):
    type: str = Field(description="Name of a registered automatic scorer (see rubrics/scorers).")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Parameters checked by the scorer's own model."
    )

    @model_validator(mode="after")
    def _known(self) -> ScorerSpec:
        from rubrics.scorers import REGISTRY

        if self.type not in REGISTRY:
            raise ValueError(f"unknown scorer {self.type!r}; known: {', '.join(sorted(REGISTRY))}")
        params_model, _fn = REGISTRY[self.type]
        params_model.model_validate(self.params)
        return self


class Criterion(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id (snake_case) used in results.")
    phase: str = Field(description="Id of the phase of the call this criterion belongs to.")
    title: str = Field(min_length=3, description="Short title in bokmål.")
    description: str = Field(min_length=10, description="What the criterion is about, in bokmål.")
    scale: Scale = Field(description="The values a reviewer can give.")
    weight: float = Field(1.0, gt=0, le=10, description="Weight in the call's total score.")
    critical: bool = Field(False, description="A low value is a patient-safety concern and is flagged.")
    guidance: str = Field(min_length=10, description="How a human reviewer should judge it (bokmål).")
    anchors: dict[int, str] = Field(description="What each scale value means (bokmål), one entry per value.")
    reflection_question: str = Field(min_length=10, description="A question for feedback sessions (bokmål).")
    scorer: ScorerSpec = Field(description="The automatic scorer that suggests a value.")

    @model_validator(mode="after")
    def _anchors_cover_the_scale(self) -> Criterion:
        expected = set(self.scale.values)
        if set(self.anchors) != expected:
            raise ValueError(
                f"criterion {self.id!r}: anchors must describe exactly the values {sorted(expected)}, "
                f"got {sorted(self.anchors)}"
            )
        return self


class Phase(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Phase id.")
    title: str = Field(min_length=2, description="Phase title in bokmål.")


class AppliesTo(_Strict):
    services: tuple[str, ...] = Field(min_length=1, description="Services whose calls this rubric assesses.")
    roles: tuple[StaffRole, ...] = Field(min_length=1, description="Staff roles assessed.")

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in SERVICES]
        if unknown:
            raise ValueError(f"unknown service(s) {unknown}; accepted: {', '.join(SERVICES)}")
        return value


class Rubric(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable rubric id.")
    version: int = Field(ge=1, description="Raised on every change of meaning; results are keyed on it.")
    title: str = Field(min_length=3, description="Title in bokmål.")
    description: str = Field(min_length=10, description="What the rubric is for and what it builds on.")
    applies_to: AppliesTo = Field(description="Which calls it applies to.")
    phases: tuple[Phase, ...] = Field(min_length=1, description="Phases of the call, in order.")
    criteria: tuple[Criterion, ...] = Field(min_length=1, description="The criteria, in display order.")

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate criterion id(s): {', '.join(dupes)}")
        phases = {p.id for p in self.phases}
        stray = [c.id for c in self.criteria if c.phase not in phases]
        if stray:
            raise ValueError(f"criteria {stray} name a phase not in phases ({', '.join(sorted(phases))})")
        return self

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)
