"""Find and replace personal identifiers in bokmål text (typed placeholders such as ``[NAVN]``).

The text is tokenised by spaCy's rule-based Norwegian tokenizer (``spacy.blank("nb")`` plus its
sentencizer; no statistical model is needed or downloaded), and multi-word cues ("jeg heter",
"du snakker med", "mitt navn er") are found with spaCy's :class:`~spacy.matcher.PhraseMatcher`.
Each detector below proposes candidate spans with a priority; the strongest non-overlapping ones
win and adjacent spans of one kind merge. The detectors:

* numbers (:mod:`anonymise.numbers`): every run of digits or number words becomes a digit string;
  8 digits (or ``+47`` and 8) are a phone number, 11 digits a national identity number (checked
  with ``stdnum.no.fodselsnummer``, or with a valid date part where speech recognition garbled a
  digit), shorter runs count after a cue ("nummeret mitt er", "personnummer", "født");
* dates: a day (``12.``, ``tolvte``) with a month, optionally a year, and written dates
  (``12.03.1986``); after "født" a date is a date of birth and counts as ``FØDSELSNUMMER``.
  Relative dates ("i går", "på mandag") are kept: they identify no one and the clinical story
  needs them;
* addresses: a street word (``Storgata``, ``Kirkeveien``, ``Kong Oscars gate``) with a house
  number in digits or words, and a postcode with its town;
* names and places: word lists (:mod:`anonymise.names`), cues, and the rule that Norwegian only
  capitalises proper nouns mid-sentence.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from stdnum.no import fodselsnummer

from anonymise.names import lexicon
from anonymise.numbers import NumberRun, find_number_runs, ordinal_value
from anonymise.types import Kind, Redaction

__all__ = ["anonymise_text", "apply_redactions", "cli_anonymise", "find_identifiers"]

logger = logging.getLogger(__name__)

_MONTHS = {
    "januar": 1, "februar": 2, "mars": 3, "april": 4, "mai": 5, "juni": 6, "juli": 7, "august": 8,
    "september": 9, "oktober": 10, "november": 11, "desember": 12, "jan": 1, "feb": 2, "mar": 3,
    "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "nov": 11, "des": 12,
}  # fmt: skip
_STRONG_NAME_CUES = (
    "jeg heter", "han heter", "hun heter", "heter", "mitt navn er", "navnet mitt er", "navnet er",
    "navnet hans er", "navnet hennes er", "navnet på pasienten er", "pasientens navn er",
)  # fmt: skip
_WEAK_NAME_CUES = (
    "du snakker med", "snakker med", "dette er", "det er", "her er", "jeg er", "spør etter",
    "snakke med", "ringer for", "ringer på vegne av", "på vegne av",
)  # fmt: skip
_TITLES = {
    "sykepleier", "sykepleieren", "lege", "legen", "legevikar", "legevikaren", "doktor", "dr", "dr.",
    "fastlege", "fastlegen", "operatør", "operatøren", "jordmor", "fru", "herr", "frøken", "pasient",
    "pasienten", "vakthavende", "turnuslege", "overlege", "sykepleierstudent", "ambulansearbeider",
    "paramediker", "koordinator", "sjåfør",
}  # fmt: skip
_SKIP_AFTER_CUE = {
    "ikke",
    "visst",
    "egentlig",
    "bare",
    "jo",
    "da",
    "nok",
    "også",
    "altså",
    "liksom",
    "eh",
    "ehm",
    "øh",
}
_PERSON_VERBS = {
    "ringte", "ringer", "sa", "sier", "har", "hadde", "er", "var", "kommer", "kom", "skal", "vil", "kan",
    "må", "fikk", "får", "trenger", "ligger", "lå", "snakket", "tok", "falt", "føler", "sover", "bor",
    "heter", "hostet", "spiste", "drakk", "begynte", "klager",
}  # fmt: skip
_PLACE_PREPS = {"i", "på", "fra", "ved", "utenfor", "nær", "mot", "rundt", "nord", "sør", "øst", "vest"}
_PHONE_CUES = {
    "nummer", "nummeret", "telefon", "telefonen", "telefonnummer", "telefonnummeret", "mobil",
    "mobilen", "mobilnummer", "mobilnummeret", "tlf", "tlf.", "ring", "ringe", "ringer", "nås", "treffes",
    "kontaktnummer", "nr", "nr.", "mobiltelefon",
}  # fmt: skip
_FNR_CUES = {
    "fødselsnummer", "fødselsnummeret", "personnummer", "personnummeret", "personnr", "personnr.",
    "fnr", "fnr.", "d-nummer", "d-nummeret", "identitetsnummer", "id-nummer", "fødselsnr", "fødselsnr.",
}  # fmt: skip
_BIRTH_CUES = {"født", "fødd", "fødselsdato", "fødselsdatoen", "fødselsdagen", "bursdag", "bursdagen", "f."}
_POSTCODE_CUES = {"postnummer", "postnummeret", "postnr", "postnr."}
_TIME_CUES = {"kl", "kl.", "klokka", "klokken", "klokka:", "kvart", "halv"}
_DISEASE_WORDS = {
    "syndrom",
    "syndromet",
    "sykdom",
    "sykdommen",
    "sykdom.",
    "test",
    "testen",
    "skala",
    "skåre",
}
_SERVICE_NUMBERS = {"110", "112", "113", "116117", "1881", "1880"}
_STREET_STRONG = re.compile(
    r"^[A-Za-zÆØÅæøåÉéÜü][\w\-]{2,}?(?:gata|gate|gaten|veien|vegen|vei|veg|allé|alle|alléen|stredet|"
    r"smuget|smauet|promenaden)$"
)
_STREET_WEAK = re.compile(
    r"^[A-ZÆØÅ][\w\-]{2,}?(?:bakken|bakke|lia|lien|haugen|stien|svingen|tunet|ringen|plass|plassen|"
    r"torget|torg|kroken|løkka|jordet|åsen|myra|bråten|dalen|lunden|hagen|kollen|toppen|tangen|odden|"
    r"stranda|berget|brygga|bryggen|terrasse|terrassen|parken|skogen|engen|grenda|sletta|vollen|tun|"
    r"heia|vika|holmen|moen|sida|gården|stubben|feltet|kvartalet|hjemmet)$"
)
_STREET_WORDS = {"gate", "gata", "vei", "veien", "veg", "vegen", "allé", "alle", "plass", "torg", "terrasse"}
_STREET_PREFIXES = {
    "Øvre", "Nedre", "Vestre", "Østre", "Søndre", "Nordre", "Store", "Lille", "Gamle", "Nye", "Kong",
    "Dronning", "Prins", "Prinsens", "Sankt", "St.", "Gamlebyen",
}  # fmt: skip
_HOUSE_NUMBER = re.compile(r"^\d{1,4}[A-Ha-h]?$")
_HOUSE_LETTER = re.compile(r"^[A-Ha-h]$")
_WRITTEN_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./-](\d{2}|\d{4}))?$|^(\d{4})-(\d{2})-(\d{2})$")
_EDGE = ".,;:!?\"'()«»"
_ABBREVIATIONS = {"dr.", "st.", "nr.", "kl.", "ca.", "f.", "tlf.", "fnr.", "jf.", "bl.a.", "osv.", "mv."}
_OPENERS = {":", '"', "«", "-", "–", "—", ".", "!", "?"}


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    kind: Kind
    priority: int
    source: str


def _import_spacy() -> Any:
    """Import spaCy without torch: thinc imports torch when it is installed (the diarization
    stage installs it), which costs seconds and memory and is never used by a blank pipeline."""
    import sys

    if "spacy" in sys.modules or "torch" in sys.modules:
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import spacy
        import spacy.matcher  # noqa: F401
    finally:
        del sys.modules["torch"]
    return spacy


@cache
def _nlp() -> Any:
    spacy = _import_spacy()
    from spacy.matcher import PhraseMatcher

    nlp = spacy.blank("nb")
    nlp.add_pipe("sentencizer")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    matcher.add("STRONG", [nlp.make_doc(p) for p in _STRONG_NAME_CUES])
    matcher.add("WEAK", [nlp.make_doc(p) for p in _WEAK_NAME_CUES])
    return nlp, matcher


def _bare(text: str) -> str:
    return text.strip(_EDGE)


def _is_cap(text: str) -> bool:
    """Capitalised like a proper noun: ``Kari``, ``Anne-Lise``; not ``AMK`` or ``EpiPen``."""
    t = _bare(text)
    parts = t.split("-")
    return (
        len(t) >= 2
        and t.replace("-", "").isalpha()
        and all(p[:1].isupper() and p[1:].islower() for p in parts if p)
    )


def _ends_sentence(token: str) -> bool:
    """``min.``, ``igjen!``: a word the tokenizer kept together with the full stop after it."""
    return (
        len(token) > 1
        and token[-1] in ".!?"
        and token.lower() not in _ABBREVIATIONS
        and not token[:-1].isdigit()
    )


class _Doc:
    """Tokens of one text with the facts every detector asks about."""

    def __init__(self, text: str) -> None:
        nlp, matcher = _nlp()
        self.doc = nlp(text)
        self.tokens = list(self.doc)
        self.n = len(self.tokens)
        self.starts = [t.idx for t in self.tokens]
        self.cues: dict[int, str] = {}  # index of the token after a name cue -> STRONG/WEAK
        for match_id, _s, e in sorted(matcher(self.doc), key=lambda m: m[2] - m[1]):
            self.cues[e] = nlp.vocab.strings[match_id]
        self.sent_start = [
            t.is_sent_start
            or i == 0
            or self.tokens[i - 1].is_space
            or self.tokens[i - 1].text in _OPENERS
            or _ends_sentence(self.tokens[i - 1].text)
            or (self.tokens[i - 1].text[:-1].isdigit() and self.tokens[i - 1].text[-1:] == "." and t.is_title)
            for i, t in enumerate(self.tokens)
        ]

    def text(self, i: int) -> str:
        return _bare(self.tokens[i].text) if 0 <= i < self.n else ""

    def lower(self, i: int) -> str:
        return self.text(i).lower()

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Char offsets of tokens i..j inclusive, without edge punctuation."""
        a, b = self.tokens[i], self.tokens[j]
        start = a.idx + (len(a.text) - len(a.text.lstrip(_EDGE)))
        end = b.idx + len(b.text.rstrip(_EDGE))
        return start, max(end, start + 1)

    def token_at(self, offset: int) -> int:
        """Index of the token that holds char ``offset``."""
        return max(0, bisect_right(self.starts, offset) - 1)

    def recent(self, i: int, words: set[str], window: int = 7) -> bool:
        return any(self.tokens[k].lower_.strip(_EDGE) in words or self.tokens[k].lower_ in words
                   for k in range(max(0, i - window), i))  # fmt: skip


