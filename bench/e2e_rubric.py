"""End to end: the spoken rubric set through ingest -> process -> score, against the hand labels.

The spoken set is made by ``scripts/make_spoken_rubric_set.py`` (espeak-ng voices, the labelled
transcripts of tests/data/rubric_set). For every layout asked for, this benchmark ingests the
calls into their own DuckDB file under ``--work`` (kept between runs, so transcription happens
once: a re-run only re-scores), transcribes what is missing exactly as ``lydlogg process`` does,
scores afresh with the current scorers exactly as ``lydlogg score`` does, and prints per
criterion the agreement with the labels next to the same figure on the written transcripts.

Also printed: WER per layout (staff and caller speech against the spoken text), the share of
suggestions given (coverage: abstentions are not given), a reliability table (the share of
given suggestions that are right, per confidence level), and role accuracy: the share of
recognised words whose stored role is the role of the reference turn they fall in (the spoken
set's exact turn times, i.e. the channel each stretch came from in the stereo original), overall
and for the staff's words. It is what the mono layouts put at risk (the stereo ones take roles
from the channels).

    python bench/e2e_rubric.py --spoken /work/wt/cache-h13/spoken --work /work/wt/cache-h13/e2e \
        [--layout stereo16k --layout ulaw8k] [--split holdout] [--only rs-lvs-005,...] [--json OUT]

A call is "right" when the suggestion equals the label exactly (0-4 criteria: also reported within
one point). An abstention counts against coverage, never as a value.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SET = REPO / "tests" / "data" / "rubric_set"
sys.path.insert(0, str(REPO))

from lydlogg.calltext import build_call_text  # noqa: E402
from lydlogg.settings import load_settings  # noqa: E402
from rubrics import load_rubrics, score_call  # noqa: E402
from transcription.diarization import SpeakerTurn, speaker_for  # noqa: E402
from transcription.evaluation import corpus_wer  # noqa: E402
from transcription.formats import from_json  # noqa: E402

LAYOUTS = ("stereo16k", "ulaw8k", "mono16k", "mono8k")
CONFIDENCE_BINS = ((0.0, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))
STAFF_ROLES = frozenset({"operator", "doctor"})


@dataclass(frozen=True)
class Suggestion:
    value: int | None
    confidence: float
    abstained: bool = False


@dataclass
class LayoutResult:
    layout: str
    suggestions: dict[str, dict[str, Suggestion]] = field(default_factory=dict)  # call -> criterion
    wer_staff: float | None = None
    wer_caller: float | None = None
    roles: RoleCounts | None = None
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RoleCounts:
    """Recognised words against the reference turns' roles, summed over calls."""

    words: int = 0  # recognised words
    right: int = 0  # on the right side: a staff role for a staff turn's word, another role for the rest
    exact: int = 0  # whose stored role is the reference turn's (operator, doctor, caller, other)
    staff_words: int = 0  # words spoken in a staff turn
    staff_kept: int = 0  # ... that were given a staff role
    as_staff: int = 0  # words given a staff role
    as_staff_right: int = 0  # ... that were spoken in a staff turn

    def __add__(self, other: RoleCounts) -> RoleCounts:
        return RoleCounts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.words, self.right, self.exact, self.staff_words, self.staff_kept, self.as_staff, self.as_staff_right
        )  # fmt: skip

    def shares(self) -> dict[str, float | None]:
        def share(a: int, b: int) -> float | None:
            return a / b if b else None

        return {
            "words": self.words,
            "accuracy": share(self.right, self.words),
            "exact": share(self.exact, self.words),
            "staff_recall": share(self.staff_kept, self.staff_words),
            "staff_precision": share(self.as_staff_right, self.as_staff),
        }


def role_counts(
    words: list[tuple[float, float, str | None]], turns: list[SpeakerTurn], roles: dict[str, str]
) -> RoleCounts:
    """Count one call's recognised words ``(start, end, role)`` against its reference ``turns``
    (``roles``: speaker -> role). What the scorers depend on is the side: they read the staff's
    words, and a caller's and a third party's (``other``, on the caller's channel in the stereo
    original) alike are not. A word between turns takes the nearest turn's role; a word without a
    role counts as wrong."""
    right = exact = staff_words = staff_kept = as_staff = as_staff_right = 0
    for start, end, role in words:
        truth = roles.get(speaker_for(turns, start, end) or "")
        staff_truth, staff_given = truth in STAFF_ROLES, role in STAFF_ROLES
        right += role is not None and staff_truth == staff_given
        exact += role is not None and role == truth
        staff_words += staff_truth
        staff_kept += staff_truth and staff_given
        as_staff += staff_given
        as_staff_right += staff_truth and staff_given
    return RoleCounts(len(words), right, exact, staff_words, staff_kept, as_staff, as_staff_right)


