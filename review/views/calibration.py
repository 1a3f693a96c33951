"""Kalibrering: blind scoring of a round's calls, agreement figures and the agreed interpretations."""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from lydlogg.access import AccessDenied, allowed
from lydlogg.formatting import clock
from review.agreement import SUGGESTION, Agreement
from review.calibration import CalibrationService, Round, RoundResults
from review.service import ReviewService
from review.views import advice_section
from review.views.common import (
    audio_source,
    in_norwegian,
    playable_audio,
    shown_frame,
    shown_time,
    value_label,
)
from rubrics import load_rubrics


@st.cache_resource
def _rubrics():
    return load_rubrics()


def _md(text: str) -> str:
    """User text made safe for markdown: HTML escaped, markdown's own signs taken literally."""
    escaped = html.escape(text, quote=False)  # an apostrophe stays itself (see common.md_text)
    for sign in "\\`*_{}[]()#+-.!|~$":
        escaped = escaped.replace(sign, "\\" + sign)
    return escaped


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def agreement_table(
    per_criterion: dict[str, Agreement], overall: Agreement, titles: dict[str, str]
) -> pd.DataFrame:
    """One row per criterion and a closing «Samlet» row, labelled in bokmål."""
    rows = [
        (titles.get(c, c), a.items, _share(a.exact), _share(a.within_one), _figure(a.kappa), _figure(a.alpha))
        for c, a in sorted(
            per_criterion.items(), key=lambda kv: list(titles).index(kv[0]) if kv[0] in titles else 99
        )
    ]
    rows.append(("Samlet", overall.items, _share(overall.exact), _share(overall.within_one),
                 _figure(overall.kappa), _figure(overall.alpha)))  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=[
            "Kriterium",
            "Samtaler",
            "Helt enige",
            "Innen ett poeng",
            "Kappa (vektet)",
            "Alfa (ordinal)",
        ],
    )


def render(service: ReviewService) -> None:
    st.title("Kalibrering")
    if not allowed(service.user, "calibrate"):
        st.error("ingen tilgang")
        return
    calibration = CalibrationService(service.db_path, service.user)
    if allowed(service.user, "manage_calibration"):
        _create_form(service, calibration)
    rounds = calibration.rounds()
    if not rounds:
        st.info("Ingen kalibreringsrunder ennå.")
        return
    ids = [r.round_id for r in rounds]
    wanted = st.query_params.get("runde")
    chosen = st.selectbox(
        "Runde", ids, index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda i: next(f"{r.title} ({'åpen' if r.is_open else 'avsluttet'})" for r in rounds if r.round_id == i),
    )  # fmt: skip
    if chosen != wanted:
        st.query_params["runde"] = chosen
    found = next(r for r in rounds if r.round_id == chosen)
    st.caption(
        f"Rubrikk {found.rubric_id} · {len(found.call_ids)} samtaler · vurderere: {', '.join(found.reviewers)}"
        f" · ledes av {found.created_by}"
    )
    member = service.user.username in found.reviewers
    if member and found.is_open:
        _blind_form(service, calibration, found)
    results = calibration.results(found.round_id)
    _results(calibration, found, results)
    _interpretations(calibration, found)
    if found.is_open and found.created_by == service.user.username and st.button("Avslutt runden"):
        calibration.close_round(found.round_id)
        st.rerun()


# The calibration service refuses in English (shared with the CLI); the page says it in bokmål.
ROUND_ERRORS = (
    ("a round needs a title", "gi runden et navn."),
    ("unknown rubric", "ukjent rubrikk."),
    ("at least one call", "velg minst én samtale."),
    ("at least two reviewers", "en runde trenger minst to vurderere."),
    ("not active users who may calibrate: ", "ikke aktive brukere som kan kalibrere: "),
    ("no such calls: ", "finner ikke samtalene: "),
    ("reviewers outside the units of the round's calls: ", "vurderere utenfor enhetene til samtalene: "),
    ("the round is closed", "runden er avsluttet."),
    ("has no criterion", "rubrikken har ikke dette kriteriet."),
    ("cannot be empty", "skriv tolkningen først."),
)


