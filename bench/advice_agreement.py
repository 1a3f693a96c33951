"""Standard worsening advice (rubrics/advice) against hand labels: detection, coverage, and the two criteria.

Three groups: the rubric set's dev and holdout splits (tests/data/rubric_set, labels in
advice_labels.yaml) and the advice set (tests/data/advice_set, written after the library's phrases
were fixed and never tuned on). For each:

* contact-reason detection accuracy: the best detected reason is one of the labelled reasons, or
  both say none;
* advice coverage against the hand count of the labelled reason's signs named: exact count
  agreement, mean absolute difference, and sign-level precision and recall;
* worsening_advice and safety_netting agreement (exact, within one, quadratic kappa) with the
  library off (before) and on (after).

    python bench/advice_agreement.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from sklearn.metrics import cohen_kappa_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.calltext import build_call_text  # noqa: E402
from rubrics.advice_library import advice_coverage, detect_reasons, load_advice_library  # noqa: E402
from rubrics.scorers.advice import (  # noqa: E402
    SafetyNettingParams,
    WorseningAdviceParams,
    score_safety_netting,
    score_worsening_advice,
)
from transcription.formats import from_json  # noqa: E402

RUBRIC_SET = REPO / "tests" / "data" / "rubric_set"
ADVICE_SET = REPO / "tests" / "data" / "advice_set"


def groups() -> dict[str, list[tuple[dict, dict]]]:
    """group -> [(transcript doc, labels with reasons, signs_named, worsening_advice, safety_netting)]"""
    rubric_labels = yaml.safe_load((RUBRIC_SET / "labels.yaml").read_text(encoding="utf-8"))
    advice_labels = yaml.safe_load((RUBRIC_SET / "advice_labels.yaml").read_text(encoding="utf-8"))
    out: dict[str, list] = {"rubric_set dev": [], "rubric_set holdout": [], "advice_set (new, held out)": []}
    for call_id, entry in advice_labels.items():
        doc = json.loads((RUBRIC_SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        base = rubric_labels[call_id]
        labels = {**entry, **{k: base["labels"][k] for k in ("worsening_advice", "safety_netting")}}
        out[f"rubric_set {base['split']}"].append((doc, labels))
    for call_id, entry in yaml.safe_load((ADVICE_SET / "labels.yaml").read_text(encoding="utf-8")).items():
        doc = json.loads((ADVICE_SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        out["advice_set (new, held out)"].append((doc, entry))
    return out


def _agreement(pairs: list[tuple[int | None, int | None]]) -> dict[str, float]:
    exact = sum(a == b for a, b in pairs) / len(pairs)
    w1 = sum(a == b or (a is not None and b is not None and abs(a - b) <= 1) for a, b in pairs) / len(pairs)
    scored = [(a, b) for a, b in pairs if a is not None and b is not None]
    kappa = (
        cohen_kappa_score([a for a, _ in scored], [b for _, b in scored], weights="quadratic")
        if len({v for p in scored for v in p}) > 1
        else float("nan")
    )
    return {"n": len(pairs), "exact": exact, "within_one": w1, "kappa_w": float(kappa)}


def evaluate(items: list[tuple[dict, dict]]) -> dict[str, object]:
    library = load_advice_library()
    det_ok = 0
    count_exact, abs_diff, tp, fp, fn, n_cov = 0, 0, 0, 0, 0, 0
    crit: dict[str, dict[str, list]] = {
        c: {"before": [], "after": []} for c in ("worsening_advice", "safety_netting")
    }
    misses = []
    for doc, labels in items:
        call = build_call_text(from_json(doc), doc.get("service"))
        found = detect_reasons(call, library)
        want = labels.get("reasons") or []
        ok = (not found and not want) or (bool(found) and found[0].reason_id in want)
        det_ok += ok
        if not ok:
            misses.append(
                f"{doc['call_id']}: detected {found[0].reason_id if found else 'ingen'}, labelled {want or 'ingen'}"
            )
        if want:
            cov = advice_coverage(call, library.get(want[0]))
            got = {s.id for s in cov.signs_said}
            hand = set(labels.get("signs_named") or [])
            n_cov += 1
            count_exact += len(got) == len(hand)
            abs_diff += abs(len(got) - len(hand))
            tp, fp, fn = tp + len(got & hand), fp + len(got - hand), fn + len(hand - got)
        for on, key in ((False, "before"), (True, "after")):
            wa = score_worsening_advice(call, WorseningAdviceParams(advice_library=on)).value
            sn = score_safety_netting(call, SafetyNettingParams(advice_library=on)).value
            crit["worsening_advice"][key].append((labels["worsening_advice"], wa))
            crit["safety_netting"][key].append((labels["safety_netting"], sn))
    return {
        "n": len(items),
        "detection_accuracy": det_ok / len(items),
        "detection_misses": misses,
        "coverage": {
            "calls": n_cov,
            "count_exact": count_exact / n_cov if n_cov else float("nan"),
            "count_mean_abs_diff": abs_diff / n_cov if n_cov else float("nan"),
            "sign_precision": tp / (tp + fp) if tp + fp else float("nan"),
            "sign_recall": tp / (tp + fn) if tp + fn else float("nan"),
            "signs_by_hand": tp + fn,
        },
        "criteria": {c: {k: _agreement(v) for k, v in d.items()} for c, d in crit.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, help="Also write the figures here")
    args = parser.parse_args()
    report = {}
    for name, items in groups().items():
        r = report[name] = evaluate(items)
        c = r["coverage"]
        print(f"\n{name}: {r['n']} calls")
        print(f"  contact reason detected correctly   {r['detection_accuracy']:.0%}")
        for m in r["detection_misses"]:
            print(f"    miss  {m}")
        print(f"  coverage vs hand count ({c['calls']} calls with a reason, {c['signs_by_hand']} signs by hand):"
              f" count exact {c['count_exact']:.0%}, mean |diff| {c['count_mean_abs_diff']:.2f},"
              f" sign precision {c['sign_precision']:.0%}, recall {c['sign_recall']:.0%}")  # fmt: skip
        for crit, d in r["criteria"].items():
            for key in ("before", "after"):
                f = d[key]
                print(f"  {crit:<17} {key:<6} exact {f['exact']:>4.0%}  within-one {f['within_one']:>4.0%}"
                      f"  kappa_w {f['kappa_w']:.2f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
