"""Agreement between the automatic scorers and the hand labels in tests/data/rubric_set.

Per criterion and overall, separately for the dev split and the holdout split: exact agreement,
agreement within one scale point (0-4 criteria), quadratic-weighted Cohen's kappa (scikit-learn)
for 0-4 criteria, and accuracy for yes/no criteria. A "not applicable" on one side and a value on
the other is a disagreement (and is counted as a miss for within-one). Targets: 0-4 criteria
within-one >= 85 % and weighted kappa >= 0.6; yes/no accuracy >= 90 %.

    python bench/rubric_agreement.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml
from sklearn.metrics import cohen_kappa_score

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "tests" / "data" / "rubric_set"
sys.path.insert(0, str(REPO))

from lydlogg.calltext import build_call_text  # noqa: E402
from rubrics import load_rubrics, score_call  # noqa: E402
from transcription.formats import from_json  # noqa: E402

NA = -1  # stands for "not applicable" in kappa


def collect() -> dict[str, dict[str, list[tuple[int | None, int | None]]]]:
    """split -> criterion -> [(label, suggestion)]"""
    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    rubrics = load_rubrics()
    pairs: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for call_id, entry in labels.items():
        doc = json.loads((SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        result = score_call(build_call_text(from_json(doc), doc.get("service")), rubrics[entry["rubric"]])
        got = {s.criterion_id: s.value for s in result.scores}
        for criterion, label in entry["labels"].items():
            pairs[entry["split"]][criterion].append((label, got.get(criterion, "missing")))
    return pairs


def figures(pairs: list[tuple[int | None, int | None]], ordinal: bool) -> dict[str, float]:
    exact = sum(a == b for a, b in pairs) / len(pairs)
    out = {"n": len(pairs), "exact": exact}
    if ordinal:
        out["within_one"] = sum(
            a == b or (a is not None and b is not None and abs(a - b) <= 1) for a, b in pairs
        ) / len(pairs)
        scored = [(a, b) for a, b in pairs if a is not None and b is not None]
        if len({v for p in scored for v in p}) > 1:
            out["kappa_w"] = cohen_kappa_score(
                [a for a, _ in scored], [b for _, b in scored], weights="quadratic"
            )
        out["na_mismatch"] = sum((a is None) != (b is None) for a, b in pairs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="Also write the figures here")
    args = parser.parse_args()
    rubrics = load_rubrics()
    ordinal = {c.id for r in rubrics.values() for c in r.rubric.criteria if c.scale.type == "ordinal"}
    report = {}
    by_split = collect()
    for split in ("dev", "holdout"):
        pairs = by_split[split]
        report[split] = {}
        print(f"\n{split} split")
        print(f"  {'criterion':<26} {'n':>3} {'exact':>7} {'within1':>8} {'kappa_w':>8}  target")
        all_pairs, ord_pairs = [], []
        for criterion in sorted(pairs):
            is_ord = criterion in ordinal
            f = figures(pairs[criterion], is_ord)
            report[split][criterion] = f
            all_pairs += pairs[criterion]
            if is_ord:
                ord_pairs += pairs[criterion]
                ok = f["within_one"] >= 0.85 and f.get("kappa_w", 0) >= 0.6
                print(
                    f"  {criterion:<26} {f['n']:>3} {f['exact']:>7.0%} {f['within_one']:>8.0%} "
                    f"{f.get('kappa_w', float('nan')):>8.2f}  {'met' if ok else 'MISSED'} (w1>=85%, k>=0.6)"
                )
            else:
                ok = f["exact"] >= 0.9
                print(
                    f"  {criterion:<26} {f['n']:>3} {f['exact']:>7.0%} {'':>8} {'':>8}  {'met' if ok else 'MISSED'} (acc>=90%)"
                )
        overall = figures(all_pairs, False)
        overall_ord = figures(ord_pairs, True)
        report[split]["_overall"] = {
            "exact": overall["exact"],
            "ordinal_within_one": overall_ord["within_one"],
            "ordinal_kappa_w": overall_ord.get("kappa_w"),
        }
        print(
            f"  {'overall':<26} {overall['n']:>3} {overall['exact']:>7.0%} {overall_ord['within_one']:>8.0%} "
            f"{overall_ord.get('kappa_w', float('nan')):>8.2f}  (within-one and kappa over the 0-4 criteria)"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
