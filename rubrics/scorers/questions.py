"""open_questions (0-4) and elicits_concerns (yes/no)."""

from __future__ import annotations

from pydantic import Field

from rubrics.scorers import lexicon as lx
from rubrics.scorers._common import CallView, Hit, ScorerParams, confidence, evidence_of, quote, view, yes_no
from rubrics.types import CallText, CriterionScore

__all__ = [
    "ElicitsConcernsParams",
    "OpenQuestionsParams",
    "open_question_hits",
    "score_elicits_concerns",
    "score_open_questions",
]


class OpenQuestionsParams(ScorerParams):
    min_open_for_3: int = Field(
        3,
        ge=1,
        le=20,
        description="Open-question turns needed for 3 when one invites the story ('kan du fortelle').",
    )
    min_open_for_3_without_story: int = Field(
        4, ge=1, le=20, description="Open-question turns needed for 3 when none invites the story."
    )
    min_open_for_4: int = Field(5, ge=1, le=30, description="Open-question turns that alone reach 4.")
    min_open_for_4_with_stories: int = Field(
        4,
        ge=1,
        le=30,
        description="Open-question turns that reach 4 when the story is invited at least twice.",
    )
    leading_cap: int = Field(
        2, ge=0, le=4, description="Highest value when S1 asks a leading question ('du har vel ikke …?')."
    )


class ElicitsConcernsParams(ScorerParams):
    pass


def _is_real_open(line, m_start: int) -> bool:
    text = line.norm.text
    if line.in_teach_back(m_start):
        return False
    if lx.FACT_QUESTION.match(text, m_start):
        return False
    if text.startswith("som helst", m_start + 4):
        return False
    after = text[m.end() + 1 :].split(" ", 1)[0] if (m := lx.OPEN_WORD.regex.match(text, m_start)) else ""
    if after in lx.EMBEDDED_SUBJECTS and not any(t in lx.ASKING_VERBS for t in line.norm.before(m_start, 3)):
        # "hvordan er det", "hva er det som" invert; "hva det er" / "hva du gjør" do not
        return False
    prev = line.norm.before(m_start, 2)
    if not prev:
        return True
    if prev[-1] in lx.EMBEDDING_VERBS:
        return False
    if len(prev) == 2 and (prev[0], prev[1]) in lx.EMBEDDING_PREP_VERBS:
        return False
    return not (len(prev) == 2 and prev[1] in lx.OBJECT_PRONOUNS and prev[0] in lx.EMBEDDING_VERBS)


def open_question_hits(v: CallView) -> tuple[list[Hit], list[Hit], list[Hit]]:
    """(one hit per staff turn holding an open question, story invitations, leading questions)."""
    per_turn, stories, leading = [], [], []
    for line in v.staff:
        text = line.norm.text
        found: Hit | None = None
        for pattern in (lx.STORY, lx.CONCERN, lx.OPEN_WORD):
            for m in pattern.finditer(text):
                if pattern is lx.OPEN_WORD and not _is_real_open(line, m.start()):
                    continue
                if line.in_teach_back(m.start()):
                    continue
                h = Hit(line.utt, line.norm, m.start(), m.end())
                if pattern is lx.STORY:
                    stories.append(h)
                found = found or h
        if found:
            per_turn.append(found)
        leading += [Hit(line.utt, line.norm, m.start(), m.end()) for m in lx.LEADING.finditer(text)]
    return per_turn, stories, leading


def score_open_questions(call: CallText, p: OpenQuestionsParams) -> CriterionScore:
    v = view(call, p)
    opens, stories, leading = open_question_hits(v)
    n, s = len(opens), len(stories)
    cid = "open_questions"
    if n == 0:
        return CriterionScore(cid, 0, confidence(p, call, absent=True), evidence_of(leading),
                              "Ingen åpne spørsmål fra helsepersonellet funnet.")  # fmt: skip
    if n >= p.min_open_for_4 or (n >= p.min_open_for_4_with_stories and s >= 2):
        value = 4
    elif (n >= p.min_open_for_3 and s >= 1) or n >= p.min_open_for_3_without_story:
        value = 3
    elif n >= 2:
        value = 2
    else:
        value = 1
    capped = bool(leading) and value > p.leading_cap
    if capped:
        value = p.leading_cap
    borderline = n in (p.min_open_for_3 - 1, p.min_open_for_3, p.min_open_for_4 - 1) or capped
    hits = opens + leading
    why = f"{n} tur(er) med åpne spørsmål ({quote(opens, 2)})"
    why += f", {s} invitasjon(er) til å fortelle" if s else ", ingen invitasjon til å fortelle"
    if leading:
        why += f"; ledende spørsmål ({quote(leading, 1)})"
    return CriterionScore(
        cid, value, confidence(p, call, hits, weak=borderline), evidence_of(hits), why + "."
    )


def score_elicits_concerns(call: CallText, p: ElicitsConcernsParams) -> CriterionScore:
    v = view(call, p)
    hits = v.hits(lx.CONCERN, outside_teach_back=True)
    return yes_no("elicits_concerns", call, p, hits, evidence_n=None,
                  found="Spør etter innringers bekymring eller forventning ({quote}).",
                  missing="Ingen spørsmål om bekymring, egne tanker eller forventninger funnet.")  # fmt: skip
