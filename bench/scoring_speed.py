"""How long scoring stored transcripts takes: 10,000 calls imported, then `score_stored` timed.

The calls are the labelled set's transcripts repeated under new ids (the scorers do real work on
each: nothing is cached across calls). Target: 10,000 calls in under 60 s on a 2-core machine.
Scoring includes the standard advice library (contact reason, coverage, ``advice_results``).
Wall-clock and CPU time (this process, DuckDB's threads included) are printed, with the load
average: on a shared machine CPU time is the fairer comparison.

    python bench/scoring_speed.py [--calls N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.scoring import import_transcripts, score_stored  # noqa: E402
from lydlogg.settings import load_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=10_000)
    args = parser.parse_args()
    sources = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((REPO / "tests/data/rubric_set/calls").glob("*.json"))
    ]
    docs = []
    for i in range(args.calls):
        doc = dict(sources[i % len(sources)])
        doc["call_id"] = f"bench-{i:06d}"
        docs.append((doc["call_id"], doc))
    segments = sum(len(d["segments"]) for _, d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, db_path=Path(tmp) / "bench.duckdb")
        load_before = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        imported = import_transcripts(settings, docs)
        t_import, c_import = time.perf_counter() - t0, time.process_time() - c0
        assert len(imported.imported) == args.calls, imported.failures[:3]
        t0, c0 = time.perf_counter(), time.process_time()
        report = score_stored(settings)
        t_score, c_score = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{args.calls} calls, {segments} segments; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(f"  import              {t_import:6.1f} s wall, {c_import:6.1f} s CPU")
    print(
        f"  score (read, score, advice, write)  {t_score:6.1f} s wall = {1000 * t_score / args.calls:.2f} ms per call,"
        f" {c_score:6.1f} s CPU  (target: 10,000 calls < 60 s)"
    )
    print(
        f"  scored {report.scored}, advice analysed {report.advice_analysed} ({report.advice_library}),"
        f" failed {len(report.failures)}"
    )


if __name__ == "__main__":
    main()
