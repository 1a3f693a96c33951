"""Kasusbibliotek (search and read published cases) and Publiser kasus (a trainer's redaction review).

Pages are thin: every read and write goes through :class:`review.cases.CaseLibraryService`,
which checks access and audits. The trainer's working list of redactions lives in
``st.session_state`` until they confirm and publish; nothing of a draft is stored. Before
publishing, the page shows every text that will be published (the service's ``preview``), and
publishing sends that preview's checksum, so nothing else is published. Audio is published only
when the trainer ticks it, with the voices disguised unless they untick that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from anonymise import KINDS, Redaction, find_identifiers
from anonymise.transcript import segment_offsets
from lydlogg.access import AccessDenied, allowed
from lydlogg.formatting import clock, score_text
from review.case_package import PackageError, refusal_text
from review.cases import CaseContent, CaseLibraryService, word_range_redaction, word_tokens
from review.service import ReviewService
from review.views.common import ROLE_LABELS, SERVICE_LABELS, formatted_text, md_text, shown_time
from review.views.uploader import file_uploader
from transcription.types import Transcript

__all__ = ["highlighted_segments", "render_library", "render_publish", "service_for"]

DISGUISE_PROGRESS = "Forvrenger stemmene: {share} %"


def _disguise_bar(shown: bool) -> tuple[Any, Callable[[float], None] | None]:
    """A progress bar for the voice disguise and the callback that moves it ((None, None): none)."""
    if not shown:
        return None, None
    bar = st.progress(0.0, text=DISGUISE_PROGRESS.format(share=0))
    return bar, lambda share: bar.progress(share, text=DISGUISE_PROGRESS.format(share=round(100 * share)))


_KIND_LABELS = {
    "NAVN": "Navn",
    "TELEFON": "Telefonnummer",
    "FØDSELSNUMMER": "Fødselsnummer",
    "ADRESSE": "Adresse",
    "DATO": "Dato",
    "STED": "Sted",
}


def service_for(review: ReviewService) -> CaseLibraryService:
    """The case library for the logged-in user, with the installation's settings."""
    root = review.settings
    return CaseLibraryService(review.db_path, review.user, root.cases, root.anonymise, review=review,
                              encryption=root.encryption)  # fmt: skip


_md = md_text  # one escaping rule for every page (review.views.common)


def highlighted_segments(transcript: Transcript, redactions: Sequence[Redaction]) -> list[str]:
    """Each segment's text as safe markdown, every redacted stretch highlighted and numbered."""
    ordered = sorted(enumerate(redactions, start=1), key=lambda item: item[1].start)
    out = []
    for (s0, s1), seg in zip(segment_offsets(transcript), transcript.segments, strict=True):
        parts, pos = [], s0
        for number, r in ordered:
            a, b = max(r.start, s0), min(r.end, s1)
            if a >= b or a < pos:
                continue
            parts.append(_md(transcript.text[pos:a]))
            parts.append(f":orange-background[**{number}** {_md(transcript.text[a:b])}]")
            pos = b
        parts.append(_md(transcript.text[pos:s1]))
        who = ROLE_LABELS.get(seg.role or "", "Ukjent")
        out.append(f"**{clock(seg.start)} {who}:** {''.join(parts)}")
    return out


# --- Publiser kasus -----------------------------------------------------------------------------


def render_publish(library: CaseLibraryService) -> None:
    st.title("Publiser kasus")
    if not allowed(library.user, "publish_case"):
        st.error("ingen tilgang")
        return
    call_id = st.query_params.get("samtale")
    if not call_id:
        calls = library.reviewed_calls()
        if calls.empty:
            st.info("Ingen fagfellevurderte samtaler ennå.")
            return
        call_id = st.selectbox(
            "Vurdert samtale", calls["call_id"].tolist(), index=None, placeholder="Velg samtale"
        )
        if not call_id:
            return
        st.query_params["samtale"] = call_id
    key = f"kasus-utkast-{call_id}"
    if key not in st.session_state:
        try:
            st.session_state[key] = library.draft(call_id)
        except AccessDenied:
            st.error("ingen tilgang")
            return
        except LookupError:
            st.info("Samtalen er ikke transkribert ennå.")
            return
        st.session_state[f"kasus-sladd-{call_id}"] = list(st.session_state[key].proposed)
    draft = st.session_state[key]
    redactions: list[Redaction] = st.session_state[f"kasus-sladd-{call_id}"]
    st.caption(
        f"Samtale {call_id} · {SERVICE_LABELS.get(draft.service or '', '–')} · "
        f"{draft.peer_reviews} fagfellevurdering(er) · {'med lyd' if draft.has_audio else 'uten lydfil'}"
    )
    if draft.peer_reviews == 0:
        st.warning("Samtalen har ingen fagfellevurdering og kan ikke publiseres ennå.")
        return
    st.subheader("Sladding")
    st.caption(
        "Alt som er markert, erstattes i teksten og dekkes med en tone i lyden. Kontroller hele samtalen."
    )
    for line in highlighted_segments(draft.transcript, redactions):
        st.markdown(line)
    _redaction_list(call_id, draft.transcript, redactions)
    _add_redaction(call_id, draft.transcript, redactions)
    _publish_form(library, call_id, redactions)


