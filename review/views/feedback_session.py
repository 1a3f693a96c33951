"""Tilbakemeldingsmøte: one call step by step, with audio, assessment, reflection questions and notes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied, allowed
from lydlogg.documents import PdfUnavailableError, html_to_pdf
from lydlogg.formatting import clock
from review.advice import handout_section, with_standard_questions
from review.feedback import FeedbackService, Step, assessment_rows, handout_html, plan_steps
from review.service import ReviewService
from review.views import advice_section
from review.views.common import (
    ROLE_LABELS,
    SERVICE_LABELS,
    audio_source,
    md_text,
    no_form_text,
    playable_audio,
    shown_time,
    value_label,
)
from rubrics import load_rubrics, rubric_services
from rubrics.reflection import load_reflection_questions


@st.cache_resource
def _rubrics():
    return load_rubrics()


@st.cache_resource
def _questions():
    return load_reflection_questions(rubrics=_rubrics())


_md = md_text  # one escaping rule for every page (review.views.common)


def _step_number(count: int) -> int:
    """The step in the URL (1-based there), kept inside the call's steps."""
    try:
        wanted = int(st.query_params.get("steg", 1)) - 1
    except ValueError:
        wanted = 0
    return min(max(wanted, 0), count - 1)


def render(service: ReviewService) -> None:
    st.title("Tilbakemeldingsmøte")
    if not allowed(service.user, "run_feedback"):
        st.error("ingen tilgang")
        return
    call_id = st.query_params.get("samtale")
    if not call_id:
        calls = service.calls()
        choices = calls.loc[calls["status"] == "transcribed", "call_id"].tolist()
        if not choices:
            st.info("Ingen transkriberte samtaler ennå.")
            return
        call_id = st.selectbox("Samtale", choices, index=None, placeholder="Velg samtale")
        if not call_id:
            return
        st.query_params["samtale"] = call_id
    try:
        info = service.call(call_id)
        transcript = service.transcript(call_id)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    except LookupError:
        st.info("Samtalen er ikke transkribert ennå.")
        return
    rubric_id, suggestions = service.suggestions(call_id)
    if rubric_id not in _rubrics():
        st.info(no_form_text(info.service, info.service in rubric_services(_rubrics())))
        return
    rubric = _rubrics()[rubric_id].rubric
    reviews = service.reviews(call_id)
    advice = advice_section.view_for(service, call_id)
    steps = with_standard_questions(
        plan_steps(transcript, rubric, suggestions, reviews, _questions()), advice
    )
    feedback = FeedbackService(service.db_path, service.user)
    notes = feedback.notes(call_id)
    st.caption(
        f"Samtale {_md(call_id)} · {SERVICE_LABELS.get(info.service or '', '–')} · {shown_time(info.started_at)} · operatør {_md(info.operator_id or '–')}"
    )
    index = _step_number(len(steps))
    back, where, forward = st.columns([1, 3, 1])
    if back.button("◀ Forrige", disabled=index == 0):
        st.query_params["steg"] = str(index)
        st.rerun()
    where.progress((index + 1) / len(steps), text=f"Steg {index + 1} av {len(steps)}")
    if forward.button("Neste ▶", disabled=index == len(steps) - 1):
        st.query_params["steg"] = str(index + 2)
        st.rerun()
    step = steps[index]
    rows = {row.criterion_id: row for row in assessment_rows(rubric, suggestions, reviews)}
    if step.segment_index is None:
        _closing(service, feedback, call_id, rubric, rows, reviews, steps, notes, advice)
    else:
        _segment(service, call_id, transcript, step, rows, suggestions)
    _notes(feedback, call_id, step, notes)


def _segment(service: ReviewService, call_id: str, transcript, step: Step, rows, suggestions) -> None:
    segment = transcript.segments[step.segment_index]
    who = ROLE_LABELS.get(segment.role or "", "Ukjent")
    st.subheader(f"{clock(segment.start)}–{clock(segment.end)} · {who}")
    audio = playable_audio(service, call_id)
    if audio is not None:
        st.audio(audio_source(audio), start_time=int(segment.start), end_time=int(segment.end) + 1)
    st.markdown(f"> {_md(segment.text)}")
    by_id = {s.criterion_id: s for s in suggestions}
    for criterion_id in step.criteria:
        row = rows[criterion_id]
        given = (
            ", ".join(f"{who}: {value_label(v, row.yes_no)}" for who, v in row.values.items())
            or "ikke vurdert"
        )
        st.markdown(
            f"**{_md(row.title)}** – forslag {value_label(row.suggested, row.yes_no, row.abstained)}; {_md(given)}"
        )
        if criterion_id in by_id:
            st.caption(_md(by_id[criterion_id].rationale))
    for reviewer, text in step.comments:
        st.text(f"Kommentar – {reviewer}: {text}")
    _questions_list(step)


def _questions_list(step: Step) -> None:
    if not step.questions:
        return
    st.subheader("Refleksjon")
    for title, question in step.questions:
        st.markdown(f"- *{_md(title)}*: {_md(question)}")


def _closing(service, feedback, call_id, rubric, rows, reviews, steps, notes, advice=None) -> None:
    st.subheader("Oppsummering")
    reviewers = sorted({r for row in rows.values() for r in row.values})
    table = pd.DataFrame(
        [
            {"Kriterium": row.title, "Forslag": value_label(row.suggested, row.yes_no, row.abstained),
             **{r: value_label(row.values[r], row.yes_no) if r in row.values else "–" for r in reviewers}}
            for row in rows.values()
        ]
    )  # fmt: skip
    st.dataframe(table, hide_index=True)
    for review in reviews:
        if review.overall_comment:
            st.text(f"{review.reviewer}: {review.overall_comment}")
    _questions_list(steps[-1])
    advice_section.render_feedback_section(advice)
    page = handout_html(
        call_id, rubric, list(rows.values()), reviews, steps, notes, advice_html=handout_section(advice)
    )
    st.download_button("Last ned utdelingsark (HTML)", page, file_name=f"tilbakemelding-{call_id}.html",
                       mime="text/html", on_click=service.record_download,
                       args=("feedback handout html", call_id))  # fmt: skip
    if st.button("Lag PDF"):
        try:
            st.download_button("Last ned utdelingsark (PDF)", html_to_pdf(page),
                               file_name=f"tilbakemelding-{call_id}.pdf", mime="application/pdf",
                               on_click=service.record_download,
                               args=("feedback handout pdf", call_id))  # fmt: skip
        except PdfUnavailableError:
            st.warning(
                "PDF er ikke tilgjengelig på denne maskinen (WeasyPrint/Pango mangler); skriv ut HTML-siden."
            )


def _notes(feedback: FeedbackService, call_id: str, step: Step, notes) -> None:
    here = [n for n in notes if n.segment_index == step.segment_index]
    st.subheader("Notater")
    for note in here:
        st.text(f"{note.written_by}: {note.text}")
    with st.form(f"notat-{step.segment_index}", clear_on_submit=True):
        label = "Notat til hele samtalen" if step.segment_index is None else "Notat til dette steget"
        text = st.text_area(label, key=f"notat-tekst-{step.segment_index}")
        if st.form_submit_button("Lagre notat"):
            try:
                feedback.save_note(call_id, text, segment_index=step.segment_index)
            except ValueError:
                st.error("Notatet er tomt.")
            else:
                st.success("Notatet er lagret.")
                st.rerun()
