"""Speed, accuracy and memory of the transcription stage: sequential against batched decoding.

Every measurement runs in its own process (so peak memory is its own), on the same audio, the
same model (loaded the pipeline's way) and the same decoding options; the model load and a warm-up
run on a 10 s excerpt happen before the clock starts, and both wall-clock and CPU seconds are
taken. The figures print side by side:

- ``plain-1``        plain ``WhisperModel.transcribe`` on each channel (the sequential decoder)
- ``plain-N``        plain ``BatchedInferencePipeline.transcribe`` on each channel, batches of N
- ``pipeline-1``     ``lydlogg`` ingest (not timed) + process with ``asr.batch_size = 1``
- ``pipeline-N``     the same with ``asr.batch_size = N`` (both channels share the batches)
- ``ratio-N``        ``plain-N`` and ``pipeline-N`` in one process on one model object,
                     ``--repeat`` rounds, alternating which goes first (the figure that counts
                     for pipeline / plain on a machine whose load moves)

on two sets: *mono* (the NPSC parliament clips, real speech, and the mono sample calls) and
*stereo* (the stereo sample calls), each with 8 kHz G.711 mu-law copies of the sample calls, as
telephony recorders export them. It prints real-time factors, CPU seconds, the ratios
batched/sequential (target <= 0.6) and pipeline/plain at the same batch size (target <= 1.05; also
without the diarization stage's seconds, which plain faster-whisper does not do), WER on real
speech and on the sample calls, whether the pipeline's words equal plain faster-whisper's on the
mono set, and peak memory; ``--long`` adds the peak memory of a 1-hour and a 3-hour call (the same
every 20 minutes of speech), which a bounded pipeline keeps about equal.

    python bench/transcribe.py [--quick | --calls N] [--sizes 1,8] [--repeat 3] [--long] [--json OUT]
    python bench/transcribe.py --calls 4 --ratio-only      # only the ratio-N rounds on the mono set
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
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


def _settings(batch_size: int, db_path: Path | None = None):
    from lydlogg.settings import load_settings

    extra = {"db_path": db_path} if db_path else {}
    return load_settings(
        None, asr={"models_dir": REPO / "data" / "models", "batch_size": batch_size}, **extra
    )


def _channel_key(audio, index: int) -> str:
    return str(index) if audio.layout == "stereo" else "mono"


class _Clock:
    """Wall-clock and CPU seconds (every thread of this process) since it was made."""

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        return {"elapsed_s": time.perf_counter() - self._wall, "cpu_s": time.process_time() - self._cpu}


class _Bench:
    """One loaded model and the two ways of running it over a list of files.

    The model is loaded once, the way the pipeline loads it (``CallWorker.load``), and both ways
    use this same object with the same options: plain faster-whisper through
    ``BatchedInferencePipeline`` (or ``WhisperModel`` at batch size 1), and ``lydlogg process``
    through its ``transcriber_factory``. Loading the model and a warm-up run of each way on a
    short excerpt happen before any clock starts, so neither figure counts a model load (Whisper's,
    or the speaker encoder's), lazy imports or first-call set-up.
    """

    def __init__(self, batch_size: int, folder: Path, warm_from: str, ways: tuple[str, ...]) -> None:
        from lydlogg.batch import asr_options
        from transcription import Transcriber, load_model, resolve_model

        self.batch_size, self.folder = batch_size, folder
        settings = _settings(batch_size)
        self.options = asr_options(settings)
        spec = resolve_model(settings.asr.model, models_dir=settings.asr.models_dir, offline=True)
        self.model = load_model(
            spec,
            device=self.options.device,
            compute_type=self.options.compute_type,
            cpu_threads=settings.asr.cpu_threads,
        )
        self._factory = lambda _spec, options: Transcriber(self.model, options)
        self._runs = 0
        warm = _excerpt(warm_from, folder)
        for way in ways:  # only the ways measured, so each part's peak memory is its own
            getattr(self, way)([warm])

    def plain(self, files: list[str]) -> dict:
        """Plain faster-whisper on each channel of each file (decoded the pipeline's way)."""
        from faster_whisper import BatchedInferencePipeline

        from transcription import decode_audio

        engine = BatchedInferencePipeline(self.model) if self.options.batched else self.model
        kwargs = self.options.transcribe_kwargs()
        texts: dict[str, dict[str, str]] = {}
        clock = _Clock()
        for f in files:
            audio = decode_audio(Path(f))
            for index in range(audio.channels):
                segments, _info = engine.transcribe(audio.samples[index], **kwargs)
                texts.setdefault(f, {})[_channel_key(audio, index)] = " ".join(
                    s.text.strip() for s in segments
                )
        return {**clock.read(), "texts": texts}

    def pipeline(self, files: list[str]) -> dict:
        """``lydlogg`` ingest (not timed), then process: decode once, ASR, speakers and roles,
        DuckDB writes, each call in its own transaction, into a new database."""
        import duckdb

        from lydlogg.batch import process
        from lydlogg.ingest import ingest

        self._runs += 1
        settings = _settings(self.batch_size, self.folder / f"run-{self._runs}" / "bench.duckdb")
        report = ingest(settings, [Path(f) for f in files])
        assert not report.failures, report.failures
        clock = _Clock()
        done = process(settings, transcriber_factory=self._factory)
        times = clock.read()
        assert not done.failed, done.failed
        with duckdb.connect(str(settings.db_path), read_only=True) as con:
            rows = con.execute(
                "SELECT a.path, coalesce(CAST(s.channel AS VARCHAR), 'mono'),"
                " string_agg(s.text, ' ' ORDER BY s.start_s, s.segment_index)"
                " FROM transcripts t JOIN audio_files a ON a.sha256 = t.audio_sha256"
                " JOIN segments s USING (transcript_id) GROUP BY ALL"
            ).fetchall()
            asr_s, diarize_s = con.execute(
                "SELECT (SELECT sum(asr_seconds) FROM asr_results),"
                " (SELECT coalesce(sum(diarize_seconds), 0) FROM diarizations)"
            ).fetchone()
            strategies = [
                r[0] for r in con.execute("SELECT DISTINCT strategy FROM diarizations ORDER BY 1").fetchall()
            ]
        texts: dict[str, dict[str, str]] = {}
        for path, channel, text in rows:
            texts.setdefault(path, {})[channel] = text
        return {**times, "texts": texts, "asr_s": asr_s, "diarize_s": diarize_s, "strategies": strategies}


def _excerpt(path: str, folder: Path, seconds: float = 10.0) -> str:
    """The first ``seconds`` of ``path`` as a 16-bit WAV (the warm-up file)."""
    import soundfile as sf

    data, rate = sf.read(path, frames=int(seconds * sf.info(path).samplerate), always_2d=True)
    target = folder / f"warm-up-{Path(path).stem}.wav"
    sf.write(str(target), data, rate, subtype="PCM_16")
    return str(target.resolve())


def part(name: str, files: list[str], repeat: int) -> dict:
    """One measurement in this process: ``plain-N``, ``pipeline-N`` or ``ratio-N`` (both ways,
    ``repeat`` times, alternating which goes first, so a change in the machine's load falls on both)."""
    kind, _, size = name.rpartition("-")
    with tempfile.TemporaryDirectory() as tmp:
        ways = ("plain", "pipeline") if kind == "ratio" else (kind,)
        bench = _Bench(int(size), Path(tmp), files[0], ways)
        if kind == "ratio":
            rounds = []
            for i in range(repeat):
                order = ("plain", "pipeline") if i % 2 == 0 else ("pipeline", "plain")
                got = {way: getattr(bench, way)(files) for way in order}
                rounds.append({way: {k: v for k, v in r.items() if k != "texts"} for way, r in got.items()})
            result: dict = {"rounds": rounds}
        else:
            result = bench.plain(files) if kind == "plain" else bench.pipeline(files)
    return {**result, "peak_rss_mb": _peak_rss_mb()}


def _run_part(name: str, files: list[str], repeat: int = 1) -> dict:
    cmd = [sys.executable, __file__, "--part", name, "--repeat", str(repeat), *files]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    if out.returncode != 0:
        raise SystemExit(f"part {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def _duration(path: str) -> float:
    import soundfile as sf

    return sf.info(path).duration


def _telephone_copy(path: str, folder: Path) -> str:
    """An 8 kHz G.711 mu-law WAV of ``path``, as a telephony recorder would export it."""
    import soundfile as sf
    from scipy.signal import resample_poly

    data, rate = sf.read(path, always_2d=True, dtype="float32")
    low = resample_poly(data, 8000, rate, axis=0) if rate != 8000 else data
    target = folder / f"{Path(path).stem}.8k-ulaw.wav"
    sf.write(str(target), low.clip(-1, 1), 8000, subtype="ULAW")
    return str(target.resolve())


def _mixdown(path: str, folder: Path) -> str:
    import soundfile as sf

    data, rate = sf.read(path, always_2d=True)
    target = folder / f"{Path(path).stem}.mono.wav"
    sf.write(str(target), data.mean(axis=1), rate, subtype="PCM_16")
    return str(target.resolve())


def _long_call(folder: Path, hours: float = 3.0, every_s: float = 1200.0) -> str:
    """A ``hours``-long mono call, silent but for a sample call's speech every ``every_s`` seconds."""
    import numpy as np
    import soundfile as sf

    speech, rate = sf.read(str(SAMPLES / "audio" / "lvs-004-kuttskade.wav"), dtype="int16")
    target = folder / f"long-call-{hours:g}h.wav"
    with sf.SoundFile(str(target), "w", samplerate=rate, channels=1, subtype="PCM_16") as out:
        block = np.zeros(int(every_s * rate), dtype=np.int16)
        block[: len(speech)] = speech
        for _ in range(int(hours * 3600 / every_s)):
            out.write(block)
    return str(target.resolve())


def _sample_calls() -> list[dict]:
    calls = []
    for ref in sorted((SAMPLES / "reference").glob("*.json")):
        doc = json.loads(ref.read_text())
        calls.append({**doc, "path": str((SAMPLES / doc["audio_file"]).resolve())})
    return calls


def _reference_texts(call: dict) -> dict[str, str]:
    by_channel: dict[str, list[str]] = {}
    for s in sorted(call["segments"], key=lambda s: s["start"]):
        key = "mono" if call["channels"] == 1 or s.get("channel") is None else str(s["channel"])
        by_channel.setdefault(key, []).append(s["text"])
    return {k: " ".join(v) for k, v in by_channel.items()}


def _wer(refs: dict[str, dict[str, str]], texts: dict[str, dict[str, str]]) -> float:
    from transcription.evaluation import corpus_wer

    pairs = [(ref, texts.get(f, {}).get(ch, "")) for f, by_ch in refs.items() for ch, ref in by_ch.items()]
    return corpus_wer(pairs).wer


def _measure(label: str, files: list[str], configs: list[str]) -> dict[str, dict]:
    audio = sum(map(_duration, files))
    print(f"{label}: {len(files)} files, {audio / 60:.1f} min of audio, load average {os.getloadavg()[0]:.1f}",
          flush=True)  # fmt: skip
    results = {}
    for config in configs:
        results[config] = _run_part(config, files)
        r = results[config]
        r["rtf"] = r["elapsed_s"] / audio
        split = (
            f"  (diarization {r['diarize_s']:.1f} s, {'/'.join(r['strategies'])})" if "diarize_s" in r else ""
        )
        print(
            f"  {config:<16} {r['elapsed_s']:7.1f} s  CPU {r['cpu_s']:7.1f} s  RTF {r['rtf']:.3f}"
            f"  peak RSS {r['peak_rss_mb']:.0f} MB{split}",
            flush=True,
        )
    return results


def _same_words(plain: dict[str, dict[str, str]], pipeline: dict[str, dict[str, str]]) -> tuple[int, int]:
    """How many (file, channel) texts have the same words in both, of how many."""
    keys = [(f, ch) for f, by_ch in plain.items() for ch in by_ch]
    same = sum(plain[f][ch].split() == pipeline.get(f, {}).get(ch, "").split() for f, ch in keys)
    return same, len(keys)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _ratios(rounds: list[dict]) -> dict[str, list[float]]:
    """Per round: pipeline over plain in wall-clock and CPU time, and in wall-clock time with the
    diarization stage's seconds taken out (decode, ASR, segments, roles and DuckDB writes)."""
    out: dict[str, list[float]] = {"wall": [], "cpu": [], "wall_without_diarization": []}
    for r in rounds:
        pipe, plain = r["pipeline"], r["plain"]
        out["wall"].append(pipe["elapsed_s"] / plain["elapsed_s"])
        out["cpu"].append(pipe["cpu_s"] / plain["cpu_s"])
        out["wall_without_diarization"].append((pipe["elapsed_s"] - pipe["diarize_s"]) / plain["elapsed_s"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="NPSC clips and three sample calls only")
    parser.add_argument(
        "--calls", type=int, help="only the N shortest sample calls (--quick is --calls 3; default: all 12)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of the pipeline / plain batched ratio on the mono set, in one process (0: skip)",
    )
    parser.add_argument(
        "--sizes", default="1,8", help="pipeline batch sizes to run, comma-separated (1 = sequential)"
    )
    parser.add_argument(
        "--long", action="store_true", help="also the peak memory of a 1-hour and a 3-hour call"
    )
    parser.add_argument(
        "--ratio-only",
        action="store_true",
        help="only the --repeat rounds of pipeline / plain batched on the mono set (no WER, no other set)",
    )
    parser.add_argument("--json", type=Path, help="Also write the figures to this file")
    args = parser.parse_args()
    if args.part:
        print(json.dumps(part(args.part, args.files, args.repeat)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    best = max(sizes)
    pipelines = [f"pipeline-{n}" for n in sizes]
    npsc = sorted(str(p.resolve()) for p in (TESTDATA / "norwegian_npsc").glob("*.mp3"))
    if not npsc:
        print(f"note: {TESTDATA} not found; the real-speech figures are skipped")
    calls = _sample_calls()
    if args.quick or args.calls:
        calls = sorted(calls, key=lambda c: _duration(c["path"]))[: args.calls or 3]
    refs = {c["path"]: _reference_texts(c) for c in calls}
    refs.update({f: {"mono": Path(f).with_suffix(".txt").read_text()} for f in npsc})
    figures: dict = {"sets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for c in calls:
            refs[_telephone_copy(c["path"], folder)] = refs[c["path"]]
        eight_k = {f for f in refs if f.endswith(".8k-ulaw.wav")}
        mono = npsc + [c["path"] for c in calls if c["channels"] == 1]
        stereo = [c["path"] for c in calls if c["channels"] == 2]
        sets = {
            "mono": mono + [f for f in eight_k if Path(f).stem.split(".")[0] in {Path(m).stem for m in mono}],
            "stereo": stereo
            + [f for f in eight_k if Path(f).stem.split(".")[0] in {Path(s).stem for s in stereo}],
        }
        for name, files in sets.items():
            if not files or args.ratio_only:
                continue
            results = _measure(name, files, ["plain-1", f"plain-{best}", *pipelines])
            entry = {"audio_s": sum(map(_duration, files)), "results": {}}
            for config, r in results.items():
                texts = r["texts"]
                entry["results"][config] = {
                    "elapsed_s": r["elapsed_s"],
                    "cpu_s": r["cpu_s"],
                    "diarize_s": r.get("diarize_s"),
                    "rtf": r["rtf"],
                    "peak_rss_mb": r["peak_rss_mb"],
                    "wer_16k": _wer({f: refs[f] for f in files if f not in eight_k and f not in npsc}, texts),
                    "wer_8k": _wer({f: refs[f] for f in files if f in eight_k}, texts),
                    "wer_real": _wer({f: refs[f] for f in files if f in npsc}, texts)
                    if npsc and name == "mono"
                    else None,
                }
            if name == "mono":  # one decoder pass over the same audio: the same words either way
                same = _same_words(results[f"plain-{best}"]["texts"], results[f"pipeline-{best}"]["texts"])
                entry["same_words"] = same
            figures["sets"][name] = entry
        if args.repeat and sets["mono"]:
            print(f"pipeline-{best} / plain-{best} on the mono set, {args.repeat} rounds in one process"
                  f" (one model object), load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
            rounds = _run_part(f"ratio-{best}", sets["mono"], args.repeat)["rounds"]
            figures["ratio_rounds"] = rounds
            figures["ratio"] = _ratios(rounds)
            for i, r in enumerate(rounds):
                print(f"  round {i + 1}: plain {r['plain']['elapsed_s']:.1f} s (CPU {r['plain']['cpu_s']:.1f}),"
                      f" pipeline {r['pipeline']['elapsed_s']:.1f} s (CPU {r['pipeline']['cpu_s']:.1f},"
                      f" diarization {r['pipeline']['diarize_s']:.1f} s)", flush=True)  # fmt: skip
        if stereo and not args.ratio_only:
            mixed = [_mixdown(f, folder) for f in stereo]
            mix = _measure("mono mix-downs of the stereo calls", mixed, [f"pipeline-{best}"])
            figures["stereo_over_mixdown"] = (
                figures["sets"]["stereo"]["results"][f"pipeline-{best}"]["elapsed_s"]
                / mix[f"pipeline-{best}"]["elapsed_s"]
            )
        if args.long and not args.ratio_only:
            figures["long_call_peak_rss_mb"] = {}
            for hours in (1, 3):
                long_call = _long_call(folder, hours=hours)
                long = _measure(
                    f"{hours}-hour call (speech every 20 min)", [long_call], [f"pipeline-{n}" for n in sizes]
                )
                figures["long_call_peak_rss_mb"] |= {
                    f"{hours} h {k}": v["peak_rss_mb"] for k, v in long.items()
                }

    from lydlogg.batch import asr_options

    options = asr_options(_settings(best))
    print(f"\nTranscription benchmark, {options.device} ({options.compute_type}), beam {options.beam_size}, "
          f"{os.cpu_count()} CPU cores")  # fmt: skip
    for name, entry in figures["sets"].items():
        res = entry["results"]
        print(f"  {name} set, {entry['audio_s'] / 60:.1f} min of audio:")
        print(
            f"    {'':<16} {'RTF':>6} {'CPU s':>7} {'WER real':>9} {'WER 16k':>8} {'WER 8k':>7} {'peak RSS':>9}"
        )
        for config, r in res.items():
            real = "" if r["wer_real"] is None else f"{r['wer_real']:.3f}"
            print(f"    {config:<16} {r['rtf']:6.3f} {r['cpu_s']:7.1f} {real:>9} {r['wer_16k']:8.3f} {r['wer_8k']:7.3f} "
                  f"{r['peak_rss_mb']:7.0f} MB")  # fmt: skip
        seq = res.get("pipeline-1")
        for n in sizes:
            if n == 1 or seq is None:
                continue
            r = res[f"pipeline-{n}"]
            print(
                f"    pipeline-{n} / pipeline-1     {r['elapsed_s'] / seq['elapsed_s']:.3f}  (target <= 0.6)"
            )
        r, plain = res[f"pipeline-{best}"], res[f"plain-{best}"]
        print(f"    pipeline-{best} / plain-{best}  {r['elapsed_s'] / plain['elapsed_s']:.3f} wall,"
              f" {r['cpu_s'] / plain['cpu_s']:.3f} CPU,"
              f" {(r['elapsed_s'] - r['diarize_s']) / plain['elapsed_s']:.3f} without diarization"
              "  (one run each; the repeated rounds below are the figure that counts)")  # fmt: skip
    if "ratio" in figures:
        print(f"  pipeline-{best} / plain-{best}, mono set, median of {args.repeat} rounds (target <= 1.05):")
        for kind, values in figures["ratio"].items():
            print(f"    {kind:<26} {_median(values):.3f}  ({', '.join(f'{v:.3f}' for v in values)})")
    mono_same = figures["sets"].get("mono", {}).get("same_words")
    if mono_same:
        print(
            f"  mono set, pipeline-{best} words = plain-{best} words: {mono_same[0]} of {mono_same[1]} files"
        )
    if "stereo_over_mixdown" in figures:
        print(
            f"  stereo calls / their mono mix-downs (pipeline-{best}): {figures['stereo_over_mixdown']:.3f}"
        )
    if "long_call_peak_rss_mb" in figures:
        rss = ", ".join(f"{k} {v:.0f} MB" for k, v in figures["long_call_peak_rss_mb"].items())
        print(f"  long calls, peak RSS: {rss}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
