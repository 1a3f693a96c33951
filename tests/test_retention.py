"""Retention rules on a real database: what goes, what stays, and that the app still works after."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import build_reference_db, make_settings, sign_in, write_tone

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, User
from lydlogg.batch import pending_calls
from lydlogg.db import connect
from lydlogg.ingest import ingest
from lydlogg.retention import RetentionSettings, apply_retention
from review.service import ReviewService

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
ADMIN = User("admin", "Admin Demo", "admin")
LEDER = User("leder", "Liv Leder", "leder", units=(*DEMO_UNITS["leder"], "standard"))  # sample and new calls
REVIEWED = "lvs-001-feber-barn"  # has a review, keeps its transcript


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The sample calls (imported transcripts, March 2026), one reviewed, plus three recordings."""
    folder = tmp_path_factory.mktemp("retention")
    db = build_reference_db(folder)
    ReviewService(db, LEDER).save_review(REVIEWED, kind="peer", rubric_id="lvs_operator", rubric_version=1,
                                         rubric_sha256="x", values={"introduces_self": 1}, overall_comment="bra")  # fmt: skip
    return folder


@pytest.fixture
def site(template, tmp_path) -> tuple[Path, RetentionSettings, dict[str, Path]]:
    """A copy of the template with recordings: two old in the managed folder, one old outside, one new."""
    shutil.copy(template / "lydlogg.duckdb", tmp_path / "lydlogg.duckdb")
    settings = make_settings(tmp_path)
    managed, outside = tmp_path / "data" / "audio", tmp_path / "originals"
    managed.mkdir(parents=True)
    outside.mkdir()
    files = {
        "old1": write_tone(managed / "old1.wav", seconds=0.5),
        "old2": write_tone(managed / "old2.wav", seconds=0.6),
        "old_outside": write_tone(outside / "old3.wav", seconds=0.7),
        "new": write_tone(managed / "new.wav", seconds=0.8),
    }
    report = ingest(settings, list(files.values()))
    assert len(report.added) == 4
    with connect(settings.db_path) as con:
        for name, path in files.items():
            started = NOW - timedelta(days=1 if name == "new" else 200)
            con.execute(
                "UPDATE calls SET started_at = ?, operator_id = 'op-anne' WHERE audio_sha256 ="
                " (SELECT sha256 FROM audio_files WHERE path = ?)",
                [started, str(path.resolve())],
            )
    return (
        settings.db_path,
        RetentionSettings(managed_audio_dir=managed, drop_unreviewed_transcripts_after_days=150),
        files,
    )


def _counts(db: Path) -> dict[str, int]:
    with connect(db) as con:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - constant table names
            for t in (
                "calls",
                "audio_files",
                "transcripts",
                "segments",
                "suggestions",
                "reviews",
                "review_scores",
            )
        }


def test_a_dry_run_lists_what_would_go_and_changes_nothing(site):
    db, rules, files = site
    before = _counts(db)
    plan = apply_retention(db, rules, user=ADMIN, now=NOW, dry_run=True)
    assert plan.dry_run and len(plan.audio_sha256) == 3 and len(plan.files_to_delete) == 2
    assert plan.files_left == (files["old_outside"].resolve(),)
    assert (
        len(plan.transcript_calls) == 11 and REVIEWED not in plan.transcript_calls
    )  # 12 samples, 1 reviewed
    assert plan.segments > 0 and plan.suggestions > 0
    assert _counts(db) == before and all(p.exists() for p in files.values())
    with connect(db) as con:
        assert con.execute("SELECT action, detail FROM audit WHERE action LIKE '%retention'").fetchall() == [
            ("plan_retention", plan.summary())
        ]


def test_apply_removes_old_audio_and_unreviewed_text_and_keeps_the_rest(site):
    db, rules, files = site
    before = _counts(db)
    plan = apply_retention(db, rules, user=ADMIN, now=NOW)
    assert sorted(plan.files_deleted) == sorted([files["old1"].resolve(), files["old2"].resolve()])
    assert not files["old1"].exists() and not files["old2"].exists()
    assert files["old_outside"].exists() and files["new"].exists()  # not ours to delete; not old enough
    after = _counts(db)
    assert after["calls"] == before["calls"] and after["transcripts"] == before["transcripts"]
    assert after["audio_files"] == before["audio_files"] - 3
    assert after["reviews"] == before["reviews"] and after["review_scores"] == before["review_scores"]
    assert after["segments"] == before["segments"] - plan.segments
    with connect(db) as con:
        left = {r[0] for r in con.execute("SELECT path FROM audio_files").fetchall()}
        assert left == {str(files["new"].resolve())}
        kept = con.execute(
            "SELECT count(*) FROM segments s JOIN transcripts t USING (transcript_id) WHERE t.call_id = ?",
            [REVIEWED],
        ).fetchone()[0]
        assert kept > 0
        logged = con.execute("SELECT rule, count(*) FROM deletions GROUP BY rule ORDER BY rule").fetchall()
        assert logged == [("audio", 3), ("transcript", 11)]
        audit = con.execute(
            "SELECT username, object_id, detail FROM audit WHERE action = 'apply_retention'"
        ).fetchall()
        assert audit == [("admin", plan.run_id, plan.summary())]
        # the calls that lost their recording are not queued for transcription again
        assert pending_calls(con, "any-model", "any-options") == [
            p for p in pending_calls(con, "any-model", "any-options") if p.path == str(files["new"].resolve())
        ]
    again = apply_retention(db, rules, user=ADMIN, now=NOW)
    assert again.empty and again.files_deleted == ()


