"""How well each criterion's automatic suggestion agrees with the reviewers, month by month.

Pure: rows in (criterion, time, suggestion, reviewer's value), figures out, through
:func:`review.agreement.agreement` (the suggestion and the reviewer as two raters of one item).
A criterion whose exact agreement over its last ``last_n`` reviews is below ``threshold`` is
flagged, so a leader sees when a scorer drifts from how the site reviews.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from review.agreement import agreement

__all__ = ["LAST", "CriterionAgreement", "ScoredReview", "suggestion_agreement"]

LAST = "siste"  # the period name of the last-N window


@dataclass(frozen=True)
class ScoredReview:
    criterion_id: str
    reviewed_at: datetime
    suggested: int | None
    value: int | None


@dataclass(frozen=True)
class CriterionAgreement:
    criterion_id: str
    period: str  # "YYYY-MM", or "siste" for the last ``last_n`` reviews
    reviews: int
    exact: float | None
    within_one: float | None
    kappa: float | None
    below_threshold: bool = False


def _figures(criterion: str, period: str, rows: list[ScoredReview]) -> CriterionAgreement:
    table = {str(i): {"forslag": r.suggested, "vurdering": r.value} for i, r in enumerate(rows)}
    a = agreement(table)
    return CriterionAgreement(criterion, period, len(rows), a.exact, a.within_one, a.kappa)


def suggestion_agreement(
    rows: Iterable[ScoredReview], *, last_n: int, threshold: float, timezone: str = "Europe/Oslo"
) -> list[CriterionAgreement]:
    """Per criterion: one row per month, then the last ``last_n`` reviews flagged when their exact
    agreement is below ``threshold`` (only once there are ``last_n`` of them, or all there are)."""
    tz = ZoneInfo(timezone)
    by_criterion: dict[str, list[ScoredReview]] = defaultdict(list)
    for r in rows:
        by_criterion[r.criterion_id].append(r)
    out: list[CriterionAgreement] = []
    for criterion in sorted(by_criterion):
        ordered = sorted(by_criterion[criterion], key=lambda r: r.reviewed_at)
        months: dict[str, list[ScoredReview]] = defaultdict(list)
        for r in ordered:
            months[r.reviewed_at.astimezone(tz).strftime("%Y-%m")].append(r)
        out.extend(_figures(criterion, month, months[month]) for month in sorted(months))
        last = _figures(criterion, LAST, ordered[-last_n:])
        low = last.exact is not None and last.exact < threshold
        out.append(
            CriterionAgreement(
                last.criterion_id, last.period, last.reviews, last.exact, last.within_one, last.kappa, low
            )
        )
    return out
