"""Recall and precision of the detector per kind on a labelled set of sentences.

A labelled span is *found* when every letter and digit in it lies inside a detected span of the
same kind (a half-hidden phone number is not hidden), and *hidden* when those characters lie
inside detected spans of any kind. A detected span is *correct* when it overlaps a labelled span
of the same kind. Label files are YAML: ``cases: [{text, labels: [{text, kind}]}]``, each label's
text found in order in the case text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from anonymise.text import find_identifiers
from anonymise.types import KINDS, Redaction

__all__ = ["KindScore", "LabelledCase", "load_cases", "score"]


@dataclass(frozen=True)
class LabelledCase:
    text: str
    spans: tuple[tuple[int, int, str], ...]


@dataclass(frozen=True)
class KindScore:
    kind: str
    labelled: int
    found: int
    hidden: int
    detected: int
    correct: int

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def hidden_recall(self) -> float:
        return self.hidden / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else 1.0


def load_cases(path: Path) -> list[LabelledCase]:
    """The cases of one label file, with each label located in its text."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = []
    for i, case in enumerate(doc["cases"]):
        text, cursor, spans = case["text"], 0, []
        for label in case.get("labels") or []:
            at = text.find(str(label["text"]), cursor)
            if at < 0 or label["kind"] not in KINDS:
                raise ValueError(
                    f"{path.name} case {i}: label {label!r} not found after offset {cursor} or bad kind"
                )
            spans.append((at, at + len(str(label["text"])), label["kind"]))
            cursor = at + len(str(label["text"]))
        cases.append(LabelledCase(text, tuple(spans)))
    return cases


def _covered(text: str, start: int, end: int, found: Sequence[Redaction]) -> bool:
    return all(any(r.start <= k < r.end for r in found) for k in range(start, end) if text[k].isalnum())


def score(
    cases: Iterable[LabelledCase], detect: Callable[[str], list[Redaction]] = find_identifiers
) -> dict[str, KindScore]:
    """Per-kind counts over ``cases``."""
    counts = {k: [0, 0, 0, 0, 0] for k in KINDS}
    for case in cases:
        found = detect(case.text)
        for start, end, kind in case.spans:
            c = counts[kind]
            c[0] += 1
            c[1] += _covered(case.text, start, end, [r for r in found if r.kind == kind])
            c[2] += _covered(case.text, start, end, found)
        for r in found:
            c = counts[r.kind]
            c[3] += 1
            c[4] += any(s < r.end and r.start < e and k == r.kind for s, e, k in case.spans)
    return {k: KindScore(k, *v) for k, v in counts.items()}
