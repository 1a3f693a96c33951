"""communicates_uncertainty (yes/no) and offers_video (yes/no/None), both for the on-call doctor."""

from __future__ import annotations

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import ScorerParams, confidence, evidence_of, quote, view, yes_no
from rubrics.types import CallText, CriterionScore

__all__ = [
    "CommunicatesUncertaintyParams",
    "OffersVideoParams",
    "score_communicates_uncertainty",
    "score_offers_video",
]


class CommunicatesUncertaintyParams(ScorerParams):
    pass


class OffersVideoParams(ScorerParams):
    pass


def score_communicates_uncertainty(call: CallText, p: CommunicatesUncertaintyParams) -> CriterionScore:
    v = view(call, p)
    hits = v.hits(lx.UNCERTAINTY, outside_conditions=True)
    return yes_no("communicates_uncertainty", call, p, hits,
                  found="Sier åpent at diagnosen er usikker ({quote}).",
                  missing="Ingen åpen uttalelse om diagnostisk usikkerhet funnet.")  # fmt: skip


def score_offers_video(call: CallText, p: OffersVideoParams) -> CriterionScore:
    v = view(call, p)
    cid = "offers_video"
    offers = v.hits(lx.VIDEO_OFFER)
    if offers:
        return CriterionScore(cid, 1, confidence(p, call, offers), evidence_of(offers[:2]),
                              f"Tilbyr visuell vurdering ({quote(offers, 2)}).")  # fmt: skip
    everyone = v.staff + v.callers
    visual = v.hits(lx.VISUAL_CUE, lines=everyone)
    if not visual and v.hits(lx.NO_VISUAL_TOPIC, lines=everyone):
        return CriterionScore(cid, None, confidence(p, call, weak=True), (),
                              "Ingenting å se på (medisin- eller urinveisspørsmål); ikke aktuelt.")  # fmt: skip
    return CriterionScore(cid, 0, confidence(p, call, absent=True, weak=not visual), (),
                          "Video eller bilde tilbys ikke, selv om en visuell vurdering kunne hjulpet.")  # fmt: skip
