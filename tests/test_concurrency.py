"""A reviewer saving while `lydlogg process` runs in another process: nothing lost, nothing crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import MODELS_DIR, make_settings, sample_subset

from lydlogg.auth import User
from lydlogg.db import connect
from lydlogg.ingest import ingest
from lydlogg.scoring import import_transcripts
from lydlogg.units import DEFAULT_UNIT
from review.service import ReviewService

pytestmark = pytest.mark.model
SET = Path(__file__).resolve().parent / "data" / "rubric_set" / "calls"


def test_reviews_saved_during_a_running_batch_are_all_kept(tmp_path, bundled_model):
    settings = make_settings(tmp_path)
    meta, rows = sample_subset(tmp_path, 3)
    ingest(settings, [], metadata=meta)
    import_transcripts(settings, [("rs-lvs-001", json.loads((SET / "rs-lvs-001.json").read_text()))])
    env = dict(os.environ, LYDLOGG_ASR__MODELS_DIR=str(MODELS_DIR))
    batch = subprocess.Popen([sys.executable, "-m", "lydlogg.cli", "process", "--db", str(settings.db_path)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    reviewer = ReviewService(settings.db_path, User("veileder", "Vera", "veileder", units=(DEFAULT_UNIT,)))
    saved = []
    deadline = time.monotonic() + 600
    while batch.poll() is None and time.monotonic() < deadline:
        saved.append(
            reviewer.save_review(
                "rs-lvs-001",
                kind="peer",
                rubric_id="lvs_operator",
                rubric_version=1,
                rubric_sha256="x",
                values={"introduces_self": len(saved) % 2},
            )  # fmt: skip
        )
        time.sleep(0.2)
    out, err = batch.communicate(timeout=60)
    assert batch.returncode == 0, err[-2000:]
    assert f"transcribed {len(rows)}, failed 0" in out
    assert len(saved) >= 5, "the batch finished before the reviewer could save during it"
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT review_id FROM reviews").fetchall()}
        audited = con.execute("SELECT count(*) FROM audit WHERE action = 'save_review'").fetchone()[0]
        transcripts = con.execute("SELECT count(*) FROM transcripts WHERE run_id <> 'import'").fetchone()[0]
    assert stored == set(saved) and audited == len(saved) and transcripts == len(rows)
    with connect(settings.db_path) as con:  # the history chain is unbroken: each save replaces the one before
        chain = con.execute("SELECT count(*) FROM reviews WHERE replaces IS NULL").fetchone()[0]
    assert chain == 1
