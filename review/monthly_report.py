"""The monthly quality report (HTML, and PDF through WeasyPrint) built from the overview's figures.

It shows one month by service: review coverage, the criterion figures from each source, re-contacts
and a summary of reviewer strictness without names; and, where calls have teams, coverage and the
combined criterion figures by team. It holds no per-operator figures, so it may be
shared beyond the leaders. The template ``monthly_report.html`` escapes every value.
"""

from __future__ import annotations

import pandas as pd

from lydlogg.documents import html_to_pdf, render_html
from lydlogg.formatting import MISSING, is_missing, mean_text, number_text
from lydlogg.vocabulary import SERVICE_NAMES
from review.dashboard import METRICS, SOURCES, Overview

__all__ = ["month_label", "monthly_html", "monthly_pdf"]

_MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember")  # fmt: skip
_SERVICE = SERVICE_NAMES


def month_label(month: str) -> str:
    """``2026-01`` as ``Januar 2026``."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1].capitalize()} {year}"


def _number(value: object, kind: str) -> str:
    return mean_text(value, 2) if kind == "mean" else number_text(value, kind)


def _service(value: object) -> str:
    return "ukjent" if is_missing(value) else _SERVICE.get(str(value), str(value))


def monthly_html(
    overview: Overview,
    month: str,
    *,
    title: str = "Månedsrapport: kvalitet i telefonhåndteringen",
    demo_calls: int = 0,
) -> str:
    """The report for ``month`` (YYYY-MM) from :meth:`review.dashboard.DashboardService.overview`,
    from the template ``monthly_report.html``, which escapes every value. ``demo_calls``: how many
    of the month's calls are the demo's invented history (:meth:`DemoData.in_month`); the report
    then says so above its figures, as Oversikt does."""
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
    quality = []
    for service in sorted(trends["service"].dropna().unique()):
        for m in METRICS:
            cells = [f"{_service(service)}: {m.label}"]
            for source in SOURCES:
                hit = trends[
                    (trends["service"] == service) & (trends["metric"] == m.id) & (trends["source"] == source)
                ]
                cells.append(
                    MISSING
                    if hit.empty
                    else f"{_number(hit['value'].iloc[0], m.kind)} (n={int(hit['calls'].iloc[0])})"
                )
            quality.append(cells)
    strictness = overview.strictness
    month_calls = int(coverage["calls"].sum())
    demo = (
        f"Demodata: {number_text(demo_calls)} av {number_text(month_calls)} samtaler denne måneden er "
        "oppdiktede eksempelsamtaler, skrevne utskrifter uten lyd – ikke ekte samtaler."
        if demo_calls
        else None
    )
    return render_html(
        "monthly_report.html",
        title=title,
        month=month_label(month),
        demo=demo,
        coverage=[
            [_service(r.service)] + [_number(v, "count") for v in
             (r.calls, r.sampled, r.reviewed, r.sampled_reviewed, r.self_reviewed)]
            for r in coverage.itertuples()
        ],
        sources=list(SOURCES.values()),
        quality=quality,
        worsening_min=settings.worsening_concrete_min,
        safety_min=settings.safety_netting_min,
        recontacts=[
            [_service(r.service), _number(r.calls, "count"), _number(r.recontacts, "count"),
             _number(r.recontact_rate, "share"), _number(r.unrecognised, "count")]
            for r in recontacts.itertuples()
        ],
        window_hours=f"{overview.window_hours:.0f}",
        teams=_team_rows(by_team, month) if by_team is not None else [],
        metric_labels=[m.label for m in METRICS],
        strictness=None if strictness.empty else {
            "reviewers": len(strictness),
            "low": _number(strictness["mean_offset"].min(), "mean"),
            "high": _number(strictness["mean_offset"].max(), "mean"),
        },
    )  # fmt: skip


def _team_rows(by_team: Overview, month: str) -> list[list[str]]:
    """Coverage and the combined criterion figures per team; nothing when no call has a team."""
    coverage = by_team.coverage[by_team.coverage["month"] == month]
    if coverage["team"].isna().all():
        return []
    trends = by_team.trends[(by_team.trends["month"] == month) & (by_team.trends["source"] == "combined")]
    rows = []
    for r in coverage.itertuples():
        same = trends["team"].isna() if pd.isna(r.team) else trends["team"] == r.team
        cells = ["uten lag" if pd.isna(r.team) else str(r.team), _number(r.calls, "count"),
                 _number(r.reviewed, "count")]  # fmt: skip
        for m in METRICS:
            hit = trends[same & (trends["metric"] == m.id)]
            cells.append(MISSING if hit.empty else _number(hit["value"].iloc[0], m.kind))
        rows.append(cells)
    return rows


def monthly_pdf(overview: Overview, month: str, *, title: str | None = None, demo_calls: int = 0) -> bytes:
    """The same report as PDF (raises :class:`lydlogg.documents.PdfUnavailableError` without WeasyPrint)."""
    if title is None:
        return html_to_pdf(monthly_html(overview, month, demo_calls=demo_calls))
    return html_to_pdf(monthly_html(overview, month, title=title, demo_calls=demo_calls))
