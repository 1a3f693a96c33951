"""Samtale: audio, transcript with roles and low-confidence words, suggestions and the review form."""

from __future__ import annotations

import streamlit as st

from lydlogg.access import AccessDenied, allowed
from lydlogg.formatting import clock, percent, score_text
from lydlogg.formatting import yes_no as yes_no_text
from lydlogg.settings import TranscriptQualitySettings
from review.comparison import compare_reviews, parse_segment_comments, reviewer_names, unanchored_lines
from review.drafts import Draft, DraftStore, draft_to_json
from review.service import ReviewService
from review.views import advice_section
from review.views.common import (
    QUALITY_LABELS,
    ROLE_LABELS,
    SERVICE_LABELS,
    md_text,
    no_form_text,
    page_link,
    playable_audio,
    shown_time,
    value_label,
    view,
)
from review.views.episode import show_timeline
from review.views.inbox import SAVED_FILTERS
from review.views.keyboard import install_number_keys
from review.views.player import player
from review.views.transcript_html import transcript_rows
from rubrics import choose_rubric, load_rubrics, rubric_services


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
    if allowed(service.user, "list_calls"):  # back to the inbox with the filters it had
        page_link(view("innboks.py"), "◀ Innboksen", st.session_state.get(SAVED_FILTERS))
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
            st.page_link(view("episode_page.py"), label="Vis episode", query_params={"samtale": call_id})
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
        quality, overall = _quality_marks(transcript.segments, corrected, service.settings.transcript_quality)
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
        _review_form(service, call_id, rubric_id, suggestions, transcript, info.service)
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


def _quality_marks(
    segments, corrected: set[int], marks: TranscriptQualitySettings
) -> tuple[dict[int, tuple[str, float]], str | None]:
    """Per recognised segment its quality level and estimate, and the call's line for the caption."""
    from transcription.quality import call_quality, quality_level, segment_quality

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
        f"{QUALITY_LABELS[level]}, anslått {percent(q)} riktige ord; {poor} av {len(segments)} segmenter hørt dårlig",
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
            free = st.checkbox(FREE_LABEL, help=FREE_HELP, key="correction-free")
            if st.form_submit_button("Lagre retting") and (text.strip() or role):
                service.correct_segment(
                    call_id, int(index), text=text.strip() or None, role=role,
                    free_of_identifiers=True if free and text.strip() else None,
                )  # fmt: skip
                st.rerun()
        _identifier_marks(service, call_id)
        if st.button("Bytt roller operatør/innringer"):
            service.swap_roles(call_id)
            st.rerun()


FREE_LABEL = "Fri for identifikatorer"
FREE_HELP = (
    "Kryss av når den rettede teksten ikke har navn, fødselsnummer, telefonnummer, adresser eller andre "
    "identifikatorer. Da kan segmentet eksporteres til trening av talegjenkjenning med tekst og lyd "
    "som de er; ellers erstattes det den automatiske anonymiseringen finner, og lyden dekkes med tone."
)


def _identifier_marks(service: ReviewService, call_id: str) -> None:
    """Mark an already corrected segment free of identifiers, or take the mark back."""
    marks = service.identifier_marks(call_id)
    if not marks:
        return
    st.caption(
        "Rettede segmenter fri for identifikatorer: "
        + (", ".join(str(i + 1) for i, free in marks.items() if free) or "ingen")
    )
    with st.form("identifier-marks"):
        index = st.selectbox(
            "Rettet segment nr.", list(marks), format_func=lambda i: str(i + 1), key="marks-segment"
        )
        free = st.checkbox(FREE_LABEL, help=FREE_HELP, key="marks-free")
        if st.form_submit_button("Lagre merking"):
            service.mark_free_of_identifiers(call_id, int(index), free)
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


@st.fragment  # a choice reruns the form only, not the transcript and player beside it
def _review_form(
    service: ReviewService,
    call_id: str,
    rubric_id: str | None,
    suggestions,
    transcript=None,
    call_service=None,
) -> None:
    with service.batch():  # a rerun of the fragment alone: one connection for its reads
        _form(service, call_id, rubric_id, suggestions, transcript, call_service)


