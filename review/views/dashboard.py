"""Oversikt: quality trends, review coverage, re-contacts and reviewer strictness for leaders, by
service, by team, both, or by unit (legevakt or site), filtered by any of them; an operator's own figures beside their team's median
for operators and doctors."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from lydlogg.access import allowed
from lydlogg.documents import pdf_available
from lydlogg.formatting import number_text
from review.dashboard import METRICS, SOURCES, DashboardService, DemoData, Overview, team_view
from review.monthly_report import month_label, monthly_html, monthly_pdf
from review.service import ReviewService
from review.views.chart_locale import norwegian
from review.views.common import NO_DATABASE, SERVICE_LABELS, shown_frame

_METRIC = {m.id: m for m in METRICS}
_ROWS = {"operator": "Operatør", "team_median": "Median i laget"}
NO_TEAM = "Uten lag"
NO_UNIT = "Uten enhet"
GROUPINGS = {
    "tjeneste": ("service",), "lag": ("team",), "begge": ("service", "team"), "enhet": ("unit",),
    "enhet-tjeneste": ("unit", "service"),
}  # fmt: skip
_GROUPING_LABELS = {"tjeneste": "Tjeneste", "lag": "Lag", "begge": "Tjeneste og lag", "enhet": "Enhet",
                    "enhet-tjeneste": "Enhet og tjeneste"}  # fmt: skip
COLUMNS = {
    "month": "Måned",
    "enhet": "Enhet",
    "tjeneste": "Tjeneste",
    "lag": "Lag",
    "operator_id": "Operatør",
    "hvem": "Rad",
    "reviewer": "Vurderer",
    "calls": "Samtaler",
    "sampled": "Trukket ut",
    "reviewed": "Vurdert av kollega",
    "sampled_reviewed": "Trukket og vurdert",
    "self_reviewed": "Egenvurdert",
    "recontacts": "Rekontakter",
    "unrecognised": "Ikke fanget opp",
    "recontact_rate": "Andel rekontakter",
    "unrecognised_share": "Andel ikke fanget opp",
    "scores": "Poeng gitt",
    "mean_offset": "Gjennomsnittlig avvik",
    **{m.id: m.label for m in METRICS},
}


_NUMBER_KINDS = {
    **{c: "count" for c in ("calls", "sampled", "reviewed", "sampled_reviewed", "self_reviewed", "recontacts",
                            "unrecognised", "scores")},
    "recontact_rate": "share",
    "unrecognised_share": "share",
    "mean_offset": "mean",
    **{m.id: m.kind for m in METRICS},
}  # fmt: skip


def table(df: pd.DataFrame) -> None:
    """A figure table with Norwegian column names (downloads keep the column ids)."""
    shown = df.assign(hvem=df["row"].map(_ROWS)) if "row" in df else df
    if "service" in shown:
        shown = _label_services(shown)
    if "team" in shown:
        shown = shown.assign(lag=shown["team"].fillna(NO_TEAM))
    if "unit" in shown:
        shown = shown.assign(enhet=shown["unit"].fillna(NO_UNIT))
    # Shares and means as text ("33 %", "2,3", "–"); counts stay numbers, shown without decimals.
    shown = shown.assign(**{c: shown[c].map(lambda v, k=kind: number_text(v, k))
                            for c, kind in _NUMBER_KINDS.items() if c in shown and kind != "count"})  # fmt: skip
    st.dataframe(
        shown_frame(shown[[c for c in COLUMNS if c in shown]]).rename(columns=COLUMNS), hide_index=True
    )


def demo_note(demo: DemoData) -> str | None:
    """The line above the figures when some of the calls they count are the demo's invented
    history (``make demo``); None when none are."""
    if not demo.calls or demo.first_month is None or demo.last_month is None:
        return None
    first, last = month_label(demo.first_month).lower(), month_label(demo.last_month).lower()
    months = first if first == last else f"{first} – {last}"
    return (
        f"Demodata: {number_text(demo.calls)} av {number_text(demo.of_calls)} samtaler i oversikten ({months}) "
        "er oppdiktede eksempelsamtaler, skrevne utskrifter uten lyd – ikke ekte samtaler. De er lagt inn "
        "for at demoen skal vise trender over flere måneder."
    )


def service_for(review: ReviewService) -> DashboardService:
    """The dashboard service for the logged-in user, with the installation's settings."""
    root = review.settings
    return DashboardService(
        review.db_path, review.user, root.dashboard, window_hours=root.episodes.window_hours
    )


