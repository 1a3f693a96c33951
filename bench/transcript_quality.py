"""Calibrate the transcript quality estimate (transcription/quality.py) against measured WER.

Per reference turn of the spoken rubric set (the recognised segments of the same channel whose
middle falls inside the turn), the estimate is set against the turn's word accuracy (1 - WER,
floored at 0). Reads the databases that ``bench/e2e_rubric.py`` fills (``--work``), so nothing is
transcribed again; the real-speech clips with reference text in ../shared/testdata (``REAL_CLIPS``:
two NPSC clips and three English ones, 32 s of audio) are transcribed here, or read back from
``--real-cache``.

    python bench/transcript_quality.py --spoken DIR --work DIR [--layout stereo16k ...]
        [--fit] [--no-real] [--split dev] [--real-cache FILE]

``--fit`` fits the weights on the dev split alone and prints them, then fits them on the dev turns
and the real-speech clips pooled (the clips scaled to the dev turns' total weight) and prints
those: the pooled fit is what _WEIGHTS holds. It also asks how each fit does on real speech held
out of it (leave one clip out). The tables (``--split``: dev, holdout or both) give per estimate bin the number of
turns, the mean estimate and the measured accuracy, and the correlation; without ``--fit`` they
use the weights in the module.
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
REAL = REPO.parent / "shared" / "testdata"


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


# Real speech with reference text (../shared/testdata/SOURCES.md): file, language, channel (None:
# every channel, mixed), reference text file. The two NPSC clips are Norwegian parliament speech;
# the English clips (public-domain speech, a read sentence per channel) give the fit what the
# spoken set lacks: real speech the recogniser hears almost perfectly.
REAL_CLIPS = (
    ("norwegian_npsc/norwegian-short-3s.mp3", "no", None, "norwegian_npsc/norwegian-short-3s.txt"),
    ("norwegian_npsc/norwegian-medium-8s.mp3", "no", None, "norwegian_npsc/norwegian-medium-8s.txt"),
    ("dual_mono/jfk.flac", "en", None, "dual_mono/jfk.txt"),
    ("stereo_call/stereo_diarization.wav", "en", 0, "stereo_call/stereo_diarization.left.txt"),
    ("stereo_call/stereo_diarization.wav", "en", 1, "stereo_call/stereo_diarization.right.txt"),
)


def _segment_doc(s: Segment) -> dict:
    return {"start": s.start, "end": s.end, "text": s.text, "avg_logprob": s.avg_logprob,
            "no_speech_prob": s.no_speech_prob,
            "words": [[w.start, w.end, w.text, w.probability] for w in s.words]}  # fmt: skip


def _segment_of(d: dict) -> Segment:
    words = tuple(Word(a, b, t, p) for a, b, t, p in d["words"])
    return Segment(d["start"], d["end"], d["text"], words=words, avg_logprob=d["avg_logprob"],
                   no_speech_prob=d["no_speech_prob"])  # fmt: skip


def real_clips(cache: Path | None = None) -> list[tuple[str, Segment, float, float]]:
    """(name, merged recognised segment, measured accuracy, duration) per real-speech clip, each
    transcribed by the offline default model (Whisper base) in its own language; kept in
    ``cache`` (a JSON file) when given."""
    from dataclasses import replace

    from transcription import AsrOptions, Transcriber, decode_audio, load_model, resolve_model

    done = json.loads(cache.read_text(encoding="utf-8")) if cache and cache.is_file() else {}
    rows, model = [], None
    for rel, language, channel, ref in REAL_CLIPS:
        name = rel.split("/")[-1] + ("" if channel is None else f" ch{channel}")
        if not (REAL / rel).is_file():
            continue
        if name not in done:
            if model is None:
                spec = resolve_model("bundled-base", models_dir=REPO / "data" / "models", offline=True)
                model = load_model(spec, device="cpu", compute_type="int8")
            audio = decode_audio(REAL / rel)
            if channel is None:
                samples = audio.samples.mean(axis=0, keepdims=True, dtype=np.float32)
            else:
                samples = audio.samples[channel : channel + 1]
            audio = replace(audio, samples=np.ascontiguousarray(samples), layout="mono")
            res = Transcriber(model, AsrOptions(language=language)).transcribe(audio)
            done[name] = _segment_doc(merge(list(res.segments)))
        seg = _segment_of(done[name])
        text = (REAL / ref).read_text(encoding="utf-8")
        rows.append((name, seg, max(0.0, 1.0 - wer(text, seg.text)), seg.end - seg.start))
    if cache:
        cache.write_text(json.dumps(done, indent=1), encoding="utf-8")
    return rows


def refit_report(
    dev: list[tuple[Segment, float, float]], real: list[tuple[str, Segment, float, float]]
) -> None:
    """Does adding real speech to the fit help on real speech it has not seen? Each real clip is
    estimated by weights fitted without it (dev turns plus the other clips, which together weigh as
    much as the dev turns), against the weights fitted on the dev turns alone; the dev turns are
    scored by both fits and by the module's _WEIGHTS."""
    from transcription.quality import _WEIGHTS

    dev_rows = [(signals(s), a, d) for s, a, d in dev]
    dev_weight = sum(d for _, _, d in dev_rows)

    def with_real(clips):
        total = sum(d for _, _, _, d in clips) or 1.0
        return dev_rows + [(signals(s), a, d * dev_weight / total) for _, s, a, d in clips]

    dev_only = fit_weights(dev_rows)
    print(f"\nleave one real clip out ({len(real)} clips; dev = fitted on the dev turns only):")
    print(f"  {'clip':<34} {'accuracy':>8} {'dev':>8} {'pooled':>8}")
    err_shipped, err_refit, est_s, est_r = [], [], [], []
    for i, (name, s, a, _) in enumerate(real):
        w = fit_weights(with_real(real[:i] + real[i + 1 :]))
        qs, qr = segment_quality(s, dev_only), segment_quality(s, w)
        est_s.append(qs), est_r.append(qr)
        err_shipped.append(abs(qs - a)), err_refit.append(abs(qr - a))
        print(f"  {name:<34} {a:8.2f} {qs:8.2f} {qr:8.2f}")
    acc = [a for _, _, a, _ in real]
    corr = lambda e: float(np.corrcoef(e, acc)[0, 1]) if np.std(e) > 0 else float("nan")  # noqa: E731
    print(f"  mean absolute error: dev {np.mean(err_shipped):.2f}, pooled {np.mean(err_refit):.2f};"
          f" correlation with accuracy: dev {corr(est_s):.2f}, pooled {corr(est_r):.2f}")  # fmt: skip
    w_all = fit_weights(with_real(real))
    print(
        "fitted on the dev turns and every real clip (pooled; the weights to ship):\n"
        + json.dumps({k: round(v, 4) for k, v in w_all.items()}, indent=1)
    )
    print("dev turns with those weights:")
    _print(table(dev, w_all))
    print("dev turns with the dev-only weights:")
    _print(table(dev, dev_only))
    print("dev turns with the module's _WEIGHTS:")
    _print(table(dev, dict(_WEIGHTS)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spoken", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--layout", action="append", default=None)
    parser.add_argument("--fit", action="store_true", help="fit weights on the dev split and print them")
    parser.add_argument("--no-real", action="store_true", help="skip the real-speech clips")
    parser.add_argument(
        "--split",
        choices=["dev", "holdout", "all"],
        default="all",
        help="which split's tables to print (the fit always uses dev)",
    )
    parser.add_argument("--real-cache", type=Path, help="JSON file keeping the real clips' transcriptions")
    args = parser.parse_args()
    with open(args.spoken / "manifest.csv", newline="", encoding="utf-8") as fh:
        split = {r["call_id"]: r["split"] for r in csv.DictReader(fh)}
    layouts = args.layout or ["stereo16k", "ulaw8k"]
    weights = None
    dev = []
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
            if args.split not in ("all", name):
                continue
            rows = turn_rows(args.spoken, db, calls, "mono" not in lay)
            if not rows:
                continue
            print(f"\n{lay} {name}: {len(rows)} turns")
            _print(table(rows, weights))
    if not args.no_real and REAL.is_dir():
        real = real_clips(args.real_cache)
        print(f"\nreal speech: {len(real)} clips")
        for name, s, a, _ in real:
            print(f"  {name:<34} estimate {segment_quality(s, weights):.2f}  measured accuracy {a:.2f}")
        if len(real) > 2:
            t = table([(s, a, d) for _, s, a, d in real], weights)[-1]
            print(f"  correlation {t['correlation']:.2f}, mean absolute error {t['mae']:.2f}")
        if args.fit and dev:
            refit_report(dev, real)


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
