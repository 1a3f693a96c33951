"""Samtale: audio, transcript with roles and low-confidence words, suggestions and the review form."""

from __future__ import annotations

import streamlit as st

from lydlogg.formatting import clock, score_text
from lydlogg.formatting import yes_no as yes_no_text
from review.access import AccessDenied, allowed
from review.comparison import compare_reviews, parse_segment_comments, reviewer_names
from review.service import ReviewService
from review.views import advice_section
from review.views.common import (
    QUALITY_LABELS,
    ROLE_LABELS,
    SERVICE_LABELS,
    md_text,
    playable_audio,
    shown_time,
    value_label,
)
from review.views.episode import show_timeline
from review.views.player import player
from review.views.transcript_html import transcript_rows
from rubrics import load_rubrics


@st.cache_resource
def _rubrics():
    return load_rubrics()


def render(service: ReviewService) -> None:
    with service.batch():  # one database connection for the whole page
        _render(service)


def _render(service: ReviewService) -> None:
    call_id = st.query_params.get("samtale")
    if not call_id:
        st.info("Velg en samtale i innboksen.")
        return
    try:
        info = service.call(call_id)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    st.title(f"Samtale {md_text(call_id)}")
    st.caption(
        f"{SERVICE_LABELS.get(info.service or '', '–')} · {shown_time(info.started_at)} · operatør {md_text(info.operator_id or '–')} · "
        f"{clock(info.duration_s)}"
    )
    if allowed(service.user, "view_episodes"):
        episode = service.episode(call_id)
        if len(episode) > 1:
            number = int(episode.loc[episode["call_id"] == call_id, "contact_number"].iloc[0])
            if number > 1:
                st.warning(
                    f"Kontakt {number} av {len(episode)} i samme episode: er tidligere kontakter fanget opp?"
                )
            show_timeline(episode, call_id, key="samtale-tidslinje")
            st.page_link(
                "review/views/episode_page.py", label="Vis episode", query_params={"samtale": call_id}
            )
    audio = playable_audio(service, call_id)
    start = float(st.query_params.get("t", 0) or 0)
    if info.status != "transcribed":
        if audio is not None:
            player(call_id, audio, "", start=start, key="spiller")
        st.info("Samtalen er ikke transkribert ennå.")
        return
    transcript = service.transcript(call_id)
    if not transcript.segments:
        if audio is not None:
            player(call_id, audio, "", start=start, key="spiller")
        st.info("Transkripsjonen er slettet etter lagringsreglene; vurderinger og metadata er beholdt.")
        return
    rubric_id, suggestions = service.suggestions(call_id)
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Transkripsjon")
        titles = {c.id: c.title for r in _rubrics().values() for c in r.rubric.criteria}
        evidence: dict[int, list[str]] = {}
        listen: dict[int, list[str]] = {}
        for suggestion in suggestions:
            for ev in suggestion.evidence:
                (listen if suggestion.abstained else evidence).setdefault(ev["segment_index"], []).append(
                    titles.get(suggestion.criterion_id, suggestion.criterion_id)
                )
        notes: dict[int, list[str]] = {}
        for review in service.reviews(call_id):
            for seg, _at, text in review.comments:
                if seg is not None:
                    notes.setdefault(seg, []).append(f"{review.reviewer}: {text}")
        corrected = service.corrected_segments(call_id)
        quality, overall = _quality_marks(transcript.segments, corrected)
        if overall is not None:
            st.caption(f"Transkripsjonskvalitet: {overall}")
        st.caption(
            "Klikk på et segment for å spille av derfra. Mellomrom spiller/pauser og piltastene hopper 5 s "
            "når spilleren har fokus. Usikre ord er understreket; segmenter talegjenkjenningen hørte "
            "dårlig er merket, og rettede segmenter er merket «rettet»."
        )
        rows = transcript_rows(
            transcript.segments, evidence, notes, quality=quality, corrected=corrected, listen=listen
        )
        now = player(call_id, audio, rows, start=start, key="spiller")
        if now is not None:
            at = next((i for i, s in enumerate(transcript.segments) if s.start <= now < s.end), None)
            where = f" (segment {at + 1})" if at is not None else ""
            st.caption(
                f"Avspilt til {clock(now)}{where}: skriv «{(at or 0) + 1}: tekst» for å knytte en kommentar hit."
            )
        _measures(service.conversation_measures(call_id))
    with right:
        _review_form(service, call_id, rubric_id, suggestions, transcript)
        advice_section.render_call_section(service, call_id)
        if allowed(service.user, "correct_transcript"):
            _correction_form(service, call_id, transcript)