def _parquet(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def downloads(service: DashboardService, df: pd.DataFrame, name: str) -> None:
    """CSV, CSV for Norwegian Excel, XLSX and Parquet of a figure table (each built only when asked
    for, every cell safe to open in a spreadsheet); each download is audited."""
    from lydlogg.exports import csv_bytes, xlsx_bytes

    first, excel, xlsx, parquet = st.columns(4)
    first.download_button(
        "Last ned CSV", lambda: csv_bytes(df), file_name=f"{name}.csv", mime="text/csv", key=f"csv-{name}",
        on_click=service.record_download, args=(f"figures {name} csv",),
    )  # fmt: skip
    excel.download_button(
        "CSV for Excel (;)",
        lambda: csv_bytes(df, excel=True),
        file_name=f"{name}-excel.csv",
        mime="text/csv",
        key=f"excelcsv-{name}",
        help="UTF-8 med BOM, semikolon og desimalkomma, slik norsk Excel åpner den.",
        on_click=service.record_download,
        args=(f"figures {name} excel-csv",),
    )
    xlsx.download_button(
        "Last ned XLSX",
        lambda: xlsx_bytes(df),
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx-{name}",
        on_click=service.record_download,
        args=(f"figures {name} xlsx",),
    )
    parquet.download_button(
        "Last ned Parquet",
        lambda: _parquet(df),
        file_name=f"{name}.parquet",
        mime="application/vnd.apache.parquet",
        key=f"parquet-{name}",
        on_click=service.record_download,
        args=(f"figures {name} parquet",),
    )


def _service_names(services: pd.Series) -> pd.Series:
    return services.map(SERVICE_LABELS).fillna(services).fillna("ukjent")


def _label_services(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(tjeneste=_service_names(df["service"]))


def group_labels(df: pd.DataFrame) -> pd.DataFrame:
    """``gruppe``: the row's unit, service, team or several as one label (what a chart colours by)."""
    parts = []
    if "unit" in df:
        parts.append(df["unit"].fillna(NO_UNIT).astype(str))
    if "service" in df:
        parts.append(_service_names(df["service"]))
    if "team" in df:
        parts.append(df["team"].fillna(NO_TEAM).astype(str))
    if not parts:
        return df.assign(gruppe="Alle")
    label = parts[0]
    for part in parts[1:]:
        label = label + " · " + part
    return df.assign(gruppe=label)


def _group_title(df: pd.DataFrame) -> str:
    return (
        " og ".join(t for c, t in (("unit", "Enhet"), ("service", "Tjeneste"), ("team", "Lag")) if c in df)
        or "Gruppe"
    )


def trend_chart(trends: pd.DataFrame, metric_id: str) -> alt.Chart:
    """One criterion by month: a line per group (service, team or both), dashed by source."""
    metric = _METRIC[metric_id]
    data = group_labels(trends[trends["metric"] == metric_id])
    data = data.assign(kilde=data["source"].map(SOURCES))
    title = _group_title(trends)
    axis = alt.Axis(format="%") if metric.kind == "share" else alt.Axis()
    return norwegian(
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="Måned"),
            y=alt.Y("value:Q", title=metric.label, axis=axis),
            color=alt.Color("gruppe:N", title=title),
            strokeDash=alt.StrokeDash("kilde:N", title="Kilde"),
            tooltip=[
                alt.Tooltip("month:O", title="Måned"),
                alt.Tooltip("gruppe:N", title=title),
                alt.Tooltip("kilde:N", title="Kilde"),
                alt.Tooltip("value:Q", title="Verdi", format=".2f"),
                alt.Tooltip("calls:Q", title="Samtaler"),
            ],
        )
    )