def _create_form(service: ReviewService, calibration: CalibrationService) -> None:
    with st.expander("Ny kalibreringsrunde"), st.form("new-round"):
        title = st.text_input("Navn på runden")
        rubric_id = st.selectbox(
            "Rubrikk", sorted(_rubrics()), format_func=lambda r: _rubrics()[r].rubric.title
        )
        calls = st.text_input("Samtaler (id-er, kommaseparert)")
        reviewers = st.text_input("Vurderere (brukernavn, kommaseparert)")
        if st.form_submit_button("Opprett runde"):
            try:
                round_id = calibration.create_round(
                    title, rubric_id, [c.strip() for c in calls.split(",") if c.strip()],
                    [r.strip() for r in reviewers.split(",") if r.strip()],
                )  # fmt: skip
            except ValueError as e:
                st.error("Runden ble ikke opprettet: " + in_norwegian(e, ROUND_ERRORS, "sjekk feltene."))
            else:
                st.query_params["runde"] = round_id
                st.success("Runden er opprettet.")


def _blind_form(service: ReviewService, calibration: CalibrationService, found: Round) -> None:
    st.subheader("Din vurdering (blind)")
    st.caption("Du ser ikke de andres vurderinger eller forslagene før du har lagret din egen.")
    own = {s.call_id: s for s in calibration.mine(found.round_id)}
    call_id = st.selectbox(
        "Samtale", found.call_ids, key="kal-samtale",
        format_func=lambda c: f"{c} {'✓ lagret' if c in own else ''}".strip(),
    )  # fmt: skip
    loaded = _rubrics()[found.rubric_id]
    guidance = calibration.guidance(found.rubric_id)
    try:
        audio = playable_audio(service, call_id)
        transcript = service.transcript(call_id)
    except AccessDenied:
        st.error("ingen tilgang")
        return
    except LookupError:
        transcript = None
    if isinstance(audio, bytes) or (audio is not None and audio.is_file()):
        st.audio(audio_source(audio))
    if transcript is not None:
        with st.expander("Transkripsjon"):
            for segment in transcript.segments:
                st.text(f"{clock(segment.start)} {segment.role or ''}: {segment.text}")
    previous = own.get(call_id)
    with st.form(f"kal-{found.round_id}-{call_id}"):
        chosen: dict[str, int | str | None] = {}
        comments: dict[str, str] = {}
        for criterion in loaded.rubric.criteria:
            yes_no = criterion.scale.type == "yes_no"
            options: list[int | str] = list(criterion.scale.values) + (
                [NOT_APPLICABLE] if criterion.scale.not_applicable else []
            ) + [NOT_RATED]  # fmt: skip
            current = _saved_choice(previous, criterion.id)
            chosen[criterion.id] = st.radio(
                criterion.title, options, index=options.index(current) if current in options else None,
                horizontal=True, key=f"kal-{call_id}-{criterion.id}", help=criterion.guidance,
                format_func=lambda v, yn=yes_no: v if isinstance(v, str) else value_label(v, yn),
            )  # fmt: skip
            if criterion.id in guidance:
                st.caption("Omforent tolkning: " + _md(guidance[criterion.id]))
            comments[criterion.id] = st.text_input(
                "Begrunnelse", value=(previous.criterion_comments.get(criterion.id, "") if previous else ""),
                key=f"kalk-{call_id}-{criterion.id}", label_visibility="collapsed", placeholder="Begrunnelse (valgfritt)",
            )  # fmt: skip
        overall = st.text_area("Samlet kommentar", value=(previous.overall_comment or "") if previous else "")
        if st.form_submit_button("Lagre min vurdering"):
            open_ = [c.title for c in loaded.rubric.criteria if chosen[c.id] is None]
            if open_:
                st.warning(
                    "Ikke lagret: velg en verdi, eller «ikke vurdert», for "
                    + ", ".join(_md(t) for t in open_)
                )
                return
            values = {k: (None if v == NOT_APPLICABLE else v) for k, v in chosen.items() if v != NOT_RATED}
            calibration.save_round_review(
                found.round_id, call_id, values, criterion_comments=comments, overall_comment=overall or None,
                not_rated=[k for k, v in chosen.items() if v == NOT_RATED],
            )  # fmt: skip
            st.success("Vurderingen er lagret.")
            st.rerun()


NOT_APPLICABLE = "ikke aktuelt"
NOT_RATED = "ikke vurdert"  # said explicitly; stored as no score, never as 0


def _saved_choice(previous, criterion_id: str) -> int | str | None:  # noqa: ANN001 - RoundScore | None
    """What the member chose for a criterion last time: a value, «ikke aktuelt», «ikke vurdert»,
    or None when they have not saved this call yet (the form then starts with nothing selected)."""
    if previous is None:
        return None
    if criterion_id not in previous.values:
        return NOT_RATED
    value = previous.values[criterion_id]
    return NOT_APPLICABLE if value is None else value


