"""Commands that write review data out: transcripts in their formats, flat tables, data sets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lydlogg.cli.common import Failure, acting_user, cli_actor, leader_as, with_settings
from lydlogg.vocabulary import SERVICES

if TYPE_CHECKING:
    from lydlogg.settings import Settings


@click.command("export-transcript")
@click.argument("call_ids", nargs=-1)
@click.option(
    "--all", "all_calls", is_flag=True, help="Every transcribed call (narrow with --since, --service)."
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Calls started on or after this date."
)
@click.option(
    "--service",
    type=click.Choice(SERVICES),
    default=None,
    help="Only this service.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["json", "vtt", "srt", "txt", "rttm", "all"]),
    default="json",
    show_default=True,
    help="rttm: speaker turns in NIST RTTM; all: every format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    default=None,
    help="A folder (one <call_id>.<format> file per call and format); for one call and one format also a file.",
)
@with_settings
def export_transcript(
    call_ids: tuple[str, ...],
    all_calls: bool,
    since: Any,
    service: str | None,
    fmt: str,
    output: Path | None,
    settings: Settings,
) -> None:
    """Export the newest transcripts of CALL_IDS (or --all / --since / --service).

    One call and one format without -o prints to standard output.
    """
    from lydlogg.db import connect
    from lydlogg.store import CallNotFoundError, load_transcript
    from lydlogg.transcript_export import TranscriptSelection, export_transcripts, select_calls
    from transcription.formats import TRANSCRIPT_FORMATS, render

    if not call_ids and not (all_calls or since or service):
        raise click.UsageError("give CALL_IDS, or --all / --since / --service")
    formats = list(TRANSCRIPT_FORMATS) if fmt == "all" else [fmt]
    selection = TranscriptSelection(call_ids, all_calls, since.date() if since else None, service)
    username = cli_actor()
    single = len(call_ids) == 1 and not (all_calls or since or service) and len(formats) == 1
    if single and (output is None or not output.is_dir()):
        from lydlogg.audit import record
        from lydlogg.transcript_export import stored_turns

        with connect(settings.db_path) as con:
            try:
                transcript = load_transcript(con, call_ids[0])
            except CallNotFoundError as e:
                raise Failure(str(e)) from e
            turns = stored_turns(con, call_ids[0]) if fmt == "rttm" else []
            record(con, username, "export", "call", call_ids[0], fmt)
        text = render(transcript, fmt, turns)
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
        return
    if output is None:
        raise click.UsageError("several calls or formats need -o DIR")
    with connect(settings.db_path) as con:
        ids = select_calls(con, selection)
        report = export_transcripts(con, ids, formats, output, username)
    click.echo(f"wrote {len(report.written)} files for {len(ids)} calls to {output}")
    for failure in report.failures:
        click.echo(f"  failed: {failure}", err=True)
    if report.failures:
        sys.exit(1)


@click.group("export")
def export_group() -> None:
    """Review data as flat tables (calls, suggestions, reviews, episodes; columns in the README) and
    data sets built from reviewers' work (scorer feedback, ASR clips)."""


def _dataset_command(dataset_name: str) -> None:
    @export_group.command(dataset_name)
    @click.option(
        "--format", "fmt", type=click.Choice(["csv", "parquet", "xlsx"]), default="csv", show_default=True
    )
    @click.option(
        "--excel", is_flag=True, help="CSV for Norwegian Excel: UTF-8 with BOM, ';' and decimal comma."
    )
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="File to write.",
    )
    @click.option(
        "--as",
        "username",
        default=None,
        help="Export with this user's access rules; asks for their password; audited in their name.",
    )
    @with_settings
    def command(fmt: str, excel: bool, output: Path, username: str | None, settings: Settings) -> None:
        from lydlogg.access import AccessDenied
        from lydlogg.conversation import add_call_measures
        from lydlogg.db import connect
        from lydlogg.exports import ExcelUnavailable, export_dataset
        from lydlogg.pseudonym import load_or_create_key

        if excel and fmt != "csv":
            raise click.UsageError("--excel applies to --format csv")
        key = load_or_create_key(settings.key_file)
        user = acting_user(settings, username) if username else None
        with connect(settings.db_path) as con:
            try:
                rows = export_dataset(
                    con, dataset_name, fmt, output, key=key, username=username or cli_actor(),
                    user=user, excel=excel, window_hours=settings.episodes.window_hours, extra=add_call_measures,
                )  # fmt: skip
            except AccessDenied as e:
                raise Failure(f"{username} may not export review data") from e
            except ExcelUnavailable as e:
                raise Failure(str(e)) from e
        click.echo(f"{output}: {dataset_name}, {rows} rows")

    command.help = f"The {dataset_name} as one flat table (columns in the README)."


for _name in ("calls", "suggestions", "reviews", "episodes"):
    _dataset_command(_name)


@export_group.command("scorer-feedback")
@leader_as("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON Lines file to write (default: standard output).")  # fmt: skip
@with_settings
def export_scorer_feedback(username: str, output: Path | None, settings: Settings) -> None:
    """Every suggestion a reviewer overrode: transcript span, suggestion, reviewer's value and reason."""
    from lydlogg.access import AccessDenied
    from review.scorer_feedback import scorer_feedback

    user = acting_user(settings, username)
    try:
        rows = scorer_feedback(settings.db_path, user)
    except AccessDenied as e:
        raise Failure(f"{username} may not export scorer feedback (leder or veileder only)") from e
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {len(rows)} overrides")
    else:
        click.echo(text, nl=False)


@export_group.command("asr-dataset")
@leader_as("export")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (audiofolder layout: train/metadata.csv and 16 kHz WAV clips).")  # fmt: skip
@with_settings
def export_asr_dataset_cmd(username: str, output: Path, settings: Settings) -> None:
    """Reviewer-corrected segments as 16 kHz clips with their text, for fine-tuning: as they are where a
    reviewer marked the text free of identifiers, else with the anonymiser's placeholders and tone."""
    from lydlogg.access import AccessDenied
    from lydlogg.asr_dataset import export_asr_dataset

    user = acting_user(settings, username)
    try:
        report = export_asr_dataset(settings.db_path, user, output, settings.anonymise,
                                    dual_mono_correlation=settings.audio.dual_mono_correlation)  # fmt: skip
    except AccessDenied as e:
        raise Failure(f"{username} may not export the ASR data set (leder or veileder only)") from e
    click.echo(
        f"{output}: {report.clips} clips ({report.marked_free} marked free of identifiers by a reviewer,"
        f" {report.anonymised} anonymised)"
    )
    for path in report.skipped_files:
        click.echo(f"  skipped (unreadable): {path}", err=True)
    if report.skipped_files:
        sys.exit(1)
