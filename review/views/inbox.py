"""Innboks: the calls this user may see, filtered; the filters live in the URL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from lydlogg.access import allowed
from lydlogg.auth import User
from lydlogg.formatting import clock
from review.filters import InboxFilter
from review.sampling import SamplingPlan
from review.service import ReviewService
from review.views.common import (
    NO_DATABASE,
    QUALITY_LABELS,
    SERVICE_LABELS,
    STATUS_LABELS,
    in_norwegian,
    page_link,
    quality_cell,
    shown_time,
    view,
)

COLUMNS = {  # the columns that decide the order come first
    "rekontakt": "Rekontakt",
    "kontakt": "Kontakt i episode",
    "spenn": "Episodens spenn",
    "samtale": "Samtale",
    "tidspunkt": "Tidspunkt",
    "tjeneste": "Tjeneste",
    "enhet": "Enhet",
    "operator_id": "Operatør",
    "varighet": "Varighet",
    "status_no": "Status",
    "forslag": "Forslag totalt",
    "vurdert": "Vurdert",
    "sikkerhet": "Transkripsjon",
    "usikre": "Kan ikke vurderes",
}
FILTER_KEYS = ("tjeneste", "operator", "status", "rekontakt", "kvalitet", "enhet")
SAVED_FILTERS = "innboks-filtre"  # the inbox's filters, kept for the way back from a call
ORDER_NOTE = (
    "Rekontakter som ikke er fanget opp (samme pasient ringte igjen innen episodevinduet) står øverst, "
    "deretter samtalene etter tidspunkt, eldste først. Klikk på en rad for å åpne samtalen."
)


def chosen_call(selection: object, call_ids: list[str]) -> str | None:
    """The call a click on an inbox row chose: the table's selection state -> a call id (pure)."""
    rows = (selection or {}).get("selection", {}).get("rows", []) if isinstance(selection, dict) else []
    if not rows or not 0 <= rows[0] < len(call_ids):
        return None
    return call_ids[rows[0]]


