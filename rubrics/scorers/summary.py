"""summarises (yes/no): S1 repeats several key facts back as a summary."""

from __future__ import annotations

from pydantic import Field

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import Hit, ScorerParams, confidence, evidence_of, view
from rubrics.types import CallText, CriterionScore

__all__ = ["SummarisesParams", "score_summarises"]


class SummarisesParams(ScorerParams):
    min_words: int = Field(12, ge=3, le=100, description="Words a summary turn needs at least.")
    min_items: int = Field(
        3, ge=1, le=20, description="Listed items (commas, 'og', fact clauses) a summary turn needs at least."
    )
    relay_min_fact_clauses: int = Field(
        4,
        ge=2,
        le=20,
        description="Fact clauses about the patient ('hun har …, hun vil …') that make an unmarked long turn a summary.",
    )
    relay_min_words: int = Field(
        25, ge=5, le=200, description="Words an unmarked (relayed) summary turn needs."
    )


def score_summarises(call: CallText, p: SummarisesParams) -> CriterionScore:
    v = view(call, p)
    cid = "summarises"
    best: tuple[int, Hit] | None = None
    for line in v.staff:
        text = line.norm.text
        words = len(line.norm.tokens)
        if words < p.min_words:
            continue
        marker = lx.SUMMARY_MARKER.search(text)
        check = lx.SUMMARY_CHECK.search(text)
        facts = [m for m in lx.FACT_CLAUSE.finditer(text) if not line.in_scope(m.start())]
        items = line.utt.text.count(",") + text.count(" og ") + len(facts)
        strength = 0
        if marker and check and items >= p.min_items - 1:
            strength = 3
        elif (marker or check) and items >= p.min_items:
            strength = 2
        elif len(facts) >= p.relay_min_fact_clauses and words >= p.relay_min_words and not line.scopes:
            strength = 1
        if strength and (best is None or strength > best[0]):
            m = marker or check
            start = m.start() if m else 0
            best = (strength, Hit(line.utt, line.norm, start, len(text)))
    if best:
        strength, hit = best
        kind = {3: "med oppsummeringsmarkør og kontrollspørsmål", 2: "med markør eller kontrollspørsmål",
                1: "som gjenfortelling uten markør"}[strength]  # fmt: skip
        return CriterionScore(cid, 1, confidence(p, call, [hit], weak=strength == 1), evidence_of([hit]),
                              f"Oppsummerer flere nøkkelopplysninger {kind}.")  # fmt: skip
    return CriterionScore(
        cid, 0, confidence(p, call, absent=True), (), "Ingen oppsummering av nøkkelopplysninger funnet."
    )