def _measures(m) -> None:  # noqa: ANN001 - ConversationMeasures | None
    """The conversation measures beside the transcript, labelled exact (stereo) or estimated."""
    if m is None:
        return
    basis = (
        "eksakt (stereo, én part per kanal)" if m.basis == "exact" else "anslått (mono, fra diariseringen)"
    )
    with st.expander(f"Samtalemål – {basis}", expanded=True):
        a, b, c, d = st.columns(4)
        a.metric("Personal snakker", clock(m.staff_talk_s))
        b.metric("Innringer snakker", clock(m.caller_talk_s))
        c.metric("Taleforhold", "–" if m.talk_ratio is None else f"{m.talk_ratio:.1f}".replace(".", ","))
        d.metric("Stillhet", f"{m.silence_share:.0%}".replace("%", " %"))
        a.metric("Lengste stillhet", f"{m.longest_silence_s:.0f} s")
        b.metric("Overlapp", f"{m.overlap_s:.0f} s")
        c.metric("Avbrudd (personal/innringer)", f"{m.interruptions_by_staff}/{m.interruptions_by_caller}")
        first = m.time_to_first_question_s
        d.metric("Første spørsmål", "–" if first is None else clock(first))
        st.caption(f"Lengste monolog fra personalet: {clock(m.longest_staff_monologue_s)}.")


def _quality_marks(segments, corrected: set[int]) -> tuple[dict[int, tuple[str, float]], str | None]:
    """Per recognised segment its quality level and estimate, and the call's line for the caption."""
    from lydlogg.settings import load_settings
    from transcription.quality import call_quality, quality_level, segment_quality

    marks = load_settings(None).transcript_quality
    levels = {}
    for i, seg in enumerate(segments):
        q = None if i in corrected or not seg.words else segment_quality(seg)
        level = quality_level(q, poor_below=marks.poor_below, uncertain_below=marks.uncertain_below)
        if level is not None:
            levels[i] = (level, q)
    recognised = [s for i, s in enumerate(segments) if i not in corrected and s.words]
    q = call_quality(recognised)
    if q is None:
        return levels, "skrevet eller rettet tekst" if segments else None
    level = quality_level(q, poor_below=marks.poor_below, uncertain_below=marks.uncertain_below)
    poor = sum(1 for lv, _ in levels.values() if lv == "dårlig")
    return (
        levels,
        f"{QUALITY_LABELS[level]}, anslått {q:.0%} riktige ord; {poor} av {len(segments)} segmenter hørt dårlig",
    )


def _correction_form(service: ReviewService, call_id: str, transcript) -> None:
    with st.expander("Rett transkripsjon"):
        st.caption("Originalen beholdes; samtalen får nye forslag etter rettingen.")
        with st.form("correction"):
            index = (
                st.number_input("Segment nr.", min_value=1, max_value=len(transcript.segments), step=1) - 1
            )
            text = st.text_area("Riktig tekst (tomt = uendret)")
            role = st.selectbox(
                "Rolle",
                [None, *ROLE_LABELS],
                format_func=lambda r: "uendret" if r is None else ROLE_LABELS[r],
            )
            if st.form_submit_button("Lagre retting") and (text.strip() or role):
                service.correct_segment(call_id, int(index), text=text.strip() or None, role=role)
                st.rerun()
        if st.button("Bytt roller operatør/innringer"):
            service.swap_roles(call_id)
            st.rerun()


def comparison_text(table, yes_no: list[bool]):  # noqa: ANN001, ANN201 - pandas DataFrame in and out
    """The comparison's values as the form shows them (``ja``/``nei``, ``ikke aktuelt``), one row per
    criterion in rubric order; ``Ulik`` as ``ja``/``nei``."""
    values = [c for c in table.columns if c not in ("Kriterium", "Ulik")]
    shown = table.astype(object).copy()
    for column in values:
        shown[column] = [score_text(v, yn) for v, yn in zip(table[column], yes_no, strict=True)]
    shown["Ulik"] = table["Ulik"].map(yes_no_text)
    return shown


