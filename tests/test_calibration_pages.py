"""The calibration and feedback-session pages through Streamlit's AppTest, on a real database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import soundfile as sf
from conftest import build_reference_db, write_tone
from streamlit.testing.v1 import AppTest

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User, create_user
from lydlogg.db import connect
from lydlogg.settings import AudioSettings, default_settings
from review.calibration import CalibrationService, guidance
from review.service import ReviewService
from rubrics import load_rubrics
from transcription.audio import file_sha256, probe_audio

VIEWS = Path(__file__).resolve().parent.parent / "review" / "views"
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
USERS["vilde"] = User("vilde", "Vilde Veileder", "veileder", units=DEMO_UNITS["veileder"])
CALL = "lvs-001-feber-barn"  # op-anne's call
RUBRIC = "lvs_operator"


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = build_reference_db(tmp_path_factory.mktemp("pages"))
    with connect(db) as con:
        create_user(con, "vilde", "Vilde Veileder", "veileder", "demo-vilde-1", units=DEMO_UNITS["veileder"])
    return db


@pytest.fixture
def db(built_db: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(built_db, tmp_path / "pages.duckdb"))


def page(db: Path, user: str, script: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(VIEWS / script), default_timeout=60)
    at.session_state["service"] = ReviewService(db, USERS[user])
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def values(**changes: int | None) -> dict[str, int | None]:
    found = {c.id: c.scale.values[-1] for c in load_rubrics()[RUBRIC].rubric.criteria}
    return {**found, **changes}


def one_call_round(db: Path) -> str:
    return CalibrationService(db, USERS["leder"]).create_round("April", RUBRIC, [CALL], ["veileder", "vilde"])


@pytest.mark.parametrize("script", ["kalibrering.py", "tilbakemelding.py"])
def test_operators_get_no_access(db, script):
    at = page(db, "anne", script, samtale=CALL)
    assert not at.exception and at.error[0].value == "ingen tilgang"


def test_a_member_scores_blind_and_then_sees_the_disagreement(db):
    round_id = one_call_round(db)
    CalibrationService(db, USERS["veileder"]).save_round_review(
        round_id,
        CALL,
        values(worsening_advice=1),
        criterion_comments={"worsening_advice": "Bare «ved forverring»."},
    )
    at = page(db, "vilde", "kalibrering.py", runde=round_id)
    assert not at.exception, at.exception
    assert "Resultatene vises når du har lagret" in at.info[0].value
    assert not any("Bare «ved forverring»" in t.value for t in at.text)  # blind: nothing of veileder's
    assert not any("Uenighet" in h.value for h in at.subheader)
    for criterion_id, top in values().items():  # agree on everything but worsening advice
        at.radio(key=f"kal-{CALL}-{criterion_id}").set_value(top)
    at.radio(key=f"kal-{CALL}-worsening_advice").set_value(4)
    at.text_input(key=f"kalk-{CALL}-worsening_advice").input("Tegn, handling og tid er med.")
    at.button(key=f"FormSubmitter:kal-{round_id}-{CALL}-Lagre min vurdering").click().run()
    assert not at.exception, at.exception
    assert any("Uenighet, kriterium for kriterium" in h.value for h in at.subheader)
    texts = [t.value for t in at.text]
    assert "veileder: 1" in texts and "vilde: 4" in texts
    assert "Bare «ved forverring»." in texts and "Tegn, handling og tid er med." in texts
    hints = [c.value for c in at.caption if c.value.startswith(("Standardråd for ", "Til diskusjon: "))]
    assert hints and hints[0].startswith("Standardråd for feber hos lite barn: ikke nevnt")  # issue 17
    table = next(d.value for d in at.dataframe if "Helt enige" in d.value.columns)
    assert table.loc[table["Kriterium"] == "Samlet", "Helt enige"].iloc[0] == "90%"  # 9 of 10 criteria agree
    with connect(db) as con:
        saved = con.execute(
            "SELECT s.value, s.comment FROM review_scores s JOIN calibration_reviews c USING (review_id)"
            " WHERE c.reviewer = 'vilde' AND s.criterion_id = 'worsening_advice'"
        ).fetchall()
    assert saved == [(4, "Tegn, handling og tid er med.")]


def test_the_manager_records_an_interpretation_that_guides_the_next_round(db):
    round_id = one_call_round(db)
    for name, value in (("veileder", 1), ("vilde", 3)):
        CalibrationService(db, USERS[name]).save_round_review(round_id, CALL, values(worsening_advice=value))
    at = page(db, "leder", "kalibrering.py", runde=round_id)
    assert not at.exception, at.exception
    at.text_area(key="tolkning-worsening_advice").input(
        "«Ved forverring» alene gir 1; ett konkret tegn gir 2."
    )
    at.button(key="FormSubmitter:tolkning-worsening_advice-Lagre tolkning").click().run()
    assert not at.exception and "neste runde" in at.success[0].value
    with connect(db) as con:
        assert guidance(con, RUBRIC) == {
            "worsening_advice": "«Ved forverring» alene gir 1; ett konkret tegn gir 2."
        }
    at.button[-1].click().run()  # «Avslutt runden»
    assert not at.exception
    second = CalibrationService(db, USERS["leder"]).create_round(
        "Mai", RUBRIC, ["lvs-003-brystsmerter"], ["veileder", "vilde"]
    )
    at = page(db, "vilde", "kalibrering.py", runde=second)
    assert not at.exception, at.exception
    assert any(
        c.value.startswith("Omforent tolkning: ") and "konkret tegn gir 2" in c.value for c in at.caption
    )


def test_a_round_is_created_from_the_page(db):
    at = page(db, "leder", "kalibrering.py")
    assert not at.exception and "Ingen kalibreringsrunder" in at.info[0].value
    at.text_input[0].input("Juni")
    at.text_input[1].input(f"{CALL}, lvs-003-brystsmerter")
    at.text_input[2].input("veileder, leder")
    at.button(key="FormSubmitter:new-round-Opprett runde").click().run()
    assert not at.exception and "opprettet" in at.success[0].value
    (found,) = CalibrationService(db, USERS["leder"]).rounds()
    assert found.call_ids == (CALL, "lvs-003-brystsmerter") and found.reviewers == ("leder", "veileder")
    at.text_input[0].input("Feil")
    at.text_input[1].input("nope")
    at.button(key="FormSubmitter:new-round-Opprett runde").click().run()
    assert "finner ikke samtalene: nope" in at.error[0].value


def test_feedback_session_plays_a_gsm_recording_through_its_pcm_copy(db, tmp_path):
    gsm = write_tone(tmp_path / "opptak.wav", seconds=2.0, rate=8_000, subtype="GSM610")
    before = gsm.read_bytes()
    info, sha = probe_audio(gsm), file_sha256(gsm)
    with connect(db) as con:  # the reference calls came without audio: this one gets a GSM recording
        con.execute(
            "INSERT INTO audio_files (sha256, path, size_bytes, container, subtype, sample_rate, channels,"
            " frames, duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sha, str(gsm), info.size_bytes, info.container, info.subtype, info.sample_rate, info.channels,
             info.frames, info.duration_s],
        )  # fmt: skip
        con.execute("UPDATE calls SET audio_sha256 = ? WHERE call_id = ?", [sha, CALL])
    cache = tmp_path / "avspilling"
    settings = default_settings(db).model_copy(update={"audio": AudioSettings(playback_dir=cache)})
    at = AppTest.from_file(str(VIEWS / "tilbakemelding.py"), default_timeout=60)
    at.session_state["service"] = ReviewService(db, USERS["leder"], settings)
    at.query_params["samtale"] = CALL
    at.query_params["steg"] = "2"
    at.run()
    assert not at.exception, at.exception
    (audio,) = at.get("audio")
    assert audio.proto.url  # the browser gets the copy from Streamlit's media server
    copy = cache / f"{sha}.wav"
    info = sf.info(str(copy))
    assert (info.format, info.subtype) == ("WAV", "PCM_16") and abs(info.duration - 2.0) < 0.05
    assert gsm.read_bytes() == before


def test_feedback_session_steps_through_the_call_and_keeps_notes(db):
    ReviewService(db, USERS["veileder"]).save_review(
        CALL, kind="peer", rubric_id=RUBRIC, rubric_version=1, rubric_sha256="x", values=values(worsening_advice=1),
        overall_comment="Gode spørsmål, uklare råd.", comments=[(1, 2.0, "Fin åpning her.")],
    )  # fmt: skip
    at = page(db, "leder", "tilbakemelding.py", samtale=CALL)
    assert not at.exception, at.exception
    assert at.title[0].value == "Tilbakemeldingsmøte"
    with connect(db) as con:
        segments = con.execute(
            "SELECT count(*) FROM segments JOIN transcripts USING (transcript_id) WHERE call_id = ?", [CALL]
        ).fetchone()[0]
    steps = segments + 1  # and the closing step
    assert f"Steg 1 av {steps}" in at.get("progress")[0].proto.text
    at.button[1].click().run()  # «Neste»
    assert not at.exception and at.query_params["steg"] in ("2", ["2"])
    assert "Kommentar – veileder: Fin åpning her." in [t.value for t in at.text]
    at.text_area(key="notat-tekst-1").input("Vi snakket om åpningen.")
    at.button(key="FormSubmitter:notat-1-Lagre notat").click().run()
    assert not at.exception, at.exception
    assert "leder: Vi snakket om åpningen." in [t.value for t in at.text]
    with connect(db) as con:
        assert con.execute("SELECT segment_index, text, written_by FROM feedback_notes").fetchall() == [
            (1, "Vi snakket om åpningen.", "leder")
        ]
    at = page(db, "leder", "tilbakemelding.py", samtale=CALL, steg=str(steps))
    assert not at.exception, at.exception
    assert any(h.value == "Oppsummering" for h in at.subheader)
    table = next(d.value for d in at.dataframe if "Forslag" in d.value.columns)
    assert (
        table.loc[
            table["Kriterium"] == load_rubrics()[RUBRIC].rubric.criterion("worsening_advice").title,
            "veileder",
        ].iloc[0]
        == "1"
    )
    questions = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert any("Lydlogg som kilde til læring" in q for q in questions)
    assert "veileder: Gode spørsmål, uklare råd." in [t.value for t in at.text]
    next(b for b in at.button if b.label == "Lag PDF").click().run()  # the handout through WeasyPrint
    assert not at.exception and not at.warning, at.warning
    # the worsening-advice questions come up where the suggestion found its evidence
    _rubric, suggestions = ReviewService(db, USERS["leder"]).suggestions(CALL)
    (advice,) = [s for s in suggestions if s.criterion_id == "worsening_advice"]
    at = page(
        db, "leder", "tilbakemelding.py", samtale=CALL, steg=str(advice.evidence[0]["segment_index"] + 1)
    )
    assert any(m.value.startswith("- *Konkrete råd om forverring*") for m in at.markdown)


def test_the_blind_form_starts_empty_and_asks_for_every_criterion(db):
    round_id = one_call_round(db)
    at = page(db, "vilde", "kalibrering.py", runde=round_id)
    assert not at.exception, at.exception
    criteria = list(values())
    assert all(at.radio(key=f"kal-{CALL}-{c}").value is None for c in criteria)  # nothing preselected
    for criterion_id, top in values().items():
        if criterion_id != "worsening_advice":
            at.radio(key=f"kal-{CALL}-{criterion_id}").set_value(top)
    submit = f"FormSubmitter:kal-{round_id}-{CALL}-Lagre min vurdering"
    at.button(key=submit).click().run()
    assert not at.exception, at.exception
    title = next(c.title for c in load_rubrics()[RUBRIC].rubric.criteria if c.id == "worsening_advice")
    assert "Ikke lagret" in at.warning[0].value and title.split()[0] in at.warning[0].value
    assert CalibrationService(db, USERS["vilde"]).mine(round_id) == []  # nothing saved, no silent 0
    at.radio(key=f"kal-{CALL}-worsening_advice").set_value("ikke vurdert")
    at.button(key=submit).click().run()
    assert not at.exception, at.exception
    (saved,) = CalibrationService(db, USERS["vilde"]).mine(round_id)
    assert "worsening_advice" not in saved.values and len(saved.values) == len(criteria) - 1
    again = page(db, "vilde", "kalibrering.py", runde=round_id)
    assert again.radio(key=f"kal-{CALL}-worsening_advice").value == "ikke vurdert"  # shown as saved