def filter_query(query: dict[str, list[str]], saved: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """The filters to show: the URL's, or when it names none, the ones kept from this session's last
    visit (so the way back from a call keeps them); pure."""
    if any(query.get(k) for k in FILTER_KEYS) or saved is None:
        return query
    return saved


def _stamp(db_path: Path) -> tuple[int, int]:
    """Changes whenever the database file or its write-ahead log does."""
    wal = db_path.with_name(db_path.name + ".wal")
    return (
        db_path.stat().st_mtime_ns if db_path.exists() else 0,
        wal.stat().st_mtime_ns if wal.exists() else 0,
    )


@st.cache_data(ttl=120, max_entries=16, show_spinner=False)
def _calls(db_path: str, user: User, stamp: tuple[int, int]) -> pd.DataFrame:
    """The user's calls, linked into episodes; recomputed only when the database changes, so a
    filter change on a large inbox only filters."""
    return ReviewService(Path(db_path), user).calls()


# The sampling plan's checks raise in English (the CLI shares them); the page says it in bokmål.
_SAMPLING_ERRORS = (
    ("is not YYYY-MM", "Skriv måneden som ÅÅÅÅ-MM, for eksempel 2026-03."),
    ("per_operator must be at least 1", "Trekk minst én samtale per operatør."),
    ("at least one reviewer", "Skriv minst én vurderer (brukernavn, kommaseparert)."),
    ("not active leaders or supervisors: ", "Ikke aktive ledere eller veiledere: "),
    ("no chosen reviewer belongs to the unit ", "Ingen av de valgte vurdererne hører til enheten "),
)


def sampling_error(error: ValueError) -> str:
    """A refused sampling plan, in bokmål (names the user typed are kept)."""
    return in_norwegian(
        error, _SAMPLING_ERRORS, "Utvalgsplanen kunne ikke lages. Sjekk måned, antall og vurderere."
    )


def _sampling_form(service: ReviewService) -> None:
    with st.expander("Utvalgsplan: tilfeldige samtaler per operatør"), st.form("sampling"):
        month = st.text_input("Måned (ÅÅÅÅ-MM)")
        per_operator = st.number_input("Samtaler per operatør", min_value=1, max_value=50, value=2)
        seed = st.number_input("Frø (for å kunne gjenskape utvalget)", min_value=0, value=1)
        reviewers = st.text_input("Vurderere (brukernavn, kommaseparert)")
        if st.form_submit_button("Lag oppgaver"):
            try:
                plan = SamplingPlan(month.strip(), int(per_operator), int(seed))
                tasks = service.create_sampling_plan(
                    plan, [r.strip() for r in reviewers.split(",") if r.strip()]
                )
                st.success(f"{len(tasks)} samtaler trukket i plan {plan.plan_id}.")
            except ValueError as e:
                st.error(sampling_error(e))


def render(service: ReviewService) -> None:
    st.title("Innboks")
    if not service.available():
        st.info(NO_DATABASE)
        return
    if not allowed(service.user, "list_calls"):
        st.info("Denne rollen har ikke tilgang til samtaler.")
        return
    tasks = service.tasks()
    open_tasks = tasks[~tasks["done"]]
    if not open_tasks.empty:
        st.subheader(f"Mine vurderingsoppgaver ({len(open_tasks)})")
        for task in open_tasks.itertuples():  # a page link opens the call in this tab
            page_link(view("samtale.py"), f"{task.call_id} ({task.plan_id})", {"samtale": task.call_id})
    if allowed(service.user, "plan_sampling"):
        _sampling_form(service)
    calls = _calls(str(service.db_path), service.user, _stamp(service.db_path))
    if calls.empty:
        st.info("Ingen samtaler å vise.")
        return
    current = InboxFilter.from_query(
        filter_query(
            {k: st.query_params.get_all(k) for k in FILTER_KEYS}, st.session_state.get(SAVED_FILTERS)
        )
    )
    units = sorted(calls["unit"].dropna().unique())
    several_units = len(units) > 1  # a user of one unit needs neither the column nor the filter
    columns = st.columns(6 if several_units else 5)
    services = sorted(calls["service"].dropna().unique())
    operators = sorted(calls["operator_id"].dropna().unique())
    statuses = sorted(calls["status"].dropna().unique())
    chosen = InboxFilter(
        services=tuple(columns[0].multiselect("Tjeneste", services, default=[s for s in current.services if s in services],
                                              format_func=lambda s: SERVICE_LABELS.get(s, s), placeholder="Alle tjenester")),
        operators=tuple(columns[1].multiselect("Operatør", operators, placeholder="Alle operatører",
                                               default=[o for o in current.operators if o in operators])),
        statuses=tuple(columns[2].multiselect("Status", statuses, default=[s for s in current.statuses if s in statuses],
                                              format_func=lambda s: STATUS_LABELS.get(s, s), placeholder="Alle")),
        qualities=tuple(columns[3].multiselect("Transkripsjonskvalitet", list(QUALITY_LABELS),
                                               default=[q for q in current.qualities if q in QUALITY_LABELS],
                                               format_func=QUALITY_LABELS.get, placeholder="Alle")),
        only_flagged=columns[4].checkbox("Bare rekontakter ikke fanget opp", value=current.only_flagged),
        units=tuple(columns[5].multiselect("Enhet", units, default=[u for u in current.units if u in units],
                                           placeholder="Alle enheter")) if several_units else (),
    )  # fmt: skip
    for key in FILTER_KEYS:
        st.query_params.pop(key, None)
    st.query_params.update(chosen.to_query())
    st.session_state[SAVED_FILTERS] = chosen.to_query()
    shown = chosen.apply(calls)
    table = shown.assign(
        tidspunkt=shown["started_at"].map(shown_time),
        tjeneste=shown["service"].map(SERVICE_LABELS).fillna("–"),
        enhet=shown["unit"].fillna("–"),
        status_no=shown["status"].map(STATUS_LABELS).fillna(shown["status"]),
        varighet=shown["duration_s"].map(clock),
        samtale=shown["call_id"],
        kontakt=[
            f"{int(n)} av {int(size)}" if pd.notna(size) and size > 1 else ""
            for n, size in zip(shown["contact_number"], shown["episode_size"], strict=True)
        ],
        rekontakt=shown["flagged"].map(lambda f: "ikke fanget opp" if f else ""),
        forslag=shown["suggested_total"].map(lambda v: f"{v:.0f} %" if pd.notna(v) else ""),
        vurdert=[
            ", ".join(x for x in (f"{int(p)} veileder" if p else "", f"{int(s)} egen" if s else "") if x)
            or "nei"
            for p, s in zip(shown["peer_reviews"].fillna(0), shown["self_reviews"].fillna(0), strict=True)
        ],
        sikkerhet=[
            quality_cell(level, q) for level, q in zip(shown["quality_level"], shown["quality"], strict=True)
        ],
        usikre=shown["abstained"].map(lambda n: f"{int(n)} – lytt" if pd.notna(n) and n else ""),
        spenn=[
            f"{span:.0f} t" if pd.notna(size) and size > 1 else ""
            for span, size in zip(shown["episode_span_hours"], shown["episode_size"], strict=True)
        ],
    )
    st.caption(ORDER_NOTE)
    shown_columns = [c for c in COLUMNS if several_units or c != "enhet"]
    event = st.dataframe(
        table[shown_columns].rename(columns=COLUMNS),
        column_config={"Rekontakt": st.column_config.TextColumn(width="medium")},
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="innboks-tabell",
    )
    st.caption(f"{len(shown)} av {len(calls)} samtaler")
    call_id = chosen_call(event, shown["call_id"].tolist())
    if call_id is not None:  # one click opens the call in this tab; the filters stay in the session
        st.switch_page(view("samtale.py"), query_params={"samtale": call_id})
