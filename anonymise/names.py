"""Word lists: Norwegian first names, surnames, places, and the words that only look like them.

The lists live in ``anonymise/data/*.txt`` (one entry a line, ``#`` comments) so that a service
can add local names without touching code. Lookups are case-sensitive on the capitalised form:
Norwegian writes proper nouns, and only proper nouns, with a capital letter mid-sentence, and
speech recognition follows that. Names that are also ordinary words ("Per", "Liv", "Bjørn",
"Hege", "Stig", "Vik") are listed in ``name_homographs.txt`` and need a name context.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

__all__ = ["Lexicon", "lexicon"]

_PATRONYMIC = re.compile(r"^[A-ZÆØÅ][a-zæøå]{2,}(?:sen|ssen|son|sson|sdottir|datter)$")
_FARM_NAME = re.compile(
    r"^[A-ZÆØÅ][a-zæøå]{2,}(?:stad|rud|heim|seth|set|land|gård|gaard|haug|li|lie|by|bø|nes|dal|vik|berg|eng|mo|aas|øy)$"
)


def _read(name: str) -> frozenset[str]:
    text = resources.files("anonymise").joinpath("data", name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


class Lexicon:
    """The word lists, loaded once (see :func:`lexicon`)."""

    def __init__(self) -> None:
        self.first_names = _read("first_names.txt")
        self.surnames = _read("surnames.txt")
        self.places = _read("places.txt")
        self.homographs = _read("name_homographs.txt")
        self.non_names = _read("capitalised_non_names.txt")
        self.multiword_places = frozenset(p for p in self.places if " " in p)

    def is_first_name(self, word: str) -> bool:
        """A listed first name, or a hyphenated pair of them (``Anne-Lise``, ``Per-Arne``)."""
        if word in self.first_names:
            return True
        parts = word.split("-")
        return len(parts) == 2 and all(p in self.first_names for p in parts)

    def is_patronymic(self, word: str) -> bool:
        """``Hansen``, ``Kristoffersen``, ``Olsen``: a first name (or its stem) with -sen/-son.

        A bare ending is not enough: "Adressen", "Nesen", "Bussen" are ordinary nouns.
        """
        m = _PATRONYMIC.match(word)
        if not m:
            return False
        stem = re.sub(r"(?:ssen|sen|sson|son|sdottir|datter)$", "", word)
        stems = {stem, stem + "s", stem + "e", stem + "er", stem[:-1] if stem.endswith("s") else stem}
        return any(s in self.first_names or s + "e" in self.first_names for s in stems)

    def is_surname(self, word: str) -> bool:
        """A listed surname, a patronymic (``Hansen``) or a hyphenated pair of surnames."""
        if word in self.surnames or self.is_patronymic(word):
            return True
        parts = word.split("-")
        return len(parts) == 2 and all(p in self.surnames or self.is_patronymic(p) for p in parts)

    def looks_like_surname(self, word: str) -> bool:
        """A surname, or a capitalised word with the ending of a Norwegian farm name (``Bjørnstad``)."""
        return self.is_surname(word) or bool(_PATRONYMIC.match(word) or _FARM_NAME.match(word))

    def is_place(self, word: str) -> bool:
        return word in self.places

    def is_homograph(self, word: str) -> bool:
        return word in self.homographs

    def is_non_name(self, word: str) -> bool:
        return word in self.non_names


@cache
def lexicon() -> Lexicon:
    return Lexicon()