def _fnr_like(digits: str) -> bool:
    if fodselsnummer.is_valid(digits):
        return True
    day, month = int(digits[0:2]), int(digits[2:4])
    day, month = (day - 40 if day > 40 else day), (month - 40 if month > 40 else month)
    return 1 <= day <= 31 and 1 <= month <= 12


def _joined_runs(d: _Doc) -> list[NumberRun]:
    """Number runs, with two runs joined by "og" merged where together they make 8 or 11 digits
    ("førti en tjuetre og førtifem sekstisju")."""
    runs = find_number_runs([(t.idx, t.text) for t in d.tokens])
    merged: list[NumberRun] = []
    for run in runs:
        if merged:
            prev = merged[-1]
            gap = d.doc.text[prev.end : run.start].strip(" ,").lower()
            if (
                gap == "og"
                and len(prev.digits) + len(run.digits) in (8, 11)
                and min(len(prev.digits), len(run.digits)) >= 2
            ):
                merged[-1] = NumberRun(
                    prev.start, run.end, prev.digits + run.digits, prev.pieces + run.pieces, True, prev.plus
                )
                continue
        merged.append(run)
    return merged


def _numbers(d: _Doc) -> Iterable[_Candidate]:
    for run in _joined_runs(d):
        digits, n = run.digits, len(run.digits)
        first = d.token_at(run.start)
        last = d.token_at(run.end - 1)
        if digits in _SERVICE_NUMBERS or d.recent(first, _TIME_CUES, 2):
            continue
        if _WRITTEN_DATE.match(d.text(first)) and first == last:
            continue
        phone_cue, fnr_cue = d.recent(first, _PHONE_CUES), d.recent(first, _FNR_CUES)
        birth_cue = d.recent(first, _BIRTH_CUES, 3)
        kind: Kind | None = None
        if n == 11:
            kind = "FØDSELSNUMMER" if (fnr_cue or _fnr_like(digits) or not phone_cue) else "TELEFON"
        elif run.plus or (n in (10, 12) and digits.lstrip("0").startswith("47")):
            kind = "TELEFON"
        elif (fnr_cue and n >= 5) or (birth_cue and n in (6, 8)):
            kind = "FØDSELSNUMMER"
        elif n >= 7 or (phone_cue and n >= 5):
            kind = "TELEFON"
        elif n == 4 and (
            d.recent(first, _POSTCODE_CUES, 3)
            or (_is_cap(d.tokens[last + 1].text) if last + 1 < d.n else False)
        ):
            end = last + 1 if last + 1 < d.n and _is_cap(d.tokens[last + 1].text) else last
            yield _Candidate(run.start, d.span(first, end)[1], "ADRESSE", 80, "postcode")
            continue
        if kind is not None:
            yield _Candidate(run.start, run.end, kind, 70, "number")


