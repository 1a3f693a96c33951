"""Standardråd ved forverring: the parts of the call page, the feedback session and Oversikt."""

from __future__ import annotations

import streamlit as st

from lydlogg.access import AccessDenied, allowed
from lydlogg.csv_safety import safe_csv
from review.advice import SMS_HEADING, AdviceService, AdviceView
from review.service import ReviewService
from rubrics.advice_library import load_advice_library

NONE = "ingen av disse"


@st.cache_resource
def _library(folder: str | None):
    from rubrics.advice_library import ADVICE_DIR

    return load_advice_library(folder or ADVICE_DIR)


def service_for(review: ReviewService) -> AdviceService:
    """The advice service for the logged-in user, with the installation's settings."""
    settings = review.settings.advice
    folder = str(settings.library_dir) if settings.library_dir else None
    return AdviceService(review, settings, _library(folder))


def view_for(review: ReviewService, call_id: str) -> AdviceView | None:
    try:
        return service_for(review).call(call_id)
    except (AccessDenied, LookupError):
        return None


def _sms(view: AdviceView) -> None:
    if view.sms:
        st.markdown(f"**{SMS_HEADING}**")
        st.text(view.sms)
        st.caption(f"Utkast, {len(view.sms)} tegn. Lydlogg sender ingenting.")


def _coverage(view: AdviceView) -> None:
    cov = view.advice.coverage
    if cov is None:
        return
    st.markdown(
        f"**Standardråd: {cov.reason_name}**" + ("" if cov.home_care else " (samtalen endte med oppmøte)")
    )
    for title, items in (("Tegn", cov.signs), ("Handling", cov.actions), ("Tidsramme", cov.time_frames)):
        for item in items:
            quote = f" – «{item.evidence[0].text}»" if item.evidence else ""
            st.caption(f"{'✓' if item.said else '✗'} {title.lower()}: {item.label}{quote}")
    st.caption("Dekker standarden (minst to tegn og en handling): " + ("ja" if cov.meets_standard else "nei"))


def render_call_section(review: ReviewService, call_id: str) -> None:
    """On the call page: reason with evidence, coverage, the SMS draft, and the reviewer's correction."""
    service = service_for(review)
    try:
        view = service.call(call_id)
    except (AccessDenied, LookupError):
        return
    with st.expander("Råd ved forverring – standardråd", expanded=True):
        if view.notice:
            st.warning(view.notice)
        elif view.approval:
            st.caption(view.approval)
        advice = view.advice
        if advice.corrected:
            names = [service.reasons.get(r, r) for r in advice.reason_ids]
            st.caption("Kontaktårsak satt av veileder: " + (", ".join(names) or "ingen"))
        for d in advice.detected:
            cue = f" – «{d.evidence[0].text}»" if d.evidence else ""
            st.caption(f"Kontaktårsak funnet: {d.name} ({d.confidence:.0%}){cue}")
        if not advice.detected and not advice.corrected:
            st.caption("Ingen kontaktårsak i standardrådene passer.")
        _coverage(view)
        _sms(view)
        if allowed(review.user, "peer_review"):
            options = list(service.reasons)
            with st.form("kontaktarsak"):
                chosen = st.multiselect(
                    "Rett kontaktårsak (tomt = ingen av standardrådene)",
                    options,
                    default=[r for r in advice.reason_ids if r in options],
                    format_func=lambda r: service.reasons[r],
                    placeholder="Ingen av standardrådene",
                )
                if st.form_submit_button("Lagre kontaktårsak"):
                    service.correct(call_id, chosen)
                    st.success("Kontaktårsaken er lagret.")
                    st.rerun()


def render_feedback_section(view: AdviceView | None) -> None:
    """In the feedback session's closing step."""
    if view is None or view.advice.coverage is None:
        return
    st.subheader("Standardråd ved forverring")
    if view.notice:
        st.info(view.notice)  # an info box: the session's own warnings are about the call
    elif view.approval:
        st.caption(view.approval)
    _coverage(view)
    _sms(view)


def render_overview(review: ReviewService) -> None:
    """In Oversikt: by contact reason and month, and the signs most often left out."""
    if not allowed(review.user, "view_dashboard"):
        return
    service = service_for(review)
    st.header("Råd ved forverring per kontaktårsak")
    if not service.library.approved:
        st.warning(
            "Rådbiblioteket er ikke godkjent av legevaktens medisinskfaglige leder (status «eksempel»). "
            "Tallene under er bare for utprøving og tas ikke med i rapporter."
        )
        if not st.checkbox("Vis tall fra det ikke-godkjente eksempelbiblioteket", key="rad-eksempel"):
            return
    else:
        st.caption(service.approval)
    if review.user.own_calls_only:
        st.caption("Dine egne samtaler.")
    table = service.by_reason_and_month()
    if table.empty:
        st.info(
            "Ingen samtaler med råd for hjemmet og en kjent kontaktårsak ennå. Tallene kommer når "
            "samtalene er behandlet og har fått forslag."
        )
        return
    st.caption(
        "Andel samtaler med råd for hjemmet der rådet dekket minst to av standardens tegn og en handling."
    )
    st.dataframe(table.style.format({"Andel": "{:.0%}"}), hide_index=True)
    st.subheader("Tegn som oftest ble utelatt")
    missing = service.missing_signs()
    st.dataframe(missing.style.format({"Andel av samtalene": "{:.0%}"}), hide_index=True)
    if service.library.approved:  # only an approved library's figures leave the app as a report
        st.download_button("Last ned per kontaktårsak (CSV)", safe_csv(table), "rad-per-arsak.csv",
                           mime="text/csv", key="rad-csv", on_click=review.record_download,
                           args=("advice by reason csv",))  # fmt: skip
        st.download_button("Last ned utelatte tegn (CSV)", safe_csv(missing), "utelatte-tegn.csv",
                           mime="text/csv", key="rad-tegn-csv", on_click=review.record_download,
                           args=("advice missing signs csv",))  # fmt: skip


def render_calibration_hint(db_path, user, call_id: str) -> None:
    """In a calibration round's disagreements on worsening advice: what the standard for the call's
    reason holds that was not said, and the standard's first reflection question."""
    view = view_for(ReviewService(db_path, user), call_id)
    if view is None or view.advice.coverage is None:
        return
    cov = view.advice.coverage
    missing = ", ".join(s.label for s in cov.signs_missing[:4]) or "ingen"
    st.caption(f"Standardråd for {cov.reason_name.lower()}: ikke nevnt – {missing}.")
    if view.questions:
        st.caption(f"Til diskusjon: {view.questions[0]}")