def coverage_chart(coverage: pd.DataFrame) -> alt.Chart:
    totals = coverage.groupby("month", as_index=False)[["calls", "sampled", "reviewed"]].sum()
    long = totals.melt("month", var_name="hva", value_name="antall")
    long["hva"] = long["hva"].map({"calls": "Alle samtaler", "sampled": "Trukket ut", "reviewed": "Vurdert"})
    return norwegian(
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Måned"),
            xOffset="hva:N",
            y=alt.Y("antall:Q", title="Samtaler", scale=alt.Scale(type="symlog")),
            color=alt.Color("hva:N", title=""),
            tooltip=[
                alt.Tooltip("month:O", title="Måned"),
                alt.Tooltip("hva:N", title="Hva"),
                alt.Tooltip("antall:Q", title="Samtaler"),
            ],
        )
    )


def recontact_chart(recontacts: pd.DataFrame) -> alt.Chart:
    data = group_labels(recontacts)
    title = _group_title(recontacts)
    long = data.melt(["month", "gruppe"], ["recontact_rate", "unrecognised_share"], "hva", "andel")
    long["hva"] = long["hva"].map(
        {"recontact_rate": "Rekontakter av alle", "unrecognised_share": "Ikke fanget opp av rekontakter"}
    )
    return norwegian(
        alt.Chart(long.dropna())
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="Måned"),
            y=alt.Y("andel:Q", title="Andel", axis=alt.Axis(format="%")),
            color=alt.Color("gruppe:N", title=title),
            strokeDash=alt.StrokeDash("hva:N", title=""),
            tooltip=[
                alt.Tooltip("month:O", title="Måned"),
                alt.Tooltip("gruppe:N", title=title),
                alt.Tooltip("hva:N", title="Hva"),
                alt.Tooltip("andel:Q", title="Andel", format=".1%"),
            ],
        )
    )


def strictness_chart(strictness: pd.DataFrame) -> alt.Chart:
    return norwegian(
        alt.Chart(strictness)
        .mark_bar()
        .encode(
            x=alt.X("mean_offset:Q", bin=alt.Bin(maxbins=20), title="Gjennomsnittlig avvik (poeng)"),
            y=alt.Y("count():Q", title="Vurderere"),
        )
    )


def operator_chart(figures: pd.DataFrame, metric_id: str) -> alt.Chart:
    """An operator's figure by month beside their team's median (the service's, without a team)."""
    metric = _METRIC[metric_id]
    data = group_labels(figures).assign(hvem=figures["row"].map(_ROWS))
    axis = alt.Axis(format="%") if metric.kind == "share" else alt.Axis()
    return norwegian(
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="Måned"),
            y=alt.Y(f"{metric_id}:Q", title=metric.label, axis=axis),
            color=alt.Color("hvem:N", title=""),
            strokeDash=alt.StrokeDash("gruppe:N", title="Tjeneste og lag"),
            tooltip=[
                alt.Tooltip("month:O", title="Måned"),
                alt.Tooltip("gruppe:N", title="Tjeneste og lag"),
                alt.Tooltip("hvem:N", title="Rad"),
                alt.Tooltip(f"{metric_id}:Q", title="Verdi", format=".2f"),
                alt.Tooltip("calls:Q", title="Samtaler"),
            ],
        )
    )


def _metric_choice(key: str) -> str:
    return st.selectbox("Kriterium", [m.id for m in METRICS], format_func=lambda m: _METRIC[m].label, key=key)