def _form(
    service: ReviewService,
    call_id: str,
    rubric_id: str | None,
    suggestions,
    transcript=None,
    call_service=None,
) -> None:
    st.subheader("Vurdering")
    rubrics = _rubrics()
    loaded = rubrics.get(rubric_id) if rubric_id else choose_rubric(rubrics, call_service)
    if loaded is None:
        st.info(no_form_text(call_service, call_service in rubric_services(rubrics)))
        return
    if rubric_id is None:
        st.caption(no_form_text(call_service, True) + " Du kan vurdere samtalen uten forslag.")
    suggested = {s.criterion_id: s for s in suggestions}
    kind = "peer" if allowed(service.user, "peer_review") else "self"
    if not allowed(service.user, f"{kind}_review"):
        return
    existing = next(
        (r for r in service.reviews(call_id) if r.reviewer == service.user.username and r.kind == kind), None
    )
    drafts = DraftStore(service.db_path, service.user)
    criteria = loaded.rubric.criteria
    baseline = _baseline(kind, criteria, existing, suggested)
    keys = _form_keys(call_id)
    fresh = f"crit-{call_id}-{criteria[0].id}" not in st.session_state  # first run of this visit to the page
    if fresh:
        draft = drafts.load(call_id, kind)
        newer = draft is not None and (existing is None or draft.updated_at is None
                                       or draft.updated_at > existing.created_at)  # fmt: skip
        st.session_state[keys["start"]] = draft if newer and not draft.same_form(baseline) else baseline
        st.session_state[keys["restored"]] = newer and not draft.same_form(baseline)
    start: Draft = st.session_state[keys["start"]]
    top = st.container()
    agreed = service.guidance(loaded.rubric.id)
    values: dict[str, int | None] = {}
    answered: dict[str, int | None] = {}
    reasons: dict[str, str] = {}
    with st.container(height=560, border=True):  # the criteria scroll beside the transcript
        for number, criterion in enumerate(criteria, start=1):
            yes_no = criterion.scale.type == "yes_no"
            options: list[int | str] = list(criterion.scale.values) + (
                [NOT_APPLICABLE] if criterion.scale.not_applicable else []
            )  # «ikke aktuelt» has its own option, so that no choice (None) stays apart from it
            s = suggested.get(criterion.id)
            wanted = start.values.get(criterion.id, "")
            wanted = NOT_APPLICABLE if wanted is None else wanted
            chosen = st.radio(
                f"{number}. {criterion.title}", options, index=options.index(wanted) if wanted in options else None,
                horizontal=True, key=f"crit-{call_id}-{criterion.id}",
                format_func=lambda v, yn=yes_no: value_label(None if v == NOT_APPLICABLE else v, yn),
            )  # fmt: skip
            values[criterion.id] = None if chosen in (None, NOT_APPLICABLE) else chosen
            if chosen is not None:
                answered[criterion.id] = values[criterion.id]
            if criterion.id in agreed:
                st.caption(f"Omforent tolkning: {md_text(agreed[criterion.id])}")
            if s is not None:
                if s.abstained:
                    st.caption(f"Forslag: {md_text(s.rationale)}")
                else:
                    st.caption(
                        f"Forslag: {value_label(s.value, yes_no)} ({percent(s.confidence)}) – {md_text(s.rationale)}"
                    )
                    for ev in s.evidence[:2]:
                        st.caption(f"«{md_text(ev['text'])}» ({clock(ev['start'])})")
                    reasons[criterion.id] = st.text_input(
                        "Uenig i forslaget? Hvorfor (én linje, f.eks. «feil bevis», «sa det til kollega», «dialekt»)",
                        key=f"why-{call_id}-{criterion.id}", max_chars=200, value=start.reasons.get(criterion.id, ""),
                    )  # fmt: skip
    overall = st.text_area("Samlet kommentar", value=start.overall_comment, key=keys["overall"])
    anchored = st.text_area(
        "Kommentarer til segmenter (én per linje, «12: tekst»)", value=start.segment_comments,
        key=keys["anchored"],
    )  # fmt: skip
    bottom = st.button("Lagre vurdering", key="lagre-bunn", type="primary")
    now = Draft(kind, answered, reasons, overall, anchored)
    with top:
        st.caption(
            "Tab går fra kriterium til kriterium; et tall, «j» (ja) eller «n» (nei) velger verdien. "
            "Valgene lagres som utkast mens du arbeider; «Lagre vurdering» her eller nederst lagrer vurderingen."
        )
        if st.session_state.get(keys["restored"]):
            left, right = st.columns([3, 1])
            left.info("Du hadde et ulagret utkast til denne vurderingen. Det er hentet tilbake.")
            if right.button("Forkast utkastet", key="forkast-utkast"):
                drafts.discard(call_id)
                for key in [
                    k for k in st.session_state if str(k).startswith((f"crit-{call_id}-", f"why-{call_id}-"))
                ] + list(keys.values()):
                    st.session_state.pop(key, None)
                st.rerun()
        saving = st.button("Lagre vurdering", key="lagre-topp", type="primary") or bottom
        install_number_keys()  # a digit, j or n chooses a value in the focused criterion
        if saving:
            _save(service, drafts, call_id, kind, loaded, criteria, values, suggested, now, transcript, keys)
        else:
            _keep_draft(drafts, call_id, now, baseline, keys)
    if kind == "self":
        _comparison(service, call_id, loaded)


