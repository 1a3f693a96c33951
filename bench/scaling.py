"""Figures for docs/scaling.md: the Ray executor against the local one, and the single database
at regional scale.

    python bench/scaling.py executors [--calls N] [--threads T]   # local vs Ray with one worker
    python bench/scaling.py review-save [--calls N]               # a reviewer saving during a Ray run
    python bench/scaling.py storage [--calls N]                   # file size per million calls

``executors`` transcribes the first N sample calls (default all 12) once with ``executor.kind =
"local"`` and once with ``"ray"`` and one worker, both with T CTranslate2 threads, into two fresh
databases; it prints wall time from the call of ``process`` (Ray start and model load included) and
the run's own time (calls only), the ratio of each, throughput in audio minutes per minute, and
whether the stored segments are equal.

``review-save`` runs a Ray batch with two workers over N sample calls while a reviewer process
saves a review every 0.2 s through ``ReviewService``, and prints the save latencies beside the
same loop with no batch running (the baseline), and whether every save was kept.

``storage`` builds N synthetic transcribed calls by replicating the sample calls' real stored rows
(transcripts, segments, words, speakers) under new ids, checkpoints, and prints the file size
per call, per audio minute and per million calls.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.batch import process  # noqa: E402
from lydlogg.db import connect  # noqa: E402
from lydlogg.ingest import ingest  # noqa: E402
from lydlogg.settings import AsrSettings, ExecutorSettings, Settings, load_settings  # noqa: E402

SAMPLES = REPO / "data" / "samples"
MODELS = REPO / "data" / "models"


def _settings(folder: Path, kind: str, threads: int, workers: int = 1) -> Settings:
    return load_settings(
        None,
        db_path=folder / "lydlogg.duckdb",
        key_file=folder / "key",
        asr=AsrSettings(models_dir=MODELS, cpu_threads=threads),
        executor=ExecutorSettings(
            kind=kind, workers=workers, cpus_per_worker=threads, local_cpus=threads * workers
        ),
        log_level="WARNING",
    )


def _ingest_samples(folder: Path, count: int | None, threads: int, kind: str, workers: int = 1) -> Settings:
    folder.mkdir(parents=True)
    rows = list(csv.DictReader((SAMPLES / "metadata.csv").read_text(encoding="utf-8").splitlines()))
    rows = rows[:count] if count else rows
    (folder / "audio").mkdir()
    for row in rows:
        shutil.copy(SAMPLES / row["audio_file"], folder / row["audio_file"])
    with open(folder / "metadata.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    settings = _settings(folder, kind, threads, workers)
    ingest(settings, [], metadata=folder / "metadata.csv")
    return settings


def _segments(db: Path) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT t.call_id, s.segment_index, s.channel, s.start_s, s.end_s, s.text, s.speaker, s.role"
            " FROM segments s JOIN transcripts t USING (transcript_id) ORDER BY 1, 2"
        ).fetchall()


def executors(args: argparse.Namespace) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.threads} thread(s) per run")
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for kind in ("local", "ray"):
            settings = _ingest_samples(Path(tmp) / kind, args.calls, args.threads, kind)
            t0 = time.perf_counter()
            report = process(settings)
            wall = time.perf_counter() - t0
            assert not report.failed, report.failed
            figures[kind] = (wall, report.elapsed_s, report.audio_s)
            print(
                f"{kind:5}: {len(report.done)} calls, {report.audio_s / 60:.1f} audio min; wall {wall:.1f} s, "
                f"calls {report.elapsed_s:.1f} s, {report.audio_s / report.elapsed_s:.2f} audio min/min"
            )
        (lw, le, audio), (rw, re_, _) = figures["local"], figures["ray"]
        print(f"ray/local: wall {rw / lw:.3f}x, calls only {re_ / le:.3f}x")
        print(f"throughput of one Ray worker: {audio / re_:.2f} audio min per min ({args.threads} thread(s))")
        same = _segments(Path(tmp) / "local" / "lydlogg.duckdb") == _segments(
            Path(tmp) / "ray" / "lydlogg.duckdb"
        )
        print(f"stored segments equal: {same}")
        if args.keep:
            shutil.copy(Path(tmp) / "local" / "lydlogg.duckdb", args.keep)


_REVIEWER = """
import json, sys, time
from pathlib import Path
from lydlogg.auth import User
from review.service import ReviewService
db, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
reviewer = ReviewService(db, User("veileder", "Vera", "veileder", units=("standard",)))
saved, latencies = [], []
while not stop.exists():
    t0 = time.perf_counter()
    saved.append(reviewer.save_review("rs-lvs-001", kind="peer", rubric_id="lvs_operator", rubric_version=1,
                                      rubric_sha256="x", values={"introduces_self": len(saved) % 2}))
    latencies.append(time.perf_counter() - t0)
    time.sleep(0.2)