def _results(calibration: CalibrationService, found: Round, results: RoundResults) -> None:
    st.subheader("Samsvar")
    if not results.calls_shown:
        st.info("Resultatene vises når du har lagret din egen vurdering av samtalene.")
        return
    rubric = _rubrics()[found.rubric_id].rubric
    titles = {c.id: c.title for c in rubric.criteria}
    report = results.report
    st.caption(f"Bygger på {len(results.calls_shown)} av {len(found.call_ids)} samtaler.")
    st.dataframe(
        shown_frame(agreement_table(report.per_criterion, report.overall, titles)),
        hide_index=True,
        key="samsvar",
        height="content",  # every criterion and the overall row, without scrolling inside the table
    )
    if report.overall.strictness:
        st.markdown("**Strenghet** (gjennomsnittlig avvik fra gruppens snitt; negativt = strengere)")
        st.dataframe(
            pd.DataFrame(
                [
                    (who, f"{offset:+.2f}".replace(".", ","))
                    for who, offset in report.overall.strictness.items()
                ],
                columns=["Vurderer", "Avvik"],
            ),
            hide_index=True,
        )
    st.markdown("**Forslag mot vurderernes konsensus (median)**")
    st.dataframe(
        shown_frame(agreement_table(report.suggestions_per_criterion, report.suggestions_overall, titles)),
        hide_index=True,
        height="content",
    )
    offset = report.suggestions_overall.strictness.get(SUGGESTION)
    if offset is not None:
        st.caption(f"Forslagene ligger i snitt {offset:+.2f} poeng fra konsensus (negativt = strengere).")
    st.subheader("Uenighet, kriterium for kriterium")
    if not results.disagreements:
        st.success("Vurdererne ga like verdier på alle kriterier.")
    guidance = calibration.guidance(found.rubric_id)
    for criterion in rubric.criteria:
        found_here = [d for d in results.disagreements if d.criterion_id == criterion.id]
        if not found_here:
            continue
        yes_no = criterion.scale.type == "yes_no"
        st.markdown(f"#### {_md(criterion.title)}")
        if criterion.id in guidance:
            st.caption("Gjeldende omforente tolkning:")
            st.text(guidance[criterion.id])
        for d in found_here:
            st.caption(f"Samtale {_md(d.call_id)}")
            if criterion.id in ("worsening_advice", "safety_netting"):
                advice_section.render_calibration_hint(calibration.db_path, calibration.user, d.call_id)
            left, right = st.columns(2)
            with left:
                st.markdown("**Forslag**")
                if d.suggestion is None:
                    st.text("Ingen forslag.")
                else:
                    st.text(f"{value_label(d.suggestion.value, yes_no)} ({d.suggestion.confidence:.0%})")
                    st.text(d.suggestion.rationale)
                    for ev in d.suggestion.evidence[:3]:
                        st.text(f"«{ev.get('text', '')}» ({clock(ev.get('start'))})")
            with right:
                st.markdown("**Vurderere**")
                for who, value in d.values.items():
                    st.text(f"{who}: {value_label(value, yes_no)}")
                    if who in d.comments:
                        st.text(d.comments[who])
        if allowed(calibration.user, "manage_calibration"):
            with st.form(f"tolkning-{criterion.id}"):
                text = st.text_area("Omforent tolkning", value=guidance.get(criterion.id, ""),
                                    key=f"tolkning-{criterion.id}")  # fmt: skip
                if st.form_submit_button("Lagre tolkning"):
                    try:
                        calibration.record_interpretation(
                            found.rubric_id, criterion.id, text, round_id=found.round_id
                        )
                    except ValueError as e:
                        st.error("Ikke lagret: " + in_norwegian(e, ROUND_ERRORS, "sjekk teksten."))
                    else:
                        st.success("Tolkningen er lagret og vises som veiledning i neste runde.")


def _interpretations(calibration: CalibrationService, found: Round) -> None:
    history = calibration.interpretations(found.rubric_id)
    if not history:
        return
    titles = {c.id: c.title for c in _rubrics()[found.rubric_id].rubric.criteria}
    with st.expander(f"Omforente tolkninger ({len(history)})"):
        st.dataframe(
            pd.DataFrame(
                [
                    (
                        titles.get(i.criterion_id, i.criterion_id),
                        i.text,
                        i.decided_by,
                        shown_time(i.decided_at),
                    )
                    for i in history
                ],
                columns=["Kriterium", "Tolkning", "Vedtatt av", "Tidspunkt"],
            ),
            hide_index=True,
        )
