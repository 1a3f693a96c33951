"""Search over every call: build the fts index over 100,000 calls' segments and time queries.

The sample calls' reference transcripts are repeated under new ids (about 13 segments each), with
services, operators and start times spread over a year. Reports the index rebuild time (what each
processing run adds), the time of a refresh with nothing changed and of one after a single call's
correction (what the incremental refresh costs instead of a full rebuild), and the median of 5 runs
of each query.

    python bench/search_speed.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.auth import User  # noqa: E402
from lydlogg.db import connect  # noqa: E402
from lydlogg.search_index import refresh_search_index  # noqa: E402
from lydlogg.vocabulary import SERVICES  # noqa: E402
from review.search import SearchQuery, search_calls  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    docs = [json.loads(p.read_text()) for p in sorted((REPO / "data/samples/reference").glob("*.json"))]
    template = pd.DataFrame(
        [(d, i, s["start"], s["end"], s["text"], s["role"]) for d, doc in enumerate(docs)
         for i, s in enumerate(doc["segments"])],
        columns=["doc", "segment_index", "start_s", "end_s", "text", "role"],
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        services = "[" + ", ".join(f"'{s}'" for s in SERVICES) + "]"  # constant codes
        with connect(db) as con:
            con.register("template", template)
            t0 = time.perf_counter()
            con.execute(
                f"""
                INSERT INTO calls (call_id, started_at, service, operator_id, source, unit)
                SELECT 'b' || lpad(i::VARCHAR, 6, '0'),
                       TIMESTAMPTZ '2026-01-01 00:00:00+01' + to_minutes((i * 5)::BIGINT),
                       {services}[1 + i % {len(SERVICES)}], 'op-' || (i % 40)::VARCHAR, 'import', 'standard'
                FROM range({args.calls}) r(i);
                INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash,
                    language, layout, channels_transcribed, duration_s, speech_s, asr_seconds)
                SELECT 't' || lpad(i::VARCHAR, 6, '0'), 'b' || lpad(i::VARCHAR, 6, '0'), 'text:' || i, 'import',
                       'import', '', 'no', 'stereo', 2, 60, 50, 0
                FROM range({args.calls}) r(i);
                INSERT INTO segments (transcript_id, segment_index, channel, start_s, end_s, text, speaker, role)
                SELECT 't' || lpad(i::VARCHAR, 6, '0'), t.segment_index, NULL, t.start_s, t.end_s, t.text, NULL, t.role
                FROM range({args.calls}) r(i) JOIN template t ON t.doc = i % {len(docs)};
                """  # noqa: S608 - numbers of our own
            )
            print(f"{args.calls} calls generated in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            segments = refresh_search_index(con)
            print(f"index over {segments} segments rebuilt in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            refresh_search_index(con, full=True)
            print(f"full rebuild (table refilled, index rebuilt): {time.perf_counter() - t0:.2f} s")
            t0 = time.perf_counter()
            refresh_search_index(con)
            print(f"refresh with nothing changed: {time.perf_counter() - t0:.2f} s")
            con.execute(
                "INSERT INTO segment_corrections (transcript_id, segment_index, text, corrected_by)"
                " VALUES ('t000000', 0, 'Hun er tungpust.', 'bench')"
            )
            t0 = time.perf_counter()
            refresh_search_index(con)
            print(f"refresh after one call's correction: {time.perf_counter() - t0:.2f} s")
            leader = User("leder", "Leder", "leder", units=("standard",))
            operator = User("anne", "Anne", "operator", "op-4", ("standard",))
            queries = {
                "puster (every call)": (SearchQuery("puster"), leader),
                "March LVS, caller said puste, no staff said 113": (
                    SearchQuery(
                        "puste",
                        role="caller",
                        without="113",
                        service="lvs",
                        since=date(2026, 3, 1),
                        until=date(2026, 3, 31),
                    ),
                    leader,
                ),  # fmt: skip
                "operator's own calls, puster": (SearchQuery("puster"), operator),
            }
            for name, (query, user) in queries.items():
                times, hits = [], 0
                for _ in range(5):
                    t0 = time.perf_counter()
                    hits = len(search_calls(con, user, query, who="bench"))
                    times.append(time.perf_counter() - t0)
                print(f"{name}: {hits} hits (limit 500), median {statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
