"""Revisjonslogg: the audit trail page (the service is :mod:`review.audit_log`).

Filters (user, action, call id, date range) live in the URL; rows come newest first, a page at a
time, and can be downloaded as CSV. Every view and every download is written to the trail.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied, allowed
from lydlogg.formatting import display_time
from lydlogg.vocabulary import AUDIT_ACTION_LABELS
from norsk.dates import DATE_FORMAT_HINT, DateError, date_text, parse_date
from review.audit_log import COLUMNS, AuditFilter, AuditLogService, to_csv
from review.service import ReviewService
from review.views.common import timezone

__all__ = ["render"]

_QUERY_KEYS = ("bruker", "handling", "samtale", "fra", "til", "side")


def shown_rows(rows: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """The rows as the page shows them: Norwegian time and Norwegian action labels (the CSV keeps
    ISO time with offset and the action codes)."""
    return rows.assign(
        occurred_at=rows["occurred_at"].map(lambda t: display_time(t, timezone)),
        action=rows["action"].map(lambda a: AUDIT_ACTION_LABELS.get(a, a)),
    )


def _pick(
    label: str, options: list[str], current: str | None, key: str, labels: dict[str, str] | None = None
) -> str | None:
    """A filter list whose first entry, «alle», does not filter."""
    choices = ["", *options] if current is None or current in options else ["", current, *options]
    chosen = st.selectbox(
        label,
        choices,
        index=choices.index(current or ""),
        key=key,
        format_func=lambda v: (labels or {}).get(v, v) if v else "alle",
    )
    return chosen or None


def render(service: ReviewService) -> None:
    st.title("Revisjonslogg")
    if not allowed(service.user, "view_audit"):
        st.error("ingen tilgang")
        return
    if not service.available():
        st.info("Ingen database ennå.")
        return
    trail = AuditLogService(service.db_path, service.user)
    try:
        users, actions = trail.choices()
    except AccessDenied:
        st.error("ingen tilgang")
        return
    current = AuditFilter.from_query({k: st.query_params.get(k) for k in _QUERY_KEYS})
    columns = st.columns(5)
    with columns[0]:
        username = _pick("Bruker", users, current.username, "revisjon-bruker")
    with columns[1]:
        action = _pick("Handling", actions, current.action, "revisjon-handling", AUDIT_ACTION_LABELS)
    call_id = columns[2].text_input("Samtale-id", value=current.call_id or "", key="revisjon-samtale")
    start_text = columns[3].text_input(
        f"Fra dato ({DATE_FORMAT_HINT})", value=date_text(current.start), key="revisjon-fra"
    )
    end_text = columns[4].text_input(
        f"Til dato ({DATE_FORMAT_HINT})", value=date_text(current.end), key="revisjon-til"
    )
    try:
        start, end = parse_date(start_text, "Fra dato"), parse_date(end_text, "Til dato")
    except DateError as refused:
        st.error(str(refused))
        return
    chosen = AuditFilter(username, action, call_id.strip() or None, start, end)
    if chosen == replace(current, page=0):
        chosen = current  # the same filter keeps its page; a new one starts on the first
    if chosen.start and chosen.end and chosen.start > chosen.end:
        st.error("Fra-datoen er etter til-datoen.")
        return
    page = trail.entries(chosen)
    if chosen.page >= page.pages:
        page = trail.entries(replace(chosen, page=page.pages - 1))
    for key in _QUERY_KEYS:
        st.query_params.pop(key, None)
    st.query_params.update(page.wanted.to_query())
    if page.rows.empty:
        st.info("Ingen hendelser passer filteret.")
        return
    st.dataframe(
        shown_rows(page.rows, timezone())[list(COLUMNS)].rename(columns=COLUMNS),
        hide_index=True,
        width="stretch",
    )
    first = page.wanted.page * page.limit + 1
    st.caption(
        f"Viser {first}–{first + len(page.rows) - 1} av {page.total} hendelser, nyeste først"
        f" (side {page.wanted.page + 1} av {page.pages}). Visningen er selv logget."
    )
    left, middle, right = st.columns(3)
    left.download_button(
        "Last ned CSV",
        to_csv(page.rows),
        file_name=f"revisjonslogg-side-{page.wanted.page + 1}.csv",
        mime="text/csv",
        key="revisjon-csv",
        on_click=trail.record_download,
        args=(page.wanted, len(page.rows)),
    )
    if page.wanted.page > 0 and middle.button("Forrige side", key="revisjon-forrige"):
        _go(replace(page.wanted, page=page.wanted.page - 1))
    if page.wanted.page + 1 < page.pages and right.button("Neste side", key="revisjon-neste"):
        _go(replace(page.wanted, page=page.wanted.page + 1))


def _go(wanted: AuditFilter) -> None:
    for key in _QUERY_KEYS:
        st.query_params.pop(key, None)
    st.query_params.update(wanted.to_query())
    st.rerun()
