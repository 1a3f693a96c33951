"""Suggestions that know how well the speech was recognised (pure: no I/O).

A scorer judges the words it is given. On recognised speech those words may be wrong, so the
engine adjusts each scorer's result by the recognition quality of the staff's speech
(:attr:`rubrics.types.Utterance.quality`, an estimated word accuracy):

* A suggestion that rests on **not finding** something (the scale's lowest value: no open
  question, no worsening advice, no prior-contact question) over staff speech that was largely
  not heard well is not a "no": it abstains (``abstained=True``, value None) and names the
  stretches to listen to. "The staff speech" is the stretch the criterion's rule reads
  (:mod:`rubrics.stretch`, the scorer's ``looks_at``; all of it by default): the greeting for
  "introduces self", so a garbled greeting abstains even when the rest of the call was heard
  well, and a well-heard greeting keeps its "no" whatever the rest sounded like. This holds also when the lowest value comes with evidence of what was
  found *instead* (a greeting without the name, a closed "ok?" without a teach-back question,
  leading questions without an open one): the value still rests on the part not found, and a
  name or a question is what a recogniser that hears poorly misses first. On the spoken rubric
  set (dev split, synthetic voices through Whisper base) such suggestions were right 3 times in
  8 at 16 kHz and 0 in 4 at 8 kHz, below chance.
* Any other suggestion keeps its value; its confidence is the rule's confidence times a
  recognition factor: of the evidence's segments for a finding, of the stretch read for an
  absence. The engine then turns the rule confidence and the factor of what the value rests on
  (:func:`rests_on_factor`) into the probability that it is right (:mod:`rubrics.confidence`).

Written and corrected text has no quality estimate and passes through unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from norsk.display import clock
from rubrics.types import CallText, CriterionScore, Evidence, Utterance

__all__ = [
    "abstain_by_probability",
    "adjust_for_recognition",
    "clock",
    "evidence_factor",
    "recognition_factor",
    "rests_on_factor",
]

_MAX_SPANS = 4
_PART_GAP_S = 60.0  # a part of the call is given as one span unless its turns lie a minute apart


def recognition_factor(quality: float | None, trusted_from: float) -> float:
    """1 for trusted text or quality at/above ``trusted_from``, falling linearly to 0 below it."""
    if quality is None or trusted_from <= 0:
        return 1.0
    return max(0.0, min(1.0, quality / trusted_from))


def _duration(u: Utterance) -> float:
    return max(u.end - u.start, 0.05)


def _mean_quality(utts: list[Utterance]) -> float | None:
    rated = [u for u in utts if u.quality is not None]
    if not rated:
        return None
    return sum(u.quality * _duration(u) for u in rated) / sum(_duration(u) for u in rated)  # type: ignore[operator]


def _spans(utts: list[Utterance], gap_s: float = 5.0) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for u in sorted(utts, key=lambda u: u.start):
        if out and u.start - out[-1][1] <= gap_s:
            out[-1][1] = max(out[-1][1], u.end)
        else:
            out.append([u.start, u.end])
    return [(a, b) for a, b in out]


def adjust_for_recognition(
    score: CriterionScore,
    call: CallText,
    *,
    lowest: int,
    listen_below: float,
    abstain_share: float,
    trusted_from: float,
    stretch: frozenset[int] | None = None,
    where: str = "",
) -> CriterionScore:
    """``score`` adjusted for how well the staff's speech was recognised (see the module doc).

    ``stretch`` holds the indices of the staff utterances the rule read (None: all staff speech);
    ``where`` names it in the rationale ("i innledningen"; empty for all staff speech). An abstention
    over a part of the call gives that part's span to listen to; over all staff speech, the
    stretches not heard well."""
    staff = [u for u in call.staff if stretch is None or u.index in stretch]
    rated = [u for u in staff if u.quality is not None]
    if not rated:
        return score
    negative = score.value is not None and score.value == lowest  # rests on not finding (see above)
    if negative:
        poor = [u for u in rated if u.quality < listen_below]  # type: ignore[operator]
        share = sum(_duration(u) for u in poor) / sum(_duration(u) for u in staff)
        if poor and share >= abstain_share:
            mean = _mean_quality(poor) or 0.0
            detail = f"{share:.0%} av talen{' ' + where if where else ''}, anslått ordtreff {mean:.0%}"
            return _abstention(score, call, staff, poor, detail)
    factor = evidence_factor(score, call, trusted_from=trusted_from, stretch=stretch)
    if factor >= 1.0:
        return score
    return replace(score, confidence=round(score.confidence * factor, 3))


def _abstention(
    score: CriterionScore, call: CallText, staff: list[Utterance], poor: list[Utterance], detail: str
) -> CriterionScore:
    """``score`` turned into an abstention with the spans to listen to as its evidence."""
    # a part of the call (the greeting) is short: listen to all of it, as the rule read it;
    # over all the staff's speech, to the stretches not heard well
    listen = staff if len(staff) < len(call.staff) else poor
    spans = _spans(listen, gap_s=_PART_GAP_S if listen is staff else 5.0)
    shown = ", ".join(f"{clock(a)}–{clock(b)}" for a, b in spans[:_MAX_SPANS])
    more = f" og {len(spans) - _MAX_SPANS} til" if len(spans) > _MAX_SPANS else ""
    evidence = tuple(
        Evidence(u.index, 0, 0, u.start, u.end, "") for u in sorted(listen, key=lambda u: u.start)
    )
    rationale = (
        f"Kan ikke vurderes automatisk – lytt {shown}{more}. Forslaget ville bygge på at noe ikke "
        f"ble funnet, men talegjenkjenningen hørte helsepersonellet dårlig her ({detail})."
    )
    return replace(score, value=None, confidence=0.0, evidence=evidence, rationale=rationale, abstained=True)


def abstain_by_probability(
    score: CriterionScore,
    call: CallText,
    *,
    probability: float,
    abstain_below: float,
    lowest: int,
    listen_below: float,
    stretch: frozenset[int] | None = None,
    where: str = "",
) -> CriterionScore:
    """``score`` with its calibrated ``probability`` as confidence, or an abstention when it rests
    on not finding something (the scale's lowest value) in recognised speech and that probability
    is under ``abstain_below`` (the calibration map's threshold). Written text never abstains."""
    staff = [u for u in call.staff if stretch is None or u.index in stretch]
    rated = [u for u in staff if u.quality is not None]
    if not rated or score.value is None or score.value != lowest or probability >= abstain_below:
        return replace(score, confidence=probability)
    poor = [u for u in rated if u.quality < listen_below] or rated  # type: ignore[operator]
    mean = _mean_quality(poor) or 0.0
    detail = f"anslått ordtreff {mean:.0%}{' ' + where if where else ''}, sjanse for riktig forslag {probability:.0%}"
    return _abstention(score, call, staff, poor, detail)


def evidence_factor(
    score: CriterionScore, call: CallText, *, trusted_from: float, stretch: frozenset[int] | None = None
) -> float:
    """The recognition factor behind ``score`` (:func:`recognition_factor`): of the worst-heard
    segment of its evidence for a finding, of the duration-weighted mean over the stretch read
    (``stretch``; None: all staff speech) for an absence. 1 for written or corrected text."""
    if score.evidence:
        by_index = {u.index: u for u in call.utterances}
        qualities = [by_index[e.segment_index].quality for e in score.evidence if e.segment_index in by_index]
        known = [q for q in qualities if q is not None]
        quality = min(known) if known else None
    else:
        quality = _mean_quality([u for u in call.staff if stretch is None or u.index in stretch])
    return recognition_factor(quality, trusted_from)


def rests_on_factor(
    score: CriterionScore,
    call: CallText,
    *,
    finding: bool,
    trusted_from: float,
    stretch: frozenset[int] | None = None,
) -> float:
    """The recognition factor of everything ``score``'s value rests on, for calibration.

    A ``finding`` (a yes/no "ja": one phrase heard is enough) rests on its evidence alone. Any
    other value also rests on what was *not* found in the stretch read: a 0-4 value counts the
    elements heard, so a badly heard remainder lowers it; a "nei" or "ikke aktuelt" rests on the
    whole stretch. Those take the lower of the evidence's factor and the stretch's."""
    own = evidence_factor(score, call, trusted_from=trusted_from, stretch=stretch)
    if finding:
        return own
    staff = [u for u in call.staff if stretch is None or u.index in stretch]
    return min(own, recognition_factor(_mean_quality(staff), trusted_from))