def _redaction_list(call_id: str, transcript: Transcript, redactions: list[Redaction]) -> None:
    st.subheader(f"Sladdinger ({len(redactions)})")
    if not redactions:
        st.info("Ingen sladdinger. Legg til det som kan identifisere noen.")
    for number, r in enumerate(redactions, start=1):
        left, right = st.columns([5, 1])
        where = next(i for i, (a, b) in enumerate(segment_offsets(transcript)) if a <= r.start < b + 1)
        left.markdown(
            f"{number}. {_KIND_LABELS[r.kind]}: «{_md(transcript.text[r.start : r.end])}» "
            f"(replikk {where + 1}{', lagt til' if r.source == 'manual' else ''})"
        )
        if right.button("Fjern", key=f"fjern-{call_id}-{number}"):
            del redactions[number - 1]
            st.rerun()
    if st.button("Tilbakestill til forslaget", key=f"tilbake-{call_id}"):
        st.session_state[f"kasus-sladd-{call_id}"] = list(
            st.session_state[f"kasus-utkast-{call_id}"].proposed
        )
        st.rerun()


def _add_redaction(call_id: str, transcript: Transcript, redactions: list[Redaction]) -> None:
    st.subheader("Legg til sladding")
    count = len(transcript.segments)
    index = st.selectbox(
        "Replikk",
        range(count),
        format_func=lambda i: f"{i + 1}. {transcript.segments[i].text[:70]}",
        key=f"ny-replikk-{call_id}",
    )
    tokens = [w for _a, _b, w in word_tokens(transcript.segments[index].text)]
    if not tokens:
        return
    first, last = st.select_slider(
        "Ord som skal sladdes",
        options=range(len(tokens)),
        value=(0, 0),
        format_func=lambda i: f"{i + 1}: {tokens[i]}",
        key=f"ny-ord-{call_id}-{index}",
    )
    kind = st.selectbox("Type", KINDS, format_func=_KIND_LABELS.__getitem__, key=f"ny-type-{call_id}")
    if st.button("Legg til sladding", key=f"legg-til-{call_id}"):
        redactions.append(word_range_redaction(transcript, index, first, last, kind))
        redactions.sort()
        st.rerun()


