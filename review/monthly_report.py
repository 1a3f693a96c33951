"""The monthly quality report (HTML, and PDF through WeasyPrint) built from the overview's figures.

It shows one month by service: review coverage, the criterion figures from each source, re-contacts
and a summary of reviewer strictness without names; and, where calls have teams, coverage and the
combined criterion figures by team. It holds no per-operator figures, so it may be
shared beyond the leaders. Everything user-provided (the title, service names) is escaped.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from lydlogg.episode_report import html_to_pdf
from review.dashboard import METRICS, SOURCES, Overview

__all__ = ["month_label", "monthly_html", "monthly_pdf"]

_MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember")  # fmt: skip
_SERVICE = {"lvs": "Legevaktsentral", "amk": "AMK", "legevaktlege": "Legevaktlege", "fastlege": "Fastlege"}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #999; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #eee; }
.note { color: #555; font-size: 0.9em; }
@media print { body { margin: 1cm; } }
"""


def month_label(month: str) -> str:
    """``2026-01`` as ``Januar 2026``."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1].capitalize()} {year}"


def _number(value: object, kind: str) -> str:
    if value is None or pd.isna(value):
        return "–"
    if kind == "share":
        return f"{100 * float(value):.0f} %"
    if kind == "mean":
        return f"{float(value):.2f}".replace(".", ",")
    return f"{int(value):,}".replace(",", " ")


def _service(value: object) -> str:
    return escape(
        _SERVICE.get(str(value), str(value)) if value is not None and not pd.isna(value) else "ukjent"
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def monthly_html(
    overview: Overview,
    month: str,
    *,
    title: str = "Månedsrapport: kvalitet i telefonhåndteringen",
) -> str:
    """The report for ``month`` (YYYY-MM) from :meth:`review.dashboard.DashboardService.overview`."""
    settings = overview.settings
    by_team = overview.grouped(["team"]) if "team" in overview.grouping else None
    if overview.grouping != ("service",):
        overview = overview.grouped(["service"])
    coverage = overview.coverage[overview.coverage["month"] == month]
    if coverage.empty:
        raise ValueError(
            f"no calls in {month}; months with calls: {', '.join(sorted(overview.coverage['month']))}"
        )
    trends = overview.trends[overview.trends["month"] == month]
    recontacts = overview.recontacts[overview.recontacts["month"] == month]
    body = [f"<h1>{escape(title)}</h1>", f"<h2>{escape(month_label(month))}</h2>"]

    body.append("<h3>Vurderingsdekning</h3>")
    body.append(
        _table(
            ["Tjeneste", "Samtaler", "Trukket ut", "Vurdert av kollega", "Trukket og vurdert", "Egenvurdert"],
            [
                [_service(r.service)] + [_number(v, "count") for v in
                 (r.calls, r.sampled, r.reviewed, r.sampled_reviewed, r.self_reviewed)]
                for r in coverage.itertuples()
            ],
        )
    )  # fmt: skip

    body.append("<h3>Kvalitet etter kriterium</h3>")
    rows = []
    for service in sorted(trends["service"].dropna().unique()):
        for m in METRICS:
            cells = [f"{_service(service)}: {escape(m.label)}"]
            for source in SOURCES:
                hit = trends[
                    (trends["service"] == service) & (trends["metric"] == m.id) & (trends["source"] == source)
                ]
                cells.append(
                    "–"
                    if hit.empty
                    else f"{_number(hit['value'].iloc[0], m.kind)} (n={int(hit['calls'].iloc[0])})"
                )
            rows.append(cells)
    body.append(_table(["Tjeneste og kriterium", *SOURCES.values()], rows))
    body.append(
        f'<p class="note">Konkrete råd ved forverring: andel samtaler med verdi {settings.worsening_concrete_min} '
        f"eller høyere (0–4), der kriteriet er aktuelt. Sikkerhetsnett: andel med minst "
        f"{settings.safety_netting_min} av de fem elementene. «Samlet» bruker kollegavurderingen der samtalen er "
        "vurdert, ellers det automatiske forslaget.</p>"
    )

    body.append("<h3>Rekontakter</h3>")
    body.append(
        _table(
            ["Tjeneste", "Samtaler", "Rekontakter", "Andel", "Ikke fanget opp"],
            [
                [_service(r.service), _number(r.calls, "count"), _number(r.recontacts, "count"),
                 _number(r.recontact_rate, "share"), _number(r.unrecognised, "count")]
                for r in recontacts.itertuples()
            ],
        )
    )  # fmt: skip
    body.append(
        f'<p class="note">Rekontakt: samme pasient, eller samme telefon uten en annen pasient, innen '
        f"{overview.window_hours:.0f} timer etter forrige kontakt. Ikke fanget opp: operatøren spurte "
        "ikke om den tidligere kontakten.</p>"
    )

    if by_team is not None:
        body.extend(_team_section(by_team, month))

    strictness = overview.strictness
    body.append("<h3>Vurderernes strenghet</h3>")
    if strictness.empty:
        body.append("<p>Ingen samtaler er vurdert av mer enn én kollega ennå.</p>")
    else:
        body.append(
            f"<p>{len(strictness)} vurderere med felles samtaler. Gjennomsnittlig avvik fra snittet av alle "
            f"vurderinger av samme samtale og kriterium: fra {_number(strictness['mean_offset'].min(), 'mean')} "
            f"til {_number(strictness['mean_offset'].max(), 'mean')} poeng (negativt er strengere).</p>"
        )
    return (
        '<!DOCTYPE html><html lang="nb"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{''.join(body)}</body></html>"
    )


def _team_section(by_team: Overview, month: str) -> list[str]:
    """Coverage and the combined criterion figures per team; nothing when no call has a team."""
    coverage = by_team.coverage[by_team.coverage["month"] == month]
    if coverage["team"].isna().all():
        return []
    trends = by_team.trends[(by_team.trends["month"] == month) & (by_team.trends["source"] == "combined")]
    rows = []
    for r in coverage.itertuples():
        same = trends["team"].isna() if pd.isna(r.team) else trends["team"] == r.team
        cells = [escape("uten lag" if pd.isna(r.team) else str(r.team)), _number(r.calls, "count"),
                 _number(r.reviewed, "count")]  # fmt: skip
        for m in METRICS:
            hit = trends[same & (trends["metric"] == m.id)]
            cells.append("–" if hit.empty else _number(hit["value"].iloc[0], m.kind))
        rows.append(cells)
    return [
        "<h3>Per lag</h3>",
        _table(["Lag", "Samtaler", "Vurdert av kollega", *(m.label for m in METRICS)], rows),
        '<p class="note">Samlet kilde: kollegavurderingen der samtalen er vurdert, ellers det automatiske '
        "forslaget. Laget er samtalens eget, ellers operatørens.</p>",
    ]


def monthly_pdf(overview: Overview, month: str, *, title: str | None = None) -> bytes:
    """The same report as PDF (raises :class:`lydlogg.episode_report.PdfUnavailableError` without WeasyPrint)."""
    return html_to_pdf(
        monthly_html(overview, month) if title is None else monthly_html(overview, month, title=title)
    )
