#!/usr/bin/env python3
"""Validate the rubric test set and print its label distribution.

Usage:  python tests/data/rubric_set/stats.py [--markdown]

Checks that every calls/*.json parses and has the agreed transcript shape,
that labels.yaml has exactly one entry per call with a label for every
criterion of its rubric (and nothing else), and that values are in range.
Then prints counts per rubric/split and a per-criterion value distribution.
Exit status 1 if any check fails.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

SCALE = {"open_questions", "worsening_advice", "safety_netting"}
NULLABLE = {"asks_to_speak_to_patient", "worsening_advice", "offers_video"}
RUBRICS = {
    "lvs_operator": [
        "introduces_self",
        "open_questions",
        "elicits_concerns",
        "asks_prior_contact",
        "asks_to_speak_to_patient",
        "states_urgency",
        "summarises",
        "worsening_advice",
        "safety_netting",
        "checks_understanding",
    ],
    "legevaktlege_telefon": [
        "introduces_self",
        "open_questions",
        "elicits_concerns",
        "asks_prior_contact",
        "asks_to_speak_to_patient",
        "summarises",
        "worsening_advice",
        "safety_netting",
        "checks_understanding",
        "communicates_uncertainty",
        "offers_video",
    ],
}
SERVICE_RUBRIC = {"lvs": "lvs_operator", "legevaktlege": "legevaktlege_telefon"}
ROLES = {"operator", "doctor", "caller", "other"}
# Coverage targets from the brief: each scale value >= 4 times, worsening null >= 3,
# each yes/no value >= 6 times (over the whole set).
MIN_SCALE, MIN_NULL_WA, MIN_BINARY = 4, 3, 6

errors: list[str] = []


def err(msg: str) -> None:
    errors.append(msg)


def check_call(path: Path) -> dict | None:
    try:
        call = json.loads(path.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        err(f"{path.name}: does not parse: {e}")
        return None
    if set(call) != {"call_id", "language", "service", "segments"}:
        err(f"{path.name}: top-level keys {sorted(call)}")
        return None
    if call["call_id"] != path.stem:
        err(f"{path.name}: call_id {call['call_id']!r} != file name")
    if call["language"] != "no":
        err(f"{path.name}: language {call['language']!r}")
    if call["service"] not in SERVICE_RUBRIC:
        err(f"{path.name}: service {call['service']!r}")
    segs = call["segments"]
    if not isinstance(segs, list) or len(segs) < 2:
        err(f"{path.name}: segments missing/too few")
        return call
    prev_end = -1.0
    s1_role = "operator" if call["service"] == "lvs" else "doctor"
    for i, s in enumerate(segs):
        where = f"{path.name}[{i}]"
        if set(s) != {"start", "end", "speaker", "role", "text"}:
            err(f"{where}: keys {sorted(s)}")
            continue
        if not all(isinstance(s[k], (int, float)) for k in ("start", "end")):
            err(f"{where}: non-numeric times")
            continue
        if not (s["start"] >= prev_end and s["end"] > s["start"]):
            err(f"{where}: times not increasing ({s['start']}-{s['end']}, prev end {prev_end})")
        prev_end = s["end"]
        if s["role"] not in ROLES:
            err(f"{where}: role {s['role']!r}")
        if not (isinstance(s["speaker"], str) and s["speaker"].startswith("S")):
            err(f"{where}: speaker {s['speaker']!r}")
        if (s["speaker"] == "S1") != (s["role"] == s1_role):
            err(f"{where}: S1 must be the {s1_role} and only S1")
        if not isinstance(s["text"], str) or not s["text"].strip():
            err(f"{where}: empty text")
            continue
        if not s["text"].startswith("["):  # untranscribed foreign speech has no word count
            wps = len(s["text"].split()) / (s["end"] - s["start"])
            if not 0.8 <= wps <= 4.0:
                err(f"{where}: implausible speech rate {wps:.1f} words/s")
    return call


def main() -> int:
    calls = {}
    for p in sorted((HERE / "calls").glob("*.json")):
        c = check_call(p)
        if c is not None:
            calls[p.stem] = c
    labels = yaml.safe_load((HERE / "labels.yaml").read_text(encoding="utf-8")) or {}
    for cid in sorted(set(calls) - set(labels)):
        err(f"{cid}: no labels")
    for cid in sorted(set(labels) - set(calls)):
        err(f"{cid}: labels but no transcript")

    dist: dict[str, dict[str, Counter]] = {}
    per_group: Counter = Counter()
    for cid, entry in sorted(labels.items()):
        if set(entry) - {"split", "rubric", "labels", "note"}:
            err(f"{cid}: unexpected keys {sorted(set(entry) - {'split', 'rubric', 'labels', 'note'})}")
        split, rubric, labs = entry.get("split"), entry.get("rubric"), entry.get("labels") or {}
        if split not in ("dev", "holdout"):
            err(f"{cid}: split {split!r}")
        if rubric not in RUBRICS:
            err(f"{cid}: rubric {rubric!r}")
            continue
        if cid in calls and SERVICE_RUBRIC.get(calls[cid]["service"]) != rubric:
            err(f"{cid}: rubric {rubric} does not match service {calls[cid]['service']}")
        want = RUBRICS[rubric]
        if set(labs) != set(want):
            err(
                f"{cid}: criteria mismatch, missing {sorted(set(want) - set(labs))}, "
                f"extra {sorted(set(labs) - set(want))}"
            )
        per_group[(rubric, split)] += 1
        for crit in want:
            if crit not in labs:
                continue
            v = labs[crit]
            allowed = set(range(5)) if crit in SCALE else {0, 1}
            if v is None:
                if crit not in NULLABLE:
                    err(f"{cid}: {crit} may not be null")
            elif isinstance(v, bool) or v not in allowed:
                err(f"{cid}: {crit}={v!r} out of range")
            key = "null" if v is None else str(v)
            dist.setdefault(crit, {"dev": Counter(), "holdout": Counter()})[split][key] += 1

    # ---- report -------------------------------------------------------------
    print("## Counts per rubric and split\n")
    print("| rubric | dev | holdout | total |\n|---|---:|---:|---:|")
    for r in RUBRICS:
        d, h = per_group[(r, "dev")], per_group[(r, "holdout")]
        print(f"| {r} | {d} | {h} | {d + h} |")
    d = sum(v for (r, s), v in per_group.items() if s == "dev")
    h = sum(v for (r, s), v in per_group.items() if s == "holdout")
    print(f"| **all** | {d} | {h} | {d + h} |\n")

    print("## Value distribution per criterion\n")
    print("Cells: total (dev/holdout). Binary criteria: 0 = no, 1 = yes. `null` = not applicable.\n")
    print("| criterion | rubrics | 0 | 1 | 2 | 3 | 4 | null |\n|---|---|---|---|---|---|---|---|")
    order = list(dict.fromkeys(RUBRICS["lvs_operator"] + RUBRICS["legevaktlege_telefon"]))
    warnings = []
    for crit in order:
        scope = "+".join("LVS" if r == "lvs_operator" else "LLT" for r in RUBRICS if crit in RUBRICS[r])
        cells = []
        keys = ["0", "1", "2", "3", "4", "null"]
        for k in keys:
            dv, hv = dist[crit]["dev"][k], dist[crit]["holdout"][k]
            applicable = (crit in SCALE or k in ("0", "1")) if k != "null" else crit in NULLABLE
            cells.append(f"{dv + hv} ({dv}/{hv})" if applicable else "–")
            tot = dv + hv
            if crit in SCALE and k != "null" and tot < MIN_SCALE:
                warnings.append(f"{crit}={k}: only {tot}")
            if crit not in SCALE and k in ("0", "1") and tot < MIN_BINARY:
                warnings.append(f"{crit}={k}: only {tot}")
            if crit == "worsening_advice" and k == "null" and tot < MIN_NULL_WA:
                warnings.append(f"{crit}=null: only {tot}")
        print(f"| {crit} | {scope} | " + " | ".join(cells) + " |")

    nseg = [len(c["segments"]) for c in calls.values()]
    if nseg:
        print(
            f"\nTranscripts: {len(calls)}, segments per call min {min(nseg)} / "
            f"median {sorted(nseg)[len(nseg) // 2]} / max {max(nseg)}, "
            f"calls with role 'other': {sum(any(s['role'] == 'other' for s in c['segments']) for c in calls.values())}"
        )
    if warnings:
        print("\nCoverage below target: " + "; ".join(warnings))
    if errors:
        print(f"\n{len(errors)} ERROR(S):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nAll checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
