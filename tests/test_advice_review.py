"""Standard worsening advice in the app: service layer, access, Oversikt figures and pages (AppTest)."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from lydlogg.access import AccessDenied
from lydlogg.auth import User
from lydlogg.cli import main
from lydlogg.db import connect
from lydlogg.scoring import score_stored
from lydlogg.settings import load_settings
from lydlogg.units import DEFAULT_UNIT
from review.advice import AdviceService, handout_section, with_standard_questions
from review.feedback import Step
from review.service import ReviewService

SET = Path(__file__).resolve().parent / "data" / "rubric_set" / "calls"
VIEWS = Path(__file__).resolve().parent.parent / "review" / "views"
# breathing with full advice, breathing with vague advice, urinary tract (vague), toothache (no reason)
OWNERS = {"rs-lvs-021": "op1", "rs-lvs-013": "op1", "rs-lvs-002": "op2", "rs-lvs-005": "op2"}
LEDER = User("lea", "Lea Leder", "leder", None, (DEFAULT_UNIT,))
VEILEDER = User("vera", "Vera Veileder", "veileder", None, (DEFAULT_UNIT,))
OP1 = User("ola", "Ola Operatør", "operator", "op1", (DEFAULT_UNIT,))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("advice") / "x.duckdb"
    out = CliRunner().invoke(
        main, ["import-transcript", *[str(SET / f"{c}.json") for c in OWNERS], "--db", str(path)]
    )
    assert out.exit_code == 0, out.output
    with connect(path) as con:
        for i, (call_id, op) in enumerate(OWNERS.items()):
            con.execute(
                "UPDATE calls SET operator_id = ?, started_at = TIMESTAMPTZ '2026-10-01 20:00:00+00' + INTERVAL (?) DAY"
                " WHERE call_id = ?",
                [op, 20 * i, call_id],
            )
    score_stored(load_settings(None, db_path=path))
    return path


def _service(db: Path, user: User) -> AdviceService:
    return AdviceService(ReviewService(db, user), load_settings(None, db_path=db).advice)


def test_the_call_view_has_reason_coverage_sms_notice_and_questions(db):
    view = _service(db, VEILEDER).call("rs-lvs-013")
    assert view.advice.reason_id == "tungpust" and not view.advice.coverage.meets_standard
    assert view.notice and "medisinskfaglige leder" in view.notice
    assert (
        "Hvilke tegn på forverring i standardrådet for tung pust / luftveisinfeksjon ble ikke nevnt?"
        in view.questions
    )
    assert view.sms.startswith("Råd fra legevakten ved tung pust") and "116117" in view.sms
    html = handout_section(view)
    assert "Slik kunne rådet på SMS ha sett ut" in html and "✗ tegn: blå lepper" in html
    from review.feedback import handout_html
    from rubrics import load_rubrics

    page = handout_html("rs-lvs-013", load_rubrics()["lvs_operator"].rubric, [], [], [], [], advice_html=html)
    assert escape(view.sms) in page and page.index("Standardråd ved forverring") < page.index(
        "Notater fra møtet"
    )
    steps = [
        Step(3, 1.0, 2.0, "operator", ("worsening_advice",), (), ()),
        Step(None, None, None, None, (), (), ()),
    ]
    added = with_standard_questions(steps, view)
    assert added[0].questions[0][0] == added[1].questions[0][0] == "Standardråd ved forverring"
    assert with_standard_questions(steps, None) == steps


def test_an_operator_sees_own_calls_only_and_cannot_correct(db):
    op = _service(db, OP1)
    assert op.call("rs-lvs-021").advice.reason_id == "tungpust"
    with pytest.raises(AccessDenied):
        op.call("rs-lvs-002")
    with pytest.raises(AccessDenied):
        op.correct("rs-lvs-021", ["brystsmerter"])
    mine = op.by_reason_and_month()
    assert set(mine["Kontaktårsak"]) == {"Tung pust / luftveisinfeksjon"}


def test_figures_by_reason_and_month_and_the_signs_left_out(db):
    leader = _service(db, LEDER)
    table = leader.by_reason_and_month()
    breathing = table[table["Kontaktårsak"] == "Tung pust / luftveisinfeksjon"]
    assert breathing["Samtaler med råd for hjemmet"].sum() == 2 and breathing["Dekker standarden"].sum() == 1
    assert (table["Andel"] == table["Dekker standarden"] / table["Samtaler med råd for hjemmet"]).all()
    assert set(table["Måned"]) <= {"2026-10", "2026-11", "2026-12"}
    missing = leader.missing_signs()
    top = missing[missing["Kontaktårsak"] == "Tung pust / luftveisinfeksjon"]
    assert "puster fort eller anstrengt" in set(top["Tegn som ikke ble nevnt"])
    assert (top["Ganger utelatt"] <= 2).all()


def test_a_correction_from_the_service_is_audited_and_moves_the_figures(db, tmp_path):
    import shutil

    copy = tmp_path / "c.duckdb"
    shutil.copy(db, copy)
    vera = _service(copy, VEILEDER)
    vera.correct("rs-lvs-005", ["magesmerter"])
    assert vera.call("rs-lvs-005").advice.corrected
    with connect(copy, read_only=True) as con:
        assert (
            con.execute(
                "SELECT count(*) FROM audit WHERE action = 'correct_contact_reason' AND username = 'vera'"
            ).fetchone()[0]
            == 1
        )
    assert "Magesmerter" in set(_service(copy, LEDER).by_reason_and_month()["Kontaktårsak"])


def _page(monkeypatch, db: Path, user: User, script: str, **query: str) -> AppTest:
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(str(VIEWS / script), default_timeout=60)
    # The settings as the app reads them once (the environment of the test) and passes to the service.
    at.session_state["service"] = ReviewService(db, user, load_settings(None, db_path=db))
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    return "\n".join([e.value for e in at.caption] + [e.value for e in at.text] + [e.value for e in at.markdown]
                     + [e.value for e in at.warning])  # fmt: skip


def test_call_page_shows_the_standard_the_sms_and_saves_a_correction(monkeypatch, db, tmp_path):
    import shutil

    copy = tmp_path / "p.duckdb"
    shutil.copy(db, copy)
    at = _page(monkeypatch, copy, VEILEDER, "samtale.py", samtale="rs-lvs-021")
    shown = _texts(at)
    assert "Kontaktårsak funnet: Tung pust / luftveisinfeksjon" in shown
    assert "Slik kunne rådet på SMS ha sett ut" in shown and "Rådbiblioteket er ikke godkjent" in shown
    assert "✓ tegn: blå lepper eller blå rundt munnen" in shown
    form = next(m for m in at.multiselect if m.label.startswith("Rett kontaktårsak"))
    form.set_value(["brystsmerter"])
    next(b for b in at.button if b.label == "Lagre kontaktårsak").click()
    at.run()
    with connect(copy, read_only=True) as con:
        assert con.execute("SELECT reason_ids FROM advice_reason_corrections").fetchall() == [
            ("brystsmerter",)
        ]


def test_operator_call_page_has_no_correction_form(monkeypatch, db):
    at = _page(monkeypatch, db, OP1, "samtale.py", samtale="rs-lvs-021")
    assert "Slik kunne rådet på SMS ha sett ut" in _texts(at)
    assert not [m for m in at.multiselect if m.label.startswith("Rett kontaktårsak")]


def test_oversikt_hides_example_figures_until_asked(monkeypatch, db):
    at = _page(monkeypatch, db, LEDER, "oversikt.py")
    assert "Tallene under er bare for utprøving" in _texts(at)
    box = next(c for c in at.checkbox if c.key == "rad-eksempel")
    box.check()
    at.run()
    assert not at.exception, at.exception
    assert any("Kontaktårsak" in df.value.columns for df in at.dataframe)
    assert not [b for b in at.get("download_button") if "kontaktårsak" in b.proto.label]  # not for reports


def test_feedback_session_asks_about_the_standard_and_the_handout_carries_the_sms(monkeypatch, db):
    at = _page(monkeypatch, db, VEILEDER, "tilbakemelding.py", samtale="rs-lvs-013", steg="99")
    shown = _texts(at)
    assert "Standardråd ved forverring" in [h.value for h in at.subheader]
    assert "Slik kunne rådet på SMS ha sett ut" in shown
    asked = [m.value for m in at.markdown if "Standardråd ved forverring" in m.value]
    assert any("standardrådet for tung pust" in q for q in asked)
    handout = next(b for b in at.get("download_button") if "HTML" in b.proto.label)
    assert handout is not None


def _calibration_hint(db_path: str, call_id: str) -> None:
    from lydlogg.auth import User
    from review.views.advice_section import render_calibration_hint

    render_calibration_hint(db_path, User("vera", "Vera Veileder", "veileder", None, ("standard",)), call_id)


def test_calibration_disagreements_on_worsening_advice_refer_to_the_standard(db):
    at = AppTest.from_function(_calibration_hint, args=(str(db), "rs-lvs-013"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    shown = _texts(at)
    assert "Standardråd for tung pust / luftveisinfeksjon: ikke nevnt – blå lepper" in shown
    assert "Til diskusjon: Hvilke tegn på forverring i standardrådet for tung pust" in shown
    at = AppTest.from_function(_calibration_hint, args=(str(db), "rs-lvs-005"), default_timeout=60)
    at.run()
    assert not at.exception and not at.caption  # no reason: nothing to say


def test_an_approved_library_shows_its_figures_and_offers_them_for_reports(monkeypatch, db, tmp_path):
    import shutil

    import yaml

    from rubrics.advice_library import ADVICE_DIR

    folder = tmp_path / "godkjent"
    shutil.copytree(ADVICE_DIR, folder)
    for path in folder.glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc.update(status="godkjent", godkjent_av="Medisinskfaglig leder Test", godkjent_dato="2026-11-30")
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LYDLOGG_ADVICE__LIBRARY_DIR", str(folder))
    copy = tmp_path / "g.duckdb"
    shutil.copy(db, copy)
    score_stored(load_settings(None, db_path=copy))  # the approved library has its own hash
    at = _page(monkeypatch, copy, LEDER, "oversikt.py")
    approved = "Rådbiblioteket er godkjent av Medisinskfaglig leder Test 30.11.2026."
    assert "Tallene under er bare for utprøving" not in _texts(at) and approved in _texts(at)
    assert any("Kontaktårsak" in df.value.columns for df in at.dataframe)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Last ned per kontaktårsak (CSV)" in labels
    at = _page(monkeypatch, copy, VEILEDER, "samtale.py", samtale="rs-lvs-021")
    assert "Rådbiblioteket er ikke godkjent" not in _texts(at) and approved in _texts(at)
    view = AdviceService(ReviewService(copy, VEILEDER), load_settings(None, db_path=copy).advice).call(
        "rs-lvs-021"
    )
    assert view.notice is None and approved in handout_section(view)


SORVIK = "Sørvik legevakt"


@pytest.fixture(scope="module")
def two_units(db, tmp_path_factory) -> Path:
    """The module's calls with op2's two calls moved to a second unit."""
    import shutil

    copy = tmp_path_factory.mktemp("advice-units") / "u.duckdb"
    shutil.copy(db, copy)
    with connect(copy) as con:
        con.execute("UPDATE calls SET unit = ? WHERE operator_id = 'op2'", [SORVIK])
    return copy


def _reasons(table) -> set[str]:
    return set(table["Kontaktårsak"])


def test_a_leader_sees_and_corrects_only_the_calls_and_figures_of_their_units(two_units):
    nordby = _service(two_units, LEDER)
    assert nordby.call("rs-lvs-021").advice.reason_id == "tungpust"
    for act in (lambda s: s.call("rs-lvs-002"), lambda s: s.correct("rs-lvs-002", ["magesmerter"])):
        with pytest.raises(AccessDenied):
            act(nordby)
    assert _reasons(nordby.by_reason_and_month()) == {"Tung pust / luftveisinfeksjon"}
    assert _reasons(nordby.missing_signs()) == {"Tung pust / luftveisinfeksjon"}
    sorvik = _service(two_units, User("sara", "Sara Leder", "leder", None, (SORVIK,)))
    assert sorvik.call("rs-lvs-002").advice.reason_id == "urinveier"
    with pytest.raises(AccessDenied):
        sorvik.call("rs-lvs-021")
    assert _reasons(sorvik.by_reason_and_month()) == {"Urinveisplager"}
    assert _reasons(sorvik.missing_signs()) == {"Urinveisplager"}


def test_regional_quality_reads_every_units_advice_and_corrects_nothing(two_units):
    regional = _service(two_units, User("rita", "Rita Regional", "regional", None, ()))
    assert regional.call("rs-lvs-021").advice.reason_id == "tungpust"
    assert regional.call("rs-lvs-002").advice.reason_id == "urinveier"
    with pytest.raises(AccessDenied):
        regional.correct("rs-lvs-002", ["magesmerter"])
    everyone = _reasons(
        _service(two_units, User("x", "X", "leder", None, (DEFAULT_UNIT, SORVIK))).by_reason_and_month()
    )
    assert (
        _reasons(regional.by_reason_and_month())
        == everyone
        == {"Tung pust / luftveisinfeksjon", "Urinveisplager"}
    )
    assert _reasons(regional.missing_signs()) == everyone


def test_an_administrator_sees_no_advice_of_any_call(two_units):
    admin = _service(two_units, User("adam", "Adam Admin", "admin", None, ()))
    for act in (
        lambda s: s.call("rs-lvs-021"),
        lambda s: s.correct("rs-lvs-021", ["brystsmerter"]),
        lambda s: s.by_reason_and_month(),
        lambda s: s.missing_signs(),
    ):
        with pytest.raises(AccessDenied):
            act(admin)


def test_regional_call_page_shows_the_advice_without_the_correction_form(monkeypatch, two_units):
    at = _page(monkeypatch, two_units, User("rita", "Rita Regional", "regional", None, ()), "samtale.py",
               samtale="rs-lvs-002")  # fmt: skip
    shown = _texts(at)
    assert "Kontaktårsak funnet: Urinveisplager" in shown and "Slik kunne rådet på SMS ha sett ut" in shown
    assert not [m for m in at.multiselect if m.label.startswith("Rett kontaktårsak")]
