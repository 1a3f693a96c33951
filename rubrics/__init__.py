"""Communication rubrics as data (``rubrics/*.yaml``) and the automatic scorers that suggest values.

Load with :func:`load_rubrics`, turn a transcript into a :class:`CallText` (the core's
:func:`lydlogg.calltext.build_call_text`), and score it with :func:`score_call`. This package
imports nothing else of Lydlogg's.
"""

from rubrics.engine import RubricResult, choose_rubric, rubric_services, score_call
from rubrics.loader import LoadedRubric, RubricError, load_rubric, load_rubrics
from rubrics.types import CallText, CriterionScore, Evidence, Utterance

__all__ = [
    "CallText",
    "CriterionScore",
    "Evidence",
    "LoadedRubric",
    "RubricError",
    "RubricResult",
    "Utterance",
    "choose_rubric",
    "load_rubric",
    "load_rubrics",
    "rubric_services",
    "score_call",
]
