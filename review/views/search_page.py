"""Søk: find calls by what was said, with filters; a hit opens the call at the matching segment."""

from __future__ import annotations

from math import ceil

import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied
from lydlogg.formatting import clock
from norsk.dates import DATE_FORMAT_HINT, DateError, parse_date
from review.search import SearchQuery
from review.service import ReviewService
from review.views.common import ROLE_LABELS, SERVICE_LABELS, shown_time

ROLE_CHOICES = {
    "": "alle",
    "caller": "innringer",
    "staff": "personal",
    "operator": "operatør",
    "doctor": "lege",
}
SERVICE_CHOICES = {"": "alle", **SERVICE_LABELS}
REVIEWED_CHOICES = {"": "alle", "ja": "vurdert", "nei": "ikke vurdert"}


def hits_table(hits: pd.DataFrame) -> pd.DataFrame:
    """One row per matching segment, with a link to the call page at the segment's start (rounded up
    to 0.01 s, so the player opens inside the matching segment, never in the one before)."""
    return pd.DataFrame(
        {
            "Åpne": [
                f"samtale?samtale={c}&t={ceil(t * 100) / 100:g}"  # not before the segment
                for c, t in zip(hits["call_id"], hits["start_s"], strict=True)
            ],
            "Samtale": hits["call_id"],
            "Tid": hits["started_at"].map(shown_time),
            "Tjeneste": hits["service"].map(SERVICE_LABELS).fillna("–"),
            "Operatør": hits["operator_id"].fillna("–"),
            "Ved": hits["start_s"].map(clock),
            "Hvem": hits["role"].map(ROLE_LABELS).fillna("–"),
            "Sagt": hits["text"].str.strip(),
        }
    )


def render(service: ReviewService) -> None:
    st.title("Søk i samtaler")
    st.caption(
        "Alle ordene må stå i samme segment (alle bøyningsformer). «Ingen i personalet sa» utelater samtaler "
        "der operatør eller lege sa ordene, f.eks. 113."
    )
    with st.form("sok"):
        text = st.text_input("Ord", value=st.query_params.get("q", ""))
        left, middle, right = st.columns(3)
        role = left.selectbox("Sagt av", list(ROLE_CHOICES), format_func=ROLE_CHOICES.get)
        without = middle.text_input("Ingen i personalet sa")
        svc = right.selectbox("Tjeneste", list(SERVICE_CHOICES), format_func=SERVICE_CHOICES.get)
        left, middle, right = st.columns(3)
        since_text = left.text_input(f"Fra dato ({DATE_FORMAT_HINT})", key="sok-fra")
        until_text = middle.text_input(f"Til dato ({DATE_FORMAT_HINT})", key="sok-til")
        reviewed = right.selectbox("Vurdert", list(REVIEWED_CHOICES), format_func=REVIEWED_CHOICES.get)
        left, middle, right = st.columns(3)
        operator = "" if service.user.own_calls_only else left.text_input("Operatør-id")
        criterion = middle.text_input("Kriterium = verdi", placeholder="worsening_advice=0")
        flagged = right.checkbox("Bare rekontakter som ikke ble fanget opp", key="sok-rekontakt")
        poor_quality = right.checkbox(
            "Bare samtaler med dårlig transkripsjonskvalitet",
            key="sok-kvalitet",
            help="Samtaler som innboksen merker «dårlig – lytt»: talen ble hørt dårlig, lytt før du stoler på teksten.",
        )
        submitted = st.form_submit_button("Søk")
    if not submitted:
        return
    try:
        since, until = parse_date(since_text, "Fra dato"), parse_date(until_text, "Til dato")
    except DateError as refused:
        st.error(str(refused))
        return
    criterion_id = criterion_value = None
    if criterion.strip():
        criterion_id, _, raw = (part.strip() for part in criterion.partition("="))
        if not criterion_id or not raw.lstrip("-").isdigit():
            st.error("Kriterium skrives som id=verdi, f.eks. worsening_advice=0.")
            return
        criterion_value = int(raw)
    query = SearchQuery(
        text=text,
        role=role or None,
        without=without,
        service=svc or None,
        since=since,
        until=until,
        operator_id=operator.strip() or None,
        criterion_id=criterion_id,
        criterion_value=criterion_value,
        reviewed={"ja": True, "nei": False}.get(reviewed),
        flagged=flagged,
        poor_quality=poor_quality,
    )
    try:
        hits = service.search(query)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    except ValueError:
        st.warning("Skriv ord å søke etter, eller ord ingen i personalet sa.")
        return
    if hits.empty:
        st.info("Ingen treff.")
        return
    st.write(f"{len(hits)} treff i {hits['call_id'].nunique()} samtaler")
    st.dataframe(
        hits_table(hits),
        hide_index=True,
        width="stretch",
        column_config={"Åpne": st.column_config.LinkColumn("Åpne", display_text="Åpne")},
    )
