"""ASR measured on reviewers' corrections: pure scoring in milliseconds, then the real model on a
corrected span of a real sample call."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from lydlogg.asr_eval import (
    CorrectedSegment,
    evaluate,
    key_word_errors,
    propose_vocabulary,
    run_asr_eval,
)
from transcription.evaluation import corpus_wer

REPO = Path(__file__).resolve().parent.parent


_CALLS = itertools.count(1)


def _seg(
    original: str,
    corrected: str,
    *,
    service: str = "lvs",
    channel: int | None = 0,
    call_id: str | None = None,
) -> CorrectedSegment:
    """A corrected segment, of a call of its own unless ``call_id`` is given."""
    return CorrectedSegment(
        call_id=call_id or f"c{next(_CALLS)}",
        transcript_id="t1",
        segment_index=0,
        service=service,
        channel=channel,
        start_s=0.0,
        end_s=1.0,
        audio_path="/nowhere.wav",
        model_id="m",
        original_text=original,
        corrected_text=corrected,
        corrected_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("Ring 113 hvis han blir verre.", "Ring 113 hvis han blir verre.", (0, 2)),  # ring, 113
        ("Ring 113 hvis han blir verre.", "Ring 112 hvis han blir verre.", (1, 2)),
        ("Ring 116117 i kveld.", "Ring i kveld.", (1, 2)),
        ("Han har tre i feber.", "Han har tre i feber.", (0, 2)),  # 3 (number words count), feber
        ("Han har tre i feber.", "Han har to i feber.", (1, 2)),
        ("Hei, hvordan går det?", "Hei hvordan går det", (0, 0)),  # no key words at all
        ("Du må komme inn til legevakten nå.", "Du må komme inn til legevakta nå.", (0, 5)),  # dialect form
        ("Ring 113.", "", (2, 2)),
    ],
)
def test_key_word_errors_count_only_the_words_that_matter(reference, hypothesis, expected):
    assert key_word_errors(reference, hypothesis) == expected


def test_evaluate_groups_by_service_and_channel_and_scores_the_stored_transcript():
    segs = [
        _seg("ring en en tre", "Ring 113.", channel=0),
        _seg("han har feber", "Han har feber.", channel=1),
        _seg("hallo", "Hallo, AMK.", service="amk", channel=None),
    ]
    rows = evaluate(segs, {"other": ["Ring 113.", "han har feber", ""]})
    by = {(r.model, r.service, r.channel): r for r in rows}
    assert by[("transkripsjon", "lvs", "0")].wer == corpus_wer([("Ring 113.", "ring en en tre")]).wer > 0
    assert by[("transkripsjon", "lvs", "1")].wer == 0
    assert by[("transkripsjon", "amk", "mono")].wer == 0.5
    assert by[("other", "lvs", "0")].wer == 0 and by[("other", "lvs", "0")].key_wer == 0
    assert by[("other", "amk", "mono")].wer == 1.0
    total = by[("other", "alle", "alle")]
    assert total.segments == 3 and total.reference_words == 7
    assert total.wer == pytest.approx(2 / 7)
    with pytest.raises(ValueError, match="has 1 texts for 3 segments"):
        evaluate(segs, {"short": ["x"]})


def test_vocabulary_is_the_words_reviewers_keep_putting_in():
    segs = [
        _seg("du kan ringe legevakta i tunsberg", "Du kan ringe legevakten i Tønsberg."),
        _seg("kjør til tønnesberg", "Kjør til Tønsberg."),
        _seg("han tok paracet", "Han tok Paracet."),  # already right: not proposed
        _seg("han tok paralgin", "Han tok Pinex."),  # once only: not proposed
    ]
    assert propose_vocabulary(segs) == ["Tønsberg"]
    assert "Pinex" in propose_vocabulary(segs, min_count=1)


def test_a_word_put_into_many_segments_of_one_call_is_not_proposed():
    """Three corrections of one call putting in the same word say something about that call only."""
    one_call = [
        _seg(f"hun har brukt {w}", "Hun har brukt Ventoline.", call_id="c-one") for w in ("x", "y", "z")
    ]
    assert propose_vocabulary(one_call) == []
    assert propose_vocabulary([*one_call, _seg("gi han ventilen", "Gi han Ventoline.")]) == ["Ventoline"]


@pytest.mark.parametrize(
    ("said", "corrected"),
    [
        ("mor til ingrid", "Mor til Ingvild."),  # a name the anonymiser knows in context
        ("snakket med hansson", "Snakket med hansen"),  # a surname typed in lower case: known alone
        ("nummeret er ni to", "Nummeret er nittito tretti fire femti seks sytti åtte."),  # a phone number
        ("jeg bor i", "Jeg bor i Storgata tolv."),  # an address
    ],
)
def test_no_identifier_is_ever_proposed_as_vocabulary(said, corrected):
    """A correction that adds an identifier, twice, beside a place name added twice: only the place
    is proposed (the anonymiser's own detection decides)."""
    from anonymise.text import find_identifiers

    segs = [
        _seg(said, corrected),
        _seg(said + " ja", corrected + " Ja."),
        _seg("kjør til tønnesberg", "Kjør til Tønsberg."),
        _seg("i tunsberg", "I Tønsberg."),
    ]
    assert propose_vocabulary(segs) == ["Tønsberg"]
    assert len(propose_vocabulary(segs, min_count=1)) >= 1
    added = set(corrected.lower().strip(".").split()) - set(said.split())
    assert any(len(w) >= 4 for w in added)  # without the anonymiser a word would have been proposed
    assert find_identifiers(corrected) or find_identifiers(corrected.split()[-1].capitalize())


def test_a_name_a_reviewer_puts_into_corrections_is_not_proposed_nor_shown(corrected_db):
    """Corrections stored through the service: the name put in twice stays out of the proposals,
    the place name put in twice is proposed, and the admin page says identifiers never are."""
    from streamlit.testing.v1 import AppTest

    from lydlogg.asr_eval import corrected_segments
    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
    from lydlogg.db import connect
    from review.service import ReviewService

    settings, _, _ = corrected_db
    db = settings.db_path
    users = {u[2]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
    with connect(db, read_only=True) as con:
        picked = con.execute(
            "SELECT t.call_id, s.segment_index, s.text FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE NOT EXISTS (SELECT 1 FROM segment_corrections c WHERE c.transcript_id = s.transcript_id"
            " AND c.segment_index = s.segment_index)"
            " QUALIFY row_number() OVER (PARTITION BY t.call_id ORDER BY length(s.text) DESC) = 1"
            " ORDER BY t.call_id LIMIT 2"
        ).fetchall()  # the longest segment of two different calls
    assert len({call_id for call_id, _, _ in picked}) == 2
    for call_id, index, text in picked:
        ReviewService(db, users["leder"]).correct_segment(
            call_id, index, text=f"{text} Mor til Ingvild Solberg ringer fra Tønsberg."
        )
    with connect(db, read_only=True) as con:
        segments = corrected_segments(con)
    assert len(segments) == 3  # the fixture's own correction and these two
    words = propose_vocabulary(segments)
    assert "Tønsberg" in words and "ringer" in words  # put in twice, and no identifier
    assert not {"ingvild", "solberg"} & {w.lower() for w in words}  # put in twice, but a name
    with connect(db) as con:  # a run as `lydlogg asr-eval --vocabulary` stores it
        con.execute(
            "INSERT INTO asr_eval_results (run_id, model, service, channel, segments, reference_words, wer,"
            " key_words, key_wer, vocabulary) VALUES ('r1', 'transkripsjon', 'alle', 'alle', 3, 40, 0.1, 0, 0, ?)",
            [" ".join(words)],
        )
    at = AppTest.from_file(str(REPO / "review" / "views" / "talegjenkjenning.py"), default_timeout=30)
    at.session_state["service"] = ReviewService(db, users["admin"])
    at.run()
    assert not at.exception, at.exception
    page = " ".join(m.value for m in [*at.markdown, *at.caption])
    assert "Tønsberg" in page and "Ingvild" not in page and "Solberg" not in page
    assert "foreslås aldri" in page


def test_proposed_words_are_measured_as_hotwords_and_as_initial_prompt_on_the_same_model(tmp_path):
    from conftest import make_settings

    from lydlogg.asr_eval import eval_runs, propose_prompt
    from lydlogg.batch import asr_options

    options = asr_options(make_settings(tmp_path))
    assert eval_runs("m", options, []) == [("m", options)]
    runs = dict(eval_runs("m", options, ["Tønsberg", "Pinex"]))
    assert list(runs) == ["m", "m+ordliste", "m+ledetekst"]
    assert runs["m+ordliste"].hotwords == "Tønsberg Pinex" and runs["m+ordliste"].initial_prompt == ""
    assert runs["m+ledetekst"].initial_prompt == "Tønsberg, Pinex." and runs["m+ledetekst"].hotwords == ""
    assert propose_prompt([]) == ""
    assert len({o.hash() for o in runs.values()}) == 3  # each run is a distinct decoding


@pytest.fixture
def corrected_db(tmp_path, app_db):
    from conftest import make_settings

    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
    from lydlogg.db import connect
    from review.service import ReviewService

    db = tmp_path / "eval.duckdb"
    shutil.copy(app_db, db)
    with connect(db, read_only=True) as con:
        call_id, index, text = con.execute(
            "SELECT t.call_id, s.segment_index, s.text FROM segments s JOIN transcripts t USING (transcript_id)"
            " ORDER BY t.call_id, length(s.text) DESC LIMIT 1"
        ).fetchone()
    leder = next(User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS if u[2] == "leder")
    corrected = text.rstrip(".") + " Ring 113 hvis det blir verre."
    ReviewService(db, leder).correct_segment(call_id, index, text=corrected)
    settings = make_settings(tmp_path)
    return settings.model_copy(update={"db_path": db}), text, corrected


def test_asr_eval_retranscribes_the_corrected_span_with_the_real_model(corrected_db, bundled_model):
    settings, original, corrected = corrected_db
    report = run_asr_eval(settings, vocabulary=True)
    assert report.segments == 1
    by = {(r.model, r.service, r.channel): r for r in report.rows}
    stored = next(r for k, r in by.items() if k[0] == "transkripsjon" and k[1] == "alle")
    assert stored.wer == pytest.approx(corpus_wer([(corrected, original)]).wer)
    assert stored.key_words >= 1 and stored.key_wer > 0  # "113" was never said, the model could not have it
    rerun = next(r for k, r in by.items() if k[0] == "bundled-base" and k[1] == "alle")
    assert rerun.segments == 1 and 0 < rerun.wer < 1  # it hears the span but not the added sentence
    assert report.vocabulary == ()  # one correction is no pattern

    # the run is stored; the admin page shows it with the number of segments behind each figure
    from streamlit.testing.v1 import AppTest

    from lydlogg.access import AccessDenied
    from lydlogg.asr_eval import latest_results
    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
    from review.service import ReviewService

    users = {u[2]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
    stored_rows = latest_results(settings.db_path, users["admin"])
    assert {(r["model"], r["segments"]) for r in stored_rows if r["service"] == "alle"} == {
        ("transkripsjon", 1),
        ("bundled-base", 1),
    }
    with pytest.raises(AccessDenied):
        latest_results(settings.db_path, users["operator"])
    at = AppTest.from_file(str(REPO / "review" / "views" / "talegjenkjenning.py"), default_timeout=30)
    at.session_state["service"] = ReviewService(settings.db_path, users["admin"])
    at.run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert set(shown["Modell"]) == {"transkripsjon", "bundled-base"} and set(shown["Segmenter"]) == {1}
    assert shown["Rettet fra"].notna().all() and shown["Rettet til"].notna().all()  # the date range


def test_asr_eval_measures_the_proposed_vocabulary_before_and_after(corrected_db, bundled_model):
    """Two segments where a reviewer put in the same place name: it is proposed, and the model runs
    with it as hotwords and as the initial prompt on the same segments."""
    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
    from lydlogg.db import connect
    from review.service import ReviewService

    settings, _, _ = corrected_db
    leder = next(User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS if u[2] == "leder")
    with connect(settings.db_path, read_only=True) as con:
        picked = con.execute(
            "SELECT t.call_id, s.segment_index, s.text FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE NOT EXISTS (SELECT 1 FROM segment_corrections c WHERE c.transcript_id = s.transcript_id"
            " AND c.segment_index = s.segment_index)"
            " QUALIFY row_number() OVER (PARTITION BY t.call_id ORDER BY length(s.text) DESC) = 1"
            " ORDER BY t.call_id LIMIT 2"
        ).fetchall()  # the longest segment of two different calls
    assert len({call_id for call_id, _, _ in picked}) == 2
    for call_id, index, text in picked:
        ReviewService(settings.db_path, leder).correct_segment(
            call_id, index, text=f"{text} Kom til Tønsberg."
        )
    report = run_asr_eval(settings, vocabulary=True)
    assert report.segments == 3 and report.vocabulary == ("Tønsberg",) and report.prompt == "Tønsberg."
    total = {r.model: r for r in report.rows if r.service == "alle"}
    assert set(total) == {"transkripsjon", "bundled-base", "bundled-base+ordliste", "bundled-base+ledetekst"}
    assert {r.segments for r in total.values()} == {3} and len(
        {r.reference_words for r in total.values()}
    ) == 1


def test_asr_eval_cli_prints_json_and_a_table(corrected_db, bundled_model):
    from lydlogg.cli import main

    settings, _, _ = corrected_db
    env = {"LYDLOGG_ASR__MODELS_DIR": str(settings.asr.models_dir)}
    out = CliRunner().invoke(main, ["asr-eval", "--db", str(settings.db_path), "--format", "json"], env=env)
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["segments"] == 1 and {r["modell"] for r in doc["rows"]} == {"transkripsjon", "bundled-base"}
    # a date range narrows the corrections measured (calendar days in display.timezone)
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    for since, until, expected in (
        (today + timedelta(days=1), None, 0),
        (None, today - timedelta(days=1), 0),
    ):
        args = ["asr-eval", "--db", str(settings.db_path), "--format", "json"]
        args += ["--since", str(since)] if since else ["--until", str(until)]
        out = CliRunner().invoke(main, args, env=env)
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["segments"] == expected


@pytest.mark.pure
def test_a_date_range_is_whole_calendar_days_in_the_sites_time_zone():
    from datetime import date

    from lydlogg.asr_eval import day_range

    start, end = day_range(date(2026, 3, 1), date(2026, 3, 31), "Europe/Oslo")
    assert start.isoformat() == "2026-03-01T00:00:00+01:00"
    assert end.isoformat() == "2026-03-31T23:59:59.999999+02:00"  # summer time from 29 March
    assert day_range(None, None) == (None, None)


def test_asr_dataset_is_an_audiofolder_of_anonymised_16k_clips(corrected_db, tmp_path):
    import csv

    import soundfile as sf

    from lydlogg.access import AccessDenied
    from lydlogg.asr_dataset import export_asr_dataset
    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
    from lydlogg.db import connect
    from review.service import ReviewService

    settings, _, corrected = corrected_db
    users = {u[2]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
    with connect(settings.db_path, read_only=True) as con:
        call_id, index = con.execute(
            "SELECT t.call_id, s.segment_index FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE NOT EXISTS (SELECT 1 FROM segment_corrections c WHERE c.transcript_id = s.transcript_id"
            " AND c.segment_index = s.segment_index) AND s.end_s - s.start_s > 2 ORDER BY t.call_id LIMIT 1"
        ).fetchone()
    secret = "Jeg heter Kari Nordmann og nummeret mitt er 412 34 567."
    ReviewService(settings.db_path, users["leder"]).correct_segment(call_id, index, text=secret)

    report = export_asr_dataset(settings.db_path, users["veileder"], tmp_path / "ds", settings.anonymise)
    from anonymise.text import anonymise_text

    expected = anonymise_text(corrected)  # the first correction may hold a name too (the operator's)
    assert report.clips == 2 and report.anonymised == 1 + (expected != corrected) and not report.skipped_files
    with open(tmp_path / "ds" / "train" / "metadata.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert expected in [r["transcription"] for r in rows]
    hidden = next(r["transcription"] for r in rows if r["transcription"] != expected)
    assert "Kari" not in hidden and "412" not in hidden and "[" in hidden
    for r in rows:
        info = sf.info(str(tmp_path / "ds" / "train" / r["file_name"]))
        assert info.samplerate == 16_000 and info.channels == 1
        assert abs(info.duration - float(r["duration_s"])) < 0.01
    with connect(settings.db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit WHERE object_type = 'asr_dataset'").fetchone()[0] == 1
    with pytest.raises(AccessDenied):
        export_asr_dataset(settings.db_path, users["operator"], tmp_path / "no", settings.anonymise)


def test_hotwords_and_initial_prompt_reach_the_decoder_and_the_options_hash(tmp_path):
    from conftest import make_settings

    from lydlogg.batch import asr_options

    plain = asr_options(make_settings(tmp_path))
    site = asr_options(
        make_settings(tmp_path, hotwords=" Tønsberg Pinex ", initial_prompt="Legevakten i Tønsberg.")
    )
    assert "hotwords" not in plain.transcribe_kwargs() and "initial_prompt" not in plain.transcribe_kwargs()
    kwargs = site.transcribe_kwargs()
    assert kwargs["hotwords"] == "Tønsberg Pinex" and kwargs["initial_prompt"] == "Legevakten i Tønsberg."
    assert plain.hash() != site.hash()
    assert asr_options(make_settings(tmp_path, hotwords="Tønsberg")).hash() != site.hash()


def test_asr_eval_wer_equals_the_bench_wer_computed_the_other_way(tmp_path, app_db):
    """The "Measured" check without re-running the model: the sample calls' references split over
    the stored segments as corrections (bench/asr_eval.py), then asr-eval's pooled per-segment WER of
    the stored transcript against the bench's whole-channel WER."""
    import importlib.util

    from lydlogg.asr_eval import corrected_segments
    from lydlogg.db import connect

    spec = importlib.util.spec_from_file_location("bench_asr_eval", REPO / "bench" / "asr_eval.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    db = tmp_path / "bench.duckdb"
    shutil.copy(app_db, db)
    with connect(db) as con:
        con.execute("DELETE FROM segment_corrections")  # the session's database may hold other tests' ones
        call_ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall()]
        pairs, corrections, unmatched = bench.reference_corrections(con, call_ids)
        con.executemany(
            "INSERT INTO segment_corrections (transcript_id, segment_index, text, corrected_by) VALUES (?, ?, ?, 'bench')",
            corrections,
        )
        segments = corrected_segments(con)
    whole = corpus_wer(pairs)
    stored = next(r for r in evaluate(segments, {}) if r.service == "alle")
    assert unmatched == 0 and len(segments) == len(corrections) > 0
    assert stored.reference_words == whole.reference_words
    assert stored.wer == pytest.approx(whole.wer, abs=5e-4) and 0 < whole.wer < 1
