"""Confidence that means something: the probability that a suggestion is right (pure after import).

A scorer's rule confidence (``confidence``, ``absent_confidence`` and their factors) is a
judgement written by hand, and the recognition factor (:func:`rubrics.recognition.recognition_factor`)
scales it down in proportion to how badly the evidence was heard. Neither is a probability: held
out, recognised suggestions under 0.5 were right 69 % of the time and written ones at 0.7-0.8
right 91 %. The
calibration map turns the two into the share of such suggestions that agreed with the hand labels,
per kind of criterion (yes/no, 0-4 exact), with a logistic curve per kind:

    p = 1 / (1 + exp(-(intercept + rule_weight * rule_confidence + recognition_weight * factor)))

Both weights are at least 0, so a higher rule confidence or a better-heard stretch never lowers
the probability. The map is data, ``confidence/calibration.yaml``, fitted on the dev splits only
(written transcripts and the spoken set) by ``bench/confidence_calibration.py --fit``; the file
says what it was fitted on. Its content is part of every rubric's hash
(:mod:`rubrics.loader`), so a new map scores stored calls again.

An abstention stays an abstention: the map is applied only to suggestions that are given. The map
may also carry ``abstain_below``: then a "not found" on recognised speech abstains when its
calibrated probability is under that threshold (:func:`rubrics.recognition.abstain_by_probability`),
in place of the share-of-speech rule; written text never abstains.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from rubrics.yaml_models import RubricError, read_yaml_model

__all__ = [
    "CALIBRATION",
    "CALIBRATION_PATH",
    "CALIBRATION_SHA256",
    "Calibration",
    "Curve",
    "load_calibration",
]

CALIBRATION_PATH = Path(__file__).with_name("confidence") / "calibration.yaml"


class Curve(BaseModel):
    """One kind of criterion's logistic curve from (rule confidence, recognition factor) to probability."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intercept: float = Field(
        ge=-20, le=20, description="Log-odds of being right at rule confidence 0 and factor 0."
    )
    rule_weight: float = Field(
        ge=0, le=50, description="Log-odds added per unit of the scorer's rule confidence (0-1)."
    )
    recognition_weight: float = Field(
        ge=0,
        le=50,
        description="Log-odds added per unit of the recognition factor (0-1; 1 for written text).",
    )
    n: int = Field(ge=0, description="Suggestions it was fitted on (dev splits).")

    def probability(self, rule_confidence: float, factor: float) -> float:
        c = min(1.0, max(0.0, rule_confidence))
        f = min(1.0, max(0.0, factor))
        z = self.intercept + self.rule_weight * c + self.recognition_weight * f
        return 1.0 / (1.0 + math.exp(-z))


class Calibration(BaseModel):
    """The calibration map: a curve per kind of criterion, and what it was fitted on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, description="Raised whenever the curves change.")
    fitted_on: str = Field(min_length=10, description="The data the curves were fitted on (dev splits only).")
    yes_no: Curve = Field(description="Yes/no criteria: right means the same answer as the label.")
    ordinal: Curve = Field(description="0-4 criteria: right means exactly the label's value.")
    abstain_below: float | None = Field(
        None,
        ge=0,
        le=1,
        description="When set: a suggestion that rests on not finding something (the scale's lowest value) in "
        "recognised speech abstains when its calibrated probability is under this, instead of by the share of "
        "speech heard badly (the scorers' abstain_share); null keeps that share rule.",
    )

    def probability(self, kind: str, rule_confidence: float, factor: float) -> float:
        """The probability (rounded to 0.001) that a suggestion of a ``kind`` criterion is right."""
        curve = self.ordinal if kind == "ordinal" else self.yes_no
        return round(curve.probability(rule_confidence, factor), 3)


def load_calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """Read and validate a calibration map; errors name the file and what is accepted."""
    try:
        return read_yaml_model(Path(path), Calibration, "version, fitted_on, yes_no and ordinal")
    except RubricError as e:
        raise ValueError(
            f"calibration map {e} (accepted: version, fitted_on, yes_no/ordinal curves with intercept, "
            "rule_weight >= 0, recognition_weight >= 0, n, and an optional abstain_below from 0 to 1)"
        ) from e


CALIBRATION = load_calibration()
CALIBRATION_SHA256 = hashlib.sha256(
    json.dumps(CALIBRATION.model_dump(mode="json"), sort_keys=True).encode()
).hexdigest()