def _year_after(d: _Doc, j: int) -> int:
    """Index of the last token of a year starting at token j (or j - 1 when there is none)."""
    if j < d.n and d.tokens[j].text == ",":
        year_end = _year_after(d, j + 1)
        return year_end if year_end > j else j - 1
    if j >= d.n:
        return j - 1
    tokens = [(t.idx, t.text) for t in d.tokens[j : j + 4]]
    runs = find_number_runs(tokens)
    if runs and runs[0].start == d.tokens[j].idx and len(runs[0].digits) in (2, 4):
        last = d.token_at(runs[0].end - 1)
        if runs[0].pieces <= 2 and not d.tokens[j].text.endswith(":"):
            return last
    return j - 1


def _dates(d: _Doc) -> Iterable[_Candidate]:
    for i in range(d.n):
        raw = d.tokens[i].text.rstrip(",;:!?")
        birth = d.recent(i, _BIRTH_CUES, 3) or d.recent(i, _FNR_CUES, 3)
        kind: Kind = "FØDSELSNUMMER" if birth else "DATO"
        m = _WRITTEN_DATE.match(raw.rstrip("."))
        if m and not d.recent(i, _TIME_CUES, 2):
            day, month = (
                (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(6)), int(m.group(5)))
            )
            if 1 <= day <= 31 and 1 <= month <= 12 and (m.group(3) or m.group(4) or "/" in raw or birth):
                yield _Candidate(*d.span(i, i), kind, 75, "written-date")
            continue
        day = ordinal_value(d.tokens[i].text)
        if day is None or not 1 <= day <= 31:
            continue
        j = i + 1
        if (
            d.lower(j) in {"til", "og", "-", "–"}
            and ordinal_value(d.text(j + 1) + ".")
            and d.lower(j + 2) in _MONTHS
        ):
            j += 2  # "fra 3. til 10. januar": the first day belongs to the date too
        if d.lower(j) in _MONTHS and d.tokens[j].lower_.rstrip(".") in _MONTHS:
            end = max(_year_after(d, j + 1), j)
            yield _Candidate(*_join(d.span(i, i), d.span(end, end)), kind, 75, "date")
        elif d.lower(j) == "i" and 1 <= (ordinal_value(d.text(j + 1)) or 0) <= 12:
            end = max(_year_after(d, j + 2), j + 1)
            yield _Candidate(*_join(d.span(i, i), d.span(end, end)), kind, 75, "date")


