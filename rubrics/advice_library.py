"""Standardised worsening advice per contact reason (``rubrics/advice/*.yaml``), and what a call said of it.

Each file is one common contact reason at a legevakt: cue phrases that recognise it in the caller's
words, the worsening signs with their own phrases and the action each calls for, the time frames
that apply, and a short SMS text with placeholders. The library is validated like a rubric
(unknown fields rejected, every field described) and versioned by a content hash.

Pure functions, no I/O beyond reading the YAML folder:

* :func:`detect_reasons` finds the contact reason(s) in the caller's words, with evidence and a
  confidence; an empty tuple means none applies.
* :func:`advice_coverage` says which of the standard's signs, actions and time frames the staff
  said inside conditional advice ("hvis …, ring 113"), with evidence, and which were missing.
* :func:`sms_draft` adapts the standard text to the call (signs the staff named first, the time
  frame they gave, the service's number). Run an anonymiser over it before showing it.

Phrases are written in bokmål and run through the scorers' :func:`rubrics.text.normalise`, so
nynorsk, dialect and speech-recognition variants of the caller's words match the same way the
scorers' lexicons do. In a phrase, ``*`` after a word allows any ending ("pust*") and ``_`` stands
for one optional word ("puster _ fort").
"""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rubrics.loader import RUBRICS_DIR, RubricError, read_yaml_model
from rubrics.scorers._common import CallView, Hit, Line, ScorerParams, view
from rubrics.scorers.lexicon import Lex
from rubrics.text import normalise
from rubrics.types import CallText, Evidence

__all__ = [
    "ACTIONS",
    "ADVICE_DIR",
    "AdviceCoverage",
    "AdviceLibrary",
    "AdviceStandard",
    "DetectedReason",
    "ItemCoverage",
    "active_library",
    "advice_coverage",
    "detect_reasons",
    "library_in_use",
    "load_advice_library",
    "reflection_questions",
    "sms_draft",
    "standard_coverage",
]

ADVICE_DIR = RUBRICS_DIR / "advice"

Action = Literal["113", "legevakt", "kom_inn", "fastlege"]
# What each action is called in the app, and the staff phrases that name it (normalised bokmål).
ACTIONS: dict[str, str] = {
    "113": "ring 113",
    "legevakt": "ring legevakten (116117)",
    "kom_inn": "kom inn til legevakten",
    "fastlege": "kontakt fastlegen",
}
_ACTION_PHRASES: dict[str, re.Pattern[str]] = {
    "113": re.compile(r"\b113\b|\b112\b|\bambulanse\w*|\bamk\b|\bnødnummer\w*"),
    "legevakt": re.compile(
        r"\b116117\b|\blegevaktnummer\w*|\bring(?:e|er)? (?:\w+ ){0,2}(?:oss|legevakten|igjen|tilbake|hit)\b|"
        r"\bta kontakt (?:igjen|med oss|med legevakten)\b|\bkontakt (?:oss|legevakten)\b|\bring\w* (?:\w+ )?på nytt\b"
    ),
    "kom_inn": re.compile(
        r"\b(?:kom|komme|kommer|dra|kjør|kjøre|reis|reise) (?:\w+ ){0,2}(?:inn|hit|til legevakten|til oss|"
        r"til sykehuset|til mottaket)\b|\bakuttmottak\w*"
    ),
    "fastlege": re.compile(r"\bfastlege\w*|\blegekontor\w*"),
}
PLACEHOLDERS = ("{tegn_113}", "{tegn}", "{tidsramme}", "{nummer}")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
SMS_MAX_CHARS = 480


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _phrase_list(value: tuple[str, ...]) -> tuple[str, ...]:
    bad = [p for p in value if not p.strip() or len(p) > 80 or not re.search(r"[^\W\d_]|\d", p)]
    if bad:
        raise ValueError(f"phrases must be 1-80 characters of words: {bad}")
    return tuple(p.strip() for p in value)


