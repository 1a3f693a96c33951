"""Episode: every contact of a call's episode on a time axis, and a printable summary."""

from __future__ import annotations

import altair as alt
import streamlit as st

from lydlogg.episode_report import episode_html
from review.access import AccessDenied
from review.service import ReviewService
from review.views.common import SERVICE_LABELS


def render(service: ReviewService) -> None:
    call_id = st.query_params.get("samtale")
    st.title("Episode")
    if not call_id:
        st.info("Åpne en episode fra en samtale (lenken «Vis episode»).")
        return
    try:
        episode = service.episode(call_id)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    if len(episode) < 2:
        st.info("Samtalen er ikke del av en episode med flere kontakter.")
        return
    flagged = int(episode["flagged"].fillna(False).astype(bool).sum())
    st.caption(
        f"{len(episode)} kontakter over {episode['episode_span_hours'].iloc[0]:.0f} timer · "
        f"rekontakter ikke fanget opp: {flagged}"
    )
    data = episode.assign(
        tjeneste=episode["service"].map(SERVICE_LABELS).fillna(episode["service"]),
        rekontakt=episode["flagged"].fillna(False).astype(bool).map({True: "ikke fanget opp", False: "–"}),
        forverring=episode["worsening_advice"].astype("Int64").astype(str).replace("<NA>", "–"),
    )
    chart = (
        alt.Chart(data)
        .mark_circle(size=220)
        .encode(
            x=alt.X("started_at:T", title="Tidspunkt"),
            y=alt.Y("tjeneste:N", title="Tjeneste"),
            color=alt.Color("rekontakt:N", title="Rekontakt", scale=alt.Scale(range=["#999999", "#d62728"])),
            tooltip=[
                alt.Tooltip("call_id:N", title="Samtale"),
                alt.Tooltip("contact_number:Q", title="Kontakt nr."),
                alt.Tooltip("operator_id:N", title="Håndtert av"),
                alt.Tooltip("urgency:N", title="Hastegrad"),
                alt.Tooltip("forverring:N", title="Råd om forverring (forslag)"),
            ],
        )
        .add_params(alt.selection_point(name="kontakt", fields=["call_id"]))
    )
    event = st.altair_chart(chart, on_select="rerun", key="tidslinje", width="stretch")
    chosen = (event.selection.get("kontakt") or [{}])[0].get("call_id") if event else None
    if chosen and chosen != call_id:
        st.query_params["samtale"] = chosen
        st.switch_page("review/views/samtale.py")
    for row in episode.itertuples():
        st.markdown(f"{row.contact_number}. [{row.call_id}](/samtale?samtale={row.call_id})")
    st.download_button(
        "Last ned episodeoppsummering (HTML)", episode_html(episode), file_name=f"{episode['episode_id'].iloc[0]}.html",
        mime="text/html",
    )  # fmt: skip