def test_the_review_app_still_works_for_calls_without_audio_or_transcript(site):
    db, rules, _files = site
    apply_retention(db, rules, user=ADMIN, now=NOW)
    service = ReviewService(db, LEDER)
    calls = service.calls()
    assert len(calls) == 16
    with connect(db) as con:
        no_audio = con.execute("SELECT call_id FROM calls WHERE started_at < ? AND source = 'audio'",
                               [NOW - timedelta(days=100)]).fetchone()[0]  # fmt: skip
    assert service.call(no_audio).call_id == no_audio
    assert service.audio_path(no_audio) is None
    dropped = "lvs-002-urinveis"
    assert service.transcript(dropped).segments == ()
    assert service.suggestions(dropped) == (None, [])
    assert service.call(dropped).status == "transcribed"
    assert len(service.transcript(REVIEWED).segments) > 0
    assert [r.overall_comment for r in service.reviews(REVIEWED)] == ["bra"]


@pytest.mark.parametrize(
    ("rules", "audio", "transcripts"),
    [
        (RetentionSettings(delete_audio_after_days=0, drop_unreviewed_transcripts_after_days=0), 0, 0),
        (RetentionSettings(delete_audio_after_days=0, drop_unreviewed_transcripts_after_days=150), 0, 11),
        (RetentionSettings(drop_unreviewed_transcripts_after_days=0), 3, 0),
        (RetentionSettings(), 3, 2),  # defaults: 90 days audio, 180 days text (two calls before 5 March)
        (RetentionSettings(delete_audio_after_days=365, drop_unreviewed_transcripts_after_days=365), 0, 0),
        # the new call is exactly one day old: only older calls go
        (RetentionSettings(delete_audio_after_days=1, drop_unreviewed_transcripts_after_days=1000), 3, 0),
    ],
)
def test_rules_pick_by_age_and_none_keeps(site, rules, audio, transcripts):
    db, _rules, _files = site
    plan = apply_retention(db, rules, user=ADMIN, now=NOW, dry_run=True)
    assert (len(plan.audio_sha256), len(plan.transcript_ids)) == (audio, transcripts)


def test_delete_files_off_only_forgets_recordings(site):
    db, rules, files = site
    plan = apply_retention(db, rules.model_copy(update={"delete_files": False}), user=ADMIN, now=NOW)
    assert plan.files_deleted == () and len(plan.files_left) == 3
    assert all(p.exists() for p in files.values())


@pytest.mark.parametrize("role", ["leder", "veileder", "operator"])
def test_only_admins_apply_retention(site, role):
    db, rules, _files = site
    with pytest.raises(AccessDenied):
        apply_retention(db, rules, user=User(role, role, role, "op-anne"), now=NOW, dry_run=True)


def test_now_must_be_aware(site):
    db, rules, _files = site
    with pytest.raises(ValueError, match="time zone"):
        apply_retention(db, rules, user=ADMIN, now=datetime(2026, 9, 1), dry_run=True)


def test_the_call_page_opens_for_a_call_whose_text_was_dropped(site, monkeypatch):
    from conftest import REPO
    from streamlit.testing.v1 import AppTest

    db, rules, _files = site
    apply_retention(db, rules, user=ADMIN, now=NOW)
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    sign_in(at, db, LEDER)
    at.query_params["samtale"] = "lvs-002-urinveis"
    at.run()
    at.switch_page("review/views/samtale.py").run()
    assert not at.exception, at.exception


def test_the_stored_recogniser_output_goes_with_the_transcript_text(site):
    """ASR output kept for re-diarization holds the words too: dropped with the text, kept with it."""
    db, rules, _files = site
    with connect(db) as con:
        keys = con.execute(
            "SELECT call_id, audio_sha256, model_id, options_hash FROM transcripts WHERE call_id IN (?, 'ep1-c2-lvs')",
            [REVIEWED],
        ).fetchall()
        for call_id, sha, model, options in keys:
            con.execute(
                "INSERT INTO asr_results (asr_id, audio_sha256, model_id, options_hash, run_id, language,"
                " channels_transcribed, speech_s, asr_seconds) VALUES (?, ?, ?, ?, 'run', 'no', 1, 1.0, 1.0)",
                [f"asr-{call_id}", sha, model, options],
            )
            con.execute(
                "INSERT INTO asr_segments (asr_id, segment_index, start_s, end_s, text, words_json)"
                " VALUES (?, 0, 0.0, 1.0, 'hei', '[]')",
                [f"asr-{call_id}"],
            )
    apply_retention(db, rules, user=ADMIN, now=NOW)
    with connect(db) as con:
        assert con.execute("SELECT asr_id FROM asr_results").fetchall() == [(f"asr-{REVIEWED}",)]
        assert con.execute("SELECT asr_id FROM asr_segments").fetchall() == [(f"asr-{REVIEWED}",)]


