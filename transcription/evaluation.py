"""Word error rate against reference transcripts, with one normalisation everywhere."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jiwer

__all__ = ["WerResult", "corpus_wer", "normalise", "wer"]


def normalise(text: str) -> str:
    """Lower case, punctuation and hyphens to spaces, whitespace collapsed."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class WerResult:
    errors: int
    reference_words: int

    @property
    def wer(self) -> float:
        return self.errors / self.reference_words if self.reference_words else 0.0


def corpus_wer(pairs: Sequence[tuple[str, str]]) -> WerResult:
    """Pooled WER over (reference, hypothesis) pairs: total errors over total reference words."""
    refs = [normalise(r) for r, _ in pairs]
    keep = [i for i, r in enumerate(refs) if r]
    if not keep:
        return WerResult(0, 0)
    out = jiwer.process_words([refs[i] for i in keep], [normalise(pairs[i][1]) for i in keep])
    errors = out.substitutions + out.deletions + out.insertions
    return WerResult(errors=errors, reference_words=sum(len(refs[i].split()) for i in keep))


def wer(reference: str, hypothesis: str) -> float:
    """WER of one pair (an empty hypothesis counts every reference word as deleted)."""
    return corpus_wer([(reference, hypothesis)]).wer
