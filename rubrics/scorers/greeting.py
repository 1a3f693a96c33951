"""introduces_self: S1 names the service and their own name or role in the greeting."""

from __future__ import annotations

from pydantic import Field

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import ScorerParams, confidence, evidence_of, quote, view
from rubrics.types import CallText, CriterionScore

__all__ = ["IntroducesSelfParams", "score_introduces_self"]


class IntroducesSelfParams(ScorerParams):
    caller_words_before_end: int = Field(
        6,
        ge=1,
        le=50,
        description="The greeting is the staff talk before the first caller turn with at least this many words.",
    )
    max_staff_turns: int = Field(
        3, ge=1, le=10, description="At most this many staff turns form the greeting."
    )


def score_introduces_self(call: CallText, p: IntroducesSelfParams) -> CriterionScore:
    v = view(call, p)
    greeting = []
    staff_seen = 0
    for u in call.utterances:
        if u.role == "caller" and len(u.text.split()) >= p.caller_words_before_end and greeting:
            break
        if u.is_staff:
            staff_seen += 1
            if staff_seen > p.max_staff_turns:
                break
            greeting.append(u.index)
    lines = [line for line in v.staff if line.utt.index in greeting]
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