def _own_figures(service: DashboardService) -> None:
    figures = service.operator_figures()
    st.caption(
        "Dine tall ved siden av medianen for operatørene i samme lag og tjeneste "
        "(i samme tjeneste for samtaler uten lag)."
    )
    if figures.empty:
        st.info("Ingen samtaler med dine tall ennå.")
        return
    st.altair_chart(operator_chart(figures, _metric_choice("kriterium-egen")), width="stretch")
    table(figures)
    downloads(service, figures, "mine-tall")
    st.subheader("Samtalemål")
    _conversation(service)


def _per_operator(service: DashboardService) -> None:
    figures = service.operator_figures()
    operators = sorted(figures["operator_id"].dropna().unique())
    if not operators:
        st.info("Ingen samtaler med operatør ennå.")
        return
    chosen = st.selectbox("Operatør", operators, key="operator")
    mine = team_view(figures[figures["row"] == "operator"].drop(columns="row"), chosen)
    st.altair_chart(operator_chart(mine, _metric_choice("kriterium-operator")), width="stretch")
    table(figures)
    downloads(service, figures, "per-operator")


CONVERSATION_LABELS = {
    "operator_id": "operatør",
    "service": "tjeneste",
    "calls": "samtaler",
    "exact_calls": "stereo (eksakt)",
    "staff_talk_s": "personalets taletid (s)",
    "caller_talk_s": "innringers taletid (s)",
    "talk_ratio": "taleforhold personal/innringer",
    "silence_share": "andel stillhet",
    "longest_silence_s": "lengste stillhet (s)",
    "overlap_s": "overlapp (s)",
    "interruptions_by_staff": "avbrudd av personal",
    "interruptions_by_caller": "avbrudd av innringer",
    "time_to_first_question_s": "tid til første spørsmål (s)",
    "longest_staff_monologue_s": "lengste monolog personal (s)",
}


def _conversation(service: DashboardService) -> None:
    figures = service.conversation(("operator_id", "service"))
    if figures.empty:
        st.info("Ingen transkriberte samtaler med roller ennå.")
        return
    named = figures.assign(service=_service_names(figures["service"])) if "service" in figures else figures
    shown = shown_frame(named, shares=["silence_share"])
    st.dataframe(shown.rename(columns=CONVERSATION_LABELS), hide_index=True, width="stretch")
    st.caption(
        "Snitt per samtale. Eksakt på stereoopptak (én part per kanal); på mono er talerskiftene anslått "
        "av diariseringen. Overlapp teller fra 0,3 s; avbrudd: hvem som begynte å snakke mens den andre snakket."
    )
    downloads(service, figures, "samtalemal")


DATASET_LABELS = {
    "calls": "Samtaler (med samtalemål)",
    "suggestions": "Automatiske forslag",
    "reviews": "Vurderinger (vurderer pseudonymisert)",
    "episodes": "Episoder og rekontakter",
}


