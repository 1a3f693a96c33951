"""What the scorers share: the base Params, hits with evidence spans, and a per-call view.

The view normalises every utterance once (cached per text in :mod:`rubrics.text`) and works out,
once per call, the pieces several scorers read: conditional advice scopes ("hvis …, ring 113"),
teach-back questions, and immediate in-person dispositions.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from rubrics.scorers import lexicon as lx
from rubrics.stretch import AllStaff, LooksAt, stretch_indices
from rubrics.text import DEFAULT_FUZZY_CUTOFF, Norm, normalise
from rubrics.types import CallText, CriterionScore, Evidence, Utterance

__all__ = ["CallView", "Hit", "ScorerParams", "confidence", "evidence_of", "view"]

# The recogniser's quality marks (transcription.quality.POOR_BELOW and UNCERTAIN_BELOW) as the
# scorers' defaults. Restated, not imported, so that rubrics imports nothing else of Lydlogg's;
# tests/test_transcript_quality.py fails when the two disagree.
POOR_BELOW = 0.5
UNCERTAIN_BELOW = 0.75


class ScorerParams(BaseModel):
    """Knobs every scorer has; a rubric YAML may set any of them per criterion."""

    model_config = ConfigDict(extra="forbid")

    fuzzy_cutoff: int = Field(
        DEFAULT_FUZZY_CUTOFF,
        ge=70,
        le=101,
        description="rapidfuzz ratio (0-100) at or above which an ASR-garbled word is read as a key word "
        "of the lexicons; 101 turns fuzzy correction off.",
    )
    near_miss_edits: int = Field(
        2,
        ge=0,
        le=2,
        description="Most letters a recognised word may differ from a key word and still be read as it "
        "(rubrics/tolerance.py; fewer for short words, none below 5 letters), also for split and glued "
        "words; 0 reads key words only as written (and rejoined exactly).",
    )
    confidence: float = Field(0.85, ge=0, le=1, description="Confidence when the signal found is clear.")
    absent_confidence: float = Field(
        0.7, ge=0, le=1, description="Confidence when the value rests on nothing having been found."
    )
    weak_factor: float = Field(
        0.8, ge=0, le=1, description="Multiplier on confidence for a weak or borderline signal."
    )
    roles_inferred_factor: float = Field(
        0.75, ge=0, le=1, description="Multiplier on confidence when the call's roles were guessed."
    )
    fuzzy_factor: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Multiplier on confidence when evidence rests on a fuzzily corrected word.",
    )
    listen_below: float = Field(
        POOR_BELOW,
        ge=0,
        le=1,
        description="Estimated word accuracy of recognised speech below which a stretch counts as not "
        "heard well (transcription.quality).",
    )
    abstain_share: float = Field(
        0.25,
        ge=0,
        le=1.01,
        description="Share of the staff's speech time not heard well at or above which a suggestion that "
        "rests on finding nothing abstains ('kan ikke vurderes automatisk - lytt'); above 1 never abstains.",
    )
    trusted_from: float = Field(
        UNCERTAIN_BELOW,
        ge=0,
        le=1,
        description="Estimated word accuracy from which recognised speech is trusted like written text; "
        "below it a suggestion's confidence is scaled down in proportion.",
    )
    looks_at: LooksAt = Field(
        default_factory=lambda: AllStaff(part="all_staff"),
        description="The stretch of the staff's speech the rule reads ({part: all_staff} or {part: opening, "
        "max_staff_turns, caller_words_before_end}); a suggestion that rests on finding nothing there "
        "abstains by the recognition quality of that stretch (rubrics/stretch.py).",
    )
    condition_pre_tokens: int = Field(
        6,
        ge=0,
        le=20,
        description="Words before 'hvis'/'viss' that still belong to the advice (for 'ring 113 hvis …').",
    )


@dataclass(frozen=True)
class Hit:
    """A lexicon match in one utterance's normalised text."""

    utt: Utterance
    norm: Norm
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.norm.text[self.start : self.end]

    @property
    def fuzzy(self) -> bool:
        return self.norm.is_fuzzy(self.start, self.end)

    def evidence(self) -> Evidence:
        s, e = self.norm.span(self.start, self.end)
        return self.utt.evidence(s, e)


@dataclass(frozen=True)
class Scope:
    """Conditional advice in one utterance: [pre, trigger) may hold the action of a postposed
    'hvis'; [trigger, end) holds the condition (signs, thresholds) and usually the action."""

    pre: int
    trigger: int
    end: int


@dataclass
class Line:
    utt: Utterance
    norm: Norm
    scopes: list[Scope] = field(default_factory=list)
    teach_back: list[tuple[int, int]] = field(default_factory=list)

    def in_scope(self, pos: int) -> bool:
        return any(s.pre <= pos < s.end for s in self.scopes)

    def in_teach_back(self, pos: int) -> bool:
        return any(a <= pos < b for a, b in self.teach_back)


@dataclass
class CallView:
    call: CallText
    staff: list[Line]
    callers: list[Line]
    memo: dict[str, object] = field(default_factory=dict)  # analyses several scorers share

    def hits(
        self,
        pattern: re.Pattern[str],
        *,
        lines: list[Line] | None = None,
        outside_conditions: bool = False,
        outside_teach_back: bool = False,
    ) -> list[Hit]:
        out = []
        for line in self.staff if lines is None else lines:
            for m in pattern.finditer(line.norm.text):
                if outside_conditions and line.in_scope(m.start()):
                    continue
                if outside_teach_back and line.in_teach_back(m.start()):
                    continue
                out.append(Hit(line.utt, line.norm, m.start(), m.end()))
        return out


