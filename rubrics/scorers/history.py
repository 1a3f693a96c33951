"""asks_prior_contact (yes/no) and asks_to_speak_to_patient (yes/no/None)."""

from __future__ import annotations

from pydantic import Field

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import ScorerParams, confidence, evidence_of, quote, view, yes_no
from rubrics.types import CallText, CriterionScore

__all__ = [
    "AsksPriorContactParams",
    "AsksToSpeakToPatientParams",
    "score_asks_prior_contact",
    "score_asks_to_speak_to_patient",
]


class AsksPriorContactParams(ScorerParams):
    pass


class AsksToSpeakToPatientParams(ScorerParams):
    min_age: int = Field(
        6,
        ge=0,
        le=18,
        description="Patients younger than this (years) cannot take part; the criterion is n/a.",
    )
    caller_turns: int = Field(
        3, ge=1, le=20, description="Caller turns read to tell whether the caller speaks for someone else."
    )
    staff_turns: int = Field(
        4, ge=1, le=20, description="Staff turns read for 'sønnen din', 'beboeren' and the like."
    )


def score_asks_prior_contact(call: CallText, p: AsksPriorContactParams) -> CriterionScore:
    v = view(call, p)
    hits = v.hits(lx.PRIOR_CONTACT, outside_conditions=True, outside_teach_back=True)
    return yes_no("asks_prior_contact", call, p, hits,
                  found="Spør om eller viser til tidligere kontakt ({quote}).",
                  missing="Helsepersonellet spør ikke om tidligere kontakt med helsetjenesten.")  # fmt: skip


def score_asks_to_speak_to_patient(call: CallText, p: AsksToSpeakToPatientParams) -> CriterionScore:
    v = view(call, p)
    cid = "asks_to_speak_to_patient"
    asks = v.hits(lx.SPEAK_TO_PATIENT)
    if asks:
        return CriterionScore(cid, 1, confidence(p, call, asks), evidence_of(asks[:1]),
                              f"Ber om å få snakke med pasienten ({quote(asks, 1)}).")  # fmt: skip
    third = v.hits(lx.THIRD_PARTY_CALLER, lines=v.callers[: p.caller_turns])
    third += v.hits(lx.THIRD_PARTY_STAFF, lines=v.staff[: p.staff_turns])
    if not third:
        return CriterionScore(cid, None, confidence(p, call, absent=True), (),
                              "Innringer ser ut til å være pasienten selv; ikke aktuelt.")  # fmt: skip
    lines = v.callers + v.staff
    if v.hits(lx.INFANT, lines=lines):
        return CriterionScore(cid, None, confidence(p, call), (), "Pasienten er et spedbarn; ikke aktuelt.")
    ages = []
    for h in v.hits(lx.AGE, lines=lines):
        m = lx.AGE.match(h.norm.text, h.start)
        num = next((g for g in m.groups() if g), None) if m else None
        if num is not None and num.isdigit():
            ages.append(int(num))
    if ages and ages[0] < p.min_age:
        return CriterionScore(cid, None, confidence(p, call), (),
                              f"Pasienten er et lite barn (under {p.min_age} år); ikke aktuelt.")  # fmt: skip
    weak = not ages
    return CriterionScore(cid, 0, confidence(p, call, third, weak=weak), (),
                          "Tredjepartssamtale, men helsepersonellet ber ikke om å få snakke med pasienten.")  # fmt: skip
