"""Speed, accuracy and memory of the transcription batch, against plain faster-whisper.

Each measurement runs in its own process (so peak memory is its own), on the same audio, the
same model and the same decoding options:

1. ``plain``     plain ``WhisperModel.transcribe(path, **options)`` over the mono files
2. ``pipeline``  ``lydlogg`` ingest + process (decode once, DuckDB writes) over the same files
3. ``stereo``    the pipeline over the stereo sample calls (one pass per channel)
4. ``mixdown``   the pipeline over mono mix-downs of those same calls

and prints the real-time factors, the ratios pipeline/plain (target <= 1.10) and stereo/mono on
the same conversations, WER on the NPSC clips and on the sample calls, and peak memory.

    python bench/transcribe.py [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO.parent / "shared" / "testdata"
SAMPLES = REPO / "data" / "samples"
sys.path.insert(0, str(REPO))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _options():
    from lydlogg.batch import asr_options
    from lydlogg.settings import load_settings

    settings = load_settings(None, asr={"models_dir": REPO / "data" / "models"})
    return settings, asr_options(settings)


def part_plain(files: list[str]) -> dict:
    from faster_whisper import WhisperModel

    from transcription.models import prepare_bundled

    settings, options = _options()
    t0 = time.perf_counter()
    model = WhisperModel(
        str(prepare_bundled(settings.asr.models_dir)),
        device=options.device,
        compute_type=options.compute_type,
    )
    texts = {}
    for f in files:
        segments, _info = model.transcribe(f, **options.transcribe_kwargs())
        texts[f] = {"mono": " ".join(s.text for s in segments)}
    return {"elapsed_s": time.perf_counter() - t0, "texts": texts, "peak_rss_mb": _peak_rss_mb()}


def part_pipeline(files: list[str]) -> dict:
    import duckdb

    from lydlogg.batch import process
    from lydlogg.ingest import ingest
    from lydlogg.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            None, db_path=Path(tmp) / "bench.duckdb", asr={"models_dir": REPO / "data" / "models"}
        )
        report = ingest(settings, [Path(f) for f in files])
        assert not report.failures, report.failures
        t0 = time.perf_counter()
        done = process(settings)
        elapsed = time.perf_counter() - t0
        assert not done.failed, done.failed
        texts: dict[str, dict[str, str]] = {}
        with duckdb.connect(str(settings.db_path), read_only=True) as con:
            rows = con.execute(
                "SELECT a.path, coalesce(CAST(s.channel AS VARCHAR), 'mono'), string_agg(s.text, ' ' ORDER BY s.segment_index)"
                " FROM transcripts t JOIN audio_files a ON a.sha256 = t.audio_sha256"
                " JOIN segments s USING (transcript_id) GROUP BY ALL"
            ).fetchall()
    for path, channel, text in rows:
        texts.setdefault(path, {})[channel] = text
    return {"elapsed_s": elapsed, "texts": texts, "peak_rss_mb": _peak_rss_mb()}


def _run_part(name: str, files: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--part", name, *files]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    if out.returncode != 0:
        raise SystemExit(f"part {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def _duration(path: str) -> float:
    import soundfile as sf

    return sf.info(path).duration


def _mixdown(files: list[str], folder: Path) -> dict[str, str]:
    import soundfile as sf

    out = {}
    for f in files:
        data, rate = sf.read(f, always_2d=True)
        target = folder / (Path(f).stem + ".mono.wav")
        sf.write(str(target), data.mean(axis=1), rate, subtype="PCM_16")
        out[f] = str(target.resolve())
    return out


def _sample_calls() -> list[dict]:
    calls = []
    for ref in sorted((SAMPLES / "reference").glob("*.json")):
        doc = json.loads(ref.read_text())
        calls.append({**doc, "path": str((SAMPLES / doc["audio_file"]).resolve())})
    return calls


def _reference_texts(call: dict) -> dict[str, str]:
    by_channel: dict[str, list[str]] = {}
    for s in call["segments"]:
        key = "mono" if call["channels"] == 1 or s.get("channel") is None else str(s["channel"])
        by_channel.setdefault(key, []).append(s["text"])
    return {k: " ".join(v) for k, v in by_channel.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=["plain", "pipeline"], help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="NPSC clips and the two shortest sample calls only"
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file")
    args = parser.parse_args()
    if args.part:
        result = part_plain(args.files) if args.part == "plain" else part_pipeline(args.files)
        print(json.dumps(result))
        return

    from transcription.evaluation import corpus_wer

    npsc = sorted(str(p.resolve()) for p in (TESTDATA / "norwegian_npsc").glob("*.mp3"))
    if not npsc:
        print(f"note: {TESTDATA} not found; NPSC figures are skipped")
    calls = _sample_calls()
    if args.quick:
        calls = sorted(calls, key=lambda c: _duration(c["path"]))[:2]
    mono_calls = [c for c in calls if c["channels"] == 1]
    stereo_calls = [c for c in calls if c["channels"] == 2]
    mono_files = npsc + [c["path"] for c in mono_calls]
    if not args.quick and (TESTDATA / "callcentre_8bit").is_dir():
        mono_files.append(str((TESTDATA / "callcentre_8bit" / "call_8bit_u8_mono.wav").resolve()))

    figures: dict = {"device": None, "files": {}}
    print(f"mono set: {len(mono_files)} files, {sum(map(_duration, mono_files)) / 60:.1f} min", flush=True)
    plain = _run_part("plain", mono_files)
    pipe = _run_part("pipeline", mono_files)
    mono_audio = sum(map(_duration, mono_files))
    figures["mono"] = {
        "audio_s": mono_audio,
        "plain_s": plain["elapsed_s"],
        "pipeline_s": pipe["elapsed_s"],
        "plain_rtf": plain["elapsed_s"] / mono_audio,
        "pipeline_rtf": pipe["elapsed_s"] / mono_audio,
        "pipeline_over_plain": pipe["elapsed_s"] / plain["elapsed_s"],
        "plain_peak_rss_mb": plain["peak_rss_mb"],
        "pipeline_peak_rss_mb": pipe["peak_rss_mb"],
    }
    if npsc:
        refs = [(Path(f).with_suffix(".txt").read_text(), f) for f in npsc]
        figures["npsc_wer"] = {
            "pipeline": corpus_wer([(r, pipe["texts"][f]["mono"]) for r, f in refs]).wer,
            "plain": corpus_wer([(r, plain["texts"][f]["mono"]) for r, f in refs]).wer,
        }

    sample_pairs = [
        (_reference_texts(c)["mono"], pipe["texts"][c["path"]].get("mono", "")) for c in mono_calls
    ]
    if stereo_calls:
        stereo_files = [c["path"] for c in stereo_calls]
        stereo_audio = sum(map(_duration, stereo_files))
        print(f"stereo set: {len(stereo_files)} calls, {stereo_audio / 60:.1f} min", flush=True)
        stereo = _run_part("pipeline", stereo_files)
        with tempfile.TemporaryDirectory() as tmp:
            mixed = _mixdown(stereo_files, Path(tmp))
            mix = _run_part("pipeline", list(mixed.values()))
        figures["stereo"] = {
            "audio_s": stereo_audio,
            "stereo_s": stereo["elapsed_s"],
            "mixdown_s": mix["elapsed_s"],
            "stereo_rtf": stereo["elapsed_s"] / stereo_audio,
            "stereo_over_mono": stereo["elapsed_s"] / mix["elapsed_s"],
            "stereo_peak_rss_mb": stereo["peak_rss_mb"],
        }
        mix_pairs = []
        for c in stereo_calls:
            ref = _reference_texts(c)
            hyp = stereo["texts"].get(c["path"], {})
            sample_pairs += [(text, hyp.get(ch, "")) for ch, text in ref.items()]
            whole = " ".join(s["text"] for s in sorted(c["segments"], key=lambda s: s["start"]))
            mix_pairs.append((whole, mix["texts"].get(mixed[c["path"]], {}).get("mono", "")))
        figures["mixdown_wer"] = corpus_wer(mix_pairs).wer
    per_call = {}
    for c in calls:
        ref, hyp = (
            _reference_texts(c),
            ({**pipe["texts"], **(stereo["texts"] if stereo_calls else {})}).get(c["path"], {}),
        )
        per_call[c["call_id"]] = corpus_wer([(text, hyp.get(ch, "")) for ch, text in ref.items()]).wer
    figures["samples_wer"] = corpus_wer(sample_pairs).wer
    figures["samples_wer_per_call"] = per_call

    _, options = _options()
    figures["device"] = f"{options.device} ({options.compute_type}), beam {options.beam_size}"
    m = figures["mono"]
    print(f"\nTranscription benchmark on {figures['device']}, {os.cpu_count()} CPU cores")
    print(f"  mono set ({m['audio_s'] / 60:.1f} min audio, same files, same options):")
    print(
        f"    plain faster-whisper  {m['plain_s']:7.1f} s  RTF {m['plain_rtf']:.3f}  peak RSS {m['plain_peak_rss_mb']:.0f} MB"
    )
    print(
        f"    lydlogg process       {m['pipeline_s']:7.1f} s  RTF {m['pipeline_rtf']:.3f}  peak RSS {m['pipeline_peak_rss_mb']:.0f} MB"
    )
    print(f"    pipeline / plain      {m['pipeline_over_plain']:.3f}  (target <= 1.10)")
    if "stereo" in figures:
        s = figures["stereo"]
        print(f"  stereo sample calls ({s['audio_s'] / 60:.1f} min audio):")
        print(
            f"    per channel (stereo)  {s['stereo_s']:7.1f} s  RTF {s['stereo_rtf']:.3f}  peak RSS {s['stereo_peak_rss_mb']:.0f} MB"
        )
        print(f"    mono mix-down         {s['mixdown_s']:7.1f} s")
        print(f"    stereo / mono         {s['stereo_over_mono']:.3f}  (target < 2)")
    if "npsc_wer" in figures:
        print(
            f"  WER NPSC clips: pipeline {figures['npsc_wer']['pipeline']:.3f}, plain {figures['npsc_wer']['plain']:.3f}"
        )
    print(f"  WER sample calls (per channel): {figures['samples_wer']:.3f}")
    if "mixdown_wer" in figures:
        print(f"  WER sample calls, mono mix-down: {figures['mixdown_wer']:.3f}")
    for call_id, value in per_call.items():
        print(f"    {call_id:<32} {value:.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