def test_cases_older_than_the_rule_go_with_their_audio_and_scores(tmp_path):
    from test_cases import library, publish, reviewed_db

    db = reviewed_db(tmp_path)
    lib = library(db, "veileder", tmp_path)
    old, new = (publish(lib, publish_audio=True, disguise_voice=False) for _ in range(2))
    old_file, new_file = (lib.audio_path(lib.case(c)) for c in (old, new))
    with connect(db) as con:
        con.execute("UPDATE cases SET published_at = ? WHERE case_id = ?", [NOW - timedelta(days=731), old])
        con.execute("UPDATE cases SET published_at = ? WHERE case_id = ?", [NOW - timedelta(days=10), new])
    rules = RetentionSettings(delete_audio_after_days=0, drop_unreviewed_transcripts_after_days=0)
    assert rules.delete_cases_after_days == 730  # the documented default
    plan = apply_retention(db, rules, user=ADMIN, now=NOW, dry_run=True, cases_dir=tmp_path / "cases")
    assert plan.cases == (old,) and plan.case_audio == (old_file.name,) and old_file.exists()
    plan = apply_retention(db, rules, user=ADMIN, now=NOW, cases_dir=tmp_path / "cases")
    assert plan.files_deleted == (old_file,) and not old_file.exists() and new_file.exists()
    assert "1 cases (1 with audio)" in plan.summary()
    with connect(db) as con:
        assert con.execute("SELECT case_id FROM cases").fetchall() == [(new,)]
        assert con.execute("SELECT count(*) FROM case_scores WHERE case_id = ?", [old]).fetchone()[0] == 0
        assert con.execute("SELECT rule, object_type, object_id, call_id FROM deletions").fetchall() == [
            ("case", "case", old, REVIEWED)
        ]
    assert lib.search("feber")["case_id"].tolist() == [new]  # the text index no longer holds the old one
    kept = apply_retention(db, rules.model_copy(update={"delete_cases_after_days": 0}), user=ADMIN, now=NOW,
                           dry_run=True)  # fmt: skip
    assert kept.cases == ()  # 0 keeps cases


def test_old_drafts_and_drafts_on_dropped_text_go_and_fresh_ones_stay(site):
    from review.drafts import Draft, DraftStore

    db, rules, _files = site
    veileder = User("veileder", "Vera Veileder", "veileder", units=(*DEMO_UNITS["veileder"], "standard"))
    dropped = _unreviewed_sample(db)  # its text goes with the transcript rule
    DraftStore(db, LEDER).keep(REVIEWED, Draft("peer", {"introduces_self": 1}, overall_comment="halvferdig"))
    DraftStore(db, veileder).keep(REVIEWED, Draft("peer", {"open_questions": 2}))
    DraftStore(db, veileder).keep(dropped, Draft("peer", {"open_questions": 1}))
    with connect(db) as con:  # the leader's draft was last touched 31 days before the run
        con.execute(
            "UPDATE review_drafts SET updated_at = ? WHERE username = 'leder'", [NOW - timedelta(days=31)]
        )
        con.execute(
            "UPDATE review_drafts SET updated_at = ? WHERE username = 'veileder'", [NOW - timedelta(days=2)]
        )
    assert rules.delete_drafts_after_days == 30  # the documented default
    plan = apply_retention(db, rules, user=ADMIN, now=NOW, dry_run=True)
    assert plan.drafts == (("leder", REVIEWED), ("veileder", dropped)) and "2 review drafts" in plan.summary()
    apply_retention(db, rules, user=ADMIN, now=NOW)
    with connect(db) as con:
        assert con.execute("SELECT username, call_id FROM review_drafts").fetchall() == [
            ("veileder", REVIEWED)
        ]
        assert con.execute(
            "SELECT object_id, call_id FROM deletions WHERE rule = 'draft' AND object_type = 'review_draft'"
            " ORDER BY object_id"
        ).fetchall() == [(f"leder:{REVIEWED}", REVIEWED), (f"veileder:{dropped}", dropped)]
    kept = apply_retention(db, rules.model_copy(update={"delete_drafts_after_days": 0,
                                                       "drop_unreviewed_transcripts_after_days": 0}),
                           user=ADMIN, now=NOW + timedelta(days=400), dry_run=True)  # fmt: skip
    assert kept.drafts == ()  # 0 keeps drafts


def _unreviewed_sample(db: Path) -> str:
    with connect(db) as con:
        ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall()]
    return next(c for c in ids if c.startswith("lvs-") and c != REVIEWED)
