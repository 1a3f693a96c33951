"""states_urgency (yes/no): how urgent the case is judged and/or what happens next and when."""

from __future__ import annotations

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import ScorerParams, confidence, evidence_of, quote, view
from rubrics.types import CallText, CriterionScore

__all__ = ["StatesUrgencyParams", "score_states_urgency"]


class StatesUrgencyParams(ScorerParams):
    pass


def score_states_urgency(call: CallText, p: StatesUrgencyParams) -> CriterionScore:
    v = view(call, p)
    hits = []
    for pattern in (lx.AMBULANCE, lx.URGENCY, lx.COME_IN_WHEN):
        hits += v.hits(pattern, outside_conditions=True, outside_teach_back=True)
    hits.sort(key=lambda h: (h.utt.index, h.start))
    cid = "states_urgency"
    if hits:
        return CriterionScore(cid, 1, confidence(p, call, hits), evidence_of(hits[:3]),
                              f"Angir hastegrad eller neste steg med tid ({quote(hits, 2)}).")  # fmt: skip
    return CriterionScore(cid, 0, confidence(p, call, absent=True), (),
                          "Ingen uttalelse om hastegrad eller når neste steg skjer.")  # fmt: skip
