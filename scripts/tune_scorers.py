#!/usr/bin/env python3
"""Score the labelled DEV split with the automatic scorers and print per-criterion agreement.

Usage:  .venv/bin/python scripts/tune_scorers.py [--show-misses] [--criterion ID] [--timing]

Only calls whose ``split`` is ``dev`` are read; holdout transcripts are never opened (the holdout
is reported separately). Per criterion: n, exact agreement, and for the 0-4 scales within-one and
quadratic-weighted Cohen's kappa (scikit-learn); None-vs-value counts as a disagreement.
Targets: 0-4 within-one >= 85 % and kappa >= 0.6; yes/no accuracy >= 90 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.calltext import build_call_text  # noqa: E402
from rubrics.scorers import REGISTRY  # noqa: E402
from transcription.formats import from_json  # noqa: E402

SET = REPO / "tests" / "data" / "rubric_set"
SCALES = {"open_questions", "worsening_advice", "safety_netting"}


def load_dev() -> list[tuple[str, object, dict]]:
    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    out = []
    for call_id, entry in sorted(labels.items()):
        if entry.get("split") != "dev":
            continue
        doc = json.loads((SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        out.append((call_id, build_call_text(from_json(doc), doc.get("service")), entry["labels"]))
    return out


def kappa(gold: list, pred: list) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    # None (n/a) becomes its own category below 0, so a None-vs-value pair counts as far apart.
    g = [-1 if x is None else x for x in gold]
    p = [-1 if x is None else x for x in pred]
    if len(set(g) | set(p)) < 2:
        return None
    return float(cohen_kappa_score(g, p, weights="quadratic"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show-misses", action="store_true", help="list each disagreement with its rationale")
    ap.add_argument("--criterion", help="only this criterion")
    ap.add_argument("--timing", action="store_true", help="time all scorers over the dev calls")
    args = ap.parse_args()

    calls = load_dev()
    params = {name: cls() for name, (cls, _) in REGISTRY.items()}
    rows = []
    misses = []
    for crit, (_, fn) in REGISTRY.items():
        if args.criterion and crit != args.criterion:
            continue
        gold, pred = [], []
        for call_id, call, labels in calls:
            if crit not in labels:
                continue
            s = fn(call, params[crit])
            gold.append(labels[crit])
            pred.append(s.value)
            if s.value != labels[crit]:
                misses.append((crit, call_id, labels[crit], s.value, s.rationale))
        n = len(gold)
        exact = sum(g == p for g, p in zip(gold, pred, strict=True)) / n
        if crit in SCALES:
            pairs = zip(gold, pred, strict=True)
            within = (
                sum(g == p or (g is not None and p is not None and abs(g - p) <= 1) for g, p in pairs) / n
            )
            k = kappa(gold, pred)
            ok = within >= 0.85 and (k or 0) >= 0.6
            rows.append((crit, n, exact, within, k, ok))
        else:
            rows.append((crit, n, exact, None, None, exact >= 0.9))

    print(f"{'criterion':<26}{'n':>4}{'exact':>8}{'within1':>9}{'kappa_w':>9}  target")
    for crit, n, exact, within, k, ok in rows:
        w = f"{within:8.0%}" if within is not None else f"{'':>8}"
        kk = f"{k:9.2f}" if k is not None else f"{'':>9}"
        print(f"{crit:<26}{n:>4}{exact:8.0%} {w}{kk}  {'ok' if ok else 'MISS'}")

    if args.show_misses:
        print()
        for crit, call_id, g, p, why in misses:
            print(f"{crit:<26}{call_id:<12} gold={g!s:<5} pred={p!s:<5} {why}")

    if args.timing:
        from rubrics.text import normalise

        reps = 50
        t0 = time.perf_counter()
        for _ in range(reps):
            normalise.cache_clear()  # every utterance text is new, as in a real batch
            for _, call, _ in calls:
                # a fresh CallText each time so per-call caches do not carry over
                fresh = type(call)(
                    call.call_id, call.utterances, call.service, call.roles_inferred, call.notes
                )
                for crit, (_, fn) in REGISTRY.items():
                    fn(fresh, params[crit])
        per_call = (time.perf_counter() - t0) / (reps * len(calls))
        print(f"\nall scorers: {per_call * 1000:.2f} ms per call (utterance normalisation included)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
