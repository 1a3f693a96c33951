"""Commands that read the review data: status, call lists, search, advice, re-contacts, reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lydlogg.cli.common import Failure, acting_user, cli_actor, plain, with_settings
from lydlogg.vocabulary import SEARCH_ROLES, SERVICES

if TYPE_CHECKING:
    from lydlogg.settings import Settings


@click.command()
@with_settings
def status(settings: Settings) -> None:
    """Summarise the database: calls by status, audio minutes, open failures, the last run."""
    from lydlogg.db import connect
    from lydlogg.store import status_summary

    with connect(settings.db_path) as con:
        s = status_summary(con)
    click.echo(f"database     {settings.db_path} (schema v{s.schema_version})")
    click.echo(f"model        {settings.asr.model}")
    click.echo(
        f"calls        {s.calls} ({', '.join(f'{k} {v}' for k, v in sorted(s.by_status.items())) or 'none'})"
    )
    click.echo(f"audio        {s.audio_minutes:.1f} min, transcribed {s.transcribed_minutes:.1f} min")
    if s.last_run:
        r = s.last_run
        state = "finished" if r["finished_at"] else "interrupted or running"
        click.echo(
            f"last run     {str(r['run_id'])[:8]} {state}: {r['files_done']}/{r['files_total']} done, "
            f"{r['files_failed']} failed ({r['model']})"
        )
    click.echo(f"failures     {len(s.open_failures)} open")
    for call_id, path, stage, reason in s.open_failures:
        click.echo(f"  [{stage}] {call_id or path}: {reason}")


def _unit_scope(units: tuple[str, ...]) -> Any:
    """The calls a command run from the shell reads: every call, or those of ``units``."""
    from lydlogg.access import CallScope
    from lydlogg.metadata import check_unit

    try:
        return CallScope(units=tuple(check_unit(u) for u in units)) if units else CallScope()
    except ValueError as e:
        raise Failure(f"--unit: {e}") from e


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--unit", "units", multiple=True, metavar="UNIT",
    help="Only calls of this unit (legevakt or site); repeat for several (default: every call).",
)  # fmt: skip
@with_settings
def calls(fmt: str, units: tuple[str, ...], settings: Settings) -> None:
    """List calls: id, source file, duration, channels and status."""
    from lydlogg.audit import record
    from lydlogg.db import connect
    from lydlogg.store import list_calls

    with connect(settings.db_path) as con:
        df = list_calls(con, scope=_unit_scope(units))
        record(con, cli_actor(), "cli_list_calls", "calls", None, f"{len(df)} calls")
    columns = [
        "call_id",
        "started_at",
        "service",
        "source_file",
        "duration_s",
        "channels",
        "layout",
        "status",
    ]
    df = df[columns]
    if fmt == "json":
        records = [{k: plain(v) for k, v in record.items()} for record in df.to_dict(orient="records")]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if df.empty:
        click.echo("no calls yet; run `lydlogg ingest`")
        return
    view = df.assign(
        source_file=df["source_file"].map(lambda p: Path(p).name if isinstance(p, str) else "-"),
        duration_s=df["duration_s"].map(lambda d: f"{d:.1f}" if d == d else "-"),
        started_at=df["started_at"].map(
            lambda t: t.strftime("%Y-%m-%d %H:%M") if t is not None and t == t else "-"
        ),
    )
    view = view.astype(object).where(view.notna(), "-")  # a call without audio has no channels (Int32)
    click.echo(view.to_string(index=False))


@click.command()
@click.argument("words", nargs=-1)
@click.option("--role", type=click.Choice(list(SEARCH_ROLES)), default=None,
              help="Only segments said by this role.")  # fmt: skip
@click.option("--without", default="", help="Words no staff segment of the call holds (e.g. 113).")
@click.option("--service", type=click.Choice(SERVICES), default=None)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Calls on or after this date.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Calls on or before this date."
)
@click.option("--operator", "operator_id", default=None, help="Only this operator's calls.")
@click.option("--criterion", default=None, metavar="ID=VALUE",
              help="A criterion's value (a reviewer's, else the suggestion's); VALUE may be 'none'.")  # fmt: skip
@click.option("--reviewed/--unreviewed", default=None, help="Only calls with (without) a human review.")
@click.option("--flagged", is_flag=True, help="Only re-contacts nobody recognised (the inbox's flag).")
@click.option("--poor-quality", is_flag=True,
              help="Only calls whose transcript the inbox marks 'dårlig' (heard badly: estimated word accuracy "
                   "below transcript_quality.poor_below).")  # fmt: skip
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--as",
    "username",
    default=None,
    help="Search with this user's access rules; asks for their password; audited in their name.",
)
@with_settings
def search(
    words: tuple[str, ...], role: str | None, without: str, service: str | None, since: Any, until: Any,
    operator_id: str | None, criterion: str | None, reviewed: bool | None, flagged: bool, poor_quality: bool,
    limit: int, fmt: str,
    username: str | None, settings: Settings,
) -> None:  # fmt: skip
    """Find calls by what was said: every WORD (any inflection) in one segment, with filters.

    Example: lydlogg search tungpust --role caller --without 113 --service lvs --since 2026-03-01
    """
    from lydlogg.access import AccessDenied
    from lydlogg.db import connect
    from review.search import SearchQuery, search_calls

    criterion_id = criterion_value = None
    if criterion:
        criterion_id, sep, raw = criterion.partition("=")
        if not sep or not criterion_id or not (raw.lstrip("-").isdigit() or raw == "none"):
            raise click.UsageError("--criterion takes ID=VALUE, VALUE a whole number or 'none'")
        criterion_value = None if raw == "none" else int(raw)
    query = SearchQuery(
        " ".join(words), role, without, service, since.date() if since else None, until.date() if until else None,
        operator_id, criterion_id, criterion_value, reviewed, limit, flagged, poor_quality,
    )  # fmt: skip
    user = acting_user(settings, username) if username else None
    with connect(settings.db_path) as con:
        try:
            hits = search_calls(
                con, user, query, who=username or cli_actor(), marks=settings.transcript_quality
            )
        except AccessDenied as e:
            raise Failure(f"{username} may not search calls") from e
        except ValueError as e:
            raise click.UsageError(str(e)) from e
    if fmt == "json":
        records = [{k: plain(v) for k, v in r.items()} for r in hits.drop(columns="score").to_dict("records")]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if hits.empty:
        click.echo("no matching calls")
        return
    click.echo(f"{len(hits)} segments in {hits['call_id'].nunique()} calls")
    for h in hits.itertuples():
        minutes, seconds = divmod(int(h.start_s), 60)
        click.echo(f"{h.call_id} [{minutes:02d}:{seconds:02d}] {h.role or '-'}: {h.text.strip()}")


@click.command()
@click.argument("call_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@with_settings
def advice(call_id: str, fmt: str, settings: Settings) -> None:
    """Show a call's contact reason, how much of the standard worsening advice was given, and the
    SMS the caller could have received (a draft: Lydlogg sends nothing)."""
    from lydlogg.advice import (
        approval_line,
        approval_notice,
        call_advice,
        library_for,
        summary_lines,
        written_advice,
    )
    from lydlogg.db import connect
    from lydlogg.store import CallNotFoundError
    from rubrics import RubricError

    try:
        library = library_for(settings.advice)
        with connect(settings.db_path, read_only=True) as con:
            result, _call = call_advice(con, call_id, library)
    except (RubricError, CallNotFoundError) as e:
        raise Failure(str(e)) from e
    sms = written_advice(result, library, settings.advice)
    notice = approval_notice(library)
    if fmt == "json":
        doc = {"call_id": call_id, "library": library.key, "library_approved": library.approved,
               "library_approval": approval_line(library),
               "reasons": [{"reason_id": d.reason_id, "name": d.name, "confidence": d.confidence,
                            "cues": list(d.cues), "evidence": [e.as_dict() for e in d.evidence]}
                           for d in result.detected],
               "reason_ids": list(result.reason_ids), "corrected": result.corrected,
               "coverage": result.coverage.as_dict() if result.coverage else None, "sms_draft": sms}  # fmt: skip
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if notice:
        click.echo(f"NB: {notice}")
    else:
        click.echo(approval_line(library))
    for line in summary_lines(result):
        click.echo(line)
    if sms:
        click.echo(f"\nSlik kunne rådet på SMS ha sett ut ({len(sms)} tegn, utkast, sendes ikke):\n{sms}")


@click.command()
@click.option(
    "--window-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Link contacts this close in time (default: setting episodes.window_hours, 72).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@click.option(
    "--unit", "units", multiple=True, metavar="UNIT",
    help="Only calls of this unit (legevakt or site); repeat for several (default: every call).",
)  # fmt: skip
@with_settings
def recontacts(window_hours: float | None, fmt: str, units: tuple[str, ...], settings: Settings) -> None:
    """Link calls into episodes and list re-contacts nobody recognised.

    `--format csv` prints one row per call: call_id, episode_id, contact_number,
    hours_since_previous, services, flagged, and more.
    """
    from lydlogg.audit import record
    from lydlogg.csv_safety import safe_csv
    from lydlogg.db import connect
    from lydlogg.episodes import EPISODE_COLUMNS, episodes_for, summarise

    with connect(settings.db_path) as con:
        episodes = episodes_for(con, window_hours)  # the stored episodes unless another window is asked
        if units:
            where, params = _unit_scope(units).where("c")
            sql = f"SELECT c.call_id FROM calls c WHERE {where}"  # noqa: S608 - constant clauses
            seen = {r[0] for r in con.execute(sql, params).fetchall()}
            episodes = episodes[episodes["call_id"].isin(seen)].reset_index(drop=True)
        record(con, cli_actor(), "cli_recontacts", "calls", None, f"{len(episodes)} contacts, {fmt}")
    if fmt == "csv":
        out = episodes[list(EPISODE_COLUMNS)].assign(
            hours_since_previous=episodes["hours_since_previous"].round(2),
            episode_span_hours=episodes["episode_span_hours"].round(2),
            flagged=episodes["flagged"].fillna(False).astype(bool),
        )
        click.echo(safe_csv(out), nl=False)
        return
    counts = summarise(episodes)
    click.echo(
        f"contacts {counts['contacts']}, episodes with re-contacts {counts['episodes']}, "
        f"re-contacts {counts['recontacts']}, not recognised {counts['unrecognised']}"
    )
    flagged = episodes[episodes["flagged"].fillna(False).astype(bool)]
    for row in flagged.itertuples():
        click.echo(
            f"  rekontakt ikke fanget opp: {row.call_id} (kontakt {row.contact_number} av {row.episode_size} "
            f"i {row.episode_id}, {row.hours_since_previous:.1f} t etter forrige, {row.service})"
        )


@click.command("episode-summary")
@click.argument("call_id")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
@click.option(
    "--unit", "units", multiple=True, metavar="UNIT",
    help="Only the episode's contacts taken by this unit (legevakt or site); repeat for several (default: all).",
)  # fmt: skip
@with_settings
def episode_summary(call_id: str, fmt: str, output: Path, units: tuple[str, ...], settings: Settings) -> None:
    """Write the printable summary of CALL_ID's episode (for an internal review)."""
    from lydlogg.audit import record
    from lydlogg.db import connect
    from lydlogg.documents import PdfUnavailableError, html_to_pdf
    from lydlogg.episode_report import episode_html
    from lydlogg.episodes import read_episodes
    from lydlogg.store import visible_calls

    scope = _unit_scope(units)
    with connect(settings.db_path) as con:
        linked = read_episodes(con, episode_of=call_id)
        if units and not linked.empty:  # the contacts a leader of these units would see
            seen = visible_calls(con, list(linked["call_id"]), scope)
            if call_id not in seen:
                raise Failure(f"call {call_id!r} is not a call of {', '.join(scope.units or ())}")
            linked = linked[linked["call_id"].isin(seen)].reset_index(drop=True)
        record(con, cli_actor(), "cli_episode_summary", "call", call_id, fmt)
    if linked.empty:
        raise Failure(
            f"no dated call {call_id!r} in the stored episodes (an episode needs started_at;"
            " `lydlogg process --stage episodes` relinks them)"
        )
    page = episode_html(linked, timezone=settings.display.timezone)
    if fmt == "pdf":
        try:
            output.write_bytes(html_to_pdf(page))
        except PdfUnavailableError as e:
            raise Failure(str(e)) from e
    else:
        output.write_text(page, encoding="utf-8")
    click.echo(f"wrote {output}")


