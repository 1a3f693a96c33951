"""The pipeline's stages and their keys: a real DuckDB file, the real bundled model on the shortest
sample call, and the reference transcripts of the sample calls where no audio is needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import build_reference_db, make_settings, sample_subset

from lydlogg.auth import DEMO_UNITS
from lydlogg.cli import main
from lydlogg.db import connect
from lydlogg.episodes import link_episodes, read_episodes, update_episodes
from lydlogg.pipeline import PipelineOptions, run
from lydlogg.settings import load_settings
from rubrics.loader import RUBRICS_DIR
from transcription.diarization import DiarizationSettings


def _keys(db: Path) -> dict[str, list[tuple]]:
    """What each keyed stage has stored, with its ids and times."""
    with connect(db, read_only=True) as con:
        return {
            "asr": con.execute(
                "SELECT asr_id, audio_sha256, model_id, options_hash, created_at FROM asr_results ORDER BY 1"
            ).fetchall(),
            "asr_segments": con.execute("SELECT count(*) FROM asr_segments").fetchall(),
            "transcripts": con.execute(
                "SELECT transcript_id, diarization_hash, created_at FROM transcripts ORDER BY created_at"
            ).fetchall(),
            "suggestions": con.execute(
                "SELECT transcript_id, rubric_sha256, count(*), max(created_at) FROM suggestions"
                " GROUP BY ALL ORDER BY 4"
            ).fetchall(),
            "runs": con.execute("SELECT run_id, diarization_hash FROM runs ORDER BY started_at").fetchall(),
        }


@pytest.mark.model
def test_each_stage_reruns_only_when_its_own_inputs_change(tmp_path, bundled_model):
    settings = make_settings(tmp_path)
    meta, rows = sample_subset(tmp_path, 1)  # the shortest call: 48 s, mono
    call_id = rows[0]["call_id"]
    run_ingest = CliRunner().invoke(main, ["ingest", "--metadata", str(meta), "--db", str(settings.db_path)])
    assert run_ingest.exit_code == 0, run_ingest.output

    first = run(settings)
    assert first.transcription.asr_run == [call_id] and not first.transcription.asr_reused
    assert first.scoring.scored == 1 and first.episodes is not None
    stored = _keys(settings.db_path)
    assert len(stored["asr"]) == 1 and stored["asr_segments"][0][0] > 0
    assert len(stored["transcripts"]) == 1 and len(stored["suggestions"]) == 1

    again = run(settings)  # nothing is out of date
    assert again.transcription.run_id is None and again.scoring.scored == 0 and again.episodes.relinked == 0
    assert _keys(settings.db_path) == stored

    # Other diarization options: diarized, labelled, stored and scored again; the recogniser does not run.
    changed = settings.model_copy(update={"diarization": DiarizationSettings(min_turn_s=2.0)})
    rediarized = run(changed)
    assert rediarized.transcription.asr_reused == [call_id] and rediarized.transcription.asr_run == []
    after = _keys(settings.db_path)
    assert after["asr"] == stored["asr"] and after["asr_segments"] == stored["asr_segments"]
    assert len(after["transcripts"]) == 2
    old_tid, new_tid = after["transcripts"][0][0], after["transcripts"][1][0]
    assert after["transcripts"][0] == stored["transcripts"][0]  # the earlier transcript is kept as it was
    assert after["transcripts"][1][1] != after["transcripts"][0][1]  # under the new diarization hash
    assert after["runs"][-1][1] == after["transcripts"][1][1]
    assert rediarized.scoring.scored == 1 and after["suggestions"][-1][0] == new_tid
    with connect(settings.db_path, read_only=True) as con:
        options = con.execute(
            "SELECT options_json FROM diarizations WHERE transcript_id = ?", [new_tid]
        ).fetchone()[0]
        words = con.execute("SELECT count(*) FROM words WHERE transcript_id = ?", [new_tid]).fetchone()[0]
        old_words = con.execute("SELECT count(*) FROM words WHERE transcript_id = ?", [old_tid]).fetchone()[0]
    assert '"min_turn_s":2.0' in options and words == old_words  # the same recognised words

    # An edited rubric: scored again, nothing else.
    rubrics = tmp_path / "rubrics"
    shutil.copytree(RUBRICS_DIR, rubrics, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for path in rubrics.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\ntitle: ", "\ntitle: Redigert - ", 1), encoding="utf-8")
    before_edit = _keys(settings.db_path)
    rescored = run(changed, PipelineOptions(rubrics_dir=rubrics))
    after_edit = _keys(settings.db_path)
    assert rescored.transcription.run_id is None and rescored.scoring.scored == 1
    assert rescored.episodes.relinked == 0
    assert {k: v for k, v in after_edit.items() if k != "suggestions"} == {
        k: v for k, v in before_edit.items() if k != "suggestions"
    }
    assert len(after_edit["suggestions"]) == len(before_edit["suggestions"]) + 1
    assert after_edit["suggestions"][-1][0] == new_tid
    assert after_edit["suggestions"][-1][1] != before_edit["suggestions"][-1][1]

    # --stage diarization: every call diarized again from the stored ASR output.
    db = str(settings.db_path)
    env = {
        "LYDLOGG_ASR__MODELS_DIR": str(settings.asr.models_dir),
        "LYDLOGG_KEY_FILE": str(settings.key_file),
    }
    out = CliRunner().invoke(main, ["process", "--db", db, "--stage", "diarization"], env=env)
    assert out.exit_code == 0, out.output
    assert (
        "transcribed 1, failed 0" in out.output
        and "diarized again from the stored ASR output: 1" in out.output
    )
    forced = _keys(settings.db_path)
    assert forced["asr"] == stored["asr"]
    current = [t for t in forced["transcripts"] if "~retired-" not in t[1]]
    retired = [t for t in forced["transcripts"] if "~retired-" in t[1]]
    assert len(forced["transcripts"]) == 3 and len(retired) == 1 and retired[0][0] == old_tid
    assert current[-1][0] not in {old_tid, new_tid}

    # Back to the other options: their transcript exists but a newer one hides it, so the call is
    # diarized again from the stored ASR output and the hidden one retires.
    reverted = run(changed)
    assert reverted.transcription.asr_reused == [call_id] and reverted.scoring.scored == 1
    final = _keys(settings.db_path)
    assert final["asr"] == stored["asr"]
    assert final["transcripts"][-1][1] == after["transcripts"][1][1]  # the newest is under B's hash
    assert {t[0] for t in final["transcripts"] if "~retired-" in t[1]} == {old_tid, new_tid}
    assert run(changed).transcription.run_id is None  # and then it is done


def test_stage_score_and_stage_episodes_through_the_cli(tmp_path):
    db = build_reference_db(tmp_path)
    with connect(db, read_only=True) as con:
        before = con.execute("SELECT count(*), max(created_at) FROM suggestions").fetchone()
        scorable = con.execute("SELECT count(DISTINCT transcript_id) FROM suggestions").fetchone()[0]
    runner = CliRunner()
    out = runner.invoke(main, ["process", "--db", str(db), "--stage", "score"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert f"scored {scorable}," in out.output and "episodes:" not in out.output  # no model was needed
    with connect(db, read_only=True) as con:
        after = con.execute("SELECT count(*), max(created_at) FROM suggestions").fetchone()
    assert after[0] == before[0] and after[1] > before[1]  # replaced, not added

    with connect(db) as con:
        con.execute("DELETE FROM episodes WHERE contact_number > 3")  # a table gone stale
    out = runner.invoke(main, ["process", "--db", str(db), "--stage", "episodes"], catch_exceptions=False)
    assert out.exit_code == 0 and "episodes: 12 contacts relinked, 12 stored" in out.output
    assert "already scored" not in out.output
    with connect(db, read_only=True) as con:
        assert_same_as_linking(con)


def assert_same_as_linking(con) -> None:  # noqa: ANN001 - a DuckDB connection
    stored = read_episodes(con).sort_values("call_id").reset_index(drop=True)
    linked = link_episodes(con, 72.0).sort_values("call_id").reset_index(drop=True)
    assert len(stored) == len(linked) > 0
    pd.testing.assert_frame_equal(stored, linked, check_dtype=False)  # INTEGER stored, BIGINT linked


def test_the_episodes_table_follows_calls_that_arrive_and_change(tmp_path):
    db = build_reference_db(tmp_path)  # ingest linked the late metadata as it arrived
    with connect(db) as con:
        assert_same_as_linking(con)
        assert update_episodes(con, 72.0).relinked == 0  # nothing new

        # A new contact from the episode's phone, a day after its last one: only that episode relinks.
        last = con.execute(
            "SELECT c.call_id, c.caller_pseudonym, c.started_at FROM episodes e JOIN calls c USING (call_id)"
            " WHERE e.episode_size > 1 ORDER BY c.started_at DESC LIMIT 1"
        ).fetchone()
        con.execute(
            "INSERT INTO calls (call_id, started_at, service, caller_pseudonym) VALUES"
            " ('late-1', ?::TIMESTAMPTZ + INTERVAL 24 HOUR, 'lvs', ?)",
            [last[2], last[1]],
        )
        update = update_episodes(con, 72.0)
        assert update.relinked == 7 and not update.full  # the six-contact episode and the new one
        assert_same_as_linking(con)
        assert read_episodes(con, episode_of="late-1")["contact_number"].max() == 7

        # A call's phone corrected: the episode it left is relinked too.
        con.execute(
            "UPDATE calls SET caller_pseudonym = 'pho_other', patient_pseudonym = NULL WHERE call_id = 'late-1'"
        )
        assert update_episodes(con, 72.0).relinked >= 1
        assert_same_as_linking(con)
        assert len(read_episodes(con, episode_of="late-1")) == 1

        # A call removed: its row goes.
        con.execute("DELETE FROM calls WHERE call_id = 'late-1'")
        update_episodes(con, 72.0)
        assert_same_as_linking(con)
        assert read_episodes(con, episode_of="late-1").empty

        # Another window relinks every contact.
        assert update_episodes(con, 6.0).full
        narrow = read_episodes(con)
        assert (narrow["contact_number"] == 1).all()  # the episode's contacts are 7 to 17 hours apart


def test_the_inbox_and_the_episode_page_read_the_stored_episodes(tmp_path):
    from lydlogg.auth import User
    from review.service import ReviewService

    db = build_reference_db(tmp_path)
    leader = ReviewService(db, User("leder", "Leder", "leder", units=DEMO_UNITS["leder"]))
    calls = leader.calls().set_index("call_id")
    flagged = set(calls.index[calls["flagged"]])
    with connect(db, read_only=True) as con:
        linked = link_episodes(con, 72.0).set_index("call_id")
    assert flagged and flagged == set(linked.index[linked["flagged"].fillna(False).astype(bool)])
    assert len(leader.episode("ep1-c2-lvs")) == 6

    with connect(db) as con:  # the inbox shows what the table says: it links nothing itself
        con.execute("UPDATE episodes SET contact_number = 1, episode_id = 'ep-' || call_id, episode_size = 1")
    calls = leader.calls()
    assert not calls["flagged"].any()
    assert len(leader.episode("ep1-c2-lvs")) == 1


def test_scoring_writes_in_batches_with_the_same_result(tmp_path, monkeypatch):
    import lydlogg.scoring as scoring

    (tmp_path / "one").mkdir()
    one = build_reference_db(tmp_path / "one")
    many = tmp_path / "many" / "lydlogg.duckdb"
    many.parent.mkdir()
    shutil.copy(one, many)
    with connect(many) as con:
        con.execute("DELETE FROM suggestions")
        con.execute("DELETE FROM advice_results")
        con.execute("DELETE FROM segment_quality")
    monkeypatch.setattr(scoring, "SCORE_BATCH_CALLS", 2)
    report = scoring.score_stored(load_settings(None, db_path=many))
    assert report.scored > 2 and not report.failures
    assert report.writes >= report.scored / 2  # two calls per connection and transaction
    query = "SELECT transcript_id, criterion_id, value, confidence, evidence_json, rationale FROM suggestions ORDER BY ALL"
    with connect(one, read_only=True) as a, connect(many, read_only=True) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
        assert (
            a.execute("SELECT count(*) FROM advice_results").fetchone()
            == b.execute("SELECT count(*) FROM advice_results").fetchone()
        )


def test_schema_v20_keeps_transcripts_stored_before_it_done(tmp_path):
    """An older database's transcripts get the hash of the diarization options they were stored
    with, so upgrading re-diarizes nothing; other options find them, without stored ASR output."""
    import duckdb

    from lydlogg.batch import diarization_hash, pending_calls
    from lydlogg.db import migrate
    from lydlogg.db.migrations import LATEST_VERSION, MIGRATIONS

    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)"
    )
    for version, description, sql in MIGRATIONS:
        if version < 20:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_version (version, description) VALUES (?, ?)", [version, description]
            )
    con.execute(
        "INSERT INTO audio_files (sha256, path, size_bytes, container, sample_rate, channels, frames, duration_s)"
        " VALUES ('sha-1', '/srv/c1.wav', 10, 'WAV', 8000, 1, 8000, 1.0)"
    )
    con.execute("INSERT INTO calls (call_id, audio_sha256) VALUES ('c1', 'sha-1'), ('imported', NULL)")
    con.execute(
        "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,"
        " layout, channels_transcribed, duration_s, speech_s, asr_seconds) VALUES"
        " ('t1', 'c1', 'sha-1', 'run', 'model', 'opts', 'no', 'mono', 1, 1.0, 1.0, 1.0),"
        " ('t2', 'imported', 'text:abc', 'import', 'import', '', 'no', 'mono', 1, 1.0, 1.0, 0)"
    )
    con.execute(
        "INSERT INTO diarizations (transcript_id, strategy, options_json, speakers) VALUES ('t1', 'builtin', ?, 2)",
        [DiarizationSettings().result_json()],  # what earlier versions stored, before speed-only settings
    )
    assert migrate(con) == LATEST_VERSION
    hashes = dict(con.execute("SELECT transcript_id, diarization_hash FROM transcripts").fetchall())
    assert hashes == {"t1": diarization_hash(DiarizationSettings()), "t2": ""}
    assert pending_calls(con, "model", "opts", diarization_hash(DiarizationSettings())) == []
    other = pending_calls(con, "model", "opts", diarization_hash(DiarizationSettings(min_turn_s=2.0)))
    assert [(p.call_id, p.transcribed, p.asr_cached) for p in other] == [("c1", True, False)]
    con.close()


def test_the_encoder_thread_count_is_not_part_of_the_diarization_key():
    """``diarization.embedding_threads`` changes speed only: changing it re-diarizes nothing, and
    adding it kept the key of every stored transcript (the default's key is pinned). The key did
    change, on purpose, with the HMM re-segmentation settings (issue 13), whose default changes
    what the mono methods find: stored calls are re-diarized from their kept words."""
    from lydlogg.batch import diarization_hash

    default = diarization_hash(DiarizationSettings())
    assert default == "da9bcc2c36147493"
    assert diarization_hash(DiarizationSettings(embedding_threads=0)) == default
    assert diarization_hash(DiarizationSettings(embedding_threads=2, min_turn_s=2.0)) == diarization_hash(
        DiarizationSettings(min_turn_s=2.0)
    )
    assert "embedding_threads" not in DiarizationSettings().result_json()


def test_a_configured_pyannote_pipeline_is_part_of_the_diarization_key():
    from lydlogg.batch import diarization_hash
    from transcription.diarization.pyannote_adapter import PyannoteSettings

    plain = diarization_hash(DiarizationSettings())
    assert diarization_hash(DiarizationSettings(), PyannoteSettings()) == plain  # none configured
    one = diarization_hash(DiarizationSettings(), PyannoteSettings(pipeline="/vekter/a"))
    other = diarization_hash(DiarizationSettings(), PyannoteSettings(pipeline="/vekter/b"))
    assert len({plain, one, other}) == 3  # other weights: diarized again
    assert diarization_hash(DiarizationSettings(), PyannoteSettings(pipeline="/vekter/a", hf_token="x",
                                                                      device="cpu")) == one  # fmt: skip
    assert (
        diarization_hash(DiarizationSettings(), PyannoteSettings(pipeline="/vekter/a", exclusive=False))
        != one
    )
