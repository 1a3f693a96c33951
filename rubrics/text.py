"""Norwegian text normalisation for the rubric scorers (pure functions, cached per text).

:func:`normalise` turns one utterance into a :class:`Norm`: lower case, punctuation dropped
(sentence ends kept as ``.``/``?`` tokens), fillers removed, nynorsk and dialect forms mapped to
bokmål, spelled-out numbers turned into digits ("hundre og tretten" → ``113``, "én én seks én én
sju" → ``116117``, "trettiåtte komma fem" → ``38,5``), split compounds rejoined ("lege vakten" →
``legevakten``), words glued to a function word split ("forverringav" → ``forverring av``), and
ASR misspellings of a small key vocabulary corrected with rapidfuzz. Every normalised token keeps
the character span of the original words it came from, so a match in ``Norm.text`` maps back to
the original utterance text with :meth:`Norm.span`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from norsk.numbers import ARTICLE_ONES, UNITS, NumberPiece, combine, parse_number_word
from rubrics import tolerance

__all__ = [
    "DEFAULT_FUZZY_CUTOFF",
    "KEY_VOCAB",
    "Norm",
    "normalise",
    "safe_snippet",
]

DEFAULT_FUZZY_CUTOFF = 90

_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+|[.!?;:]+")

_FILLERS = frozenset({"eh", "ehm", "eeh", "ehh", "øh", "øhm", "hm", "hmm", "mhm", "æh", "ææ", "mm", "mmm"})

# Nynorsk and dialect forms → bokmål (one token to one or more tokens).
_DIALECT: dict[str, str] = {
    # pronouns and function words
    "eg": "jeg",
    "æ": "jeg",
    "ho": "hun",
    "dei": "de",
    "dykk": "dere",
    "dokker": "dere",
    "dokk": "dere",
    "ikkje": "ikke",
    "itte": "ikke",
    "ikkj": "ikke",
    "kje": "ikke",
    "kva": "hva",
    "ka": "hva",
    "korleis": "hvordan",
    "koss": "hvordan",
    "kossen": "hvordan",
    "kor": "hvor",
    "kvar": "hvor",
    "kven": "hvem",
    "kvifor": "hvorfor",
    "kvifør": "hvorfor",
    "no": "nå",
    "då": "da",
    "viss": "hvis",
    "att": "igjen",
    "ein": "en",
    "eit": "et",
    "eitt": "ett",
    "noko": "noe",
    "nokon": "noen",
    "nokre": "noen",
    "mykje": "mye",
    "berre": "bare",
    "heilt": "helt",
    "heile": "hele",
    "sjølv": "selv",
    "sjøl": "selv",
    "seier": "sier",
    "veit": "vet",
    "frå": "fra",
    "òg": "også",
    "au": "også",
    "me": "vi",
    "vere": "være",
    "vore": "vært",
    "vori": "vært",
    "kome": "komme",
    "kjem": "kommer",
    "treng": "trenger",
    "trengst": "trengs",
    "høyrest": "høres",
    "høyres": "høres",
    "heiter": "heter",
    "snakkar": "snakker",
    "ringjer": "ringer",
    "ringar": "ringer",
    "fortelje": "fortelle",
    "fortel": "forteller",
    "skildre": "beskrive",
    "spør": "spør",
    "svelgje": "svelge",
    "svelgjer": "svelger",
    "tissa": "tisse",
    "pusta": "puste",
    "betre": "bedre",
    "dårlegare": "dårligere",
    "dårleg": "dårlig",
    "verste": "verste",
    "vondare": "vondere",
    "sjukepleiar": "sykepleier",
    "sjukepleiaren": "sykepleieren",
    "sjukepleier": "sykepleier",
    "sykepleiar": "sykepleier",
    "legevakta": "legevakten",
    "legevakt": "legevakten",
    "legevaktlegen": "legevaktlegen",
    "sjukehus": "sykehus",
    "sjukehuset": "sykehuset",
    "sjuk": "syk",
    "sjuke": "syke",
    "veke": "uke",
    "veka": "uka",
    "veker": "uker",
    "vekene": "ukene",
    "dagar": "dager",
    "timar": "timer",
    "minutt": "minutter",
    "døgnet": "døgnet",
    "raud": "rød",
    "raudt": "rødt",
    "auget": "øyet",
    "auga": "øynene",
    "augo": "øynene",
    "hovudet": "hodet",
    "hovud": "hode",
    "hastar": "haster",
    "uroa": "urolig",
    "uroleg": "urolig",
    "bekymra": "bekymret",
    "redde": "redd",
    "snakka": "snakket",
    "prata": "pratet",
    "roa": "roet",
    "stoppa": "stoppet",
    "kasta": "kastet",
    "byrja": "begynte",
    "starta": "startet",
    "undersøkjast": "undersøkes",
    "undersøkt": "undersøkt",
    "utelukka": "utelukke",
    "sikkert": "sikkert",
    "usikkert": "usikkert",
    "skjønar": "skjønner",
    "forstår": "forstår",
    "gjere": "gjøre",
    "gjer": "gjør",
    "følgje": "følge",
    "nummen": "nummen",
    "slik": "sånn",
    "sånt": "sånn",
    "ditt": "ditt",
    "opne": "åpne",
    "opna": "åpne",
    "kjenner": "kjenner",
    "tenkjer": "tenker",
    "trur": "tror",
    "ønskjer": "ønsker",
    "håpa": "håpet",
    "fekk": "fikk",
    "vart": "ble",
    "blei": "ble",
    "vaknar": "våkner",
    "ambulansen": "ambulansen",
}

_EMERGENCY_NUMBERS = frozenset({"113", "112", "110", "116117"})

# Key vocabulary: the words the concept lexicons rest on. Split compounds are rejoined when the
# joined form is here, glued function words are split off them, and ASR misspellings are mapped to them.
KEY_VOCAB: frozenset[str] = frozenset(
    {
        "legevakten",
        "legevaktlege",
        "legevaktlegen",
        "legevaktsentralen",
        "sykepleier",
        "sykepleieren",
        "fastlegen",
        "fastlege",
        "sykehjemslegen",
        "videosamtale",
        "videosamtalen",
        "videokonsultasjon",
        "ambulanse",
        "ambulansen",
        "forverring",
        "forverres",
        "dårligere",
        "blodfortynnende",
        "brystsmerter",
        "pustebesvær",
        "andpusten",
        "oppsummere",
        "oppsummert",
        "oppsummering",
        "bekymret",
        "urolig",
        "engstelig",
        "utelukke",
        "usikker",
        "tilbake",
        "beskrive",
        "fortelle",
        "forklare",
        "gjenta",
        "kontakt",
        "undersøkt",
        "undersøkes",
        "bevisstløs",
        "forvirret",
        "lysømfintlig",
        "nakkestiv",
        "lammelser",
        "nummenhet",
        "utslett",
        "elveblest",
        "oppkastet",
        "kramper",
        "telefonen",
        "sykehuset",
        "legekontoret",
        "helsestasjonen",
        "hjemmesykepleien",
        "selvmordstanker",
        "akuttmottaket",
        "sykepleierne",
    }
)
_GLUE = frozenset({"av", "og", "i", "på", "så", "da", "nå", "for", "med", "til", "om", "er"})
_COMMON = frozenset(
    {
        "sikker",
        "sikkert",
        "kontakter",
        "kontakte",
        "fortalte",
        "forteller",
        "beskriver",
        "beskrev",
        "forklarer",
        "gjentar",
        "bekymring",
        "bekymre",
        "undersøke",
        "undersøker",
        "undersøkelse",
        "telefon",
        "ambulanser",
        "legevakter",
    }
)
_FUZZY_CANDIDATES: dict[str, list[str]] = {}
for _w in KEY_VOCAB:
    _FUZZY_CANDIDATES.setdefault(_w[:2], []).append(_w)


@dataclass(frozen=True)
class Norm:
    """A normalised utterance: ``text`` (tokens joined by single spaces) and, per token, the span
    of the original text it came from and whether it was fuzzily corrected."""

    text: str
    tokens: tuple[str, ...]
    pos: tuple[int, ...]  # char offset of each token in ``text``
    starts: tuple[int, ...]  # original start char of each token
    ends: tuple[int, ...]  # original end char of each token
    fuzzy: frozenset[int]

    def token_at(self, char: int) -> int:
        return max(0, bisect_right(self.pos, char) - 1)

    def before(self, char: int, k: int) -> tuple[str, ...]:
        """The up to ``k`` tokens right before the token holding ``char``, nearest last."""
        i = self.token_at(char) if self.tokens else 0
        return self.tokens[max(0, i - k) : i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) character span covering normalised chars [start, end)."""
        if not self.tokens:
            return 0, 0
        i, j = self.token_at(start), self.token_at(max(start, end - 1))
        return self.starts[i], self.ends[j]

    def is_fuzzy(self, start: int, end: int) -> bool:
        if not self.fuzzy:
            return False
        i, j = self.token_at(start), self.token_at(max(start, end - 1))
        return any(k in self.fuzzy for k in range(i, j + 1))

    def sentence_bounds(self, char: int) -> tuple[int, int]:
        """Normalised char range of the sentence (between ``.``/``?`` tokens) holding ``char``."""
        left = max(self.text.rfind(" . ", 0, char), self.text.rfind(" ? ", 0, char))
        start = 0 if left < 0 else left + 3
        ends = [i for i in (self.text.find(" . ", char), self.text.find(" ? ", char)) if i >= 0]
        end = min(ends) if ends else len(self.text)
        return start, end


