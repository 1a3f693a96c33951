"""Episode: every contact of a call's episode on a time axis, and a printable summary."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied
from lydlogg.documents import PdfUnavailableError, html_to_pdf
from lydlogg.episode_report import episode_html
from lydlogg.formatting import DEFAULT_TIMEZONE, display_time
from review.service import ReviewService
from review.views.chart_locale import norwegian
from review.views.common import SERVICE_LABELS, timezone, view


def wall_clock_ms(times: pd.Series, zone: str) -> pd.Series:
    """Times as the wall clock in ``zone`` reads them, in milliseconds since 1970 as if that were UTC:
    a chart on a UTC scale then shows Norwegian time whatever the browser's own zone."""
    moments = pd.to_datetime(times, utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    return (moments - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)


def timeline_chart(episode: pd.DataFrame, zone: str = DEFAULT_TIMEZONE) -> alt.Chart:
    """Every contact on a time axis by service (Norwegian time, 24-hour clock), re-contacts nobody
    recognised in red."""
    data = episode.assign(
        tid=wall_clock_ms(episode["started_at"], zone),
        tidspunkt=episode["started_at"].map(lambda t: display_time(t, zone)),
        tjeneste=episode["service"].map(SERVICE_LABELS).fillna(episode["service"]),
        rekontakt=episode["flagged"].fillna(False).astype(bool).map({True: "ikke fanget opp", False: "–"}),
        forverring=episode["worsening_advice"].astype("Int64").astype(str).replace("<NA>", "–"),
    )
    return norwegian(
        alt.Chart(data)
        .mark_circle(size=220)
        .encode(
            x=alt.X("tid:T", title="Tidspunkt", scale=alt.Scale(type="utc"),
                    axis=alt.Axis(format="%d.%m. %H:%M", labelAngle=-30)),
            y=alt.Y("tjeneste:N", title="Tjeneste"),
            color=alt.Color("rekontakt:N", title="Rekontakt", scale=alt.Scale(domain=["–", "ikke fanget opp"],
                                                                              range=["#999999", "#d62728"])),
            tooltip=[
                alt.Tooltip("call_id:N", title="Samtale"),
                alt.Tooltip("tidspunkt:N", title="Tidspunkt"),
                alt.Tooltip("contact_number:Q", title="Kontakt nr."),
                alt.Tooltip("operator_id:N", title="Håndtert av"),
                alt.Tooltip("urgency:N", title="Hastegrad"),
                alt.Tooltip("forverring:N", title="Råd om forverring (forslag)"),
            ],
        )
        .add_params(alt.selection_point(name="kontakt", fields=["call_id"]))
    )  # fmt: skip


def selected_call(selection: dict | None, current: str) -> str | None:
    """The call a click on the timeline chose, when it is another call than the one shown."""
    points = (selection or {}).get("kontakt") or []
    chosen = points[0].get("call_id") if points else None
    return chosen if chosen and chosen != current else None


def show_timeline(episode: pd.DataFrame, call_id: str, *, key: str) -> None:
    """The chart; clicking a contact opens that call."""
    event = st.altair_chart(timeline_chart(episode, timezone()), on_select="rerun", key=key, width="stretch")
    chosen = selected_call(event.selection if event else None, call_id)
    if chosen:
        st.query_params["samtale"] = chosen
        st.switch_page(view("samtale.py"))


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
    show_timeline(episode, call_id, key="tidslinje")
    for row in episode.itertuples():
        st.markdown(f"{row.contact_number}. [{row.call_id}](/samtale?samtale={row.call_id})")
    page = episode_html(episode, timezone=timezone())
    name = str(episode["episode_id"].iloc[0])
    st.download_button(
        "Last ned episodeoppsummering (HTML)", page, file_name=f"{name}.html", mime="text/html",
        on_click=service.record_download, args=("episode summary html", call_id),
    )  # fmt: skip
    try:
        st.download_button(
            "Last ned som PDF", html_to_pdf(page), file_name=f"{name}.pdf", mime="application/pdf",
            on_click=service.record_download, args=("episode summary pdf", call_id),
        )  # fmt: skip
    except PdfUnavailableError:
        st.caption(
            "PDF er ikke tilgjengelig på denne maskinen (WeasyPrint/Pango mangler); skriv ut HTML-siden."
        )
