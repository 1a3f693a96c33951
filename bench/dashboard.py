"""The leader's overview at scale: 1,000,000 synthetic calls, 50,000 reviews, then every query timed.

Calls are spread over a year from 300,000 phones and 200 operators (each in one service and, through
``operator_teams``, in one of ten teams); a third name a patient, a third carry their own team in the
metadata. Each call has a transcript and suggestions for the four dashboard criteria plus one
other; 50,000 reviews (a fifth of them a second peer review of a call, a tenth self-reviews) and
30,000 sampled review tasks. Targets: each query under 1 s, the whole page through AppTest under
3 s. Figures by team are timed beside the same figures by service (the baseline, same run). With
--compare, the re-contacts the page reads (the stored episodes, linked once as the data are built)
are checked against a full episode relink.

    python bench/dashboard.py [--calls N] [--reviews N] [--compare] [--no-page]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamlit.testing.v1 import AppTest  # noqa: E402

from lydlogg.auth import User  # noqa: E402
from lydlogg.db import connect  # noqa: E402
from lydlogg.episodes import link_episodes, summarise, update_episodes  # noqa: E402
from lydlogg.vocabulary import SERVICES  # noqa: E402
from review.dashboard import DashboardService  # noqa: E402
from review.service import ReviewService  # noqa: E402

_CALLS = """
INSERT INTO calls (call_id, started_at, service, operator_id, caller_pseudonym, patient_pseudonym, source, team,
                   unit)
SELECT 'c' || lpad(i::VARCHAR, 8, '0'),
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(CAST(hash(i, 'when') % 31536000 AS BIGINT)),
       $services[1 + CAST(hash(i, 'op') % 200 % len($services) AS INTEGER)],
       'op-' || CAST(hash(i, 'op') % 200 AS VARCHAR),
       'pho_' || CAST(hash(i, 'phone') % $phones AS VARCHAR),
       CASE WHEN hash(i, 'hasp') % 3 = 0 THEN 'pat_' || CAST(hash(i, 'phone') % $phones AS VARCHAR) END,
       'bench',
       CASE WHEN hash(i, 'team') % 3 = 0 THEN 'Lag ' || CAST(hash(i, 'team') % 12 AS VARCHAR) END,
       'Enhet ' || CAST(hash(i, 'op') % 200 % 2 AS VARCHAR)
FROM range($calls) t(i)
"""
_TEAMS = """
INSERT INTO operator_teams (operator_id, team, updated_by)
SELECT 'op-' || i, 'Lag ' || (i % 10), 'bench' FROM range(200) t(i)
"""
_TRANSCRIPTS = """
INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language, layout,
                         channels_transcribed, duration_s, speech_s, asr_seconds)
SELECT 't' || call_id, call_id, 'a' || call_id, 'bench', 'bench', 'bench', 'no', 'mono', 1, 300, 240, 30 FROM calls
"""
_SUGGESTIONS = """
INSERT INTO suggestions (transcript_id, call_id, rubric_id, rubric_version, rubric_sha256, criterion_id, value,
                         confidence, evidence_json, rationale, software_version)
SELECT 't' || c.call_id, c.call_id, 'lvs_operator', 1, 'bench', k.criterion,
       CASE WHEN k.criterion = 'worsening_advice' AND hash(c.call_id, 'na') % 10 = 0 THEN NULL
            ELSE CAST(hash(c.call_id, k.criterion) % (k.top + 1) AS INTEGER) END,
       0.8, '[]', '', 'bench'
FROM calls c, (VALUES ('worsening_advice', 4), ('open_questions', 4), ('safety_netting', 4),
                      ('asks_prior_contact', 1), ('introduces_self', 1)) k(criterion, top)
"""
_REVIEWS = """
INSERT INTO reviews (review_id, call_id, rubric_id, rubric_version, rubric_sha256, reviewer, kind, created_at)
SELECT 'r' || i,
       'c' || lpad(CAST(hash(CASE WHEN i >= $first THEN i - $first ELSE i END, 'rev') % $calls AS VARCHAR), 8, '0'),
       'lvs_operator', 1, 'bench',
       CASE WHEN i % 10 = 9 THEN 'self' ELSE 'veileder-' || CAST(hash(i, 'who') % 20 AS VARCHAR) END,
       CASE WHEN i % 10 = 9 THEN 'self' ELSE 'peer' END,
       TIMESTAMPTZ '2026-06-01 00:00:00+00' + to_seconds(i)
