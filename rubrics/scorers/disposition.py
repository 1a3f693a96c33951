"""states_urgency (yes/no): how urgent the case is judged and/or what happens next and when."""

from __future__ import annotations

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import ScorerParams, view, yes_no
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
    return yes_no("states_urgency", call, p, hits, evidence_n=3,
                  found="Angir hastegrad eller neste steg med tid ({quote}).",
                  missing="Ingen uttalelse om hastegrad eller når neste steg skjer.")  # fmt: skip
