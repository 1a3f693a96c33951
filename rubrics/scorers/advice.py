"""worsening_advice (0-4/None), safety_netting (0-4) and checks_understanding (yes/no).

All three read the same elements of S1's advice. Conditional advice ("hvis …, ring 113",
"ta kontakt igjen ved behov") is found by :mod:`rubrics.scorers._common`; inside it we look for
concrete signs, vague worsening words, a concrete action (a named route, not "søk hjelp"), and a
time frame or threshold. Outside it we look for the expected course or stated uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import (
    CallView,
    Hit,
    Line,
    ScorerParams,
    confidence,
    evidence_of,
    negated,
    quote,
    view,
)
from rubrics.types import CallText, CriterionScore

__all__ = [
    "ChecksUnderstandingParams",
    "SafetyNettingParams",
    "WorseningAdviceParams",
    "advice_elements",
    "score_checks_understanding",
    "score_safety_netting",
    "score_worsening_advice",
]


class WorseningAdviceParams(ScorerParams):
    advice_library: bool = Field(
        True,
        description="Count the signs of the standard advice for the call's detected contact reason "
        "(rubrics/advice) as concrete, and name the standard's missing signs in the rationale.",
    )


class SafetyNettingParams(ScorerParams):
    advice_library: bool = Field(
        True,
        description="Count the signs of the standard advice for the call's detected contact reason "
        "(rubrics/advice) as concrete, and name the standard's missing signs in the rationale.",
    )


class ChecksUnderstandingParams(ScorerParams):
    pass


@dataclass
class Elements:
    signs: list[Hit]
    vague: list[Hit]
    actions: list[Hit]
    thresholds: list[Hit]
    course: list[Hit]
    teach_back: list[Hit]
    immediate: list[Hit]


def _after_working_diagnosis(norm, pos: int) -> bool:
    prev = norm.before(pos, 4)
    return "ut" in prev and "som" in prev and any(t in lx.WORKING_DIAGNOSIS_CUES for t in prev)


def advice_elements(v: CallView, *, standard: bool = False) -> Elements:
    """The advice elements; with ``standard``, the signs of the detected reason's standard advice
    (:mod:`rubrics.advice_library`) said in conditional advice count as concrete signs too."""
    cached = v.memo.get("advice")
    if cached is None:
        cached = v.memo["advice"] = _advice_elements(v)
    if not standard:
        return cached
    cov = _standard(v)
    if cov is None:
        return cached
    extra = [h for s in cov.signs_said for h in s.hits if not any(_overlap(h, g) for g in cached.signs)]
    if not extra:
        return cached
    return Elements(cached.signs + extra, *(getattr(cached, f) for f in ("vague", "actions", "thresholds",
                    "course", "teach_back", "immediate")))  # fmt: skip


def _standard(v: CallView):  # -> AdviceCoverage | None; imported late: advice_library imports this package
    from rubrics.advice_library import standard_coverage

    return standard_coverage(v)


def _overlap(a: Hit, b: Hit) -> bool:
    return a.utt.index == b.utt.index and a.start < b.end and b.start < a.end


def _missing_from_standard(v: CallView, enabled: bool) -> str:
    """' Standardrådet for <reason> nevner også: …' naming up to three signs not said, or ''."""
    cov = _standard(v) if enabled else None
    if cov is None or not cov.signs_missing:
        return ""
    names = ", ".join(s.label for s in cov.signs_missing[:3])
    return f" Standardrådet for {cov.reason_name.lower()} nevner også: {names}."


def _scoped_hits(line: Line, pattern: lx.Lex, *, condition_only: bool) -> list[Hit]:
    """Matches inside the line's conditional scopes: the condition part only, or with the action before it."""
    seen, out = set(), []
    for sc in line.scopes:
        for m in pattern.finditer(line.norm.text, sc.trigger if condition_only else sc.pre, sc.end):
            if m.start() not in seen and not line.in_teach_back(m.start()):
                seen.add(m.start())
                out.append(Hit(line.utt, line.norm, m.start(), m.end()))
    return out


