"""Is a suggestion's confidence the probability that it is right? Measure it, and fit the map.

Every criterion of every labelled call is scored step by step (:func:`rubrics.engine.assess_call`):
on the written transcripts of tests/data/rubric_set and on the spoken set's recognised
transcripts cached by ``bench/e2e_rubric.py`` (one DuckDB per layout under ``--work``; nothing is
transcribed here). Each suggestion keeps its rule confidence, its recognition factor, whether it
rests on not finding something and whether it abstained, so that one pass gives:

* the reliability table (confidence bin -> count, share right) per source and split, for the
  uncalibrated confidence (rule confidence x recognition factor) and for the calibrated one;
* with ``--fit``: the calibration map fitted on the dev splits only (written and spoken pooled),
  written to ``rubrics/confidence/calibration.yaml`` (or ``--out``);
* with ``--negative-floor X``: what the map with ``abstain_below: X`` would give (a "not found"
  on recognised speech abstains when its calibrated probability is under X): coverage and right
  among given, beside the share-of-speech rule.

    python bench/confidence_calibration.py --work /path/to/cache/e2e [--layout stereo16k --layout ulaw8k]
        [--split dev|holdout|all] [--fit] [--negative-floor 0.6] [--json OUT]

"Right" is the suggestion equal to the label (0-4 criteria: exactly; "ikke aktuelt" equals null).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "tests" / "data" / "rubric_set"
sys.path.insert(0, str(REPO))

from lydlogg.calltext import build_call_text  # noqa: E402
from rubrics import load_rubrics  # noqa: E402
from rubrics.confidence import CALIBRATION, CALIBRATION_PATH, Calibration, Curve  # noqa: E402
from rubrics.engine import assess_call  # noqa: E402
from transcription.formats import from_json  # noqa: E402

BINS = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.001))
KINDS = ("yes_no", "ordinal")


@dataclass(frozen=True)
class Row:
    """One criterion of one call, step by step."""

    source: str  # "text" or a layout
    split: str
    call_id: str
    criterion: str
    kind: str
    label: int | None
    value: int | None  # the rule's value (before any abstention)
    rule_confidence: float
    factor: float
    negative: bool  # the value is the scale's lowest: it rests on not finding something
    abstained: bool  # under the share-of-speech rule (rubrics.recognition.adjust_for_recognition)
    confidence: float  # uncalibrated: rule confidence x recognition factor (0 when abstained)
    calibrated: float  # with the map in use (0 when abstained)
    final_abstained: bool  # with the map in use (its abstain_below, when set, decides)

    @property
    def right(self) -> bool:
        return self.value == self.label


def _rows(source: str, entry: dict, call_id: str, call, loaded, calibration: Calibration | None) -> list[Row]:
    out = []
    for a in assess_call(call, loaded, calibration):
        cid = a.rule.criterion_id
        if cid not in entry["labels"]:
            continue
        out.append(Row(source, entry["split"], call_id, cid, a.kind, entry["labels"][cid], a.rule.value,
                       a.rule.confidence, a.factor, a.rule.value == a.lowest, a.recognised.abstained,
                       a.recognised.confidence, a.final.confidence, a.final.abstained))  # fmt: skip
    return out


def load_calls(work: Path | None, layouts: list[str]) -> list[tuple]:
    """(source, label entry, call id, CallText, rubric) for every labelled call, written and spoken."""
    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    rubrics = load_rubrics()
    out = []
    for call_id, entry in sorted(labels.items()):
        doc = json.loads((SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        call = build_call_text(from_json(doc), doc.get("service"))
        out.append(("text", entry, call_id, call, rubrics[entry["rubric"]]))
    for layout in layouts:
        for call_id, call in _stored_calls(work / f"{layout}.duckdb", set(labels)).items():
            entry = labels[call_id]
            out.append((layout, entry, call_id, call, rubrics[entry["rubric"]]))
    return out


def collect(calls: list[tuple], calibration: Calibration | None) -> list[Row]:
    return [row for source, entry, call_id, call, loaded in calls
            for row in _rows(source, entry, call_id, call, loaded, calibration)]  # fmt: skip


def _stored_calls(db: Path, wanted: set[str]) -> dict:
    """The newest recognised transcript of each labelled call in ``db``, as the scorers see it."""
    from lydlogg.advice import library_for
    from lydlogg.db import connect
    from lydlogg.scoring import _latest, _load_segments  # the same reads as `lydlogg score`
    from lydlogg.settings import load_settings
    from rubrics.advice_library import library_in_use
    from transcription.types import Transcript

    if not db.is_file():
        raise SystemExit(f"{db}: no such database; run bench/e2e_rubric.py with --work {db.parent} first")
    settings = load_settings(None, db_path=db)
    with connect(db, read_only=True) as con:
        latest = [r for r in _latest(con, None) if r[1] in wanted]
        segments = _load_segments(con, [r[0] for r in latest])
    library = library_for(settings.advice)
    out = {}
    with library_in_use(library):
        for tid, call_id, language, service in latest:
            out[call_id] = build_call_text(
                Transcript(call_id, language, tuple(segments.get(tid, ()))), service
            )
    return out


def reliability(rows: list[Row], field: str) -> list[dict]:
    """Count and share right per confidence bin, over the suggestions given."""
    out = []
    gone = "final_abstained" if field == "calibrated" else "abstained"
    for lo, hi in BINS:
        inside = [r for r in rows if not getattr(r, gone) and lo <= getattr(r, field) < hi]
        out.append({"low": lo, "high": min(hi, 1.0), "n": len(inside), "right": sum(r.right for r in inside)})
    return out


def coverage(rows: list[Row], abstains) -> dict:
    given = [r for r in rows if not abstains(r)]
    return {
        "n": len(rows),
        "given": len(given),
        "coverage": len(given) / len(rows) if rows else None,
        "right_given": sum(r.right for r in given) / len(given) if given else None,
    }


# --- fitting -------------------------------------------------------------------------------


def fit_curve(rows: list[Row]) -> Curve:
    """Maximum-likelihood logistic curve with both weights held at or above 0 (monotone), and a
    weak ridge (a Gaussian prior of standard deviation 10 on each weight) so that a kind whose dev
    suggestions are nearly all right still gets finite weights."""
    import numpy as np
    from scipy.optimize import minimize

    x = np.array([[1.0, r.rule_confidence, r.factor] for r in rows])
    y = np.array([1.0 if r.right else 0.0 for r in rows])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        p = 1 / (1 + np.exp(-z))
        nll = np.sum(np.logaddexp(0, z) - y * z) + np.sum(w[1:] ** 2) / 200
        grad = x.T @ (p - y) + np.concatenate([[0.0], w[1:] / 100])
        return float(nll), grad

    res = minimize(loss, np.zeros(3), jac=True, method="L-BFGS-B",
                   bounds=[(-20, 20), (0, 50), (0, 50)])  # fmt: skip
    a, b, d = (float(v) for v in res.x)
    return Curve(intercept=round(a, 4), rule_weight=round(b, 4), recognition_weight=round(d, 4), n=len(rows))


def fit(rows: list[Row], current: Calibration) -> Calibration:
    dev = [r for r in rows if r.split == "dev"]
    counts = defaultdict(int)
    for r in dev:
        counts[r.source] += 1
    fitted_on = (
        "dev splits only, every criterion's rule suggestion (also those that abstain): "
        + ", ".join(f"{src} {n}" for src, n in sorted(counts.items()))
        + " (bench/confidence_calibration.py --fit; spoken: Whisper base int8 on espeak-ng voices)"
    )
    curves = {k: fit_curve([r for r in dev if r.kind == k]) for k in KINDS}
    return Calibration(
        version=current.version + 1, fitted_on=fitted_on, abstain_below=current.abstain_below, **curves
    )


def write_map(cal: Calibration, path: Path) -> None:
    head = (
        "# Calibration map: rule confidence and recognition factor -> probability right, per kind of\n"
        "# criterion (rubrics/confidence.py; docs in rubrics/README.md). Fitted by\n"
        "# `python bench/confidence_calibration.py --work CACHE --layout stereo16k --layout ulaw8k --fit`\n"
        "# on the dev splits only. Raise `version` whenever a curve changes.\n"
    )
    body = yaml.safe_dump(cal.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=100)
    path.write_text(head + body, encoding="utf-8")


# --- report --------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "   -" if x is None else f"{x:4.0%}"


def _table(rows: list[Row], title: str) -> dict:
    before, after = reliability(rows, "confidence"), reliability(rows, "calibrated")
    print(
        f"\n{title}: {len(rows)} suggestions, {sum(not r.abstained for r in rows)} given before, "
        f"{sum(not r.final_abstained for r in rows)} after"
    )
    print(f"    {'bin':<10} {'before: n':>9} {'right':>6}   {'after: n':>8} {'right':>6}")
    for b, a in zip(before, after, strict=True):
        rb = b["right"] / b["n"] if b["n"] else None
        ra = a["right"] / a["n"] if a["n"] else None
        print(f"    {b['low']:.1f}-{b['high']:.1f}    {b['n']:>9} {_pct(rb):>6}   {a['n']:>8} {_pct(ra):>6}")
    hi_b = [r for r in rows if not r.abstained and r.confidence >= 0.8]
    hi_a = [r for r in rows if not r.final_abstained and r.calibrated >= 0.8]
    for name, hi in (("before", hi_b), ("after", hi_a)):
        print(
            f"    >= 0.8 {name}: n={len(hi)} right {_pct(sum(r.right for r in hi) / len(hi) if hi else None)}"
        )
    given = [r for r in rows if not r.final_abstained]
    if given:
        mean_c = sum(r.calibrated for r in given) / len(given)
        print(f"    mean calibrated {mean_c:.2f} vs right {sum(r.right for r in given) / len(given):.2f}")
    return {"before": before, "after": after}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, help="bench/e2e_rubric.py's folder of per-layout databases")
    parser.add_argument("--layout", action="append", default=[], help="e.g. stereo16k, ulaw8k (repeatable)")
    parser.add_argument("--split", choices=["dev", "holdout", "all"], default="dev")
    parser.add_argument("--fit", action="store_true", help="fit the map on the dev splits and write it")
    parser.add_argument("--out", type=Path, default=CALIBRATION_PATH, help="where --fit writes the map")
    parser.add_argument("--negative-floor", type=float, action="append", default=[],
                        help="also report the map with abstain_below set to this (repeatable)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.layout and args.work is None:
        parser.error("--layout needs --work")
    cal = CALIBRATION
    calls = load_calls(args.work, args.layout)
    if args.fit:
        cal = fit(collect(calls, None), cal)
        write_map(cal, args.out)
        print(f"wrote {args.out}: {cal.model_dump()}")
    rows = collect(calls, cal)
    floors = {x: collect(calls, cal.model_copy(update={"abstain_below": x})) for x in args.negative_floor}
    report: dict = {}
    for source in ["text", *args.layout]:
        for split in ("dev", "holdout") if args.split == "all" else (args.split,):
            sel = [r for r in rows if r.source == source and r.split == split]
            if not sel:
                continue
            key = f"{source}/{split}"
            report[key] = _table(sel, key)
            for kind in KINDS:
                report[f"{key}/{kind}"] = _table([r for r in sel if r.kind == kind], f"  {key} {kind}")
            for name, gone in (("share rule", "abstained"), ("map in use", "final_abstained")):
                c = coverage(sel, lambda r, g=gone: getattr(r, g))
                report[key][name] = c
                print(
                    f"    {name}: coverage {_pct(c['coverage'])}, right among given {_pct(c['right_given'])}"
                )
            for x, frows in floors.items():
                c = coverage(
                    [r for r in frows if r.source == source and r.split == split], lambda r: r.final_abstained
                )
                report[key][f"abstain_below {x}"] = c
                print(
                    f"    abstain_below {x}: coverage {_pct(c['coverage'])}, right among given {_pct(c['right_given'])}"
                )
    if args.json:
        args.json.write_text(json.dumps({"report": report, "rows": [asdict(r) for r in rows]}, indent=1))


if __name__ == "__main__":
    main()
