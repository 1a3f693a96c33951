"""Tolerance for speech-recognition errors on the scorers' key words (pure: no I/O after import).

A recogniser splits words ("for verring", "video sam talen"), glues them ("ringoss") and gets a
letter or two wrong ("forverrng"). :func:`rubrics.text.normalise` asks this module three things
about the tokens it reads:

* :func:`near_word`: the key word a token is a near miss of, by Levenshtein distance with a
  length-aware limit (:func:`allowed_edits`: none below 5 letters, one up to 8, two from 9);
* :func:`join`: the key word that two or three adjacent tokens make when written together,
  exactly or as a near miss of the joined form;
* :func:`split`: a token that is a key word or a known verb glued to a short function word.

The key words are :data:`rubrics.text.KEY_VOCAB` plus the words in
``recognition_errors/tolerance.yaml``; that file
also names words never to be read as near misses (real words one letter from a key word) and the
verbs that recognition glues to their object. A match found through a near miss is marked fuzzy,
so its confidence is lowered (``fuzzy_factor``); an exact rejoin or split is not.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

__all__ = ["EXTRA_WORDS", "TABLES_SHA256", "allowed_edits", "join", "near_word", "split", "vocabulary"]

_DATA = Path(__file__).with_name("recognition_errors") / "tolerance.yaml"


def _load(path: Path) -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = {"key_words", "never_near", "glue_words", "glued_verbs", "verb_objects"}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(
            f"{path}: unknown field(s) {', '.join(sorted(unknown))}; accepted: {', '.join(sorted(known))}"
        )
    out: dict[str, frozenset[str]] = {}
    for key in sorted(known):
        value = raw.get(key) or []
        if isinstance(value, dict):  # key words may be grouped by concept for readability
            value = [w for words in value.values() for w in (words or [])]
        if not isinstance(value, list) or not all(
            isinstance(w, str) and w == w.strip().lower() and w for w in value
        ):
            raise ValueError(f"{path}: {key} must be a list (or groups of lists) of lower-case words")
        out[key] = frozenset(value)
    return out


_TABLES = _load(_DATA)
# Part of every rubric's content hash (rubrics/loader.py): editing the tables re-scores stored calls.
TABLES_SHA256 = hashlib.sha256(
    json.dumps({k: sorted(v) for k, v in _TABLES.items()}, sort_keys=True, ensure_ascii=False).encode()
).hexdigest()
EXTRA_WORDS: frozenset[str] = _TABLES["key_words"]
_NEVER_NEAR = _TABLES["never_near"]
_GLUE = _TABLES["glue_words"]
_VERBS = _TABLES["glued_verbs"]
_OBJECTS = _TABLES["verb_objects"]


def allowed_edits(length: int, limit: int = 2) -> int:
    """Edits a near miss of a key word of ``length`` letters may have (capped by ``limit``)."""
    if length < 5:
        return 0
    return min(limit, 1 if length < 9 else 2)


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    from rubrics.text import KEY_VOCAB

    return KEY_VOCAB | EXTRA_WORDS


@lru_cache(maxsize=4)
def _by_initial(limit: int) -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for w in vocabulary():
        if allowed_edits(len(w), limit):
            groups.setdefault(w[0], []).append(w)
    return {k: tuple(sorted(v)) for k, v in groups.items()}


def _inflection(tok: str, word: str) -> bool:
    """True when ``tok`` and ``word`` differ only at the end (another form, not a recognition error)."""
    return tok.startswith(word) or word.startswith(tok) or (len(tok) == len(word) and tok[:-2] == word[:-2])


@lru_cache(maxsize=200_000)
def near_word(tok: str, limit: int = 2) -> tuple[str, int] | None:
    """The key word ``tok`` is a near miss of and the edits between them, or None.

    Same first letter, within :func:`allowed_edits` of the key word's length, and ``tok`` neither
    another form of a key word (a different ending) nor a word listed as never near. Ties go to the key word
    listed first alphabetically, so the answer never depends on set order."""
    if limit <= 0 or len(tok) < 5 or tok in _NEVER_NEAR or tok in vocabulary() or _inflects(tok):
        return None
    candidates = _by_initial(limit).get(tok[0], ())
    if not candidates:
        return None
    best: tuple[str, int] | None = None
    # the C loop finds every key word within the widest limit; each is then held to its own limit
    for word, d, _ in process.extract_iter(tok, candidates, scorer=Levenshtein.distance, score_cutoff=limit):
        k = allowed_edits(len(word), limit)
        if d > k or _inflection(tok, word):
            continue
        if best is None or d < best[1] or (d == best[1] and word < best[0]):
            best = (word, d)
    return best


@lru_cache(maxsize=200_000)
def join(parts: tuple[str, ...], limit: int = 2) -> tuple[str, bool] | None:
    """The key word that adjacent tokens ``parts`` form written together, and whether that took a
    near miss; None when they form none. Each part has at least two letters."""
    whole = "".join(parts)
    if len(parts) < 2 or min(map(len, parts)) < 2 or not whole.isalpha():
        return None
    vocab = vocabulary()
    if whole in vocab:
        return whole, False
    if len(whole) < 8:  # short joins are too easily two real words
        return None
    if _inflects(whole):  # another form of a key word ("video sam taler" → videosamtaler)
        return (whole, False) if len(whole) >= 10 else None  # "fort eller" stays two words
    hit = near_word(whole, limit)
    return (hit[0], True) if hit else None


@lru_cache(maxsize=1)
def _forms() -> frozenset[str]:
    """Every key word cut short by one or two letters (for :func:`_inflects`)."""
    return frozenset(w[:-k] for w in vocabulary() for k in (1, 2) if len(w) - k >= 5)


def _inflects(whole: str) -> bool:
    """True when ``whole`` is a key word with up to three more letters, or one cut short by up to two."""
    vocab = vocabulary()
    return whole in _forms() or whole[:-1] in vocab or whole[:-2] in vocab or whole[:-3] in vocab


def split(tok: str) -> tuple[str, str] | None:
    """'forverringav' → ('forverring', 'av'): a key word glued to a short function word (either
    side); 'ringoss' → ('ring', 'oss'): a verb glued to its object. None when ``tok`` is neither."""
    vocab = vocabulary()
    if tok in vocab:
        return None
    for k in (1, 2, 3):
        if tok[-k:] in _GLUE and tok[:-k] in vocab:
            return tok[:-k], tok[-k:]
        if tok[:k] in _GLUE and tok[k:] in vocab:
            return tok[:k], tok[k:]
    for k in range(3, len(tok) - 2):
        if tok[:k] in _VERBS and (tok[k:] in _OBJECTS or tok[k:] in vocab):
            return tok[:k], tok[k:]
    return None
