"""Import, scoring and re-scoring through the CLI and a real DuckDB file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import yaml
from click.testing import CliRunner

from lydlogg.cli import main
from lydlogg.scoring import score_stored
from rubrics.loader import RUBRICS_DIR

SET = Path(__file__).resolve().parent / "data" / "rubric_set" / "calls"
CALLS = ["rs-lvs-001", "rs-lvs-002", "rs-llt-001"]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_score_transcript_prints_the_contract(tmp_path):
    out = invoke(
        "score-transcript",
        "--rubric",
        "lvs_operator",
        str(SET / "rs-lvs-001.json"),
        "--db",
        str(tmp_path / "x.duckdb"),
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["rubric"] == "lvs_operator" and isinstance(doc["version"], int)
    assert "worsening_advice" in doc["criteria"] and "open_questions" in doc["criteria"]
    for criterion in doc["criteria"].values():
        assert set(criterion) == {"value", "confidence", "evidence", "rationale"}
        assert criterion["value"] is None or isinstance(criterion["value"], int)
        assert 0 <= criterion["confidence"] <= 1 and criterion["rationale"]
        for ev in criterion["evidence"]:
            assert set(ev) >= {"segment_index", "start_char", "end_char", "start", "end", "text"}
    source = json.loads((SET / "rs-lvs-001.json").read_text())
    with_evidence = [c for c in doc["criteria"].values() if c["evidence"]]
    assert with_evidence
    for c in with_evidence:
        for ev in c["evidence"]:
            seg = source["segments"][ev["segment_index"]]
            assert seg["text"][ev["start_char"] : ev["end_char"]] == ev["text"]
            assert seg["role"] in ("operator", "doctor")


def test_score_transcript_errors(tmp_path):
    db = str(tmp_path / "x.duckdb")
    assert (
        invoke("score-transcript", "--rubric", "nope", str(SET / "rs-lvs-001.json"), "--db", db).exit_code
        == 2
    )
    bad = tmp_path / "bad.json"
    bad.write_text('{"segments": "no"}')
    out = invoke("score-transcript", "--rubric", "lvs_operator", str(bad), "--db", db)
    assert out.exit_code == 2 and "'segments' must be a list" in out.output


def test_import_then_score_then_rescore_after_a_rubric_edit(tmp_path):
    db = tmp_path / "x.duckdb"
    files = [str(SET / f"{c}.json") for c in CALLS]
    out = invoke("import-transcript", *files, "--db", str(db))
    assert out.exit_code == 0 and "imported 3" in out.output
    assert "unchanged 3" in invoke("import-transcript", *files, "--db", str(db)).output

    out = invoke("score", "--db", str(db))
    assert out.exit_code == 0 and "scored 3" in out.output, out.output
    assert "already scored 3" in invoke("score", "--db", str(db)).output
    with duckdb.connect(str(db), read_only=True) as con:
        per_rubric = dict(
            con.execute("SELECT rubric_id, count(DISTINCT call_id) FROM suggestions GROUP BY 1").fetchall()
        )
        transcripts = con.execute("SELECT count(*) FROM transcripts").fetchone()[0]
        n_rows = con.execute("SELECT count(*) FROM suggestions").fetchone()[0]
    assert per_rubric == {"lvs_operator": 2, "legevaktlege_telefon": 1}

    edited = tmp_path / "rubrics"
    shutil.copytree(
        RUBRICS_DIR, edited, ignore=shutil.ignore_patterns("*.py", "scorers", "__pycache__", "*.md")
    )
    doc = yaml.safe_load((edited / "lvs_operator.yaml").read_text(encoding="utf-8"))
    doc["criteria"][0]["weight"] = float(doc["criteria"][0].get("weight", 1)) + 1
    (edited / "lvs_operator.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    from conftest import make_settings

    report = score_stored(make_settings(tmp_path).model_copy(update={"db_path": db}), rubrics_dir=edited)
    assert report.scored == 2 and report.already == 1  # only the edited rubric's calls are scored again
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM transcripts").fetchone()[0] == transcripts
        assert (
            con.execute(
                "SELECT count(DISTINCT rubric_sha256) FROM suggestions WHERE rubric_id = 'lvs_operator'"
            ).fetchone()[0]
            == 2
        )
        assert con.execute("SELECT count(*) FROM suggestions").fetchone()[0] > n_rows
    listed = json.loads(invoke("calls", "--db", str(db), "--format", "json").output)
    assert {c["status"] for c in listed} == {"transcribed"}


def test_import_reports_bad_documents_and_keeps_the_good(tmp_path):
    db = str(tmp_path / "x.duckdb")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"call_id": "b1", "segments": [{"start": 0, "end": 1, "text": "hei", "role": "nurse"}]})
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    out = invoke("import-transcript", str(SET / "rs-lvs-001.json"), str(bad), str(broken), "--db", db)
    assert out.exit_code == 1 and "imported 1" in out.output and "failed 2" in out.output
    assert "'nurse' is not one of" in out.output and "not a readable JSON file" in out.output


def test_unknown_service_gets_no_rubric_unless_one_is_named(tmp_path):
    db = str(tmp_path / "x.duckdb")
    doc = json.loads((SET / "rs-lvs-001.json").read_text())
    doc.pop("service")
    path = tmp_path / "noservice.json"
    path.write_text(json.dumps(doc))
    invoke("import-transcript", str(path), "--db", db)
    assert "no rubric for service 1" in invoke("score", "--db", db).output
    assert "scored 1" in invoke("score", "--rubric", "lvs_operator", "--db", db).output


def test_score_one_call_scores_that_call_only(tmp_path):
    from conftest import make_settings

    from lydlogg.scoring import score_one_call

    db = tmp_path / "x.duckdb"
    assert (
        invoke("import-transcript", *[str(SET / f"{c}.json") for c in CALLS], "--db", str(db)).exit_code == 0
    )
    settings = make_settings(tmp_path).model_copy(update={"db_path": db})
    report = score_one_call(settings, "rs-lvs-002")
    assert (report.scored, report.already, report.no_rubric, report.failures) == (1, 0, [], [])
    with duckdb.connect(str(db), read_only=True) as con:
        scored = {r[0] for r in con.execute("SELECT DISTINCT call_id FROM suggestions").fetchall()}
        analysed = con.execute("SELECT count(DISTINCT transcript_id) FROM advice_results").fetchone()[0]
        rated = con.execute("SELECT count(DISTINCT transcript_id) FROM segment_quality").fetchone()[0]
    assert scored == {"rs-lvs-002"} and analysed <= 1 and rated <= 1  # the other two are untouched
    assert score_one_call(settings, "rs-lvs-002").already == 1  # done: nothing to do again
    assert score_one_call(settings, "no-such-call").scored == 0
    assert score_stored(settings).scored == 2  # the rest is still there for the batch