def _publish_form(library: CaseLibraryService, call_id: str, redactions: list[Redaction]) -> None:
    st.subheader("Publiser")
    title = st.text_input("Tittel", key=f"tittel-{call_id}")
    points = st.text_area(
        "Læringspunkter",
        key=f"laering-{call_id}",
        help="Linjeskift og lister («- punkt», «1. punkt») beholdes.",
    )
    tags = st.multiselect(
        "Stikkord",
        library.tags(),
        accept_new_options=True,
        key=f"stikkord-{call_id}",
        placeholder="Velg eller skriv stikkord",
    )
    title_redactions = _own_text_proposals(call_id, "tittel", "tittelen", title.strip())
    points_redactions = _own_text_proposals(call_id, "laering", "læringspunktene", points.strip())
    draft = st.session_state[f"kasus-utkast-{call_id}"]
    with_audio, disguise = False, True
    if draft.has_audio:
        with_audio = st.checkbox(
            "Publiser lyden også", value=False, key=f"lyd-{call_id}",
            help="Av som standard: stemmer kan kjennes igjen. Sladdede steder dekkes alltid med en tone.",
        )  # fmt: skip
        if with_audio:
            disguise = st.checkbox("Forvreng stemmene (anbefalt)", value=True, key=f"forvreng-{call_id}")
            if not disguise:
                st.warning("Uten forvrenging kan innringer og ansatte kjennes igjen på stemmen.")
    preview, problem = None, None
    # the preview reads the call through the service (audited): built again only when an input changed
    inputs = (title, points, tuple(tags), *map(_spans, (redactions, title_redactions, points_redactions)))
    cached = st.session_state.get(f"kasus-forhåndsvisning-{call_id}")
    if cached is not None and cached[0] == inputs:
        preview = cached[1]
    else:
        try:
            preview = library.preview(call_id, redactions, title=title, learning_points=points, tags=tags,
                                      draft_sha256=draft.text_sha256, title_redactions=title_redactions,
                                      points_redactions=points_redactions)  # fmt: skip
            st.session_state[f"kasus-forhåndsvisning-{call_id}"] = (inputs, preview)
        except ValueError as e:
            problem = e
    st.markdown("**Dette blir publisert**")
    if preview is None:
        st.info(f"Forhåndsvisningen kommer når dette er i orden: {_reason(problem)}")
    else:
        with st.container(border=True):
            _published_texts(preview, with_audio=with_audio, disguise=disguise)
    with st.form(f"publiser-{call_id}"):
        confirmed = st.checkbox(
            "Jeg har lest alt som blir publisert, kontrollert alle sladdinger, og kasuset identifiserer "
            "ingen pasient, innringer eller ansatt.",
            key=f"bekreft-{call_id}",
        )
        if not st.form_submit_button("Publiser kasus"):
            return
    if not confirmed:
        st.error("Bekreft at du har kontrollert sladdingene før du publiserer.")
        return
    try:
        if preview is None:
            raise problem or ValueError("nothing to publish")
        disguising = with_audio and disguise
        bar, progress = _disguise_bar(disguising)
        with st.spinner("Forvrenger stemmene og publiserer ..." if disguising else "Publiserer ..."):
            case_id = library.publish(call_id, redactions, title=title, learning_points=points, tags=tags,
                                      confirmed=True, draft_sha256=draft.text_sha256,
                                      title_redactions=title_redactions, points_redactions=points_redactions,
                                      publish_audio=with_audio, disguise_voice=disguise,
                                      preview_sha256=preview.sha256, progress=progress)  # fmt: skip
        if bar is not None:
            bar.empty()
    except AccessDenied:
        st.error("ingen tilgang")
        return
    except ValueError as e:
        st.error(f"Kasuset ble ikke publisert: {_reason(e)}")
        if "transcript changed" in str(e):
            del st.session_state[f"kasus-utkast-{call_id}"]  # the next run opens a fresh draft
        return
    st.success(f"Kasuset er publisert ({case_id}).")
    st.markdown(f"[Åpne kasuset i kasusbiblioteket](kasus?kasus={case_id})")


def _spans(redactions: Sequence[Redaction]) -> tuple[tuple[int, int, str], ...]:
    return tuple((r.start, r.end, r.kind) for r in redactions)


def _published_texts(content: CaseContent, *, with_audio: bool, disguise: bool) -> None:
    """Every text of the case as it will be published: title, tags, learning points, the
    anonymised transcript and the reviewers' anonymised comments; and what happens to the audio."""
    st.markdown(f"**{md_text(content.title) or '–'}**")
    st.caption(f"Stikkord: {md_text(', '.join(content.tags)) or '–'}")
    st.markdown("*Læringspunkter*")
    st.markdown(formatted_text(content.learning_points) or "–")
    st.markdown("*Samtalen*")
    for seg in content.transcript.segments:
        st.markdown(f"**{clock(seg.start)} {ROLE_LABELS.get(seg.role or '', 'Ukjent')}:** {_md(seg.text)}")
    st.markdown("*Vurderernes kommentarer*")
    if not _notes(content.assessment):
        st.markdown("–")
    if not with_audio:
        st.caption("Lyden publiseres ikke.")
    elif disguise:
        st.caption("Lyden publiseres med forvrengte stemmer; sladdede steder dekkes med en tone.")
    else:
        st.caption("Lyden publiseres med de virkelige stemmene; sladdede steder dekkes med en tone.")


