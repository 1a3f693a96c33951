"""How fast the app's heavy pages are, through Streamlit's AppTest on a real database.

1. The call page for a 15-minute call with about 2,500 words (target: under 1.5 s).
2. The inbox with 100,000 calls, then a filter change (target: under 1 s).

    python bench/app_pages.py [--calls N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamlit.testing.v1 import AppTest  # noqa: E402

from lydlogg.auth import User  # noqa: E402
from lydlogg.db import connect  # noqa: E402
from lydlogg.scoring import import_transcripts, score_stored  # noqa: E402
from lydlogg.settings import load_settings  # noqa: E402
from lydlogg.vocabulary import SERVICES  # noqa: E402

WORDS = [
    "jeg",
    "har",
    "hatt",
    "vondt",
    "i",
    "brystet",
    "siden",
    "i",
    "går",
    "kveld",
    "og",
    "det",
    "blir",
    "verre",
    "når",
    "jeg",
    "puster",
    "dypt",
    "inn",
]


def long_call(minutes: int = 15, words: int = 2500) -> dict:
    segments, t, n = [], 0.0, 0
    per_segment = 8
    step = minutes * 60 / (words / per_segment)
    while n < words:
        text = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(per_segment))
        role = "operator" if len(segments) % 2 == 0 else "caller"
        segments.append({"start": t, "end": t + step * 0.9, "speaker": "S1" if role == "operator" else "S2",
                         "role": role, "text": text})  # fmt: skip
        t += step
        n += per_segment
    return {"call_id": "long-call", "language": "no", "service": "lvs", "segments": segments}


def timed_run(at: AppTest) -> float:
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        settings = load_settings(None, db_path=db)
        import_transcripts(settings, [("long", long_call())])
        with connect(db) as con:
            con.execute(
                "INSERT INTO words (transcript_id, segment_index, word_index, channel, start_s, end_s, text, probability)"
                " SELECT s.transcript_id, s.segment_index, w.i - 1, s.channel,"
                " s.start_s + (w.i - 1) * 0.5, s.start_s + w.i * 0.5, w.word, CASE WHEN w.i % 7 = 0 THEN 0.3 ELSE 0.9 END"
                " FROM segments s, LATERAL (SELECT unnest(string_split(s.text, ' ')) AS word,"
                " generate_subscripts(string_split(s.text, ' '), 1) AS i) w"
            )
            n_words = con.execute("SELECT count(*) FROM words").fetchone()[0]
        score_stored(settings)
        os.environ["LYDLOGG_DB_PATH"] = str(db)
        leder = User("leder", "Leder", "leder", units=("standard",))  # the unit of every call here

        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        at.session_state["user"] = leder
        at.query_params["samtale"] = "long-call"
        at.run()
        at.switch_page("review/views/samtale.py")
        first = timed_run(at)
        again = timed_run(at)
        assert not at.exception, at.exception
        print(
            f"call page, 15 min call, {n_words} words: first render {first:.2f} s, rerun {again:.2f} s (target < 1.5 s)"
        )

        with connect(db) as con:
            con.execute(
                "INSERT INTO calls (call_id, started_at, service, operator_id, caller_pseudonym, source, unit)"
                " SELECT 'c' || i, TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(CAST(hash(i) % 31536000 AS BIGINT)),"
                " (?::VARCHAR[])[1 + CAST(hash(i, 's') % len(?::VARCHAR[]) AS INTEGER)],"
                " 'op-' || CAST(hash(i, 'o') % 60 AS VARCHAR), 'pho_' || CAST(hash(i, 'p') % 40000 AS VARCHAR), 'bench', 'standard'"
                " FROM range(?) t(i)",
                [list(SERVICES), list(SERVICES), args.calls],
            )
        inbox = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
        inbox.session_state["user"] = leder
        first = timed_run(inbox)
        assert not inbox.exception, inbox.exception
        inbox.multiselect[0].set_value(["lvs"])
        filtered = timed_run(inbox)
        print(
            f"inbox, {args.calls + 1:,} calls: first render {first:.2f} s, filter to LVS {filtered:.2f} s (target < 1 s)"
        )


if __name__ == "__main__":
    main()
