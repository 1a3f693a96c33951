"""introduces_self: S1 names the service and their own name or role in the greeting."""

from __future__ import annotations

from pydantic import Field

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import ScorerParams, confidence, evidence_of, quote, view
from rubrics.stretch import LooksAt, Opening
from rubrics.types import CallText, CriterionScore

__all__ = ["IntroducesSelfParams", "score_introduces_self"]


class IntroducesSelfParams(ScorerParams):
    looks_at: LooksAt = Field(
        default_factory=lambda: Opening(part="opening"),
        description="The greeting: the first staff turns (rubrics/stretch.py); only they are read.",
    )


def score_introduces_self(call: CallText, p: IntroducesSelfParams) -> CriterionScore:
    v = view(call, p)  # its staff lines are the greeting
    lines = v.staff
    service = v.hits(lx.SERVICE, lines=lines)
    who = v.hits(lx.ROLE, lines=lines) + v.hits(lx.NAME_INTRO, lines=lines)
    who += v.hits(lx.NAME_AFTER_SERVICE, lines=lines[:1])
    cid = "introduces_self"
    if service and who:
        hits = service[:1] + who[:2]
        return CriterionScore(
            cid, 1, confidence(p, call, hits), evidence_of(hits),
            f"Presenterer tjeneste og navn/rolle ({quote(hits)}).",
        )  # fmt: skip
    if service:
        return CriterionScore(
            cid, 0, confidence(p, call, service), evidence_of(service[:1]),
            "Nevner bare tjenesten, ikke eget navn eller rolle.",
        )  # fmt: skip
    if who:
        return CriterionScore(
            cid, 0, confidence(p, call, who, weak=True), evidence_of(who[:1]),
            "Nevner navn eller rolle, men ikke tjenesten.",
        )  # fmt: skip
    return CriterionScore(
        cid, 0, confidence(p, call, absent=True), (), "Ingen presentasjon av tjeneste eller navn funnet."
    )