def _advice_elements(v: CallView) -> Elements:
    signs, vague, actions, thresholds, course, teach, immediate = [], [], [], [], [], [], []
    for line in v.staff:
        text, norm = line.norm.text, line.norm

        if line.scopes:
            signs += _scoped_hits(line, lx.SIGN, condition_only=True)
            vague += _scoped_hits(line, lx.VAGUE, condition_only=True)
            thresholds += _scoped_hits(line, lx.THRESHOLD, condition_only=True)
            actions += [h for h in _scoped_hits(line, lx.ACTION, condition_only=False) if not negated(h)]
        for pattern in (lx.COURSE, lx.UNCERTAINTY):
            for m in pattern.finditer(text):
                if line.in_scope(m.start()) or line.in_teach_back(m.start()):
                    continue
                if pattern is lx.COURSE and _after_working_diagnosis(norm, m.start()):
                    continue
                course.append(Hit(line.utt, norm, m.start(), m.end()))
        teach += [Hit(line.utt, norm, a, b) for a, b in line.teach_back]
        for pattern in (lx.AMBULANCE, lx.COME_IN_NOW):
            for m in pattern.finditer(text):
                h = Hit(line.utt, norm, m.start(), m.end())
                if not line.in_scope(m.start()) and not negated(h):
                    immediate.append(h)
    return Elements(signs, vague, actions, thresholds, course, teach, immediate)


def score_worsening_advice(call: CallText, p: WorseningAdviceParams) -> CriterionScore:
    v = view(call, p)
    e = advice_elements(v, standard=p.advice_library)
    cid = "worsening_advice"
    if e.immediate:
        return CriterionScore(cid, None, confidence(p, call, e.immediate), evidence_of(e.immediate[:2]),
                              f"Pasienten sendes til øyeblikkelig oppmøte ({quote(e.immediate, 1)}); ikke aktuelt.")  # fmt: skip
    if e.signs and e.actions and e.thresholds and e.teach_back:
        value, hits = 4, e.signs + e.actions + e.thresholds + e.teach_back
        why = f"Tegn ({quote(e.signs, 2)}), handling, tidsramme/terskel og tilbakemeldingssjekk."
    elif e.signs and e.actions:
        value, hits = 3, e.signs + e.actions + e.thresholds
        missing = "tilbakemeldingssjekk" if e.thresholds else "tidsramme eller terskel"
        why = f"Konkrete tegn ({quote(e.signs, 2)}) og handling ({quote(e.actions, 1)}), men ingen {missing}."
    elif e.signs:
        value, hits = 2, e.signs
        why = f"Konkrete tegn ({quote(e.signs, 2)}), men ingen konkret handling eller instans."
    elif e.vague or e.actions or e.thresholds:
        value, hits = 1, e.vague + e.actions + e.thresholds
        why = f"Bare vage råd om forverring ({quote(hits, 2)}), ingen konkrete tegn."
    else:
        return CriterionScore(cid, 0, confidence(p, call, absent=True), (),
                              "Ingen råd om hva som skal gjøres ved forverring." + _missing_from_standard(v, p.advice_library))  # fmt: skip
    why += _missing_from_standard(v, p.advice_library and value < 4)
    weak = value == 3 and bool(e.thresholds) and not e.teach_back
    return CriterionScore(cid, value, confidence(p, call, hits, weak=weak), evidence_of(hits), why)


def score_safety_netting(call: CallText, p: SafetyNettingParams) -> CriterionScore:
    v = view(call, p)
    e = advice_elements(v, standard=p.advice_library)
    cid = "safety_netting"
    parts = [
        ("forløp/usikkerhet", e.course),
        ("tegn", e.signs),
        ("hvor få hjelp", e.actions),
        ("tidsramme/terskel", e.thresholds),
        ("forståelsessjekk", e.teach_back),
    ]
    got = [(name, hits) for name, hits in parts if hits]
    value = min(4, len(got))
    if not got:
        return CriterionScore(
            cid, 0, confidence(p, call, absent=True), (), "Ingen elementer av sikkerhetsnett funnet."
        )
    hits = [h for _, hs in got for h in hs[:2]]
    missing = [name for name, hs in parts if not hs]
    why = "Har " + ", ".join(name for name, _ in got)
    why += f"; mangler {', '.join(missing)}." if missing and value < 4 else "."
    why += _missing_from_standard(v, p.advice_library and not e.signs)
    return CriterionScore(cid, value, confidence(p, call, hits), evidence_of(hits), why)


def score_checks_understanding(call: CallText, p: ChecksUnderstandingParams) -> CriterionScore:
    v = view(call, p)
    teach = [Hit(line.utt, line.norm, a, b) for line in v.staff for a, b in line.teach_back]
    cid = "checks_understanding"
    if teach:
        return CriterionScore(cid, 1, confidence(p, call, teach), evidence_of(teach[:1]),
                              "Ber innringer gjenta rådene med egne ord (tilbakemeldingssjekk).")  # fmt: skip
    tags = v.hits(lx.TAG_CHECK)
    if tags:
        return CriterionScore(cid, 0, confidence(p, call, tags), evidence_of(tags[:1]),
                              f"Bare lukkede kontrollspørsmål ({quote(tags, 1)}), ingen reell forståelsessjekk.")  # fmt: skip
    return CriterionScore(cid, 0, confidence(p, call, absent=True), (), "Ingen forståelsessjekk funnet.")