def _join(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return min(a[0], b[0]), max(a[1], b[1])


def _house_number(d: _Doc, j: int) -> int:
    """Index of the last token of a house number starting at j, or j - 1 when there is none."""
    if j >= d.n:
        return j - 1
    raw = d.text(j)
    last = j - 1
    if _HOUSE_NUMBER.match(raw):
        last = j
    else:
        window = []
        for t in d.tokens[j : j + 6]:
            if t.text in {",", "."}:
                break
            window.append((t.idx, t.text))
        runs = find_number_runs(window)
        if runs and runs[0].start == d.tokens[j].idx and len(runs[0].digits) <= 3 and runs[0].spoken:
            last = d.token_at(runs[0].end - 1)
    if (
        last >= j
        and last + 1 < d.n
        and _HOUSE_LETTER.match(d.tokens[last + 1].text)
        and not d.tokens[last].text.endswith(",")
    ):
        last += 1
    return last


def _addresses(d: _Doc) -> Iterable[_Candidate]:
    for i in range(d.n):
        word = d.text(i)
        start = i
        strong = bool(_STREET_STRONG.match(word))
        weak = bool(_STREET_WEAK.match(word))
        if word.lower() in _STREET_WORDS and i > 0 and _is_cap(d.tokens[i - 1].text):
            strong = True
            while start > 0 and _is_cap(d.tokens[start - 1].text) and not d.sent_start[start]:
                start -= 1
        elif strong or weak:
            while start > 0 and d.text(start - 1) in _STREET_PREFIXES:
                start -= 1
        if not (strong or weak):
            continue
        last = _house_number(d, i + 1)
        has_number = last > i
        capital = d.text(start)[:1].isupper()
        if not has_number and not (strong and capital and not d.sent_start[start]):
            continue
        # ", 0368 Oslo" after the house number
        k = last + 1
        if k < d.n and d.tokens[k].text == ",":
            k += 1
        if k + 1 < d.n and re.fullmatch(r"\d{4}", d.text(k)) and _is_cap(d.tokens[k + 1].text):
            last = k + 1
        yield _Candidate(
            *_join(d.span(start, start), d.span(last if last > i else i, last if last > i else i)),
            "ADRESSE",
            80,
            "street",
        )


def _name_cues(d: _Doc) -> Iterable[_Candidate]:
    lex = lexicon()
    for j0, cue in d.cues.items():
        j = j0
        while (
            j + 1 < d.n
            and (d.lower(j) in _TITLES or d.lower(j) in _SKIP_AFTER_CUE)
            and d.text(j + 1).isalpha()
        ):
            j += 1
        if j >= d.n or not d.text(j) or not d.text(j).replace("-", "").isalpha():
            continue
        word = d.text(j)
        if cue == "STRONG":
            ok = (word[:1].isupper() and not lex.is_non_name(word)) or lex.is_first_name(word.capitalize())
        else:
            ok = _is_cap(word) and not lex.is_non_name(word) and not lex.is_place(word)
        if not ok or _STREET_STRONG.match(word):
            continue
        end = j
        while end + 1 < d.n and _is_cap(d.tokens[end + 1].text) and not lex.is_non_name(d.text(end + 1)):
            if d.tokens[end].text.endswith((",", ".")) or end - j >= 2:
                break
            end += 1
        yield _Candidate(*_join(d.span(j, j), d.span(end, end)), "NAVN", 90, f"cue-{cue.lower()}")
    for i in range(d.n - 1):
        if d.lower(i) in _TITLES and d.tokens[i].text == d.tokens[i].lower_ and _is_cap(d.tokens[i + 1].text):
            word = d.text(i + 1)
            if not lex.is_non_name(word) and not lex.is_place(word):
                yield _Candidate(*d.span(i + 1, i + 1), "NAVN", 90, "cue-title")


def _names_and_places(d: _Doc) -> Iterable[_Candidate]:
    lex = lexicon()
    for i in range(d.n):
        tok = d.tokens[i]
        word = d.text(i)
        if not _is_cap(tok.text) or lex.is_non_name(word):
            continue
        prev = d.lower(i - 1) if i > 0 else ""
        after_prep = prev in _PLACE_PREPS and not d.sent_start[i]
        nxt = d.text(i + 1) if i + 1 < d.n and not tok.text.endswith((",", ".")) else ""
        nxt_is_name = bool(nxt) and _is_cap(nxt) and (lex.is_first_name(nxt) or lex.looks_like_surname(nxt))
        prev_is_name = i > 0 and not d.sent_start[i] and (lex.is_first_name(d.text(i - 1)))
        homograph = lex.is_homograph(word)
        two = f"{word} {nxt}" if nxt else ""
        if two in lex.multiword_places and (after_prep or not d.sent_start[i]):
            yield _Candidate(*d.span(i, i + 1), "STED", 50, "place-list")
            continue
        after_place_prep = after_prep or (prev == "til" and not d.sent_start[i])
        if lex.is_place(word) and (after_place_prep or (not homograph and not lex.is_first_name(word))):
            yield _Candidate(*d.span(i, i), "STED", 50, "place-list")
            continue
        listed = lex.is_first_name(word) or lex.is_surname(word)
        if listed or (prev_is_name and lex.looks_like_surname(word)) or (nxt_is_name and not d.sent_start[i]):
            if homograph and d.sent_start[i]:
                verb = d.lower(i + 1)
                if not (nxt_is_name or verb in _PERSON_VERBS):
                    continue
            yield _Candidate(*d.span(i, i), "NAVN", 45, "name-list")
            continue
        if nxt_is_name and d.sent_start[i] and lex.is_surname(nxt):
            yield _Candidate(*d.span(i, i), "NAVN", 45, "name-list")
            continue
        if d.sent_start[i] or d.lower(i + 1) in _DISEASE_WORDS:
            continue
        if after_prep and prev != "mot":
            yield _Candidate(*d.span(i, i), "STED", 40, "capitalised-after-preposition")
        else:
            yield _Candidate(*d.span(i, i), "NAVN", 30, "capitalised")


def _resolve(text: str, candidates: Iterable[_Candidate]) -> list[Redaction]:
    chosen: list[_Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.priority, -(c.end - c.start), c.start)):
        if all(c.end <= o.start or c.start >= o.end for o in chosen):
            chosen.append(c)
    chosen.sort(key=lambda c: c.start)
    merged: list[_Candidate] = []
    for c in chosen:
        if merged:
            p = merged[-1]
            gap = text[p.end : c.start]
            joinable = gap.strip() == "" or (c.kind == "ADRESSE" and gap.strip() == ",")
            if p.kind == c.kind and joinable and c.kind in ("NAVN", "ADRESSE", "TELEFON"):
                merged[-1] = _Candidate(p.start, c.end, p.kind, max(p.priority, c.priority), p.source)
                continue
        merged.append(c)
    return [Redaction(c.start, c.end, c.kind, text[c.start : c.end], c.source) for c in merged]