out.write_text(json.dumps({"saved": saved, "latencies": latencies}))
"""


def _save_loop(db: Path, seconds: float | None, batch: callable | None) -> tuple[list[str], list[float]]:
    stop, out = db.parent / "stop", db.parent / "saves.json"
    stop.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", _REVIEWER, str(db), str(stop), str(out)], env=env)
    if batch is None:
        time.sleep(seconds or 10)
    else:
        batch()
    stop.touch()
    assert proc.wait(timeout=120) == 0
    doc = json.loads(out.read_text())
    return doc["saved"], doc["latencies"]


def _ms(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
    return f"n={len(values)}, median {statistics.median(values) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"


def review_save(args: argparse.Namespace) -> None:
    from lydlogg.scoring import import_transcripts

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rubric_call = REPO / "tests" / "data" / "rubric_set" / "calls" / "rs-lvs-001.json"
    with tempfile.TemporaryDirectory() as tmp:
        settings = _ingest_samples(Path(tmp) / "db", args.calls, 1, "ray", workers=2)
        import_transcripts(settings, [("rs-lvs-001", json.loads(rubric_call.read_text()))])
        saved, idle = _save_loop(settings.db_path, 15, None)
        print(f"saves with no batch running: {_ms(idle)}")
        reports = []
        saved_run, busy = _save_loop(settings.db_path, None, lambda: reports.append(process(settings)))
        report = reports[0]
        print(
            f"Ray run (2 workers): {len(report.done)} calls stored, {len(report.failed)} failed in "
            f"{report.elapsed_s:.0f} s"
        )
        print(f"saves during the Ray run: {_ms(busy)}")
        with connect(settings.db_path, read_only=True) as con:
            kept = {r[0] for r in con.execute("SELECT review_id FROM reviews").fetchall()}
        print(f"every save kept: {kept == set(saved) | set(saved_run)} ({len(kept)} reviews)")


def storage(args: argparse.Namespace) -> None:
    source = args.source
    if source is None or not source.exists():
        raise SystemExit(
            "give --source: a database holding transcribed sample calls (e.g. `executors --keep FILE`)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.duckdb"
        shutil.copy(source, db)
        with connect(db) as con:
            base = con.execute("SELECT count(*), sum(duration_s) FROM transcripts").fetchone()
            copies = max(1, args.calls // base[0])
            t0 = time.perf_counter()
            con.execute("SET enable_progress_bar = false")
            con.execute("CREATE TEMP TABLE k AS SELECT range AS k FROM range(1, $n)", {"n": copies})
            for table in ("calls", "transcripts", "segments", "words", "diarizations", "speaker_turns",
                          "transcript_speakers"):  # fmt: skip
                cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]  # noqa: S608 - fixed names
                exprs = []
                for c in cols:
                    if c in ("transcript_id", "call_id", "audio_sha256"):
                        exprs.append(f"{c} || '-' || k")
                    else:
                        exprs.append(c)
                con.execute(
                    f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {table}, k"  # noqa: S608
                )
            con.execute("CHECKPOINT")
            calls, minutes = con.execute("SELECT count(*), sum(duration_s) / 60 FROM transcripts").fetchone()
            rows = {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
                for t in ("segments", "words", "speaker_turns")
            }
        size = db.stat().st_size
        print(f"built in {time.perf_counter() - t0:.1f} s: {calls:,} transcribed calls, {minutes:,.0f} audio min, "
              + ", ".join(f"{v:,} {k}" for k, v in rows.items()))  # fmt: skip
        print(
            f"file {size / 2**20:.0f} MiB: {size / calls / 1024:.1f} KiB per call, {size / minutes / 1024:.1f} KiB "
            f"per audio min, {size / calls * 1e6 / 2**30:.1f} GiB per million calls of "
            f"{minutes / calls:.2f} min"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("executors")
    p.add_argument("--calls", type=int, default=None, help="the first N sample calls (default all)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--keep", type=Path, default=None, help="copy the local run's database here")
    p = sub.add_parser("review-save")
    p.add_argument("--calls", type=int, default=4)
    p = sub.add_parser("storage")
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--source", type=Path, default=None)
    args = parser.parse_args()
    {"executors": executors, "review-save": review_save, "storage": storage}[args.what](args)


if __name__ == "__main__":
    main()
