"""Agreement between reviewers, and between the automatic suggestions and the reviewers' consensus.

Pure statistics over a table of ratings: an *item* is one criterion of one call, a *rater* one
reviewer, a *value* an integer on the criterion's scale or ``None`` for «ikke aktuelt». A rater who
did not rate an item is simply absent from it.

Per table we report:

- ``exact``: the share of rater pairs on the same item that gave the same value;
- ``within_one``: the share of those pairs at most one point apart;
- ``kappa``: quadratic-weighted Cohen's kappa, only when exactly two raters are in the table;
- ``alpha``: Krippendorff's alpha with the ordinal metric, for any number of raters;
- ``strictness``: each rater's mean offset from the item's mean (negative = stricter).

«Ikke aktuelt» counts as a value of its own in ``exact`` and ``within_one`` (two raters who both
say it agree; one who says it against one who gives a score disagree) and as missing in kappa,
alpha and strictness, which need numbers. Kappa and alpha are ``None`` when they are undefined:
when every rating in the table is the same value there is no disagreement to be explained by chance,
so the chance-corrected figures divide zero by zero; ``exact == 1.0`` tells that story instead.
"""

from __future__ import annotations

import logging
import statistics
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

__all__ = [
    "Agreement",
    "AgreementReport",
    "Rating",
    "agreement",
    "agreement_report",
    "consensus",
]

log = logging.getLogger(__name__)

SUGGESTION = "forslag"  # rater name of the automatic suggestion when compared with the consensus
CONSENSUS = "konsensus"

Table = Mapping[str, Mapping[str, int | None]]  # item -> rater -> value


@dataclass(frozen=True)
class Rating:
    call_id: str
    criterion_id: str
    rater: str
    value: int | None


@dataclass(frozen=True)
class Agreement:
    items: int  # items with at least two raters
    pairs: int  # rater pairs over those items
    exact: float | None
    within_one: float | None
    kappa: float | None
    alpha: float | None
    strictness: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AgreementReport:
    per_criterion: dict[str, Agreement]
    overall: Agreement
    suggestions_per_criterion: dict[str, Agreement]
    suggestions_overall: Agreement


def _same(a: int | None, b: int | None) -> bool:
    return a == b


def _near(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1


def _labels(values: Iterable[int], scale: tuple[int, ...] | None) -> list[int]:
    """Every integer from the lowest to the highest value, so that kappa's weights follow the numbers."""
    found = set(values) | set(scale or ())
    return list(range(min(found), max(found) + 1))


def _kappa(table: Table, raters: list[str], scale: tuple[int, ...] | None) -> float | None:
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    a, b = raters
    pairs = [
        (row[a], row[b])
        for row in table.values()
        if a in row and b in row and row[a] is not None and row[b] is not None
    ]
    if not pairs or len({v for p in pairs for v in p}) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        warnings.simplefilter("error", RuntimeWarning)
        try:
            value = cohen_kappa_score(
                [p[0] for p in pairs],
                [p[1] for p in pairs],
                weights="quadratic",
                labels=_labels((v for p in pairs for v in p), scale),
            )
        except (UndefinedMetricWarning, RuntimeWarning):
            return None
    return float(value)


def _alpha(table: Table, raters: list[str], scale: tuple[int, ...] | None) -> float | None:
    import krippendorff
    import numpy as np

    numeric = {
        item: {r: v for r, v in row.items() if v is not None}
        for item, row in table.items()
        if sum(v is not None for v in row.values()) >= 2
    }
    values = {v for row in numeric.values() for v in row.values()}
    if len(values) < 2:
        return None
    data = np.array(
        [[numeric[item].get(r, np.nan) for item in numeric] for r in raters],
        dtype=float,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            return float(
                krippendorff.alpha(
                    reliability_data=data,
                    level_of_measurement="ordinal",
                    value_domain=_labels(values, scale),
                )
            )
        except (ValueError, RuntimeWarning):
            return None


def _strictness(table: Table) -> dict[str, float]:
    offsets: dict[str, list[float]] = {}
    for row in table.values():
        numeric = {r: v for r, v in row.items() if v is not None}
        if len(numeric) < 2:
            continue
        mean = sum(numeric.values()) / len(numeric)
        for rater, value in numeric.items():
            offsets.setdefault(rater, []).append(value - mean)
    return {r: sum(o) / len(o) for r, o in sorted(offsets.items())}


def agreement(table: Table, scale: tuple[int, ...] | None = None) -> Agreement:
    """Agreement figures for one table (item -> rater -> value); ``scale`` is the criterion's values."""
    rated = {item: dict(row) for item, row in table.items() if len(row) >= 2}
    raters = sorted({r for row in rated.values() for r in row})
    pairs = [(row[a], row[b]) for row in rated.values() for a, b in combinations(sorted(row), 2)]
    if not pairs:
        return Agreement(0, 0, None, None, None, None, {})
    return Agreement(
        items=len(rated),
        pairs=len(pairs),
        exact=sum(_same(a, b) for a, b in pairs) / len(pairs),
        within_one=sum(_near(a, b) for a, b in pairs) / len(pairs),
        kappa=_kappa(rated, raters, scale) if len(raters) == 2 else None,
        alpha=_alpha(rated, raters, scale),
        strictness=_strictness(rated),
    )


def consensus(values: Iterable[int | None]) -> int | None:
    """The reviewers' consensus on one item: the median score, the lower middle one on an even split.

    «Ikke aktuelt» wins only when more than half said it; the lower middle value keeps a lenient
    suggestion from being credited when the reviewers split evenly.
    """
    values = list(values)
    numeric = sorted(v for v in values if v is not None)
    if not values or len(numeric) * 2 < len(values):
        return None
    return statistics.median_low(numeric)


def _tables(ratings: Iterable[Rating]) -> dict[str, dict[str, dict[str, int | None]]]:
    """criterion -> call -> rater -> value."""
    tables: dict[str, dict[str, dict[str, int | None]]] = {}
    for r in ratings:
        tables.setdefault(r.criterion_id, {}).setdefault(r.call_id, {})[r.rater] = r.value
    return tables


def _pooled(tables: Mapping[str, Table]) -> dict[str, Mapping[str, int | None]]:
    return {f"{crit}\x1f{item}": row for crit, table in tables.items() for item, row in table.items()}


def agreement_report(
    ratings: Iterable[Rating],
    suggestions: Mapping[tuple[str, str], int | None] | None = None,
    scales: Mapping[str, tuple[int, ...]] | None = None,
) -> AgreementReport:
    """Figures per criterion and over all criteria pooled, between reviewers and for the suggestions.

    ``suggestions`` maps (call_id, criterion_id) to the suggested value; ``scales`` maps a
    criterion to its scale values. Overall figures pool every (call, criterion) item; a yes/no
    criterion counts there as a 0-1 scale.
    """
    scales = scales or {}
    tables = _tables(ratings)
    per_criterion = {c: agreement(t, scales.get(c)) for c, t in sorted(tables.items())}
    versus: dict[str, dict[str, dict[str, int | None]]] = {}
    for crit, table in tables.items():
        for call_id, row in table.items():
            if suggestions is None or (call_id, crit) not in suggestions:
                continue
            versus.setdefault(crit, {})[call_id] = {
                SUGGESTION: suggestions[(call_id, crit)],
                CONSENSUS: consensus(row.values()),
            }
    return AgreementReport(
        per_criterion=per_criterion,
        overall=agreement(_pooled(tables)),
        suggestions_per_criterion={c: agreement(t, scales.get(c)) for c, t in sorted(versus.items())},
        suggestions_overall=agreement(_pooled(versus)),
    )
