#!/usr/bin/env python3
"""Make the demo show the product at its best, honestly: corrected transcripts and a history.

Run after ``lydlogg ingest`` and ``lydlogg process`` on the sample calls (``make demo-data`` does):

* **Corrected calls.** Some sample calls get their recognised segments corrected with the
  dialogue script (the reference transcript in ``data/samples/reference``), through the review
  app's own segment correction, by the demo supervisor: the call page marks each such segment
  "rettet", and the call is scored again on the corrected text. The other sample calls stay as
  the recogniser heard them, with their quality marks and abstentions.
* **History.** Six months of earlier demo calls for Oversikt, so that trends are trends: the
  written transcripts of the labelled rubric set (``tests/data/rubric_set``), imported without
  audio under call ids that start with ``demo-historikk-`` and the metadata source
  ``demodata``, spread over the months before the sample calls, with the sample operators, in
  the sample units (an operator's calls in her own unit), so that the demo accounts see them.
  Oversikt says above its figures how many of its calls, and which months, are such demo data.

Usage::

    python scripts/make_demo_extras.py --db data/demo.duckdb

Running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lydlogg.auth import DEMO_UNITS, DEMO_UNITS_ALL, DEMO_USERS, User  # noqa: E402
from lydlogg.db import connect  # noqa: E402
from lydlogg.ingest import ingest  # noqa: E402
from lydlogg.metadata import DEMO_DATA_SOURCE  # noqa: E402
from lydlogg.scoring import import_transcripts, score_stored  # noqa: E402
from lydlogg.settings import load_settings  # noqa: E402
from review.service import ReviewService  # noqa: E402

SAMPLES = REPO / "data" / "samples"
RUBRIC_SET = REPO / "tests" / "data" / "rubric_set"
CORRECTED = (
    "lvs-001-feber-barn",
    "lvs-003-brystsmerter",
    "lege-001-magesmerter",
    "ep1-c2-lvs",
    "ep1-c5-legevaktlege",
)
HISTORY_PREFIX = "demo-historikk-"
HISTORY_SOURCE = DEMO_DATA_SOURCE  # Oversikt labels these calls as demo data
HISTORY_START = datetime.fromisoformat("2025-09-01T08:00:00+01:00")
HISTORY_MONTHS = 6
OPERATORS = {"lvs": ("op-anne", "op-jonas", "op-kari", "op-lise", "op-per", "op-trond"),
             "legevaktlege": ("lege-berg", "lege-dahl", "lege-nilsen")}  # fmt: skip
# The demo operators' history lies in their own unit (so they see it on their own Oversikt); the
# other calls alternate between the two sample units, which the demo leader and supervisor see.
OPERATOR_UNITS = {u[3]: DEMO_UNITS[u[0]][0] for u in DEMO_USERS if u[3]}


def split_turn(text: str, durations: list[float]) -> list[str]:
    """A turn's words shared out over its recognised segments in proportion to their durations."""
    words = text.split()
    if len(durations) == 1 or len(words) <= len(durations):
        return [text] + ["…"] * (len(durations) - 1)
    total = sum(durations)
    out, taken = [], 0
    for i, d in enumerate(durations):
        n = len(words) - taken if i == len(durations) - 1 else max(1, round(len(words) * d / total))
        n = min(n, len(words) - taken - (len(durations) - 1 - i))
        out.append(" ".join(words[taken : taken + n]))
        taken += n
    return out


def corrections(segments, reference: dict) -> list[tuple[int, str, str]]:
    """(segment index, script text, role) for every recognised segment inside a script turn."""
    stereo = reference.get("channels") == 2
    changes = []
    for turn in reference["segments"]:
        mine = [
            i
            for i, s in enumerate(segments)
            if (not stereo or s.channel == turn["channel"])
            and turn["start"] - 0.5 <= (s.start + s.end) / 2 <= turn["end"] + 0.5
        ]
        if not mine:
            continue
        texts = split_turn(turn["text"], [segments[i].end - segments[i].start for i in mine])
        changes += [(i, t, turn["role"]) for i, t in zip(mine, texts, strict=True)]
    return changes


def correct_samples(db: Path, call_ids: tuple[str, ...] = CORRECTED) -> int:
    supervisor = User("veileder", "Veileder Demo", "veileder", units=DEMO_UNITS["veileder"])
    service = ReviewService(db, supervisor)
    done = 0
    with connect(db) as con:
        known = {r[0] for r in con.execute("SELECT call_id FROM transcripts").fetchall()}
        already = {r[0] for r in con.execute(
            "SELECT DISTINCT t.call_id FROM segment_corrections c JOIN transcripts t USING (transcript_id)").fetchall()}  # fmt: skip
    for call_id in call_ids:
        if call_id not in known or call_id in already:
            continue
        reference = json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text(encoding="utf-8"))
        changes = corrections(service.transcript(call_id).segments, reference)
        if changes:
            service.correct_segments(call_id, changes)
            done += 1
    return done


def history(db: Path) -> int:
    """Import the rubric set's written transcripts as earlier demo calls, with metadata."""
    import yaml

    labels = yaml.safe_load((RUBRIC_SET / "labels.yaml").read_text(encoding="utf-8"))
    rng = random.Random(7)
    docs, rows = [], []
    ids = sorted(labels)
    rng.shuffle(ids)  # services and kinds of call mixed over the months
    per_month = -(-len(ids) // HISTORY_MONTHS)
    for k, source_id in enumerate(ids):
        doc = json.loads((RUBRIC_SET / "calls" / f"{source_id}.json").read_text(encoding="utf-8"))
        month, _ = divmod(k, per_month)
        y, m = divmod(HISTORY_START.month - 1 + month, 12)
        first = HISTORY_START.replace(year=HISTORY_START.year + y, month=m + 1)
        start = first + timedelta(days=rng.randint(0, 26), minutes=rng.randint(0, 720))
        call_id = f"{HISTORY_PREFIX}{start:%Y%m}-{source_id.removeprefix('rs-')}"
        docs.append((HISTORY_SOURCE, {**doc, "call_id": call_id}))
        service = doc.get("service") or "lvs"
        operator = rng.choice(OPERATORS.get(service, OPERATORS["lvs"]))
        unit = OPERATOR_UNITS.get(operator, DEMO_UNITS_ALL[k % len(DEMO_UNITS_ALL)])
        rows.append({"call_id": call_id, "started_at": start.isoformat(), "service": service,
                     "operator_id": operator, "unit": unit,
                     "caller_number": f"+47 400 {rng.randint(10, 99)} {rng.randint(100, 999)}",
                     "patient_ref": f"demo-pas-{k:03d}", "urgency": rng.choice(["green", "green", "yellow"])})  # fmt: skip
    settings = load_settings(None, db_path=db)
    report = import_transcripts(settings, docs)
    with tempfile.TemporaryDirectory() as tmp:
        meta = Path(tmp) / "history.csv"
        with open(meta, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        ingest(settings, [], meta)
    with connect(db) as con:
        con.execute(
            "UPDATE calls SET metadata_source = ? WHERE call_id LIKE ?",
            [HISTORY_SOURCE, HISTORY_PREFIX + "%"],
        )
    score_stored(settings)
    return len(report.imported)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="the demo database (after process and score)")
    args = parser.parse_args()
    corrected = correct_samples(args.db)
    imported = history(args.db)
    print(f"corrected {corrected} sample calls from their scripts; imported {imported} history calls")


if __name__ == "__main__":
    main()