class Sign(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id of the sign within the reason.")
    tekst: str = Field(
        min_length=3, max_length=60, description="The sign in plain bokmål, as the SMS says it."
    )
    fraser: tuple[str, ...] = Field(
        min_length=1, description="Staff phrases that name the sign (bokmål; '*' any ending, '_' one word)."
    )
    handling: Action = Field(
        description="What to do when the sign appears: 113, legevakt, kom_inn or fastlege."
    )

    @field_validator("fraser")
    @classmethod
    def _phrases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _phrase_list(value)


class TimeFrame(_Strict):
    tekst: str = Field(
        min_length=5, max_length=120, description="The time frame in plain bokmål for the SMS."
    )
    fraser: tuple[str, ...] = Field(
        min_length=1, description="Staff phrases that give this time frame ('innen to døgn', 'i morgen')."
    )
    handling: Action = Field(description="What to do when the time frame runs out.")

    @field_validator("fraser")
    @classmethod
    def _phrases(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _phrase_list(value)


class AdviceStandard(_Strict):
    """One contact reason's standard worsening advice (one YAML file)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id; the file is named after it.")
    versjon: int = Field(ge=1, description="Raised on every change of meaning.")
    navn: str = Field(min_length=3, max_length=60, description="The contact reason's name in bokmål.")
    status: Literal["eksempel", "godkjent"] = Field(
        description="'eksempel' until the legevakt's medical lead has approved it ('godkjent')."
    )
    kilde: str = Field(min_length=10, description="Where the content comes from.")
    godkjent_av: str | None = Field(
        None, description="Who approved it (name and role); required when godkjent."
    )
    godkjent_dato: date | None = Field(None, description="When it was approved; required when godkjent.")
    stikkord: tuple[str, ...] = Field(
        min_length=3, description="Cue phrases that recognise the reason in the caller's words."
    )
    forutsetter: tuple[str, ...] = Field(
        (),
        description="If set, at least one of these phrases must occur in the call (e.g. that it is a child).",
    )
    tegn: tuple[Sign, ...] = Field(min_length=3, description="The key worsening signs, most urgent first.")
    tidsrammer: tuple[TimeFrame, ...] = Field(min_length=1, description="The time frames that apply.")
    sms: str = Field(
        min_length=40,
        max_length=SMS_MAX_CHARS,
        description="Standard SMS text in plain bokmål; placeholders {tegn_113}, {tegn}, {tidsramme}, {nummer}.",
    )

    @field_validator("stikkord", "forutsetter")
    @classmethod
    def _cues(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _phrase_list(value)

    @model_validator(mode="after")
    def _consistent(self) -> AdviceStandard:
        ids = [s.id for s in self.tegn]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate sign id(s): {', '.join(dupes)}")
        unknown = [p for p in _PLACEHOLDER.findall(self.sms) if p not in PLACEHOLDERS]
        if unknown:
            raise ValueError(f"sms: unknown placeholder(s) {unknown}; accepted: {', '.join(PLACEHOLDERS)}")
        if "{tegn}" not in self.sms and "{tegn_113}" not in self.sms:
            raise ValueError("sms: must contain {tegn} or {tegn_113} so the signs can be listed")
        if self.status == "godkjent" and (not self.godkjent_av or self.godkjent_dato is None):
            raise ValueError("status godkjent needs godkjent_av (who) and godkjent_dato (when)")
        if self.status == "eksempel" and (self.godkjent_av or self.godkjent_dato):
            raise ValueError("godkjent_av/godkjent_dato are only for status godkjent")
        return self

    @property
    def approved(self) -> bool:
        return self.status == "godkjent"

    @cached_property
    def compiled(self) -> dict[str, object]:
        cues: dict[str, tuple[str, Lex]] = {}  # nynorsk and bokmål forms normalise alike
        for p in self.stikkord:
            pattern = _compile(p)
            cues.setdefault(pattern.pattern, (p, pattern))
        return {
            "cues": list(cues.values()),
            "requires": [_compile(p) for p in self.forutsetter] if self.forutsetter else None,
            "signs": [(s, _compile_any(s.fraser)) for s in self.tegn],
            "frames": [(t, _compile_any(t.fraser)) for t in self.tidsrammer],
        }


def _compile(phrase: str) -> Lex:
    """A phrase as a pattern over normalised text (same normalisation as the transcript), with its
    longest literal word as a needle so text without it is skipped without running the regex."""
    parts: list[str | None] = []
    runs, run = [], []  # runs of words that must appear literally, one after another
    for w in phrase.split():
        if w == "_":
            parts.append(None)
            runs.append(run)
            run = []
            continue
        norm = normalise(w.rstrip("*"), 101).text
        run.append(norm)
        parts.append(re.escape(norm) + (r"\w*" if w.endswith("*") else ""))
        if w.endswith("*"):
            runs.append(run)
            run = []
    runs.append(run)
    literals = [" ".join(r) for r in runs if r]
    body, glue = "", False
    for p in parts:
        if p is None:
            body += ("" if not body else " ") + r"(?:\w+ )?"
            glue = True
            continue
        body += ("" if not body or glue else " ") + p
        glue = False
    return Lex(re.compile(rf"\b{body}\b"), (max(literals, key=len),) if literals else ())


def _compile_any(phrases: tuple[str, ...]) -> Lex:
    compiled = [_compile(p) for p in phrases]
    needles = (
        tuple(dict.fromkeys(n for c in compiled for n in c.needles))
        if all(c.needles for c in compiled)
        else ()
    )
    return Lex(re.compile("|".join(f"(?:{c.pattern})" for c in compiled)), needles)


@dataclass(frozen=True)
class AdviceLibrary:
    standards: tuple[AdviceStandard, ...]
    folder: Path
    sha256: str  # of the validated content of every file, so reformatting changes nothing

    @property
    def key(self) -> str:
        return f"advice#{self.sha256[:12]}"

    @property
    def approved(self) -> bool:
        """Every standard is approved by the medical lead: only then may figures reach reports."""
        return all(s.approved for s in self.standards)

    def get(self, reason_id: str) -> AdviceStandard:
        for s in self.standards:
            if s.id == reason_id:
                return s
        raise KeyError(f"no contact reason {reason_id!r}; known: {', '.join(s.id for s in self.standards)}")


def load_advice_library(folder: Path = ADVICE_DIR) -> AdviceLibrary:
    """Every ``*.yaml`` in ``folder``; a file must be named after its id, and ids are unique."""
    folder = Path(folder)
    found: list[AdviceStandard] = []
    for path in sorted(folder.glob("*.yaml")):
        std = read_yaml_model(path, AdviceStandard, "id, versjon, navn, status, kilde, ...")
        if std.id != path.stem:
            raise RubricError(f"{path}: id {std.id!r} must match the file name ({path.stem!r})")
        found.append(std)
    if not found:
        raise RubricError(f"{folder}: no advice standards (*.yaml with id, navn, stikkord, tegn, ...)")
    canonical = json.dumps([s.model_dump(mode="json") for s in found], sort_keys=True, ensure_ascii=False)
    return AdviceLibrary(tuple(found), folder, hashlib.sha256(canonical.encode()).hexdigest())


# --- detection -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectedReason:
    reason_id: str
    name: str
    confidence: float
    cues: tuple[str, ...]  # the distinct cue phrases found (library wording, safe to show)
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def evidence(self) -> tuple[Evidence, ...]:
        """Where the cues were said (worked out when asked for: scoring in bulk does not need it)."""
        return _evidence(list(self.hits))


def _evidence(hits: list[Hit], n: int = 3) -> tuple[Evidence, ...]:
    from rubrics.scorers._common import evidence_of

    return evidence_of(hits[:n])


def detect_reasons(
    call: CallText, library: AdviceLibrary, params: ScorerParams | None = None
) -> tuple[DetectedReason, ...]:
    """Contact reasons found in the caller's words (staff words when no caller line matches), best first.

    A reason needs a cue phrase in the caller's words, or two in the staff's (an interpreted call);
    a second reason is kept when it has at least half as many distinct
    cues as the best one and at least two. The confidence grows with the number of distinct cues.
    """
    return _detect(view(call, params or ScorerParams()), library)


def _joined(v: CallView, who: str) -> tuple[str, list[int], list[Line]]:
    """The normalised lines of ``who`` ('callers', 'staff', 'all') as one text, with each line's offset."""
    key = ("advice_joined", who)
    if key not in v.memo:
        lines = {"callers": v.callers, "staff": v.staff, "all": v.callers + v.staff}[who]
        offsets, pos = [], 0
        for line in lines:
            offsets.append(pos)
            pos += len(line.norm.text) + 1
        v.memo[key] = ("\n".join(line.norm.text for line in lines), offsets, lines)
    return v.memo[key]  # type: ignore[return-value]


def _requirement_met(v: CallView, std: AdviceStandard) -> bool:
    """Whether one of the standard's ``forutsetter`` phrases occurs in the call (memoised per phrase list)."""
    if not std.forutsetter:
        return True
    key = ("advice_requires", std.forutsetter)
    if key not in v.memo:
        text = _joined(v, "all")[0]
        v.memo[key] = any(r.search(text) for r in std.compiled["requires"])
    return v.memo[key]  # type: ignore[return-value]


def _detect(v: CallView, library: AdviceLibrary) -> tuple[DetectedReason, ...]:
    key = ("advice_reasons", library.sha256)
    cached = v.memo.get(key)
    if cached is not None:
        return cached
    scored = []
    joined = (("callers", 1.0, _joined(v, "callers")), ("staff", 0.7, _joined(v, "staff")))
    for std in library.standards:
        comp = std.compiled
        for _who, factor, (text, offsets, lines) in joined:
            cues, hits = [], []
            for phrase, pattern in comp["cues"]:
                # the needle test inline: this loop runs for every cue of every reason on every call
                m = pattern.regex.search(text) if not pattern.needles or pattern.needles[0] in text else None
                if m:
                    i = bisect_right(offsets, m.start()) - 1
                    line, base = lines[i], offsets[i]
                    cues.append(phrase)
                    hits.append(Hit(line.utt, line.norm, m.start() - base, m.end() - base))
            if cues and len(cues) * factor >= 1:
                if not _requirement_met(v, std):
                    break
                conf = round(min(0.95, 0.45 + 0.15 * len(cues)) * factor, 3)
                scored.append((len(cues) * factor, conf, std, cues, hits))
                break
    scored.sort(key=lambda t: (-t[0], -t[1], t[2].id))
    keep = scored[:1] + [s for s in scored[1:] if s[0] >= max(2, scored[0][0] / 2)]
    out = tuple(
        DetectedReason(std.id, std.navn, conf, tuple(cues), tuple(hits)) for _n, conf, std, cues, hits in keep
    )
    v.memo[key] = out
    return out


# --- coverage ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCoverage:
    id: str
    label: str
    said: bool
    action: str | None = None
    first_at: int = 10**9  # position in the call where it was first said, for ordering the SMS
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def evidence(self) -> tuple[Evidence, ...]:
        """Where it was said (worked out when asked for: scoring in bulk does not need it)."""
        return _evidence(list(self.hits), 2)


@dataclass(frozen=True)
class AdviceCoverage:
    reason_id: str
    reason_name: str
    home_care: bool  # the call ends with advice for home, not with an ambulance or "kom inn nå"
    signs: tuple[ItemCoverage, ...]
    actions: tuple[ItemCoverage, ...]
    time_frames: tuple[ItemCoverage, ...]

    @property
    def signs_said(self) -> tuple[ItemCoverage, ...]:
        return tuple(sorted((s for s in self.signs if s.said), key=lambda s: s.first_at))

    @property
    def signs_missing(self) -> tuple[ItemCoverage, ...]:
        return tuple(s for s in self.signs if not s.said)

    @property
    def meets_standard(self) -> bool:
        """At least two of the standard's signs and an action were said."""
        return len(self.signs_said) >= 2 and any(a.said for a in self.actions)

    def as_dict(self, *, evidence: bool = True) -> dict[str, object]:
        def items(xs: tuple[ItemCoverage, ...]) -> list[dict[str, object]]:
            return [{"id": x.id, "label": x.label, "said": x.said, "action": x.action,
                     **({"evidence": [e.as_dict() for e in x.evidence]} if evidence else {})}
                    for x in xs]  # fmt: skip

        return {
            "reason_id": self.reason_id,
            "reason_name": self.reason_name,
            "home_care": self.home_care,
            "signs": items(self.signs),
            "actions": items(self.actions),
            "time_frames": items(self.time_frames),
            "meets_standard": self.meets_standard,
        }


def _advice_text(line: Line) -> list[tuple[int, int]]:
    """Where the line gives conditional advice: the spans of its scopes (action before 'hvis' included)."""
    return [(s.pre, s.end) for s in line.scopes]


def _find(v: CallView, pattern: Lex | re.Pattern[str]) -> list[Hit]:
    out = []
    for line in v.staff:
        for a, b in _advice_text(line):
            for m in pattern.finditer(line.norm.text, a, b):
                if not line.in_teach_back(m.start()):
                    out.append(Hit(line.utt, line.norm, m.start(), m.end()))
    return out


def _item(id_: str, label: str, hits: list[Hit], action: str | None = None) -> ItemCoverage:
    if not hits:
        return ItemCoverage(id_, label, False, action)
    first = min(h.utt.index * 10_000 + h.start for h in hits)
    return ItemCoverage(id_, label, True, action, first, tuple(hits))


def advice_coverage(
    call: CallText, standard: AdviceStandard, params: ScorerParams | None = None
) -> AdviceCoverage:
    """Which of ``standard``'s signs, actions and time frames the staff said in conditional advice."""
    return _coverage(view(call, params or ScorerParams()), standard)


def _coverage(v: CallView, standard: AdviceStandard) -> AdviceCoverage:
    key = ("advice_coverage_of", id(standard))
    cached = v.memo.get(key)
    if cached is not None and cached[0] is standard:
        return cached[1]
    cov = _compute_coverage(v, standard)
    v.memo[key] = (standard, cov)
    return cov


def _compute_coverage(v: CallView, standard: AdviceStandard) -> AdviceCoverage:
    from rubrics.scorers.advice import advice_elements

    comp = standard.compiled
    signs = tuple(_item(s.id, s.tekst, _find(v, pat), s.handling) for s, pat in comp["signs"])
    wanted = {s.handling for s in standard.tegn} | {t.handling for t in standard.tidsrammer}
    actions = tuple(_item(a, ACTIONS[a], _find(v, _ACTION_PHRASES[a])) for a in ACTIONS if a in wanted)
    frames = tuple(
        _item(f"tidsramme_{i + 1}", t.tekst, _find(v, pat), t.handling)
        for i, (t, pat) in enumerate(comp["frames"])
    )
    home = not advice_elements(v).immediate
    return AdviceCoverage(standard.id, standard.navn, home, signs, actions, frames)


# --- the written advice --------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " eller " + items[-1] if items else ""


def sms_draft(
    standard: AdviceStandard,
    coverage: AdviceCoverage | None = None,
    *,
    service_number: str = "116117",
    max_chars: int = SMS_MAX_CHARS,
) -> str:
    """The standard SMS text adapted to the call: the signs the staff named first, then the rest of the
    standard's signs; the time frame the staff gave when it is one of the standard's, else the first.

    Only library wording is inserted, never words from the transcript; still run an anonymiser
    over the result before it is shown. Signs are dropped from the end until the text fits ``max_chars``.
    """
    said = [s.id for s in coverage.signs_said] if coverage else []
    order = said + [s.id for s in standard.tegn if s.id not in said]
    by_id = {s.id: s for s in standard.tegn}
    urgent = [by_id[i].tekst for i in order if by_id[i].handling == "113"]
    other = [by_id[i].tekst for i in order if by_id[i].handling != "113"]
    if "{tegn_113}" not in standard.sms:
        other, urgent = urgent + other, []
    frame = standard.tidsrammer[0].tekst
    if coverage:
        given = [t for t in coverage.time_frames if t.said]
        if given:
            frame = given[0].label

    def fill(u: list[str], o: list[str]) -> str:
        text = standard.sms
        for key, value in (("{tegn_113}", _join(u)), ("{tegn}", _join(o)), ("{tidsramme}", frame),
                           ("{nummer}", service_number)):  # fmt: skip
            text = text.replace(key, value)
        return re.sub(r"\s+", " ", text).strip()

    text = fill(urgent, other)
    while len(text) > max_chars and (len(urgent) > 1 or len(other) > 1):
        if len(other) >= len(urgent) and len(other) > 1:
            other = other[:-1]
        else:
            urgent = urgent[:-1]
        text = fill(urgent, other)
    return text[:max_chars]


def reflection_questions(coverage: AdviceCoverage | None, standard: AdviceStandard) -> list[str]:
    """Questions for a feedback session that refer to the standard for the call's reason (bokmål)."""
    name = standard.navn[0].lower() + standard.navn[1:]
    qs = []
    if coverage is None or coverage.signs_missing:
        qs.append(f"Hvilke tegn på forverring i standardrådet for {name} ble ikke nevnt?")
    if coverage is not None and not any(a.said for a in coverage.actions):
        qs.append("Hva skulle innringeren gjøre, og hvem skulle hen ringe, om tegnene kom?")
    if coverage is None or not any(t.said for t in coverage.time_frames):
        qs.append(
            f"Standardrådet gir en tidsramme («{standard.tidsrammer[0].tekst}»). Hvordan kunne den vært sagt?"
        )
    qs.append("Hvordan ville det skriftlige rådet (SMS-utkastet) ha hjulpet denne innringeren?")
    return qs


# --- the library the scorers use ----------------------------------------------------------------

_ACTIVE: ContextVar[AdviceLibrary | None] = ContextVar("lydlogg_advice_library", default=None)


@lru_cache(maxsize=1)
def _builtin() -> AdviceLibrary:
    return load_advice_library(ADVICE_DIR)


def active_library() -> AdviceLibrary:
    """The library set with :func:`library_in_use`, else the built-in ``rubrics/advice``."""
    return _ACTIVE.get() or _builtin()


@contextmanager
def library_in_use(library: AdviceLibrary) -> Iterator[AdviceLibrary]:
    """Score with ``library`` (a site's own folder) inside the ``with`` block."""
    token = _ACTIVE.set(library)
    try:
        yield library
    finally:
        _ACTIVE.reset(token)


def standard_coverage(v: CallView) -> AdviceCoverage | None:
    """The coverage of the best-detected reason's standard in an analysed call, or None (no reason)."""
    library = active_library()
    key = ("advice_coverage", library.sha256)
    if key not in v.memo:
        reasons = _detect(v, library)
        v.memo[key] = _coverage(v, library.get(reasons[0].reason_id)) if reasons else None
    return v.memo[key]  # type: ignore[return-value]