@click.command("monthly-report")
@click.argument("month")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
@click.option(
    "--unit", "units", multiple=True, metavar="UNIT",
    help="Only calls of this unit (legevakt or site); repeat for several (default: every call).",
)  # fmt: skip
@with_settings
def monthly_report(month: str, fmt: str, output: Path, units: tuple[str, ...], settings: Settings) -> None:
    """Write the monthly quality report for MONTH (YYYY-MM): aggregate figures only."""
    from lydlogg.audit import record
    from lydlogg.auth import User
    from lydlogg.db import connect
    from lydlogg.documents import PdfUnavailableError
    from review.dashboard import DashboardService
    from review.monthly_report import monthly_html, monthly_pdf

    # the shell account reads every unit, as regional quality does; --unit narrows it as a leader's units would
    reader = (User("cli", "Kommandolinje", "leder", units=_unit_scope(units).units or ()) if units
              else User("cli", "Kommandolinje", "regional"))  # fmt: skip
    service = DashboardService(settings.db_path, reader, settings.dashboard,
                               window_hours=settings.episodes.window_hours, cache=False)  # fmt: skip
    overview = service.overview()
    demo_calls = service.demo_data().in_month(month)
    with connect(settings.db_path) as con:
        record(con, cli_actor(), "cli_monthly_report", "report", month, fmt)
    try:
        if fmt == "pdf":
            output.write_bytes(monthly_pdf(overview, month, demo_calls=demo_calls))
        else:
            output.write_text(monthly_html(overview, month, demo_calls=demo_calls), encoding="utf-8")
    except (ValueError, PdfUnavailableError) as e:
        raise Failure(str(e)) from e
    click.echo(f"wrote {output}")