def find_identifiers(text: str) -> list[Redaction]:
    """Every name, phone number, national identity number, address, date and place in ``text``.

    Offsets are char offsets into ``text``; the spans do not overlap and come in text order.
    """
    if not text.strip():
        return []
    d = _Doc(text)
    candidates = [*_numbers(d), *_dates(d), *_addresses(d), *_name_cues(d), *_names_and_places(d)]
    found = _resolve(text, candidates)
    # a name found once is a name wherever it is capitalised again ("Liv, hun heter Liv")
    names = {w for r in found if r.kind == "NAVN" and r.source != "capitalised" for w in r.text.split()}
    again = [
        _Candidate(*d.span(i, i), "NAVN", 44, "same-name")
        for i in range(d.n)
        if d.text(i) in names and _is_cap(d.tokens[i].text)
    ]
    if again:
        found = _resolve(text, [*candidates, *again])
    logger.debug("found %d identifiers in %d chars", len(found), len(text))
    return found


def apply_redactions(text: str, redactions: Sequence[Redaction]) -> str:
    """``text`` with each redaction replaced by its placeholder.

    The list may come from a trainer's edits: overlapping or touching spans of one kind are merged,
    and where spans of different kinds overlap the earlier one wins and the later one is cut.
    """
    spans: list[Redaction] = []
    for r in sorted(redactions, key=lambda r: (r.start, -r.end)):
        if r.end > len(text):
            raise ValueError(
                f"redaction {r.start}..{r.end} runs past the end of the text ({len(text)} chars)"
            )
        if spans and r.start < spans[-1].end:
            p = spans[-1]
            if r.end <= p.end:
                continue
            if r.kind == p.kind:
                spans[-1] = Redaction(p.start, r.end, p.kind, source=p.source)
                continue
            r = Redaction(p.end, r.end, r.kind, source=r.source)
        spans.append(r)
    out, pos = [], 0
    for r in spans:
        out.append(text[pos : r.start])
        out.append(r.placeholder)
        pos = r.end
    out.append(text[pos:])
    return "".join(out)


def anonymise_text(text: str, redactions: Sequence[Redaction] | None = None) -> str:
    """``text`` with identifiers replaced by placeholders (found here unless ``redactions`` is given)."""
    return apply_redactions(text, find_identifiers(text) if redactions is None else redactions)


def cli_anonymise(stdin_text: str) -> str:
    """What ``lydlogg anonymise-text`` prints: the text read from stdin, anonymised, line breaks kept."""
    return anonymise_text(stdin_text)
