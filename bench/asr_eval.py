"""Check ``lydlogg asr-eval`` against the transcription bench's WER, computed the other way.

The sample calls are ingested and transcribed by the pipeline, then every pipeline segment is
"corrected" with the reference transcript (``data/samples/reference/``), split over the pipeline
segments of each channel where the whole-channel alignment puts each word (see ``_assign``). Then

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


def _assign(reference: str, pipe: list[tuple[int, str]]) -> dict[int, list[str]]:
    """pipeline segment index -> reference words, split where the whole-channel alignment puts
    them: a word matched or substituted goes to the segment of its hypothesis word, a deleted word
    to the segment of the hypothesis word before it (the first one at the start). This is how a
    careful reviewer splits the text, and it makes the pooled per-segment errors add up to the
    whole-channel errors, except for segments left with no reference word (pure insertions)."""
    import jiwer

    from transcription.evaluation import normalise

    ref = normalise(reference).split()
    owner = [idx for idx, text in pipe for _ in normalise(text).split()]
    if not ref or not owner:
        return {}
    out: dict[int, list[str]] = {}
    chunks = jiwer.process_words(" ".join(ref), " ".join(normalise(t) for _, t in pipe)).alignments[0]
    for c in chunks:
        for k in range(c.ref_start_idx, c.ref_end_idx):
            if c.type in ("equal", "substitute"):
                seg = owner[c.hyp_start_idx + (k - c.ref_start_idx)]
            else:  # delete
                seg = owner[max(c.hyp_start_idx - 1, 0)]
            out.setdefault(seg, []).append(ref[k])
    return out


def reference_corrections(
    con, call_ids: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, int, str]], int]:
    """For each call's stored transcript and its reference (``data/samples/reference/``): the
    whole-channel (reference, pipeline text) pairs the bench scores, the corrections that split the
    reference over the pipeline segments (transcript id, segment index, text), and how many
    pipeline segments got no reference word."""
    bench_pairs, corrections, unmatched = [], [], 0
    for call_id in call_ids:
        ref = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text())
        tid, layout = con.execute(
            "SELECT transcript_id, layout FROM transcripts WHERE call_id = ?", [call_id]
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
            pipe = [(i, t) for i, c, _, _, t in segs if c == ch]
            if not refs:
                continue
            ordered = sorted(refs, key=lambda s: s["start"])
            bench_pairs.append((" ".join(s["text"] for s in ordered),
                                " ".join(t for _, c, _, _, t in segs if c == ch)))  # fmt: skip
            assigned = _assign(" ".join(s["text"] for s in ordered), pipe)
            unmatched += sum(1 for i, *_ in pipe if i not in assigned)
            corrections += [(tid, i, " ".join(texts)) for i, texts in assigned.items()]
    return bench_pairs, corrections, unmatched


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

        with duckdb.connect(str(settings.db_path)) as con:
            bench_pairs, corrections, unmatched = reference_corrections(con, [r["call_id"] for r in rows])
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
