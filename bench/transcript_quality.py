"""Calibrate the transcript quality estimate (transcription/quality.py) against measured WER.

Per reference turn of the spoken rubric set (the recognised segments of the same channel whose
middle falls inside the turn), the estimate is set against the turn's word accuracy (1 - WER,
floored at 0). Reads the databases that ``bench/e2e_rubric.py`` fills (``--work``), so nothing is
transcribed again; the real-speech clips in ../shared/testdata/norwegian_npsc are transcribed here
(11 s of audio).

    python bench/transcript_quality.py --spoken DIR --work DIR [--layout stereo16k ...]
        [--fit] [--no-real]

``--fit`` fits the weights on the dev split and prints them (paste into _WEIGHTS); the table is
always printed for the held-out split with the weights in the module: per estimate bin, the number
of turns, the mean estimate and the measured accuracy, and the correlation.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import duckdb
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from transcription.evaluation import wer  # noqa: E402
from transcription.quality import fit_weights, segment_quality, signals  # noqa: E402
from transcription.types import Segment, Word  # noqa: E402

BINS = (0.0, 0.25, 0.5, 0.75, 1.01)
REAL = REPO.parent / "shared" / "testdata" / "norwegian_npsc"


def _segments(db: Path) -> dict[str, list[Segment]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        seg_rows = con.execute(
            "SELECT t.call_id, s.transcript_id, s.segment_index, s.channel, s.start_s, s.end_s, s.text, s.speaker,"
            " s.avg_logprob, s.no_speech_prob FROM segments s JOIN transcripts t USING (transcript_id)"
            " ORDER BY t.call_id, s.segment_index"
        ).fetchall()
        words: dict[tuple[str, int], list[Word]] = {}
        for tid, idx, start, end, text, prob in con.execute(
            "SELECT transcript_id, segment_index, start_s, end_s, text, probability FROM words"
            " ORDER BY transcript_id, segment_index, word_index"
        ).fetchall():
            words.setdefault((tid, idx), []).append(Word(start, end, text, prob))
    finally:
        con.close()
    out: dict[str, list[Segment]] = {}
    for call_id, tid, idx, ch, start, end, text, speaker, lp, ns in seg_rows:
        out.setdefault(call_id, []).append(
            Segment(start, end, text, ch, speaker, None, tuple(words.get((tid, idx), ())), lp, ns)
        )
    return out


def merge(segs: list[Segment]) -> Segment:
    """One segment standing for several (a reference turn's recognised pieces)."""
    dur = [max(s.end - s.start, 0.05) for s in segs]
    lp = [s.avg_logprob for s in segs if s.avg_logprob is not None]
    ns = [s.no_speech_prob for s in segs if s.no_speech_prob is not None]
    return Segment(
        segs[0].start,
        segs[-1].end,
        " ".join(s.text for s in segs),
        segs[0].channel,
        words=tuple(w for s in segs for w in s.words),
        avg_logprob=float(np.average(lp, weights=dur[: len(lp)])) if lp else None,
        no_speech_prob=float(np.mean(ns)) if ns else None,
    )


def turn_rows(spoken: Path, db: Path, calls: set[str], stereo: bool) -> list[tuple[Segment, float, float]]:
    """(merged recognised segment, measured accuracy, turn duration) per reference turn."""
    rows = []
    by_call = _segments(db)
    for call_id in sorted(calls & set(by_call)):
        ref = json.loads((spoken / "reference" / f"{call_id}.json").read_text(encoding="utf-8"))
        for turn in ref["segments"]:
            mine = [
                s
                for s in by_call[call_id]
                if (not stereo or s.channel == turn["channel"])
                and turn["start"] - 0.3 <= (s.start + s.end) / 2 <= turn["end"] + 0.3
            ]
            if not mine:
                continue  # a deletion: no estimate to judge
            acc = max(0.0, 1.0 - wer(turn["text"], " ".join(s.text for s in mine)))
            rows.append((merge(mine), acc, turn["end"] - turn["start"]))
    return rows


def table(rows: list[tuple[Segment, float, float]], weights: dict | None = None) -> list[dict]:
    est = np.array([segment_quality(s, weights) for s, _, _ in rows], dtype=float)
    acc = np.array([a for _, a, _ in rows])
    out = []
    for lo, hi in zip(BINS, BINS[1:], strict=False):
        m = (est >= lo) & (est < hi)
        out.append({"low": lo, "high": min(hi, 1.0), "n": int(m.sum()),
                    "mean_estimate": float(est[m].mean()) if m.any() else None,
                    "accuracy": float(acc[m].mean()) if m.any() else None})  # fmt: skip
    corr = float(np.corrcoef(est, acc)[0, 1]) if len(rows) > 2 and est.std() > 0 else float("nan")
    out.append({"correlation": corr, "mae": float(np.abs(est - acc).mean()) if len(rows) else float("nan")})
    return out


def real_clips() -> list[tuple[Segment, float, float]]:
    from transcription import AsrOptions, Transcriber, decode_audio, load_model, resolve_model

    spec = resolve_model("bundled-base", models_dir=REPO / "data" / "models", offline=True)
    tr = Transcriber(load_model(spec, device="cpu", compute_type="int8"), AsrOptions(language="no"))
    rows = []
    for audio in sorted(REAL.glob("*.mp3")):
        res = tr.transcribe(decode_audio(audio))
        ref = audio.with_suffix(".txt").read_text(encoding="utf-8")
        seg = merge(list(res.segments))
        rows.append((seg, max(0.0, 1.0 - wer(ref, seg.text)), seg.end - seg.start))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spoken", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--layout", action="append", default=None)
    parser.add_argument("--fit", action="store_true", help="fit weights on the dev split and print them")
    parser.add_argument("--no-real", action="store_true", help="skip the real-speech clips")
    args = parser.parse_args()
    with open(args.spoken / "manifest.csv", newline="", encoding="utf-8") as fh:
        split = {r["call_id"]: r["split"] for r in csv.DictReader(fh)}
    layouts = args.layout or ["stereo16k", "ulaw8k"]
    weights = None
    if args.fit:
        dev = [r for lay in layouts if (args.work / f"{lay}.duckdb").is_file()
               for r in turn_rows(args.spoken, args.work / f"{lay}.duckdb",
                                  {c for c, s in split.items() if s == "dev"}, "mono" not in lay)]  # fmt: skip
        weights = fit_weights([(signals(s), a, d) for s, a, d in dev])
        print(
            f"fitted on {len(dev)} dev turns:\n"
            + json.dumps({k: round(v, 4) for k, v in weights.items()}, indent=1)
        )
    for lay in layouts:
        db = args.work / f"{lay}.duckdb"
        if not db.is_file():
            continue
        for name, calls in (("dev", {c for c, s in split.items() if s == "dev"}),
                            ("holdout", {c for c, s in split.items() if s == "holdout"})):  # fmt: skip
            rows = turn_rows(args.spoken, db, calls, "mono" not in lay)
            if not rows:
                continue
            print(f"\n{lay} {name}: {len(rows)} turns")
            _print(table(rows, weights))
    if not args.no_real and REAL.is_dir():
        rows = real_clips()
        print(f"\nreal speech (NPSC clips): {len(rows)} clips")
        for s, a, _ in rows:
            print(f"  estimate {segment_quality(s, weights):.2f}  measured accuracy {a:.2f}")


def _print(t: list[dict]) -> None:
    print(f"  {'estimate':<12} {'turns':>6} {'mean est':>9} {'accuracy':>9}")
    for b in t[:-1]:
        if b["n"]:
            print(
                f"  [{b['low']:.2f},{b['high']:.2f}) {b['n']:>6} {b['mean_estimate']:>9.2f} {b['accuracy']:>9.2f}"
            )
    print(f"  correlation {t[-1]['correlation']:.2f}, mean absolute error {t[-1]['mae']:.2f}")


if __name__ == "__main__":
    main()
