"""Automatic rubric scorers: each suggests one criterion's value from a call's text, with evidence.

``REGISTRY`` maps a scorer type name (the criterion id) to its Params model and score function;
``score(call, Params())`` works with the defaults, and a rubric YAML may set any Params field.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from rubrics.scorers.advice import (
    ChecksUnderstandingParams,
    SafetyNettingParams,
    WorseningAdviceParams,
    score_checks_understanding,
    score_safety_netting,
    score_worsening_advice,
)
from rubrics.scorers.disposition import StatesUrgencyParams, score_states_urgency
from rubrics.scorers.doctor import (
    CommunicatesUncertaintyParams,
    OffersVideoParams,
    score_communicates_uncertainty,
    score_offers_video,
)
from rubrics.scorers.greeting import IntroducesSelfParams, score_introduces_self
from rubrics.scorers.history import (
    AsksPriorContactParams,
    AsksToSpeakToPatientParams,
    score_asks_prior_contact,
    score_asks_to_speak_to_patient,
)
from rubrics.scorers.questions import (
    ElicitsConcernsParams,
    OpenQuestionsParams,
    score_elicits_concerns,
    score_open_questions,
)
from rubrics.scorers.summary import SummarisesParams, score_summarises
from rubrics.types import CallText, CriterionScore

__all__ = ["REGISTRY", "Scorer"]

Scorer = Callable[[CallText, BaseModel], CriterionScore]

REGISTRY: dict[str, tuple[type[BaseModel], Scorer]] = {
    "introduces_self": (IntroducesSelfParams, score_introduces_self),
    "open_questions": (OpenQuestionsParams, score_open_questions),
    "elicits_concerns": (ElicitsConcernsParams, score_elicits_concerns),
    "asks_prior_contact": (AsksPriorContactParams, score_asks_prior_contact),
    "asks_to_speak_to_patient": (AsksToSpeakToPatientParams, score_asks_to_speak_to_patient),
    "states_urgency": (StatesUrgencyParams, score_states_urgency),
    "summarises": (SummarisesParams, score_summarises),
    "worsening_advice": (WorseningAdviceParams, score_worsening_advice),
    "safety_netting": (SafetyNettingParams, score_safety_netting),
    "checks_understanding": (ChecksUnderstandingParams, score_checks_understanding),
    "communicates_uncertainty": (CommunicatesUncertaintyParams, score_communicates_uncertainty),
    "offers_video": (OffersVideoParams, score_offers_video),
}