def load_labels(split: str = "all", only: set[str] | None = None) -> dict[str, dict]:
    labels = yaml.safe_load((SET / "labels.yaml").read_text(encoding="utf-8"))
    return {
        cid: e
        for cid, e in sorted(labels.items())
        if split in ("all", e["split"]) and (only is None or cid in only)
    }


def text_suggestions(labels: dict[str, dict]) -> dict[str, dict[str, Suggestion]]:
    """The scorers on the written transcripts (what bench/rubric_agreement.py measures)."""
    rubrics = load_rubrics()
    out = {}
    for call_id, entry in labels.items():
        doc = json.loads((SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
        result = score_call(build_call_text(from_json(doc), doc.get("service")), rubrics[entry["rubric"]])
        out[call_id] = {
            s.criterion_id: Suggestion(s.value, s.confidence, getattr(s, "abstained", False))
            for s in result.scores
        }
    return out


def _metadata_subset(spoken: Path, layout: str, call_ids: set[str]) -> Path:
    src = spoken / f"metadata-{layout}.csv"
    if not src.is_file():
        raise SystemExit(f"{src}: missing; make the spoken set with scripts/make_spoken_rubric_set.py")
    with open(src, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["call_id"] in call_ids]
    missing = call_ids - {r["call_id"] for r in rows}
    if missing:
        raise SystemExit(f"{src}: no audio for {', '.join(sorted(missing))}; speak them first")
    dst = spoken / f".bench-metadata-{layout}.csv"  # audio paths are relative to the CSV's folder
    with open(dst, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, ["call_id", "service", "audio_file"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return dst


def run_layout(
    spoken: Path, work: Path, layout: str, call_ids: set[str], config: Path | None, transcribe: bool = True
) -> LayoutResult:
    """Ingest, transcribe (what is missing) and score afresh; read the suggestions back.

    With ``transcribe=False`` only the calls already transcribed in the cache are scored."""
    from lydlogg.batch import process
    from lydlogg.db import connect
    from lydlogg.ingest import ingest
    from lydlogg.scoring import score_stored

    work.mkdir(parents=True, exist_ok=True)
    settings = load_settings(config, db_path=work / f"{layout}.duckdb")
    result = LayoutResult(layout)
    if transcribe:
        ingest(settings, [], _metadata_subset(spoken, layout, call_ids))
        result.failed = [c for c, _ in process(settings).failed]
    else:
        with connect(settings.db_path) as con:
            call_ids = call_ids & {r[0] for r in con.execute("SELECT call_id FROM transcripts").fetchall()}
    with connect(settings.db_path) as con:
        con.execute("DELETE FROM suggestions")  # score with the current scorers, as a fresh `lydlogg score`
    score_stored(settings, call_ids=call_ids)
    with connect(settings.db_path) as con:
        rows = con.execute(
            "SELECT call_id, criterion_id, value, confidence, abstained FROM suggestions"
        ).fetchall()
        segs = con.execute(
            "SELECT t.call_id, s.channel, s.role, s.text FROM segments_current s JOIN transcripts t USING "
            "(transcript_id) WHERE t.created_at = (SELECT max(created_at) FROM transcripts t2 WHERE "
            "t2.call_id = t.call_id) ORDER BY t.call_id, s.segment_index"
        ).fetchall()
        words = con.execute(
            "SELECT t.call_id, w.start_s, w.end_s, s.role FROM words w JOIN segments_current s USING "
            "(transcript_id, segment_index) JOIN transcripts t USING (transcript_id) WHERE t.created_at = "
            "(SELECT max(created_at) FROM transcripts t2 WHERE t2.call_id = t.call_id) "
            "ORDER BY t.call_id, w.segment_index, w.word_index"
        ).fetchall()
    for call_id, criterion, value, conf, abstained in rows:
        result.suggestions.setdefault(call_id, {})[criterion] = Suggestion(value, conf, bool(abstained))
    result.wer_staff, result.wer_caller = _wer(spoken, segs, call_ids)
    result.roles = _roles(spoken, words, call_ids)
    return result


def _roles(spoken: Path, words: list[tuple], call_ids: set[str]) -> RoleCounts:
    per_call: dict[str, list[tuple[float, float, str | None]]] = defaultdict(list)
    for call_id, start, end, role in words:
        per_call[call_id].append((start, end, role))
    total = RoleCounts()
    for call_id in sorted(call_ids & set(per_call)):
        ref = json.loads((spoken / "reference" / f"{call_id}.json").read_text(encoding="utf-8"))
        turns = [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in ref["segments"]]
        total += role_counts(per_call[call_id], turns, {s["speaker"]: s["role"] for s in ref["segments"]})
    return total


def _wer(spoken: Path, segs: list[tuple], call_ids: set[str]) -> tuple[float | None, float | None]:
    """Pooled WER of staff and of caller speech (by the recognised segments' roles)."""
    hyp: dict[tuple[str, bool], list[str]] = defaultdict(list)
    for call_id, _, role, text in segs:
        hyp[(call_id, role in ("operator", "doctor"))].append(text)
    pairs: dict[bool, list[tuple[str, str]]] = {True: [], False: []}
    for call_id in sorted(call_ids):
        ref = json.loads((spoken / "reference" / f"{call_id}.json").read_text(encoding="utf-8"))
        for staff in (True, False):
            text = " ".join(s["text"] for s in ref["segments"] if (s["speaker"] == "S1") == staff)
            pairs[staff].append((text, " ".join(hyp.get((call_id, staff), []))))
    return corpus_wer(pairs[True]).wer, corpus_wer(pairs[False]).wer


def agreement(
    labels: dict[str, dict], got: dict[str, dict[str, Suggestion]], ordinal: set[str]
) -> dict[str, dict[str, float]]:
    """Per criterion: n, exact and within-one over all calls (an abstention is a miss), coverage,
    and exact among the suggestions given."""
    out: dict[str, dict[str, float]] = {}
    per: dict[str, list[tuple[int | None, Suggestion | None]]] = defaultdict(list)
    for call_id, entry in labels.items():
        for criterion, label in entry["labels"].items():
            per[criterion].append((label, got.get(call_id, {}).get(criterion)))
    for criterion, pairs in sorted(per.items()):
        n = len(pairs)
        given = [(a, s) for a, s in pairs if s is not None and not s.abstained]
        exact = sum(a == s.value for a, s in given)
        within = sum(
            a == s.value or (a is not None and s.value is not None and abs(a - s.value) <= 1)
            for a, s in given
        )
        out[criterion] = {
            "n": n,
            "exact": exact / n,
            "within_one": within / n if criterion in ordinal else None,
            "coverage": len(given) / n,
            "exact_given": exact / len(given) if given else None,
        }
    return out


def reliability(labels: dict[str, dict], got: dict[str, dict[str, Suggestion]]) -> list[dict]:
    """Share right (exact) among the suggestions given, per confidence bin."""
    bins = [{"low": lo, "high": min(hi, 1.0), "n": 0, "right": 0} for lo, hi in CONFIDENCE_BINS]
    for call_id, entry in labels.items():
        for criterion, label in entry["labels"].items():
            s = got.get(call_id, {}).get(criterion)
            if s is None or s.abstained:
                continue
            for b, (lo, hi) in zip(bins, CONFIDENCE_BINS, strict=True):
                if lo <= s.confidence < hi:
                    b["n"] += 1
                    b["right"] += int(s.value == label)
    return bins


def summary(labels: dict[str, dict], got: dict[str, dict[str, Suggestion]], ordinal: set[str]) -> dict:
    per = agreement(labels, got, ordinal)
    yes_no = [c for c in per if c not in ordinal]
    ords = [c for c in per if c in ordinal]
    total = sum(per[c]["n"] for c in per)
    rel = reliability(labels, got)
    high = [b for b in rel if b["low"] >= 0.8]
    high_n = sum(b["n"] for b in high)
    return {
        "per_criterion": per,
        "ordinal_within_one": sum(per[c]["within_one"] * per[c]["n"] for c in ords)
        / max(1, sum(per[c]["n"] for c in ords)),
        "ordinal_exact": sum(per[c]["exact"] * per[c]["n"] for c in ords)
        / max(1, sum(per[c]["n"] for c in ords)),
        "yes_no_exact": sum(per[c]["exact"] * per[c]["n"] for c in yes_no)
        / max(1, sum(per[c]["n"] for c in yes_no)),
        "coverage": sum(per[c]["coverage"] * per[c]["n"] for c in per) / max(1, total),
        "reliability": rel,
        "right_at_0_8": sum(b["right"] for b in high) / high_n if high_n else None,
        "right_given": sum(b["right"] for b in rel) / max(1, sum(b["n"] for b in rel)),
        "given_at_0_8": high_n / max(1, total),
    }


def _pct(x: float | None) -> str:
    return "   -" if x is None else f"{x:4.0%}"


def print_report(text: dict, layouts: dict[str, dict], wers: dict[str, tuple], n_calls: int) -> None:
    names = list(layouts)
    print(f"\n{n_calls} calls; cells: exact agreement (0-4 criteria: within one / exact); cov = coverage")
    head = f"  {'criterion':<26} {'text':>11}" + "".join(f" {n:>17}" for n in names)
    print(head)
    for criterion, f in text["per_criterion"].items():

        def cell(g: dict) -> str:
            w = g["within_one"]
            main = f"{_pct(w)}/{_pct(g['exact'])}" if w is not None else f"     {_pct(g['exact'])}"
            return main

        row = f"  {criterion:<26} {cell(f):>11}"
        for n in names:
            g = layouts[n]["per_criterion"][criterion]
            row += f" {cell(g):>10} cov{_pct(g['coverage'])}"
        print(row)
    for key, label in (("ordinal_within_one", "0-4 within one"), ("ordinal_exact", "0-4 exact"),
                       ("yes_no_exact", "yes/no"), ("coverage", "coverage"),
                       ("right_given", "right among given")):  # fmt: skip
        print(
            f"  {label:<26} {_pct(text[key]):>11}" + "".join(f" {_pct(layouts[n][key]):>17}" for n in names)
        )
    for n in names:
        ws, wc = wers[n]
        print(f"\n{n}: WER staff {ws:.2f}, caller {wc:.2f}; reliability (confidence -> share right):")
        for b in layouts[n]["reliability"]:
            if b["n"]:
                print(
                    f"    [{b['low']:.1f}, {b['high']:.1f})  n={b['n']:>3}  right {b['right'] / b['n']:4.0%}"
                )
        r = layouts[n]["right_at_0_8"]
        print(f"    confidence >= 0.8: {layouts[n]['given_at_0_8']:.0%} of all, right {_pct(r)}")
        ro = layouts[n].get("roles")
        if ro and ro["words"]:
            print(
                f"    roles: {ro['words']} recognised words, {ro['accuracy']:.1%} on the right side (staff or"
                f" not; exact role {ro['exact']:.1%}); staff words kept as staff {ro['staff_recall']:.1%},"
                f" words given a staff role that are staff's {ro['staff_precision']:.1%}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--spoken", type=Path, required=True, help="output folder of make_spoken_rubric_set.py"
    )
    parser.add_argument(
        "--work", type=Path, required=True, help="folder for the per-layout databases (cache)"
    )
    parser.add_argument("--layout", action="append", choices=LAYOUTS, help="default: stereo16k")
    parser.add_argument("--split", choices=["all", "dev", "holdout"], default="holdout")
    parser.add_argument("--only", help="comma-separated call ids")
    parser.add_argument("--config", type=Path, help="settings file (TOML) for ingest/process/score")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--no-recognition",
        action="store_true",
        help="baseline: score as before recognition was taken into account (no abstention, confidence not "
        "scaled by recognition nor calibrated)",
    )
    parser.add_argument(
        "--no-calibration",
        action="store_true",
        help="confidence uncalibrated (rule confidence x recognition factor), as before rubrics/confidence.py",
    )
    parser.add_argument(
        "--transcribed-only", action="store_true", help="score only the calls already transcribed in --work"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import rubrics.engine

    if args.no_recognition:
        rubrics.engine.adjust_for_recognition = lambda score, *_a, **_k: score
    if args.no_recognition or args.no_calibration:
        rubrics.engine.CALIBRATION = None  # the confidence as the rules and recognition factor give it
    only = set(args.only.split(",")) if args.only else None
    labels = load_labels(args.split, only)
    if args.spoken.joinpath("manifest.csv").is_file() and only is None:
        with open(args.spoken / "manifest.csv", newline="", encoding="utf-8") as fh:
            spoken_ids = {r["call_id"] for r in csv.DictReader(fh)}
        labels = {c: e for c, e in labels.items() if c in spoken_ids}
    if not labels:
        raise SystemExit("no labelled call matches --split/--only in the spoken set")
    rubrics = load_rubrics()
    ordinal = {c.id for r in rubrics.values() for c in r.rubric.criteria if c.scale.type == "ordinal"}
    layouts, wers, results = {}, {}, {}
    for layout in args.layout or ["stereo16k"]:
        results[layout] = run_layout(args.spoken, args.work, layout, set(labels), args.config,
                                     transcribe=not args.transcribed_only)  # fmt: skip
    if args.transcribed_only:  # the calls every layout has
        common = set.intersection(*(set(r.suggestions) for r in results.values()))
        labels = {c: e for c, e in labels.items() if c in common}
    text = summary(labels, text_suggestions(labels), ordinal)
    for layout, res in results.items():
        res.suggestions = {c: v for c, v in res.suggestions.items() if c in labels}
        layouts[layout] = summary(labels, res.suggestions, ordinal)
        wers[layout] = (res.wer_staff, res.wer_caller)
        layouts[layout]["wer_staff"], layouts[layout]["wer_caller"] = res.wer_staff, res.wer_caller
        layouts[layout]["roles"] = (res.roles or RoleCounts()).shares()
    print_report(text, layouts, wers, len(labels))
    if args.json:
        args.json.write_text(json.dumps({"text": text, "layouts": layouts}, indent=1))


if __name__ == "__main__":
    main()