def _notes(assessment: dict) -> int:
    """The reviewers' overall and anchored comments; how many were shown."""
    shown = 0
    for note in assessment.get("overall", []):
        st.markdown(f"**{_md(note['reviewer'])}:**  \n{formatted_text(note['text'])}")
        shown += 1
    for note in assessment.get("comments", []):
        at = "" if note.get("at_s") is None else f"{clock(note['at_s'])} · "
        seg = note.get("segment_index")
        where = f"replikk {seg + 1} · " if isinstance(seg, int) else ""
        st.markdown(f"{where}{at}**{_md(note['reviewer'])}:** {_md(note['text'])}")
        shown += 1
    return shown


def _own_text_proposals(call_id: str, key: str, where: str, text: str) -> list[Redaction]:
    """The anonymiser's proposals for the trainer's own text, each accepted (the default) or
    rejected with a checkbox, as for the transcript; the accepted ones are returned."""
    proposals = find_identifiers(text) if text else []
    accepted = []
    for r in proposals:
        label = f"Sladd «{text[r.start : r.end]}» ({_KIND_LABELS[r.kind].lower()}) i {where}"
        if st.checkbox(label, value=True, key=f"egen-{key}-{call_id}-{r.start}-{r.end}-{r.kind}"):
            accepted.append(r)
    return accepted


def _reason(error: ValueError) -> str:
    text = str(error)
    if "transcript changed" in text:
        return "transkripsjonen er rettet etter at utkastet ble åpnet. Last siden på nytt og kontroller sladdingene."
    if "title" in text:
        return "skriv en tittel."
    if "peer review" in text:
        return "samtalen mangler fagfellevurdering."
    if "confirmed preview" in text:
        return "teksten er endret etter forhåndsvisningen. Les den på nytt og bekreft."
    if "tag" in text:
        return "stikkord kan bare ha små bokstaver, tall, mellomrom og bindestrek (høyst 40 tegn)."
    return "kontroller opplysningene."


# --- Kasusbibliotek -----------------------------------------------------------------------------


def render_library(library: CaseLibraryService) -> None:
    if not allowed(library.user, "read_cases"):
        st.title("Kasusbibliotek")
        st.error("ingen tilgang")
        return
    case_id = st.query_params.get("kasus")
    if case_id:
        _case(library, case_id)
    else:
        _search(library)


@st.cache_resource
def _criteria() -> dict[str, str]:
    from rubrics import load_rubrics

    return {c.id: f"{c.title} ({r.rubric.title})" for r in load_rubrics().values() for c in r.rubric.criteria}


def _search(library: CaseLibraryService) -> None:
    st.title("Kasusbibliotek")
    text = st.text_input("Søk i tekst", key="kasus-sok")
    left, middle, right = st.columns(3)
    tags = left.multiselect("Stikkord", library.tags(), key="kasus-stikkord", placeholder="Alle stikkord")
    service = middle.selectbox(
        "Tjeneste", [None, *SERVICE_LABELS], format_func=lambda s: "Alle" if s is None else SERVICE_LABELS[s],
        key="kasus-tjeneste",
    )  # fmt: skip
    criteria = _criteria()
    criterion = right.selectbox(
        "Kriterium", [None, *criteria], format_func=lambda c: "Alle" if c is None else criteria[c],
        key="kasus-kriterium",
    )  # fmt: skip
    max_value = None
    if criterion:
        max_value = st.number_input(
            "Laveste vurdering høyst", min_value=0, max_value=10, value=1, key="kasus-maks"
        )
    found = library.search(text, tags=tags, service=service, criterion_id=criterion, max_value=max_value)
    if allowed(library.user, "publish_case"):
        _drafts(library)
    if found.empty:
        searching = text.strip() or tags or service or criterion
        st.info("Ingen kasus passer søket." if searching else "Ingen publiserte kasus ennå.")
        if allowed(library.user, "export_case"):
            _import(library)
        return
    shown = pd.DataFrame(
        {
            "Tittel": found["title"],
            "Tjeneste": found["service"].map(lambda s: SERVICE_LABELS.get(s, "–")),
            "Stikkord": found["tags"].map(lambda t: ", ".join(t)),
            "Publisert": found["published_at"].map(shown_time),
            "Importert": found["imported"].map({True: "ja", False: "nei"}),
        }
    )
    st.dataframe(shown, hide_index=True)
    titles = dict(zip(found["case_id"], found["title"], strict=True))
    chosen = st.selectbox("Åpne kasus", list(titles), index=None, format_func=titles.__getitem__,
                          placeholder="Velg kasus", key="kasus-velg")  # fmt: skip
    if chosen:
        st.query_params["kasus"] = chosen
        st.rerun()
    if allowed(library.user, "export_case"):
        _import(library)


