"""Sampling plans for audio-log evaluation: N random calls per operator per month, reproducibly.

The same calls, month, N and seed always draw the same sample, so a plan can be documented and
re-created; reviewers get the drawn calls in turn.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SamplingPlan", "assign", "draw"]


@dataclass(frozen=True)
class SamplingPlan:
    month: str  # YYYY-MM
    per_operator: int
    seed: int

    def __post_init__(self) -> None:
        if len(self.month) != 7 or self.month[4] != "-" or not (self.month[:4] + self.month[5:]).isdigit():
            raise ValueError(f"month {self.month!r} is not YYYY-MM")
        if not 1 <= int(self.month[5:]) <= 12:
            raise ValueError(f"month {self.month!r} is not YYYY-MM")
        if self.per_operator < 1:
            raise ValueError("per_operator must be at least 1")

    @property
    def plan_id(self) -> str:
        return f"{self.month}-n{self.per_operator}-s{self.seed}"


def draw(calls: pd.DataFrame, plan: SamplingPlan, services: Collection[str] | None = None) -> list[str]:
    """Up to ``per_operator`` call ids per operator among the transcribed calls started in the month.

    ``services``, when given, keeps only calls of those services: the ones a rubric assesses, so
    that no reviewer gets a task (an AMK or fastlege call) that has no form to fill in.
    """
    month = pd.to_datetime(calls["started_at"], utc=True).dt.strftime("%Y-%m")
    reviewable = calls["service"].isin(list(services)) if services is not None else True
    eligible = calls[
        (month == plan.month) & calls["operator_id"].notna() & (calls["status"] == "transcribed") & reviewable
    ]
    rng = np.random.default_rng(plan.seed)
    chosen: list[str] = []
    for _operator, group in sorted(eligible.groupby("operator_id"), key=lambda g: g[0]):
        ids = sorted(group["call_id"])
        take = min(plan.per_operator, len(ids))
        chosen += [ids[i] for i in sorted(rng.choice(len(ids), size=take, replace=False))]
    return chosen


def assign(
    call_ids: list[str],
    reviewers: list[str],
    *,
    call_units: Mapping[str, str | None] | None = None,
    reviewer_units: Mapping[str, Collection[str]] | None = None,
) -> list[tuple[str, str]]:
    """(call_id, reviewer), the reviewers taking the calls in turn.

    With units given, a call goes only to a reviewer of its unit (one who could open it), in turn
    among those; a call that no chosen reviewer could open is refused, naming its unit."""
    if not reviewers:
        raise ValueError("a sampling plan needs at least one reviewer")
    if call_units is None or reviewer_units is None:
        return [(call_id, reviewers[i % len(reviewers)]) for i, call_id in enumerate(call_ids)]
    turns: dict[tuple[str, ...], int] = {}
    out = []
    for call_id in call_ids:
        unit = call_units.get(call_id)
        able = tuple(r for r in reviewers if unit in reviewer_units.get(r, ()))
        if not able:
            raise ValueError(f"no chosen reviewer belongs to the unit {unit}")
        n = turns.get(able, 0)
        out.append((call_id, able[n % len(able)]))
        turns[able] = n + 1
    return out
