"""How long scoring stored transcripts takes: 10,000 calls imported, then `score_stored` timed.

The calls are the labelled set's transcripts repeated under new ids (the scorers do real work on
each: nothing is cached across calls). Target: 10,000 calls in under 60 s on a 2-core machine.

    python bench/scoring_speed.py [--calls N]
"""

from __future__ import annotations

import argparse
import json
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
        t0 = time.perf_counter()
        imported = import_transcripts(settings, docs)
        t_import = time.perf_counter() - t0
        assert len(imported.imported) == args.calls, imported.failures[:3]
        t0 = time.perf_counter()
        report = score_stored(settings)
        t_score = time.perf_counter() - t0
    print(f"{args.calls} calls, {segments} segments")
    print(f"  import              {t_import:6.1f} s")
    print(
        f"  score (read, score, write suggestions)  {t_score:6.1f} s  = {1000 * t_score / args.calls:.2f} ms per call"
        f"  (target: 10,000 calls < 60 s)"
    )
    print(f"  scored {report.scored}, failed {len(report.failures)}")


if __name__ == "__main__":
    main()
