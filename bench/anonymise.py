"""Recall and precision of the text anonymiser per kind on the labelled test sentences.

    .venv/bin/python bench/anonymise.py [LABEL_FILE ...]

Defaults to tests/data/anonymise/*.yaml. Prints one row per kind, then the time per sentence.
With ``-v`` it also prints the sentences where a label was missed or a span was wrong (the test
sentences are fictional; never run -v on real transcripts).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anonymise.evaluation import load_cases, score  # noqa: E402
from anonymise.text import anonymise_text, find_identifiers  # noqa: E402


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    files = [Path(a) for a in argv if a != "-v"] or sorted(
        (REPO / "tests" / "data" / "anonymise").glob("*.yaml")
    )
    cases = [c for f in files for c in load_cases(f)]
    find_identifiers("Jeg heter Kari.")  # load spaCy and the word lists before timing
    t0 = time.perf_counter()
    scores = score(cases)
    elapsed = time.perf_counter() - t0
    print(f"{len(cases)} sentences from {', '.join(f.name for f in files)}")
    print(f"{'kind':<15}{'labels':>7}{'recall':>8}{'hidden':>8}{'found':>7}{'precision':>10}")
    for s in scores.values():
        print(
            f"{s.kind:<15}{s.labelled:>7}{s.recall:>8.3f}{s.hidden_recall:>8.3f}{s.detected:>7}{s.precision:>10.3f}"
        )
    labelled = sum(s.labelled for s in scores.values())
    found = sum(s.found for s in scores.values())
    print(f"{'all':<15}{labelled:>7}{found / labelled:>8.3f}")
    print(f"{1000 * elapsed / len(cases):.1f} ms per sentence")
    if verbose:
        for case in cases:
            one = score([case])
            if any(s.found < s.labelled or s.correct < s.detected for s in one.values()):
                print("-", case.text, "\n ", anonymise_text(case.text))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
