"""Innboks: the calls this user may see, filtered; the filters live in the URL."""

from __future__ import annotations

import streamlit as st

from review.service import ReviewService
from review.views.common import SERVICE_LABELS, STATUS_LABELS, clock


def render(service: ReviewService) -> None:
    st.title("Innboks")
    if not service.available():
        st.info("Ingen database ennå. Kjør `lydlogg ingest` og `lydlogg process`, eller `make demo`.")
        return
    calls = service.calls()
    if calls.empty:
        st.info("Ingen samtaler å vise.")
        return
    params = st.query_params
    services = sorted(s for s in calls["service"].dropna().unique())
    chosen = [s for s in params.get_all("tjeneste") if s in services]
    picked = st.multiselect(
        "Tjeneste", services, default=chosen, format_func=lambda s: SERVICE_LABELS.get(s, s)
    )
    st.query_params["tjeneste"] = picked
    shown = calls[calls["service"].isin(picked)] if picked else calls
    table = shown.assign(
        tjeneste=shown["service"].map(SERVICE_LABELS).fillna("–"),
        status_no=shown["status"].map(STATUS_LABELS).fillna(shown["status"]),
        varighet=shown["duration_s"].map(clock),
        lenke=shown["call_id"].map(lambda c: f"/samtale?samtale={c}"),
    )
    st.dataframe(
        table[["lenke", "started_at", "tjeneste", "operator_id", "varighet", "status_no"]].rename(
            columns={
                "lenke": "Samtale",
                "started_at": "Tidspunkt",
                "tjeneste": "Tjeneste",
                "operator_id": "Operatør",
                "varighet": "Varighet",
                "status_no": "Status",
            }
        ),  # fmt: skip
        column_config={"Samtale": st.column_config.LinkColumn(display_text=r"samtale=(.*)")},
        hide_index=True,
        width="stretch",
    )
    st.caption(f"{len(shown)} av {len(calls)} samtaler")