def _drafts(library: CaseLibraryService) -> None:
    """Imported cases waiting for a trainer to read and publish them."""
    drafts = library.drafts()
    if drafts.empty:
        return
    with st.expander(f"Importerte utkast som ikke er publisert ({len(drafts)})", expanded=True):
        titles = dict(zip(drafts["case_id"], drafts["title"], strict=True))
        chosen = st.selectbox("Åpne utkast", list(titles), index=None, format_func=titles.__getitem__,
                              placeholder="Velg utkast", key="kasus-utkast")  # fmt: skip
        if chosen:
            st.query_params["kasus"] = chosen
            st.rerun()


def _case(library: CaseLibraryService, case_id: str) -> None:
    try:
        case = library.case(case_id)
    except AccessDenied:
        st.title("Kasusbibliotek")
        st.error("Fant ikke kasuset.")
        return
    content = case.content
    if st.button("◀ Til søket"):
        del st.query_params["kasus"]
        st.rerun()
    st.title(md_text(content.title))
    st.caption(
        f"{SERVICE_LABELS.get(content.service or '', '–')} · stikkord: {md_text(', '.join(content.tags)) or '–'}"
        f"{' · importert' if case.imported else ''}"
    )
    if not case.published:
        st.warning(
            "Utkast: importert fra en kasuspakke og ikke publisert. Bare ledere og veiledere ser det. "
            "Les alt og lytt til lyden før du publiserer."
        )
        disguise = case.audio_file is not None and st.checkbox(
            "Forvreng stemmene før publisering", value=True, key="kasus-forvreng-utkast",
            help="Pakken sier ikke om stemmene ble forvrengt der den ble laget. Slå av bare hvis du har lyttet "
            "og stemmene allerede er forvrengt.",
        )  # fmt: skip
        if st.button("Publiser kasuset", key="kasus-publiser-utkast"):
            _bar, progress = _disguise_bar(disguise)
            try:
                library.publish_imported(case_id, disguise_voice=disguise, progress=progress)
            except AccessDenied:
                st.error("ingen tilgang")
                return
            st.rerun()
    audio = library.audio_bytes(case)
    if audio is not None:
        st.audio(audio, format="audio/wav")
        if case.voice_disguised is not None:
            st.caption("Stemmene er forvrengt." if case.voice_disguised else "Stemmene er ikke forvrengt.")
    st.subheader("Læringspunkter")
    st.markdown(formatted_text(content.learning_points) or "–")
    st.subheader("Samtalen")
    for seg in content.transcript.segments:
        st.markdown(f"**{clock(seg.start)} {ROLE_LABELS.get(seg.role or '', 'Ukjent')}:** {_md(seg.text)}")
    a = content.assessment
    st.subheader("Vurdering")
    rows = [
        {"Kriterium": row["title"], "Forslag": _label(row["suggested"], row["yes_no"]),
         **{who: _label(v, row["yes_no"]) for who, v in zip(a["reviewers"], row["values"], strict=True)}}
        for row in a.get("criteria", [])
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    _notes(a)
    if content.reflection:
        st.subheader("Refleksjonsspørsmål")
        for title, question in content.reflection:
            st.markdown(f"- *{_md(title)}*: {_md(question)}")
    if allowed(library.user, "export_case") and st.button("Lag kasuspakke"):
        st.download_button("Last ned kasuspakke (zip)", library.export_case(case_id),
                           file_name=f"kasus-{case_id}.zip", mime="application/zip")  # fmt: skip


def _label(value: int | None, yes_no: bool) -> str:
    return score_text(value, yes_no, missing="–")


def _import(library: CaseLibraryService) -> None:
    with st.expander("Importer kasuspakke"):
        upload = file_uploader("Kasuspakke (zip)", ["zip"], key="kasus-import")
        if upload is not None and st.button("Importer"):
            try:
                case_id = library.import_case(upload.getvalue())
            except PackageError as e:
                st.error(_md(refusal_text(upload.name, e, library.settings.max_package_mb)))
                return
            st.success("Kasuset er importert som utkast. Les det og publiser det når det kan brukes.")
            st.query_params["kasus"] = case_id
