"""The main pages with data, through AppTest: nothing raw or English reaches the reader.

No "None"/"NaN" for a missing value, no "+00:00" (times are Norwegian time), no Streamlit
"Choose options" placeholder, no role codes such as "(operator)"; audit actions read as
Norwegian labels while the CSV keeps the codes; a refused sampling plan is explained in bokmål.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.formatting import is_missing
from review.views.not_found import MESSAGE, unknown_page

APP = str(Path(__file__).resolve().parent.parent / "app.py")
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
CALL = "ep1-c2-lvs"
_TEXT_KINDS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "text",
    "info",
    "warning",
    "error",
    "success",
)
_WIDGETS = ("multiselect", "selectbox", "radio", "text_input", "text_area", "number_input", "date_input",
            "checkbox", "button", "toggle")  # fmt: skip
_RAW = re.compile(
    r"\bNone\b|\bNaN\b|\bnan\b|\bNaT\b|\+00:00|Choose options?|\(operator\)|\.000000|\b\d{4}-\d\d-\d\d \d\d:\d\d"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory, reference_db) -> Path:
    copy = tmp_path_factory.mktemp("norsk") / "ref.duckdb"
    shutil.copy(reference_db, copy)
    return copy


def _open(monkeypatch, db: Path, user: str, page: str, **query: str) -> AppTest:
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=120)
    sign_in(at, db, USERS[user])
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"review/views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def shown_text(at: AppTest) -> list[str]:
    """Everything the page puts in front of the reader, as text."""
    out: list[str] = []
    for kind in _TEXT_KINDS:
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in _WIDGETS:
        for e in getattr(at, kind):
            out.append(str(e.label))
            if kind == "multiselect":
                out.append(e.proto.placeholder or "Choose options")  # empty: Streamlit's English default
            if hasattr(e, "options"):
                out += [str(o) for o in e.options]
    for metric in at.metric:
        out += [str(metric.label), str(metric.value)]
    for frame in at.dataframe:
        table = frame.value
        out += [str(c) for c in table.columns]
        out += ["None" if is_missing(v) else str(v) for v in table.to_numpy().ravel()]
    return out


def raw_values(at: AppTest) -> list[str]:
    return sorted({m.group(0) + " in " + text[:80] for text in shown_text(at) for m in _RAW.finditer(text)})


@pytest.mark.parametrize(
    ("user", "page", "query"),
    [
        ("leder", "innboks", {}),
        ("leder", "samtale", {"samtale": CALL}),
        ("leder", "sok", {"ord": "forverring"}),
        ("leder", "episode_page", {"samtale": CALL}),
        ("leder", "oversikt", {}),
        ("leder", "kalibrering", {}),
        ("leder", "tilbakemelding", {"samtale": CALL}),
        ("leder", "kasus", {}),
        ("leder", "publiser", {}),
        ("anne", "oversikt", {}),
        ("admin", "brukere", {}),
        ("admin", "revisjonslogg", {}),
    ],
)
def test_no_raw_values_on_the_page(monkeypatch, db, user, page, query):
    at = _open(monkeypatch, db, user, page, **query)
    assert raw_values(at) == []


def test_the_inbox_shows_norwegian_time(monkeypatch, db):
    table = _open(monkeypatch, db, "leder", "innboks").dataframe[0].value
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", t) for t in table["Tidspunkt"])
    placeholders = [m.proto.placeholder for m in _open(monkeypatch, db, "leder", "innboks").multiselect]
    assert placeholders and all(placeholders)


def test_the_sidebar_names_the_role_in_norwegian(monkeypatch, db):
    at = _open(monkeypatch, db, "anne", "innboks")
    assert any("(operatør)" in m.value for m in at.sidebar.markdown)


def test_audit_actions_read_as_labels_and_the_csv_keeps_codes(monkeypatch, db):
    from review.views.audit_log import AuditFilter, AuditLogService, to_csv

    at = _open(monkeypatch, db, "admin", "revisjonslogg")
    actions = set(at.dataframe[0].value["Handling"])
    assert "startet økt" in actions and "session_start" not in actions
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", t) for t in at.dataframe[0].value["Tidspunkt"])
    rows = AuditLogService(db, USERS["admin"]).entries(AuditFilter()).rows
    csv = to_csv(rows)
    assert "session_start" in csv and "+00:00" in csv  # exports keep codes and ISO time with offset


@pytest.mark.parametrize(
    ("month", "reviewers", "message"),
    [("mars", "veileder", "Skriv måneden som ÅÅÅÅ-MM"), ("2026-03", "", "Skriv minst én vurderer"),
     ("2026-03", "ukjent", "Ikke aktive ledere eller veiledere: ukjent")],
)  # fmt: skip
def test_a_refused_sampling_plan_is_explained_in_norwegian(monkeypatch, db, month, reviewers, message):
    at = _open(monkeypatch, db, "leder", "innboks")
    fields = {t.label: t for t in at.text_input}
    fields["Måned (ÅÅÅÅ-MM)"].input(month)
    fields["Vurderere (brukernavn, kommaseparert)"].input(reviewers)
    next(b for b in at.button if b.label == "Lag oppgaver").click().run()
    assert [e.value for e in at.error] and message in at.error[0].value
    assert not re.search(r"[A-Za-z]+ is not|must be|needs at least|not active", at.error[0].value)


@pytest.mark.parametrize(
    ("requested", "answer"),
    [("ukjent-side", "ukjent-side"), ("innboks", None), (None, None), ("", None), ("a/b", None)],
)
def test_an_unknown_address_gets_the_norwegian_page(requested, answer):
    assert unknown_page(requested, ["innboks", "samtale"]) == answer
    assert "finnes ikke" in MESSAGE


@pytest.mark.parametrize(
    ("title", "rubric", "calls", "reviewers", "said"),
    [
        ("", "lvs_operator", [CALL], ["leder", "veileder"], "gi runden et navn"),
        ("R", "ukjent", [CALL], ["leder", "veileder"], "ukjent rubrikk"),
        ("R", "lvs_operator", [], ["leder", "veileder"], "minst én samtale"),
        ("R", "lvs_operator", [CALL], ["leder"], "minst to vurderere"),
        ("R", "lvs_operator", [CALL], ["leder", "nisse"], "kalibrere: nisse"),
        ("R", "lvs_operator", ["finnes-ikke"], ["leder", "veileder"], "finner ikke samtalene: finnes-ikke"),
    ],
)
def test_a_refused_calibration_round_is_explained_in_norwegian(db, title, rubric, calls, reviewers, said):
    from review.calibration import CalibrationService
    from review.views.calibration import ROUND_ERRORS
    from review.views.common import in_norwegian

    with pytest.raises(ValueError) as refused:
        CalibrationService(db, USERS["leder"]).create_round(title, rubric, calls, reviewers)
    assert said in in_norwegian(refused.value, ROUND_ERRORS, "FALLBACK")


def test_the_self_review_comparison_shows_values_as_the_form_does():
    import pandas as pd

    from review.views.call import comparison_text

    table = pd.DataFrame(
        {"Kriterium": ["Presenterer seg", "Konkrete råd"], "Egen vurdering": [1, None], "veileder": [0.0, 3.0],
         "Ulik": [True, True]}
    )  # fmt: skip
    shown = comparison_text(table, [True, False])
    assert shown.to_dict("list") == {
        "Kriterium": ["Presenterer seg", "Konkrete råd"],
        "Egen vurdering": ["ja", "ikke aktuelt"],
        "veileder": ["nei", "3"],
        "Ulik": ["ja", "ja"],
    }


def test_after_a_self_review_the_comparison_reads_as_the_form_with_the_supervisors_name(monkeypatch, db):
    from review.service import ReviewService

    call = "lvs-001-feber-barn"  # op-anne's call
    ReviewService(db, USERS["veileder"]).save_review(
        call, kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
        values={"introduces_self": 0, "open_questions": 3}, overall_comment="", comments=[],
    )  # fmt: skip
    at = _open(monkeypatch, db, "anne", "samtale", samtale=call)
    at.radio(key=f"crit-{call}-introduces_self").set_value(1).run()
    at.button(key="lagre-bunn").click().run()
    assert not at.exception, at.exception
    (table,) = [d.value for d in at.dataframe if "Egen vurdering" in d.value.columns]
    row = table.set_index("Kriterium").loc["Presenterer seg"]
    assert row["Egen vurdering"] == "ja" and row["Vera Veileder"] == "nei" and row["Ulik"] == "ja"  # by name
    assert raw_values(at) == []
