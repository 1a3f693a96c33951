"""Check ``lydlogg asr-eval`` against the transcription bench's WER, computed the other way.

The sample calls are ingested and transcribed by the pipeline, then every pipeline segment is
"corrected" with the reference transcript (``data/samples/reference/``): each reference word goes
to the pipeline segment of the same channel that holds it in time, word by word (words spread
evenly over the reference segment), as a reviewer would split it. Then

* bench WER: per channel, the whole reference text against the whole pipeline text, pooled over
  calls (how ``bench/transcribe.py`` computes ``samples_wer``);
* asr-eval WER: the stored transcript's segments against their corrections, pooled (model
  ``transkripsjon``), and the model re-run on the corrected spans alone.

The first two should agree within rounding; pipeline segments that no reference segment falls
in (hallucinations) are insertions the bench counts and a reviewer cannot store as a correction,
so they are reported.

    python bench/asr_eval.py [--calls N] [--json OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"
sys.path.insert(0, str(REPO))


def _assign(ref_segments: list[dict], pipe: list[tuple]) -> dict[int, list[str]]:
    """pipeline segment index -> reference words: each reference segment's words are spread evenly
    over its time span and each goes to the pipeline segment (same channel) holding that instant,
    else the nearest one, as a reviewer correcting segment by segment would split the text."""
    out: dict[int, list[tuple[float, str]]] = {}
    for r in ref_segments:
        words = r["text"].split()
        step = (r["end"] - r["start"]) / max(len(words), 1)
        for i, word in enumerate(words):
            t = r["start"] + (i + 0.5) * step
            best = min(pipe, key=lambda p: 0.0 if p[1] <= t <= p[2] else min(abs(t - p[1]), abs(t - p[2])))
            out.setdefault(best[0], []).append((t, word))
    return {k: [w for _, w in sorted(v)] for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--calls", type=int, default=3, help="The N shortest sample calls (default 3; 0 = all)"
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file")
    args = parser.parse_args()

    import duckdb
    import soundfile as sf

    from lydlogg.asr_eval import run_asr_eval
    from lydlogg.batch import process
    from lydlogg.ingest import ingest
    from lydlogg.settings import load_settings
    from transcription.evaluation import corpus_wer

    rows = list(csv.DictReader((SAMPLES / "metadata.csv").read_text(encoding="utf-8").splitlines()))
    rows = [r for r in rows if r["audio_file"] and (SAMPLES / "reference" / f"{r['call_id']}.json").is_file()]
    rows.sort(key=lambda r: sf.info(str(SAMPLES / r["audio_file"])).duration)
    if args.calls:
        rows = rows[: args.calls]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "audio").mkdir()
        for r in rows:
            shutil.copy(SAMPLES / r["audio_file"], folder / r["audio_file"])
        with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        settings = load_settings(None, db_path=folder / "b.duckdb", key_file=folder / "k" / "pseudonym.key",
                                 asr={"models_dir": REPO / "data" / "models"})  # fmt: skip
        ingest(settings, [], metadata=folder / "metadata.csv")
        assert not process(settings).failed

        bench_pairs, corrections, unmatched = [], [], 0
        with duckdb.connect(str(settings.db_path)) as con:
            for r in rows:
                ref = json.loads((SAMPLES / "reference" / f"{r['call_id']}.json").read_text())
                tid, layout = con.execute(
                    "SELECT transcript_id, layout FROM transcripts WHERE call_id = ?", [r["call_id"]]
                ).fetchone()
                segs = con.execute(
                    "SELECT segment_index, channel, start_s, end_s, text FROM segments WHERE transcript_id = ?"
                    " ORDER BY segment_index",
                    [tid],
                ).fetchall()
                for ch in sorted({s[1] for s in segs} | {None}, key=lambda c: -1 if c is None else c):
                    refs = [s for s in ref["segments"] if layout != "stereo" or s.get("channel") == ch]
                    if layout == "stereo" and ch is None:
                        continue
                    pipe = [(i, a, b) for i, c, a, b, _ in segs if c == ch]
                    if not refs:
                        continue
                    ordered = sorted(refs, key=lambda s: s["start"])
                    bench_pairs.append((" ".join(s["text"] for s in ordered),
                                        " ".join(t for _, c, _, _, t in segs if c == ch)))  # fmt: skip
                    assigned = _assign(ordered, pipe)
                    unmatched += sum(1 for i, *_ in pipe if i not in assigned)
                    corrections += [(tid, i, " ".join(texts)) for i, texts in assigned.items()]
            con.executemany(
                "INSERT INTO segment_corrections (transcript_id, segment_index, text, corrected_by) VALUES (?, ?, ?, 'bench')",
                corrections,
            )
        bench = corpus_wer(bench_pairs)
        report = run_asr_eval(settings)
    total = {r.model: r for r in report.rows if r.service == "alle"}
    figures = {
        "calls": [r["call_id"] for r in rows],
        "corrected_segments": report.segments,
        "pipeline_segments_without_reference": unmatched,
        "bench_wer": bench.wer,
        "bench_reference_words": bench.reference_words,
        "asr_eval_transcript_wer": total["transkripsjon"].wer,
        "asr_eval_reference_words": total["transkripsjon"].reference_words,
        "asr_eval_retranscribed_wer": {m: r.wer for m, r in total.items() if m != "transkripsjon"},
        "asr_eval_key_wer": {m: r.key_wer for m, r in total.items()},
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