FROM range($reviews) t(i)
"""
_SCORES = """
INSERT INTO review_scores (review_id, criterion_id, value)
SELECT r.review_id, k.criterion, CAST(hash(r.review_id, k.criterion) % (k.top + 1) AS INTEGER)
FROM reviews r, (VALUES ('worsening_advice', 4), ('open_questions', 4), ('safety_netting', 4),
                        ('asks_prior_contact', 1)) k(criterion, top)
"""
_TASKS = """
INSERT INTO review_tasks (task_id, plan_id, call_id, assigned_to, created_by, plan)
SELECT 'task' || i, 'bench', 'c' || lpad(CAST(hash(i, 'task') % $calls AS VARCHAR), 8, '0'), 'veileder', 'leder', '{}'
FROM range($tasks) t(i) ON CONFLICT DO NOTHING
"""


def build(db: Path, calls: int, reviews: int) -> dict[str, int]:
    first = reviews - reviews // 5  # the last fifth review calls that the first fifth reviewed
    with connect(db) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(_CALLS, {"calls": calls, "phones": max(1, int(calls * 0.3)), "services": list(SERVICES)})
        con.execute(_TEAMS)
        con.execute(_TRANSCRIPTS)
        con.execute(_SUGGESTIONS)
        con.execute(_REVIEWS, {"reviews": reviews, "first": first, "calls": calls})
        con.execute(_SCORES)
        con.execute(_TASKS, {"tasks": reviews * 3 // 5, "calls": calls})
        update_episodes(con, 72.0, full=True)  # what ingest keeps current as calls arrive
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed table names
            for t in ("calls", "operator_teams", "suggestions", "reviews", "review_scores", "review_tasks")
        }


def timed(call: Callable[[], object], repeat: int = 2) -> tuple[float, float, float]:
    """(first, best of the rest) wall seconds, and the process CPU seconds (all threads) of the best."""
    times = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    best = min(times[1:] or times)
    return times[0][0], best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--reviews", type=int, default=50_000)
    parser.add_argument("--compare", action="store_true", help="check re-contacts against a full relink")
    parser.add_argument("--db", type=Path, help="keep the database here (built only when missing)")
    parser.add_argument(
        "--no-page", action="store_true", help="time the queries only, not the page through AppTest"
    )
    args = parser.parse_args()
    leder = User("leder", "Leder", "leder", units=("Enhet 0", "Enhet 1"))  # every synthetic call's unit
    operator = User("op", "Operatør", "operator", "op-7", ("Enhet 1",))  # op-7's calls are in Enhet 1
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if not db.exists():
            t0 = time.perf_counter()
            counts = build(db, args.calls, args.reviews)
            print(
                f"built in {time.perf_counter() - t0:.1f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
            size = db.stat().st_size
            print(
                f"file {size / 2**30:.2f} GiB ({size / counts['calls'] * 1e6 / 2**30:.2f} GiB per million calls)"
            )

        service = DashboardService(db, leder)
        own = DashboardService(db, operator)
        saved = iter(range(10**6))
        run = uuid.uuid4().hex[:8]  # a kept --db holds the reviews of earlier runs

        def save_review() -> None:
            """A supervisor saves a review: the review layer changes, the base layer does not."""
            n = next(saved)
            with connect(db) as con:
                con.execute(
                    "INSERT INTO reviews (review_id, call_id, rubric_id, rubric_version, rubric_sha256, reviewer, kind)"
                    " VALUES (?, 'c00000001', 'lvs_operator', 1, 'bench', 'veileder-x', 'peer')",
                    [f"bench-save-{run}-{n}"],
                )
                con.execute(
                    "INSERT INTO review_scores (review_id, criterion_id, value) VALUES (?, 'open_questions', 3)",
                    [f"bench-save-{run}-{n}"],
                )

        print(f"{'query':44} {'wall s':>7} {'cpu s':>6}  target")
        for name, call, target in (
            ("cold start: base layer + four tables", service.overview, None),
            ("cold start: per operator (base in memory)", service.operator_figures, 1),
        ):
            _first, wall, cpu = timed(call, repeat=1)
            print(f"{name:44} {wall:7.2f} {cpu:6.2f}  {'< 1 s' if target else ''}")
        for name, call in (
            ("trends (3 sources x 4 criteria)", service.trends),
            ("coverage", service.coverage),
            ("recontacts", service.recontacts),
            ("strictness", service.strictness),
            ("per operator, leader", service.operator_figures),
            ("per operator, one operator", own.operator_figures),
        ):
            save_review()
            _first, wall, cpu = timed(call, repeat=1)
            print(
                f"{'after a saved review: ' + name:44} {wall:7.2f} {cpu:6.2f}  < 1 s {'ok' if wall < 1 else 'SLOW'}"
            )
        service.overview()  # the four tables for the newest review
        for name, by_service, by_team in (
            ("trends", service.trends, lambda: service.trends(by=("team",))),
            ("coverage", service.coverage, lambda: service.coverage(by=("team",))),
            ("recontacts", service.recontacts, lambda: service.recontacts(by=("service", "team"))),
        ):
            base = timed(by_service, repeat=3)[1]
            wall = timed(by_team, repeat=3)[1]
            print(f"{'unchanged data: ' + name + ' by team':44} {wall:7.2f} {'':6}  ratio to by service"
                  f" {wall / base:.2f} ({base:.3f} s)")  # fmt: skip
        for name, call in (("unchanged data: overview", service.overview),
                           ("unchanged data: per operator", service.operator_figures)):  # fmt: skip
            _first, wall, cpu = timed(call, repeat=1)
            print(f"{name:44} {wall:7.2f} {cpu:6.2f}  < 1 s {'ok' if wall < 1 else 'SLOW'}")

        if args.no_page:
            return
        os.environ["LYDLOGG_DB_PATH"] = str(db)
        page = str(REPO / "review" / "views" / "oversikt.py")
        # Streamlit scans the installed packages for components once per process (about 1.5 s here),
        # which a server does at start: keep it out of the page's first render.
        AppTest.from_string("import streamlit as st\nst.write('warm-up')").run()
        for label, user in (("leader", leder), ("operator", operator)):
            at = AppTest.from_file(page, default_timeout=120)
            at.session_state["service"] = ReviewService(db, user)
            first, again, cpu = timed(at.run)
            assert not at.exception, at.exception
            print(f"{'page, ' + label + ' (first; rerun below)':44} {first:7.2f}")
            print(
                f"{'page, ' + label + ', rerun':44} {again:7.2f} {cpu:6.2f}  < 3 s {'ok' if again < 3 else 'SLOW'}"
            )
        save_review()
        t0 = time.perf_counter()
        at.run()
        print(f"{'page, operator, after a saved review':44} {time.perf_counter() - t0:7.2f}")
        at.session_state["service"] = ReviewService(db, leder)
        at.run()
        t0 = time.perf_counter()
        at.multiselect(key="tjeneste").set_value(["lvs"]).run()
        print(f"{'page, leader, filter to LVS':44} {time.perf_counter() - t0:7.2f}")
        t0 = time.perf_counter()
        at.radio(key="per").set_value("lag").run()
        print(f"{'page, leader, by team':44} {time.perf_counter() - t0:7.2f}")
        t0 = time.perf_counter()
        at.multiselect(key="lag").set_value(["Lag 3"]).run()
        assert not at.exception, at.exception
        print(f"{'page, leader, by team, filter to one team':44} {time.perf_counter() - t0:7.2f}")

        if args.compare:
            fast = service.recontacts()
            with connect(db) as con:
                t0 = time.perf_counter()
                full = summarise(link_episodes(con, service.window_hours))
                t_link = time.perf_counter() - t0
            print(
                f"re-contacts: stored episodes {int(fast['recontacts'].sum()):,} (unrecognised"
                f" {int(fast['unrecognised'].sum()):,}); full relink {full['recontacts']:,} (unrecognised"
                f" {full['unrecognised']:,}) in {t_link:.1f} s"
            )


if __name__ == "__main__":
    main()