@lru_cache(maxsize=16384)
def _number_piece(tok: str) -> NumberPiece | None:
    """A spoken number word as the shared parser reads it, less what a scorer must not take for a
    number: the article forms of "one" ("en", "ett"), "tusen" ("tusen takk") and years."""
    if tok in ARTICLE_ONES or "tusen" in tok or not tok or tok[0].isdigit():
        return None
    piece = parse_number_word(tok)
    return None if piece is None or piece.shape == "year" else piece


def _number_value(tok: str) -> int | None:
    """Value of a single number word (not the ambiguous article forms of 'one')."""
    piece = _number_piece(tok)
    return None if piece is None else piece.value


def _is_single_digit_word(tok: str) -> bool:
    return tok in ARTICLE_ONES or tok in UNITS


Tok = tuple[str, int, int, bool]  # (text, orig_start, orig_end, fuzzy)


def _numbers(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        t, s, e, f = toks[i]
        # A run of single-digit words read digit by digit ("én én seks én én sju", "ett ett tre").
        j = i
        while j < n and (
            _is_single_digit_word(toks[j][0]) or (toks[j][0].isdigit() and len(toks[j][0]) == 1)
        ):
            j += 1
        if j - i >= 3:
            digits = "".join(
                "1"
                if toks[k][0] in ARTICLE_ONES
                else (toks[k][0] if toks[k][0].isdigit() else str(UNITS[toks[k][0]]))
                for k in range(i, j)
            )
            out.append((digits, s, toks[j - 1][2], f))
            i = j
            continue
        piece = _number_piece(t)
        if piece is not None:
            end_i = i
            # "fire hundre (og) tretten", "hundre og tretten", "tretti åtte" → 38
            nxt = _number_piece(toks[i + 1][0]) if i + 1 < n else None
            if nxt is not None and piece.shape == "unit" and nxt.shape == "hundred" and nxt.value == 100:
                joined = combine(piece, nxt, False)
                if joined is not None:
                    piece, end_i = joined, i + 1
            if piece.shape == "hundred" and end_i + 2 < n and toks[end_i + 1][0] == "og":
                rest = _number_piece(toks[end_i + 2][0])
                joined = combine(piece, rest, True) if rest is not None else None
                if joined is not None:
                    piece, end_i = joined, end_i + 2
            nxt = _number_piece(toks[end_i + 1][0]) if end_i + 1 < n else None
            if piece.shape == "tens" and nxt is not None and (joined := combine(piece, nxt, False)):
                piece, end_i = joined, end_i + 1
            out.append((piece.digits, s, toks[end_i][2], f))
            i = end_i + 1
            continue
        if t in ARTICLE_ONES and i + 1 < n and toks[i + 1][0] == "komma":
            out.append(("1", s, e, f))
            i += 1
            continue
        out.append(toks[i])
        i += 1
    # "38 komma 5" → "38,5"; "116 117" → "116117"
    merged: list[Tok] = []
    for tok in out:
        if len(merged) >= 2 and merged[-1][0] == "komma" and merged[-2][0].isdigit() and tok[0].isdigit():
            a = merged[-2]
            merged[-2:] = [(f"{a[0]},{tok[0]}", a[1], tok[2], a[3] or tok[3])]
            continue
        if (
            merged
            and merged[-1][0].isdigit()
            and tok[0].isdigit()
            and merged[-1][0] + tok[0] in _EMERGENCY_NUMBERS
        ):
            a = merged[-1]
            merged[-1] = (a[0] + tok[0], a[1], tok[2], a[3] or tok[3])
            continue
        merged.append(tok)
    return merged


@lru_cache(maxsize=65536)
def _fuzzy_fix(tok: str, cutoff: int) -> str | None:
    """The key word an ASR-garbled token most likely is, or None. Same first two letters, length
    within one, and a rapidfuzz ratio at or above ``cutoff``."""
    if len(tok) < 7 or tok in KEY_VOCAB or tok in _COMMON or cutoff > 100:
        return None
    # Inflections differ from a key word at the end ("fortell"/"fortelle", "usikker"/"usikkert"); they
    # are other words, not ASR noise, so a candidate the token merely extends or cuts short is skipped.
    cands = [
        c
        for c in _FUZZY_CANDIDATES.get(tok[:2], ())
        if abs(len(c) - len(tok)) <= 1
        and not c.startswith(tok)
        and not tok.startswith(c)
        and not (len(c) == len(tok) and c[:-2] == tok[:-2])
    ]
    if not cands:
        return None
    best = process.extractOne(tok, cands, scorer=fuzz.ratio, score_cutoff=cutoff)
    return best[0] if best else None


def _unglue(t: str) -> tuple[str, str] | None:
    """'forverringav' → ('forverring', 'av'): a key word glued to a short function word."""
    for k in (1, 2, 3):
        if t[-k:] in _GLUE and t[:-k] in KEY_VOCAB:
            return t[:-k], t[-k:]
        if t[:k] in _GLUE and t[k:] in KEY_VOCAB:
            return t[:k], t[k:]
    return None


@lru_cache(maxsize=200_000)
def _word(t: str, cutoff: int, edits: int = 0) -> tuple[tuple[str, ...], bool]:
    """One lower-cased word → its bokmål word(s), and whether a fuzzy correction was made."""
    mapped = _DIALECT.get(t)
    if mapped is not None:
        return tuple(mapped.split()), False
    if len(t) > 6 and t not in KEY_VOCAB:
        parts = tolerance.split(t) if edits else _unglue(t)
        if parts:
            return parts, False
        fixed = _fuzzy_fix(t, cutoff)
        if fixed is not None:
            return (fixed,), True
    if edits:
        near = tolerance.near_word(t, edits)
        if near is not None:
            return (near[0],), True
    return (t,), False


def _rejoin(
    toks: list[str], starts: list[int], ends: list[int], fuzzy: set[int], raw: str, w: str, e: int, edits: int
) -> bool:
    """Join ``w`` onto the last one or two tokens when together they spell a key word, exactly or
    as a near miss ("video sam talen" → ``videosamtalen``); in place, True when joined. Tokens that
    are already key words, or that a fuzzy correction produced, are left alone."""
    if w != raw or not toks or (len(toks) - 1) in fuzzy:
        return False
    vocab = tolerance.vocabulary()
    if w in vocab:
        return False
    for n in (2, 1):
        if len(toks) < n:
            continue
        parts = (*toks[-n:], w)
        if n == 2 and (parts[0] in vocab or parts[0] in ".?"):
            continue
        if parts[-2] in vocab or parts[-2] in ".?" or len(parts[-2]) + len(w) + (n - 1) * 2 < 5:
            continue
        got = tolerance.join(parts, edits)
        if got is None:
            continue
        keep = len(toks) - n + 1
        del toks[keep:], starts[keep:], ends[keep:]
        toks[-1] = got[0]
        ends[-1] = e
        if got[1]:
            fuzzy.add(len(toks) - 1)
        return True
    return False


@lru_cache(maxsize=65536)
def normalise(text: str, fuzzy_cutoff: int = DEFAULT_FUZZY_CUTOFF, near_edits: int = 0) -> Norm:
    """``text`` normalised (see the module doc). ``near_edits`` > 0 also reads near misses, joins
    and splits of the key words (:mod:`rubrics.tolerance`), with at most that many edits."""
    low = text.lower()
    if len(low) != len(text):  # a rare character whose lower case is longer: keep offsets exact
        low = text
    toks: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    fuzzy: set[int] = set()
    has_number = False
    for m in _TOKEN.finditer(low):
        t = m.group()
        if t[0] in ".!?;:":
            if toks and toks[-1] not in ".?":
                toks.append("?" if "?" in t else ".")
                starts.append(m.start())
                ends.append(m.end())
            continue
        if low is text:
            t = t.lower()
        if t in _FILLERS:
            continue
        words, fz = _word(t, fuzzy_cutoff, near_edits)
        s, e = m.start(), m.end()
        for w in words:
            if toks and toks[-1] not in ".?" and len(toks[-1]) >= 2 and len(w) >= 3:
                both = toks[-1] + w
                both = _DIALECT.get(both, both)
                if both in KEY_VOCAB:  # a split compound rejoined ("lege vakten")
                    toks[-1] = both
                    ends[-1] = e
                    continue
                if near_edits and _rejoin(toks, starts, ends, fuzzy, t, w, e, near_edits):
                    continue
            if fz:
                fuzzy.add(len(toks))
            toks.append(w)
            starts.append(s)
            ends.append(e)
            if not has_number and (w[0].isdigit() or _number_piece(w) is not None):
                has_number = True
    if has_number:
        merged = _numbers(
            [(t, s, e, i in fuzzy) for i, (t, s, e) in enumerate(zip(toks, starts, ends, strict=True))]
        )
        toks = [x[0] for x in merged]
        starts = [x[1] for x in merged]
        ends = [x[2] for x in merged]
        fuzzy = {i for i, x in enumerate(merged) if x[3]}
    pos: list[int] = []
    off = 0
    for t in toks:
        pos.append(off)
        off += len(t) + 1
    return Norm(" ".join(toks), tuple(toks), tuple(pos), tuple(starts), tuple(ends), frozenset(fuzzy))


_NUMBER_IN_SNIPPET = re.compile(r"\d[\d ]{2,}\d|\d{3,}")
_NAMED_NUMBERS = {
    "113": "nødnummeret",
    "112": "nødnummeret",
    "110": "nødnummeret",
    "116117": "legevaktnummeret",
}


def safe_snippet(text: str, limit: int = 40) -> str:
    """A short quote fit for a rationale: no phone or ID numbers (emergency numbers named in words)."""

    def repl(m: re.Match[str]) -> str:
        digits = m.group().replace(" ", "")
        return _NAMED_NUMBERS.get(digits, "[nummer]")

    text = _NUMBER_IN_SNIPPET.sub(repl, " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