def _scopes(norm: Norm, pre_tokens: int) -> list[Scope]:
    text = norm.text
    out: list[Scope] = []

    def extend(start_tok: int, trigger: int, end: int) -> Scope:
        ss, _ = norm.sentence_bounds(trigger)
        pre = max(ss, norm.pos[max(0, start_tok)] if norm.tokens else 0)
        if not lx.ACTION.search(text, pre, end) and end + 3 < len(text):
            nxt = text[end + 3 :]
            if lx.CONSEQUENT_START.match(nxt):
                end = norm.sentence_bounds(end + 3)[1]
        return Scope(pre, trigger, end)

    for m in lx.COND_TRIGGER.finditer(text):
        _, se = norm.sentence_bounds(m.start())
        out.append(extend(norm.token_at(m.start()) - pre_tokens, m.start(), se))
    for m in lx.COND_POSTFIX.finditer(text):
        ss, se = norm.sentence_bounds(m.start())
        pre = max(ss, norm.pos[max(0, norm.token_at(m.start()) - 4)])
        after = norm.token_at(m.end() - 1) + 5
        end = min(se, norm.pos[after] - 1 if after < len(norm.pos) else len(text))
        out.append(Scope(pre, pre, max(end, m.end())))
    verb_initial = lx.COND_VERB_INITIAL.finditer(text) if lx.ACTION.search(text) else ()
    for m in verb_initial:
        start = m.start() if text[m.start()] not in ".?" else m.start() + 2
        ss, se = norm.sentence_bounds(start)
        if lx.ACTION.search(text, start, se):
            out.append(Scope(start, start, se))
    return out


def _line(u: Utterance, cutoff: int, edits: int, pre_tokens: int, staff: bool) -> Line:
    norm = normalise(u.text, cutoff, edits)
    line = Line(u, norm)
    if staff:
        line.scopes = _scopes(norm, pre_tokens)
        line.teach_back = [(m.start(), m.end()) for m in lx.TEACH_BACK.finditer(norm.text)]
    return line


_VIEWS: OrderedDict[tuple[int, int, int, int, object], tuple[CallText, CallView]] = OrderedDict()
_MAX_VIEWS = 16


def view(call: CallText, params: ScorerParams) -> CallView:
    """The call's analysed view, its staff lines limited to ``params.looks_at``; cached by identity,
    so the scorers of one call that read the same stretch share it."""
    key = (
        id(call),
        params.fuzzy_cutoff,
        params.near_miss_edits,
        params.condition_pre_tokens,
        params.looks_at,
    )
    cached = _VIEWS.get(key)
    if cached is not None and cached[0] is call:
        return cached[1]
    stretch = stretch_indices(call, params.looks_at)
    staff, callers = [], []
    for u in call.utterances:
        if u.is_staff:
            if u.index not in stretch:
                continue
            staff.append(
                _line(u, params.fuzzy_cutoff, params.near_miss_edits, params.condition_pre_tokens, True)
            )
        elif u.role == "caller":
            callers.append(
                _line(u, params.fuzzy_cutoff, params.near_miss_edits, params.condition_pre_tokens, False)
            )
    v = CallView(call, staff, callers)
    _VIEWS[key] = (call, v)
    if len(_VIEWS) > _MAX_VIEWS:
        _VIEWS.popitem(last=False)
    return v


def negated(hit: Hit) -> bool:
    prev = hit.norm.before(hit.start, 2)
    if prev and prev[-1] in lx.NEGATORS:
        return True
    return len(prev) == 2 and prev[-1] in ("å", "bare") and prev[0] in lx.NEGATORS


def evidence_of(hits: list[Hit]) -> tuple[Evidence, ...]:
    """Evidence spans for hits: sorted, with overlapping spans in one segment merged."""
    spans: dict[int, list[list[int]]] = {}
    utts: dict[int, Utterance] = {}
    for h in hits:
        s, e = h.norm.span(h.start, h.end)
        spans.setdefault(h.utt.index, []).append([s, e])
        utts[h.utt.index] = h.utt
    out = []
    for idx in sorted(spans):
        merged: list[list[int]] = []
        for s, e in sorted(spans[idx]):
            if merged and s <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        out += [utts[idx].evidence(s, e) for s, e in merged]
    return tuple(out)


def confidence(
    params: ScorerParams, call: CallText, hits: list[Hit] = (), *, absent: bool = False, weak: bool = False
) -> float:
    c = params.absent_confidence if absent else params.confidence
    if weak:
        c *= params.weak_factor
    if any(h.fuzzy for h in hits):
        c *= params.fuzzy_factor
    if call.roles_inferred:
        c *= params.roles_inferred_factor
    return round(min(1.0, max(0.0, c)), 3)


def quote(hits: list[Hit], n: int = 3) -> str:
    """A few distinct matched phrases for a rationale, safe to show (no phone numbers)."""
    from rubrics.text import safe_snippet

    seen: list[str] = []
    for h in hits:
        t = safe_snippet(h.text, 30)
        if t not in seen:
            seen.append(t)
        if len(seen) >= n:
            break
    return ", ".join(seen)


def yes_no(
    cid: str,
    call: CallText,
    params: ScorerParams,
    hits: list[Hit],
    *,
    found: str,
    missing: str,
    evidence_n: int | None = 2,
    quote_n: int = 2,
) -> CriterionScore:
    """1 with the matched words as evidence when there are ``hits``, else 0 (nothing found).

    ``found`` may hold ``{quote}``, replaced by the first matched phrases.
    """
    if hits:
        return CriterionScore(cid, 1, confidence(params, call, hits), evidence_of(hits[:evidence_n]),
                              found.format(quote=quote(hits, quote_n)))  # fmt: skip
    return CriterionScore(cid, 0, confidence(params, call, absent=True), (), missing)