NOT_APPLICABLE = "ikke aktuelt"  # the radio option for a criterion that does not apply


def _form_keys(call_id: str) -> dict[str, str]:
    """Session keys of the review form of one call."""
    return {
        "start": f"utkast-start-{call_id}",
        "restored": f"utkast-hentet-{call_id}",
        "overall": f"samlet-{call_id}",
        "anchored": f"segmentkommentarer-{call_id}",
        "written": f"utkast-skrevet-{call_id}",
    }


def _keep_draft(drafts: DraftStore, call_id: str, now: Draft, baseline: Draft, keys: dict[str, str]) -> None:
    """Keep the form as a draft when it differs from the saved state (nothing lost when the reviewer
    leaves the page); forget the draft when they have changed everything back. Writes only changes."""
    state, before = draft_to_json(now), st.session_state.get(keys["written"])
    if before == state:
        return
    if not now.same_form(baseline):
        drafts.keep(call_id, now)
    elif before is not None or st.session_state.get(keys["restored"]):
        drafts.discard(call_id)  # changed back to what is saved: no draft to offer
    st.session_state[keys["written"]] = state


def _baseline(kind: str, criteria, existing, suggested) -> Draft:  # noqa: ANN001 - rubric criteria, Review
    """The form before any change: the saved review, or else the (not abstaining) suggestions."""
    if existing is not None:
        saved = {c.id: existing.values[c.id] for c in criteria if c.id in existing.values
                 and (existing.values[c.id] is not None or c.scale.not_applicable)}  # fmt: skip
        return Draft(
            kind, saved, {},
            existing.overall_comment or "",
            "\n".join(f"{seg + 1}: {text}" for seg, _at, text in existing.comments if seg is not None),
        )  # fmt: skip
    return Draft(kind, {c: s.value for c, s in suggested.items() if not s.abstained})


def _save(service, drafts, call_id, kind, loaded, criteria, values, suggested, now, transcript, keys) -> None:  # noqa: ANN001, PLR0913
    """Save the review unless a comment line names no segment; the draft goes once it is saved."""
    count = len(transcript.segments) if transcript else 0
    if bad := unanchored_lines(now.segment_comments, count):
        drafts.keep(call_id, now)
        st.error(
            "Ikke lagret: hver linje i «Kommentarer til segmenter» må begynne med et segmentnummer fra 1 til "
            f"{count}, som «12: tekst». Rett disse linjene, eller flytt dem til «Samlet kommentar»: "
            + "; ".join(f"«{md_text(line)}»" for line in bad)
        )
        return
    unanswered = [c.title for c in criteria if c.id not in now.values]
    service.save_review(
        call_id, kind=kind, rubric_id=loaded.rubric.id, rubric_version=loaded.rubric.version,
        rubric_sha256=loaded.sha256, values=values,
        suggested={k: v.value for k, v in suggested.items()}, overall_comment=now.overall_comment or None,
        comments=parse_segment_comments(now.segment_comments, transcript) if transcript else None,
        reasons=now.reasons,
    )  # fmt: skip
    drafts.discard(call_id)
    st.session_state[keys["start"]] = now
    st.session_state[keys["restored"]] = False
    st.success("Vurderingen er lagret.")
    if unanswered:  # abstained suggestions the reviewer left open are saved as missing, not as zero
        st.warning(f"Lagret uten verdi (ikke vurdert) for: {', '.join(unanswered)}")