def _comparison(service: ReviewService, call_id: str, loaded) -> None:
    """After a self-review: the user's values beside the others', differences marked."""
    reviews = service.reviews(call_id)
    own = next((r for r in reviews if r.reviewer == service.user.username and r.kind == "self"), None)
    others = [r for r in reviews if r.kind == "peer"]
    if own is None or not others:
        return
    st.subheader("Egenvurdering mot veileder")
    table = compare_reviews(own, others, [(c.id, c.title) for c in loaded.rubric.criteria])
    shown = comparison_text(table, [c.scale.type == "yes_no" for c in loaded.rubric.criteria])
    names = reviewer_names(service.db_path, [o.reviewer for o in others])
    shown = shown.rename(columns=names)
    st.dataframe(shown.style.apply(lambda row: ["background-color: #fde8e8" if row["Ulik"] == "ja" else ""] * len(row),
                                   axis=1), hide_index=True)  # fmt: skip
    for other in others:
        if other.overall_comment:
            st.caption(f"{md_text(names.get(other.reviewer, other.reviewer))}:")
            st.text(other.overall_comment)


def _review_form(
    service: ReviewService, call_id: str, rubric_id: str | None, suggestions, transcript=None
) -> None:
    st.subheader("Vurdering")
    rubrics = _rubrics()
    if rubric_id is None or rubric_id not in rubrics:
        st.info("Ingen forslag ennå. Kjør `lydlogg score`.")
        return
    loaded = rubrics[rubric_id]
    suggested = {s.criterion_id: s for s in suggestions}
    kind = "peer" if allowed(service.user, "peer_review") else "self"
    if not allowed(service.user, f"{kind}_review"):
        return
    existing = next(
        (r for r in service.reviews(call_id) if r.reviewer == service.user.username and r.kind == kind), None
    )
    agreed = service.guidance(loaded.rubric.id)
    with st.form("review"):
        values: dict[str, int | None] = {}
        reasons: dict[str, str] = {}
        for criterion in loaded.rubric.criteria:
            yes_no = criterion.scale.type == "yes_no"
            options: list[int | None] = list(criterion.scale.values) + (
                [None] if criterion.scale.not_applicable else []
            )
            s = suggested.get(criterion.id)
            current = existing.values.get(criterion.id) if existing else (s.value if s else None)
            index = options.index(current) if current in options else 0
            if existing is None and s is not None and s.abstained:
                index = None  # no value preselected: the reviewer listens and chooses
            values[criterion.id] = st.radio(
                criterion.title, options, index=index, horizontal=True, key=f"crit-{criterion.id}",
                format_func=lambda v, yn=yes_no: value_label(v, yn),
            )  # fmt: skip
            if criterion.id in agreed:
                st.caption(f"Omforent tolkning: {md_text(agreed[criterion.id])}")
            if s is not None:
                if s.abstained:
                    st.caption(f"Forslag: {md_text(s.rationale)}")
                else:
                    st.caption(
                        f"Forslag: {value_label(s.value, yes_no)} ({s.confidence:.0%}) – {md_text(s.rationale)}"
                    )
                    for ev in s.evidence[:2]:
                        st.caption(f"«{md_text(ev['text'])}» ({clock(ev['start'])})")
                    reasons[criterion.id] = st.text_input(
                        "Uenig i forslaget? Hvorfor (én linje, f.eks. «feil bevis», «sa det til kollega», «dialekt»)",
                        key=f"why-{criterion.id}", max_chars=200,
                    )  # fmt: skip
        overall = st.text_area("Samlet kommentar", value=(existing.overall_comment or "") if existing else "")
        anchored = st.text_area(
            "Kommentarer til segmenter (én per linje, «12: tekst»)",
            value="\n".join(f"{seg + 1}: {text}" for seg, _at, text in existing.comments if seg is not None)
            if existing
            else "",
        )
        unanswered = [
            c.title for c in loaded.rubric.criteria if values[c.id] is None and not c.scale.not_applicable
        ]
        if st.form_submit_button("Lagre vurdering"):
            service.save_review(
                call_id, kind=kind, rubric_id=loaded.rubric.id, rubric_version=loaded.rubric.version,
                rubric_sha256=loaded.sha256, values=values,
                suggested={k: v.value for k, v in suggested.items()}, overall_comment=overall or None,
                comments=parse_segment_comments(anchored, transcript) if transcript else None,
                reasons=reasons,
            )  # fmt: skip
            st.success("Vurderingen er lagret.")
            if unanswered:  # abstained suggestions the reviewer left open are saved as missing, not as zero
                st.warning(f"Lagret uten verdi (ikke vurdert) for: {', '.join(unanswered)}")
    if kind == "self":
        _comparison(service, call_id, loaded)
