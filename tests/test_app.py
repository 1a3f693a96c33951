"""The review app through Streamlit's AppTest, against real databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import sign_in
from streamlit.testing.v1 import AppTest

from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from lydlogg.units import DEFAULT_UNIT
from review.views.common import md_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")
USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}


def app(monkeypatch, db: Path, user: str | None = None, page: str | None = None, **query: str) -> AppTest:
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    if user:
        sign_in(at, db, USERS[user])
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"review/views/{page}.py").run()
    return at


def transcript_page(at: AppTest) -> str:
    """The call page's transcript rows, as sent to the player component (one per page)."""
    import json

    (player,) = [e for e in at.main if e.type == "bidi_component"]
    assert player.proto.component_name == "lydlogg.player"
    return json.loads(player.proto.json)["rows"]


def call_ids(db: Path) -> list[str]:
    with connect(db) as con:
        return [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY started_at").fetchall()]


@pytest.mark.model
def test_login_refuses_a_wrong_password_then_lets_the_right_one_in(monkeypatch, app_db):
    at = app(monkeypatch, app_db)
    assert at.title[0].value == "Lydlogg"
    at.text_input[0].input("leder")
    at.text_input[1].input("wrong password")
    at.button[0].click().run()
    assert "feil brukernavn eller passord" in at.error[0].value
    at.text_input[1].input("demo-leder")
    at.button[0].click().run()
    assert not at.exception and at.title[0].value == "Innboks"


@pytest.mark.model
def test_inbox_lists_what_the_user_may_see(monkeypatch, app_db):
    at = app(monkeypatch, app_db, "leder")
    assert not at.exception and len(at.dataframe[0].value) == 2
    at = app(monkeypatch, app_db, "anne")
    table = at.dataframe[0].value
    assert len(table) == 1 and table["Operatør"].tolist() == ["op-anne"]


@pytest.mark.model
def test_call_page_shows_transcript_suggestions_and_saves_a_review(monkeypatch, app_db):
    first = call_ids(app_db)[0]
    at = app(monkeypatch, app_db, "veileder", "samtale", samtale=first)
    assert not at.exception, at.exception
    assert at.title[0].value == f"Samtale {md_text(first)}"
    assert any("Forslag:" in c.value for c in at.caption)
    with connect(app_db) as con:
        n_segments = con.execute(
            "SELECT count(*) FROM segments JOIN transcripts USING (transcript_id) WHERE call_id = ?", [first]
        ).fetchone()[0]
    assert transcript_page(at).count('class="seg') == n_segments
    at.radio(key=f"crit-{first}-introduces_self").set_value(0)
    at.text_area[0].input("Godt kartlagt, men uklare råd.")
    at.button(key="lagre-topp").click().run()
    assert not at.exception and "lagret" in at.success[0].value
    with connect(app_db) as con:
        saved = con.execute(
            "SELECT s.value FROM review_scores s JOIN reviews r USING (review_id)"
            " WHERE r.call_id = ? AND r.reviewer = 'veileder' AND s.criterion_id = 'introduces_self'",
            [first],
        ).fetchall()
    assert saved == [(0,)]


@pytest.mark.model
def test_operator_asking_for_another_operators_call_gets_no_access(monkeypatch, app_db):
    second = call_ids(app_db)[1]
    at = app(monkeypatch, app_db, "anne", "samtale", samtale=second)
    assert at.error[0].value == "ingen tilgang"
    assert not at.title or at.title[0].value != f"Samtale {md_text(second)}"


def test_app_without_a_database_shows_the_login(monkeypatch, tmp_path):
    at = app(monkeypatch, tmp_path / "none.duckdb")
    assert not at.exception and at.title[0].value == "Lydlogg"


def test_inbox_ranks_unrecognised_recontacts_first(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder")
    assert not at.exception
    table = at.dataframe[0].value
    flagged = table["Rekontakt"] == "ikke fanget opp"
    assert flagged.sum() >= 4
    assert flagged.iloc[: flagged.sum()].all()  # all flagged rows come first
    assert set(table.loc[flagged, "Kontakt i episode"]) <= {f"{n} av 6" for n in range(2, 7)}


def test_episode_page_shows_the_timeline_and_offers_the_summary(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "veileder", "episode_page", samtale="ep1-c3-lvs")
    assert not at.exception, at.exception
    assert at.title[0].value == "Episode"
    assert "6 kontakter" in at.caption[0].value
    links = [m.value for m in at.markdown if "samtale=" in m.value]
    assert len(links) == 6 and "ep1-c1-fastlege" in links[0]


def test_operators_cannot_open_episodes(monkeypatch, reference_db):
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in an operator's menu
        app(monkeypatch, reference_db, "anne", "episode_page", samtale="lvs-001-feber-barn")


def test_call_page_of_a_recontact_shows_its_place_in_the_episode(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder", "samtale", samtale="ep1-c3-lvs")
    assert not at.exception, at.exception
    assert "Kontakt 3 av 6" in at.warning[0].value


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (None, None),
        ({}, None),
        ({"kontakt": []}, None),
        ({"kontakt": [{"call_id": "ep1-c3-lvs"}]}, None),  # the call already shown
        ({"kontakt": [{"call_id": "ep1-c5-legevaktlege"}]}, "ep1-c5-legevaktlege"),
    ],
)
def test_a_click_on_the_timeline_opens_the_chosen_call(selection, expected):
    from review.views.episode import selected_call

    assert selected_call(selection, "ep1-c3-lvs") == expected


def test_inbox_filters_come_from_and_go_to_the_url(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder", tjeneste="legevaktlege", rekontakt="1")
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 2 and set(table["Tjeneste"]) == {"Legevaktlege"}
    at.checkbox[0].uncheck().run()
    assert len(at.dataframe[0].value) == 3  # every legevaktlege call
    assert (
        at.query_params["tjeneste"] in ("legevaktlege", ["legevaktlege"])
        and "rekontakt" not in at.query_params
    )


def test_self_review_first_then_side_by_side_with_the_supervisor(monkeypatch, reference_db):
    from review.service import ReviewService

    call = "lvs-001-feber-barn"  # op-anne's call in the sample metadata
    ReviewService(reference_db, USERS["veileder"]).save_review(
        call, kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x",
        values={"introduces_self": 0}, overall_comment="Presentasjonen manglet.",
        comments=[(2, 8.0, "Godt åpent spørsmål her.")],
    )  # fmt: skip
    at = app(monkeypatch, reference_db, "anne", "samtale", samtale=call)
    assert not at.exception, at.exception
    assert not any("Egenvurdering mot veileder" in h.value for h in at.subheader)  # not before her own
    assert "Godt åpent spørsmål" not in transcript_page(at)
    at.radio(key=f"crit-{call}-introduces_self").set_value(1)
    at.button(key="lagre-topp").click().run()
    assert not at.exception, at.exception
    assert any("Egenvurdering mot veileder" in h.value for h in at.subheader)
    at.run()
    assert "Kommentar – veileder: Godt åpent spørsmål her." in transcript_page(at)


def test_a_comment_anchored_to_a_segment_is_saved_with_its_time(monkeypatch, reference_db):
    call = "lvs-003-brystsmerter"
    at = app(monkeypatch, reference_db, "leder", "samtale", samtale=call)
    assert not at.exception, at.exception
    at.text_area[1].input("2: Her burde du spurt om tidligere kontakt.")
    at.button(key="lagre-topp").click().run()
    assert not at.exception, at.exception
    with connect(reference_db) as con:
        saved = con.execute(
            "SELECT c.segment_index, c.at_s, c.text FROM review_comments c JOIN reviews r USING (review_id)"
            " WHERE r.call_id = ? AND r.reviewer = 'leder'",
            [call],
        ).fetchall()
        start = con.execute(
            "SELECT s.start_s FROM segments s JOIN transcripts t USING (transcript_id) WHERE t.call_id = ?"
            " AND s.segment_index = 1",
            [call],
        ).fetchone()[0]
    assert saved == [(1, start, "Her burde du spurt om tidligere kontakt.")]


def test_a_sampling_plan_from_the_inbox_gives_reviewers_tasks(monkeypatch, tmp_path):
    from conftest import build_reference_db

    db = build_reference_db(tmp_path)
    at = app(monkeypatch, db, "leder")
    at.text_input[0].input("2026-03")
    at.text_input[1].input("veileder")
    at.button(key="FormSubmitter:sampling-Lag oppgaver").click().run()
    assert not at.exception, at.exception
    assert "samtaler trukket" in at.success[0].value
    at = app(monkeypatch, db, "veileder")
    assert any("Mine vurderingsoppgaver" in h.value for h in at.subheader)


def test_admin_sees_no_calls(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "admin")
    assert not at.exception and at.title[0].value == "Brukere og roller"  # the admin's home page
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("review/views/innboks.py")


def test_brukere_warns_of_an_operator_id_held_by_two_active_users(monkeypatch, tmp_path):
    from conftest import build_reference_db

    db = build_reference_db(tmp_path)
    with connect(db) as con:
        con.execute(
            "INSERT INTO users (username, display_name, role, operator_id, password_hash)"
            " VALUES ('anne2', 'Anne to', 'operator', 'op-anne', NULL)"
        )
    at = app(monkeypatch, db, "admin")
    assert not at.exception, at.exception
    assert any("op-anne tilhører flere aktive brukere (anne, anne2)" in w.value for w in at.warning)


def test_inbox_shows_suggested_totals_and_review_state(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder")
    table = at.dataframe[0].value
    assert {"Forslag totalt", "Vurdert", "Transkripsjon"} <= set(table.columns)
    totals = [v for v in table["Forslag totalt"] if v]
    assert len(totals) >= 9 and all(v.endswith(" %") and 0 <= int(v[:-2]) <= 100 for v in totals)


def test_evidence_is_marked_in_the_transcript(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder", "samtale", samtale="lvs-001-feber-barn")
    page = transcript_page(at)
    assert 'evidence" id="seg-' in page and "Bevis for forslag: " in page


def test_an_idle_session_ends_with_a_message_and_the_login(monkeypatch, reference_db):
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("LYDLOGG_DB_PATH", str(reference_db))
    monkeypatch.setenv("LYDLOGG_SERVER__SESSION_TIMEOUT_MINUTES", "15")
    at = AppTest.from_file(APP, default_timeout=60)
    sign_in(at, reference_db, USERS["leder"])
    at.session_state["last_activity"] = datetime.now(UTC) - timedelta(minutes=16)
    at.run()
    assert not at.exception and at.title[0].value == "Lydlogg"
    assert "inaktivitet" in at.info[0].value
    with connect(reference_db) as con:
        assert con.execute(
            "SELECT count(*) FROM audit WHERE username = 'leder' AND action = 'logout'"
        ).fetchone()[0]


def test_a_live_page_follows_role_changes_and_ends_when_the_session_is_revoked(monkeypatch, reference_db):
    from lydlogg.auth import create_user
    from lydlogg.users import UserAdminService

    with connect(reference_db) as con:
        create_user(con, "tove", "Tove", "leder", "toves-password-1")
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(reference_db))
    at = AppTest.from_file(APP, default_timeout=60)
    tove = User("tove", "Tove", "leder", units=(DEFAULT_UNIT,))
    sign_in(at, reference_db, tove)
    at.run()
    assert at.title[0].value == "Innboks" and "(leder)" in at.sidebar.markdown[0].value
    with connect(reference_db) as con:  # another admin session demotes Tove without ending it
        con.execute("UPDATE users SET role = 'veileder' WHERE username = 'tove'")
    at.run()
    assert at.session_state["user"].role == "veileder" and "(veileder)" in at.sidebar.markdown[0].value
    UserAdminService(reference_db, USERS["admin"]).deactivate("tove")
    at.run()  # the next click
    assert not at.exception and at.title[0].value == "Lydlogg" and "user" not in at.session_state
    assert "Økten er avsluttet" in at.info[0].value and not at.dataframe


def test_log_out_in_one_tab_ends_the_session_in_another(monkeypatch, reference_db):
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(reference_db))
    first, second = (AppTest.from_file(APP, default_timeout=60) for _ in range(2))
    token = sign_in(first, reference_db, USERS["leder"])
    second.session_state["user"] = USERS["leder"]
    second.session_state["token"] = token  # a second tab resumed from the same cookie
    first.run()
    second.run()
    assert second.title[0].value == "Innboks"
    first.sidebar.button[0].click().run()  # Logg ut
    second.run()
    assert second.title[0].value == "Lydlogg" and "user" not in second.session_state


def test_a_user_in_the_page_state_without_a_live_session_is_not_let_in(monkeypatch, reference_db):
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(reference_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user"] = USERS["leder"]
    at.run()
    assert at.title[0].value == "Lydlogg"


def test_a_wrong_password_is_refused_with_the_one_message(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db)
    at.text_input[0].input("veileder")
    at.text_input[1].input("wrong password")
    at.button[0].click().run()
    assert not at.exception and "feil brukernavn eller passord" in at.error[0].value


def test_too_many_attempts_are_refused_with_when_to_try_again(monkeypatch, reference_db, tmp_path):
    import shutil

    db = Path(shutil.copy(reference_db, tmp_path / "throttle.duckdb"))  # the back-off is kept in the file
    with connect(db) as con:
        con.execute("DELETE FROM login_throttle")  # other tests' wrong passwords came from this "browser" too
    at = app(monkeypatch, db)
    for attempt in range(1, 6):  # five free attempts by default (login.free_attempts)
        at.text_input[0].input("veileder" if attempt % 2 else "finnes-ikke")
        at.text_input[1].input("wrong password")
        at.button[0].click().run()
        expected = "feil brukernavn eller passord" if attempt < 5 else "For mange mislykkede innlogginger"
        assert expected in at.error[0].value, attempt
    at.text_input[0].input("veileder")
    at.text_input[1].input("demo-veileder")  # the right password, but this browser must wait
    at.button[0].click().run()
    assert (
        "For mange mislykkede innlogginger" in at.error[0].value
        and "før du prøver igjen" in at.error[0].value
    )
    assert at.title[0].value == "Lydlogg"


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (None, None),
        ({}, None),
        ({"selection": {"rows": [], "columns": []}}, None),
        ({"selection": {"rows": [1], "columns": []}}, "b"),
        ({"selection": {"rows": [7], "columns": []}}, None),  # a row the filtered table no longer has
    ],
)
def test_a_click_on_an_inbox_row_chooses_its_call(selection, expected):
    from review.views.inbox import chosen_call

    assert chosen_call(selection, ["a", "b", "c"]) == expected


@pytest.mark.parametrize(
    ("query", "saved", "expected"),
    [
        ({}, None, {}),
        ({}, {"tjeneste": ["lvs"]}, {"tjeneste": ["lvs"]}),  # back from a call: the filters return
        ({"status": ["failed"]}, {"tjeneste": ["lvs"]}, {"status": ["failed"]}),  # a shared link wins
    ],
)
def test_the_inbox_filters_come_back_from_the_session_when_the_url_has_none(query, saved, expected):
    from review.views.inbox import filter_query

    assert filter_query(query, saved) == expected


def test_the_inbox_shows_and_filters_units_only_for_users_of_several(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder", enhet="Sørvik legevakt")
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["Enhet"]) == {"Sørvik legevakt"}  # the filter from the URL
    assert "Enhet" in [m.label for m in at.multiselect]
    at = app(monkeypatch, reference_db, "anne")  # one unit: neither column nor filter
    assert "Enhet" not in at.dataframe[0].value.columns and "Enhet" not in [m.label for m in at.multiselect]


def test_the_inbox_puts_the_ranking_columns_first_and_says_why(monkeypatch, reference_db):
    at = app(monkeypatch, reference_db, "leder", tjeneste="lvs")
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value.columns[:3]) == ["Rekontakt", "Kontakt i episode", "Episodens spenn"]
    assert any("står øverst" in c.value and "Klikk på en rad" in c.value for c in at.caption)
    assert at.session_state["innboks-filtre"] == {"tjeneste": ["lvs"]}
    at.query_params.clear()  # the way back from a call: a URL without filters
    at.switch_page("review/views/samtale.py").run()
    at.switch_page("review/views/innboks.py").run()
    assert set(at.dataframe[0].value["Tjeneste"]) == {"LVS"}  # the filter came back