def _data_downloads(service: DashboardService, key_file: Path) -> None:
    """The review data as files (the same tables as `lydlogg export`); each download is audited."""
    from lydlogg.exports import export_bytes

    if not allowed(service.user, "export"):
        st.info("Denne rollen kan ikke laste ned samtaledata.")
        return
    name = st.selectbox("Datasett", list(DATASET_LABELS), format_func=DATASET_LABELS.get, key="datasett")
    st.caption("Kolonnene er beskrevet i README. Hver nedlasting føres i revisjonsloggen.")

    def offer(column, label: str, fmt: str, suffix: str, mime: str, excel: bool = False) -> None:  # noqa: ANN001
        column.download_button(
            label,
            lambda: export_bytes(service.db_path, name, fmt, user=service.user, key_file=key_file,
                                 excel=excel, window_hours=service.window_hours),  # audited when built
            file_name=f"{name}{suffix}", mime=mime, key=f"data-{fmt}{'-excel' if excel else ''}-{name}",
        )  # fmt: skip

    first, excel, xlsx, parquet = st.columns(4)
    offer(first, "CSV", "csv", ".csv", "text/csv")
    offer(excel, "CSV for Excel (;)", "csv", "-excel.csv", "text/csv", excel=True)
    offer(xlsx, "XLSX", "xlsx", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    offer(parquet, "Parquet", "parquet", ".parquet", "application/vnd.apache.parquet")


def _url_choice(key: str, options: list[str], label: str, **kwargs) -> list[str]:
    """A multiselect whose choice lives in the URL under ``key`` (so a link can be shared)."""
    wanted = [o for o in st.query_params.get_all(key) if o in options]
    chosen = st.multiselect(label, options, default=wanted, key=key, **kwargs)
    st.query_params.pop(key, None)
    if chosen:
        st.query_params[key] = chosen
    return chosen


def _filtered(overview: Overview) -> Overview:
    """The overview narrowed to the chosen units, services and teams, added up by the chosen grouping."""
    units_present = overview.coverage["unit"]
    unit_options = sorted(units_present.dropna().unique()) + ([NO_UNIT] if units_present.isna().any() else [])
    units = (
        _url_choice("enhet", unit_options, "Enhet", placeholder="Alle enheter")
        if len(unit_options) > 1
        else []
    )
    left, middle, right = st.columns(3)
    with left:
        services = _url_choice(
            "tjeneste", sorted(overview.coverage["service"].dropna().unique()), "Tjeneste",
            format_func=lambda s: SERVICE_LABELS.get(s, s), placeholder="Alle tjenester",
        )  # fmt: skip
    teams_present = overview.coverage["team"]
    team_options = sorted(teams_present.dropna().unique()) + ([NO_TEAM] if teams_present.isna().any() else [])
    with middle:
        teams = _url_choice("lag", team_options, "Lag", placeholder="Alle lag")
    with right:
        asked = st.query_params.get("per", "tjeneste")
        per = st.radio(
            "Vis per", list(GROUPINGS), index=list(GROUPINGS).index(asked) if asked in GROUPINGS else 0,
            format_func=_GROUPING_LABELS.__getitem__, horizontal=True, key="per",
        )  # fmt: skip
        st.query_params["per"] = per

    def pick(df: pd.DataFrame) -> pd.DataFrame:
        if services:
            df = df[df["service"].isin(services)]
        if teams:
            df = df[df["team"].fillna(NO_TEAM).isin(teams)]
        if units:
            df = df[df["unit"].fillna(NO_UNIT).isin(units)]
        return df

    narrowed = dataclasses.replace(
        overview.in_units([None if u == NO_UNIT else u for u in units]) if units else overview,
        trends=pick(overview.trends), coverage=pick(overview.coverage), recontacts=pick(overview.recontacts),
    )  # fmt: skip
    return narrowed.grouped(GROUPINGS[per])


def _scorer_agreement(service: DashboardService) -> None:
    """Agreement between the automatic suggestion and the reviewers' saved value, per criterion."""
    figures = service.scorer_agreement()
    if figures.empty:
        st.info("Ingen kollegavurderinger med forslag ennå.")
        return
    s = service.settings
    for row in figures[figures["under_grense"]].itertuples():
        st.warning(
            f"{row.criterion_id}: forslaget stemmer med vurderingen i bare {row.exact:.0%} av de siste "
            f"{row.reviews} vurderingene (grense {s.scorer_agreement_min:.0%})."
        )
    st.caption(
        "Eksakt: andel der forslaget er lik lagret verdi; innen én: høyst ett poeng fra; kappa: vektet. "
        f"«siste» er de siste {s.scorer_agreement_last_n} vurderingene per kriterium."
    )
    st.dataframe(shown_frame(figures, shares=["exact", "within_one"]).rename(columns={"criterion_id": "Kriterium", "period": "Periode", "reviews": "Vurderinger",
                                  "exact": "Eksakt", "within_one": "Innen én", "kappa": "Kappa",
                                  "under_grense": "Under grense"}), hide_index=True)  # fmt: skip
    downloads(service, figures, "forslag-mot-vurdering")


def render(service: DashboardService, key_file: Path) -> None:
    """The overview page; ``key_file`` is the pseudonym key the data downloads use (settings.key_file)."""
    st.title("Oversikt")
    if not service.available():
        st.info(NO_DATABASE)
        return
    if not allowed(service.user, "view_dashboard"):
        st.info("Denne rollen har ikke tilgang til oversikten.")
        return
    demo = service.demo_data()
    note = demo_note(demo)
    if note is not None:
        st.info(note)
    if service.own_only:
        _own_figures(service)
        return
    overview = service.overview()  # the service keeps the figures while the data are unchanged
    if overview.coverage.empty:
        st.info("Ingen daterte samtaler ennå.")
        return
    whole, overview = overview, _filtered(overview)  # the monthly report covers everything

    quality, coverage, recontacts, strictness, per_operator, talk, report, data, scorers = st.tabs(
        [
            "Kvalitet",
            "Vurderingsdekning",
            "Rekontakter",
            "Vurderernes strenghet",
            "Per operatør",
            "Samtalemål",
            "Månedsrapport",
            "Data",
            "Forslag mot vurdering",
        ]
    )
    with data:
        _data_downloads(service, key_file)
    with quality:
        trends = overview.trends
        st.altair_chart(trend_chart(trends, _metric_choice("kriterium")), width="stretch")
        s = overview.settings
        st.caption(
            f"Konkrete råd ved forverring: verdi {s.worsening_concrete_min} eller høyere (0–4). Sikkerhetsnett: "
            f"minst {s.safety_netting_min} av fem elementer. Heltrukket og stiplet linje skiller kollegavurdering, "
            "automatisk forslag og samlet (vurdering der den finnes, ellers forslag)."
        )
        downloads(service, trends, "kvalitet")
    with coverage:
        shown = overview.coverage
        st.altair_chart(coverage_chart(shown), width="stretch")
        table(shown)
        downloads(service, shown, "dekning")
    with recontacts:
        shown = overview.recontacts
        st.altair_chart(recontact_chart(shown), width="stretch")
        st.caption(
            f"Rekontakt: samme pasient, eller samme telefon uten en annen pasient, innen {overview.window_hours:.0f}"
            " timer etter forrige kontakt."
        )
        table(shown)
        downloads(service, shown, "rekontakter")
    with strictness:
        if overview.strictness.empty:
            st.info("Ingen samtaler er vurdert av mer enn én kollega ennå.")
        else:
            st.altair_chart(strictness_chart(overview.strictness), width="stretch")
            st.caption(
                "Negativt avvik: strengere enn snittet av alle vurderinger av samme samtale og kriterium."
            )
            table(overview.strictness)
            downloads(service, overview.strictness, "strenghet")
    with scorers:
        _scorer_agreement(service)
    with per_operator:
        _per_operator(service)
    with talk:
        _conversation(service)
    with report:
        months = sorted(whole.coverage["month"].unique(), reverse=True)
        month = st.selectbox("Måned", months, format_func=month_label, key="rapportmaned")
        page = monthly_html(whole, month, demo_calls=demo.in_month(month))
        st.download_button("Last ned månedsrapport (HTML)", page, file_name=f"manedsrapport-{month}.html",
                           mime="text/html", key="rapport-html", on_click=service.record_download,
                           args=("monthly report html", month))  # fmt: skip
        if not pdf_available():
            st.caption(
                "PDF er ikke tilgjengelig på denne maskinen (WeasyPrint/Pango mangler); skriv ut HTML-siden."
            )
        else:
            st.download_button(
                "Last ned som PDF",
                lambda: monthly_pdf(whole, month, demo_calls=demo.in_month(month)),
                file_name=f"manedsrapport-{month}.pdf",
                mime="application/pdf",
                key="rapport-pdf",
                on_click=service.record_download,
                args=("monthly report pdf", month),
            )
