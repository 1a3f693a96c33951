"""The end-to-end benchmark on a small subset: two labelled calls spoken by espeak-ng, then
ingest -> process (the real model) -> score, exactly as bench/e2e_rubric.py runs the full set."""

from __future__ import annotations

import csv
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from lydlogg.db import connect

REPO = Path(__file__).resolve().parent.parent
CALLS = ("rs-llt-002", "rs-llt-005")  # two short dev calls; the held-out split stays out of tests

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)"
)


def _module(path: Path, name: str):
    if name in sys.modules:
        return sys.modules[name]
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def spoken(tmp_path_factory) -> Path:
    maker = _module(REPO / "scripts" / "make_spoken_rubric_set.py", "make_spoken_rubric_set")
    out = tmp_path_factory.mktemp("spoken")
    labels = _module(REPO / "bench" / "e2e_rubric.py", "e2e_rubric").load_labels("all", set(CALLS))
    rows = {}
    for call_id, entry in labels.items():
        seconds = maker.build(call_id, entry, out)
        rows[call_id] = {"call_id": call_id, "split": entry["split"], "rubric": entry["rubric"],
                         "service": "legevaktlege", "duration_s": f"{seconds:.1f}"}  # fmt: skip
    maker.write_metadata(out, rows)
    return out


def test_every_layout_is_written_with_its_reference(spoken):
    import soundfile as sf

    for call_id in CALLS:
        assert sf.info(str(spoken / "stereo16k" / f"{call_id}.flac")).channels == 2
        ulaw = sf.info(str(spoken / "ulaw8k" / f"{call_id}.wav"))
        assert (ulaw.samplerate, ulaw.subtype, ulaw.channels) == (8000, "ULAW", 2)
        assert sf.info(str(spoken / "mono16k" / f"{call_id}.flac")).channels == 1
        assert sf.info(str(spoken / "mono8k" / f"{call_id}.wav")).samplerate == 8000
        assert (spoken / "reference" / f"{call_id}.json").is_file()
    with open(spoken / "metadata-ulaw8k.csv", newline="") as fh:
        assert [r["audio_file"] for r in csv.DictReader(fh)] == [f"ulaw8k/{c}.wav" for c in CALLS]


@pytest.mark.model
def test_benchmark_runs_ingest_process_score_and_reports_text_and_audio_side_by_side(
    spoken, tmp_path, bundled_model, monkeypatch
):
    monkeypatch.chdir(REPO)  # the model folder setting is relative to the repository
    bench = _module(REPO / "bench" / "e2e_rubric.py", "e2e_rubric")
    from lydlogg.settings import load_settings

    labels = bench.load_labels("all", set(CALLS))
    result = bench.run_layout(spoken, tmp_path, "stereo16k", set(CALLS), None)
    assert not result.failed
    assert set(result.suggestions) == set(CALLS)
    for call_id, entry in labels.items():
        assert set(result.suggestions[call_id]) == set(entry["labels"])
        for s in result.suggestions[call_id].values():
            assert not s.abstained or s.value is None  # an abstention is missing, never a zero
    assert 0.0 < result.wer_staff < 1.0  # the recogniser heard something, and not perfectly
    roles = result.roles.shares()  # stereo: roles come from the channels, so nearly every word's is right
    assert roles["words"] > 0 and roles["accuracy"] > 0.9 and roles["staff_recall"] > 0.9

    rubrics = bench.load_rubrics()
    ordinal = {c.id for r in rubrics.values() for c in r.rubric.criteria if c.scale.type == "ordinal"}
    text = bench.summary(labels, bench.text_suggestions(labels), ordinal)
    audio = bench.summary(labels, result.suggestions, ordinal)
    assert text["coverage"] == 1.0  # nothing abstains on written text
    assert 0.0 <= audio["coverage"] <= 1.0
    given = sum(b["n"] for b in audio["reliability"])
    assert given == round(audio["coverage"] * sum(len(e["labels"]) for e in labels.values()))

    with connect(load_settings(None, db_path=tmp_path / "stereo16k.duckdb").db_path) as con:
        rated = con.execute("SELECT count(*), min(quality), max(quality) FROM segment_quality").fetchone()
        runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
    assert rated[0] > 0 and 0.0 <= rated[1] <= rated[2] <= 1.0

    again = bench.run_layout(spoken, tmp_path, "stereo16k", set(CALLS), None)  # cached: only re-scores
    assert again.suggestions == result.suggestions
    with connect(tmp_path / "stereo16k.duckdb") as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == runs
