"""The ``lydlogg`` command line.

Every command takes ``--db`` and ``--config``; the command builds typed settings and passes them
down, and stage code never parses arguments. Exit status: 0 all went well, 1 some item failed
(it is recorded and the rest was done), 2 bad usage, configuration or missing model.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lydlogg.settings import ConfigError, Settings, load_settings

log = logging.getLogger("lydlogg")


class Failure(click.ClickException):
    """An error that stops the command, with exit status 2."""

    exit_code = 2


def _setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("faster_whisper", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _location_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Settings file (TOML). Default: ./lydlogg.toml when present.",
    )(func)
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="DuckDB database file. Default: data/lydlogg.duckdb (setting db_path).",
    )(func)


def with_settings(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--db`` and ``--config`` to a command and hand it a ``Settings`` object."""

    @_location_options
    @functools.wraps(func)
    def wrapper(*args: Any, config: Path | None, db: Path | None, **kwargs: Any) -> Any:
        try:
            settings = load_settings(config, **({"db_path": db} if db else {}))
        except ConfigError as e:
            raise Failure(str(e)) from e
        _setup_logging(settings.log_level)
        if settings.asr.offline:
            os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub
        from lydlogg.db import DatabaseError
        from transcription import ModelNotAvailableError

        try:
            from lydlogg.audit import configure_forwarding
            from lydlogg.crypto import use_encryption

            use_encryption(settings.db_path, settings.encryption)
            configure_forwarding(settings.audit)
            return func(*args, settings=settings, **kwargs)
        except (DatabaseError, ModelNotAvailableError) as e:
            raise Failure(str(e)) from e

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lydlogg")
def main() -> None:
    """Lydlogg: audio-log quality review for legevakt, LVS and AMK calls."""
    from lydlogg.fileperms import private_umask

    private_umask()  # every file and folder this command creates is the service account's only


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--metadata",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV with call metadata (columns: call_id, started_at, service, operator_id, "
    "caller_number, patient_ref, urgency, audio_file).",
)
@with_settings
def ingest(paths: tuple[Path, ...], metadata: Path | None, settings: Settings) -> None:
    """Register recordings (files or folders) and their metadata as calls.

    Originals are never modified; the same recording ingested twice is a no-op.
    """
    from lydlogg.ingest import ingest as run_ingest
    from lydlogg.metadata import MetadataError

    if not paths and metadata is None:
        raise click.UsageError("give recordings (files or folders), --metadata CSV, or both")
    try:
        report = run_ingest(settings, paths, metadata)
    except MetadataError as e:
        raise Failure(str(e)) from e
    click.echo(
        f"added {len(report.added)}, already known {len(report.already_known)}, "
        f"metadata updated {len(report.metadata_updated)}, without audio {len(report.without_audio)}, "
        f"failed {len(report.failures)}, skipped {len(report.skipped)}"
    )
    for skip in report.skipped:
        click.echo(f"  skipped: {skip}", err=True)
    for failure in report.failures:
        click.echo(f"  failed: {failure}", err=True)
    if report.failures:
        sys.exit(1)


class _TqdmHook:
    """Connects the batch's progress hook to a tqdm bar in audio minutes."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(
        self,
        step: str,
        *,
        completed: float,
        total: float,
        files_done: int,
        files_total: int,
        workers: int = 1,
    ) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(
                total=round(total / 60, 2),
                unit="min",
                desc=step,
                file=sys.stderr,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} audio min "
                "[{elapsed}<{remaining}] {postfix}",
            )
        self.bar.n = round(min(completed, total) / 60, 2)
        on = f", {workers} workers" if workers > 1 else ""
        self.bar.set_postfix_str(f"files {files_done}/{files_total}{on}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@main.command()
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Transcribe at most this many calls.")
@click.option(
    "--stage",
    type=click.Choice(["asr", "diarization", "score", "episodes"]),
    default=None,
    help="Run this stage again for every call, and the stages after it that read its result "
    "(default: run whatever is not done).",
)
@with_settings
def process(limit: int | None, stage: str | None, settings: Settings) -> None:
    """Run the pipeline: transcribe, diarize, score and link into episodes whatever is not done."""
    from lydlogg.distributed import ExecutorError
    from lydlogg.pipeline import PipelineOptions, run

    hook = _TqdmHook()
    try:
        result = run(settings, PipelineOptions(stage=stage, limit=limit), progress=hook)  # type: ignore[arg-type]
    except ExecutorError as e:
        raise Failure(str(e)) from e
    finally:
        hook.close()
    report = result.transcription
    if report is not None and report.run_id is None:
        click.echo("nothing to do: every call with audio is transcribed")
    elif report is not None:
        rtf = report.elapsed_s / report.audio_s if report.audio_s else 0.0
        on = f" on {report.workers} Ray workers" if report.executor == "ray" else ""
        click.echo(
            f"run {report.run_id[:8]}: transcribed {len(report.done)}, failed {len(report.failed)}; "
            f"{report.audio_s / 60:.1f} audio min in {report.elapsed_s:.0f} s{on} (real-time factor {rtf:.2f})"
        )
        if report.asr_reused:
            click.echo(f"  diarized again from the stored ASR output: {len(report.asr_reused)}")
        if report.retried:
            click.echo(f"  retried after a worker died: {len(report.retried)}", err=True)
        for call_id, reason in report.failed:
            click.echo(f"  failed: {call_id}: {reason}", err=True)
    if report is not None and report.stale_uncached:
        click.echo(
            f"  {len(report.stale_uncached)} call(s) were transcribed before ASR output was kept: "
            "`lydlogg process --stage diarization` re-diarizes them (transcribing them again)",
            err=True,
        )
    if result.scoring is not None:
        click.echo(
            f"scored {result.scoring.scored}, already scored {result.scoring.already}, failed {len(result.scoring.failures)}"
        )
        for call_id, reason in result.scoring.failures:
            click.echo(f"  failed: {call_id}: {reason}", err=True)
    if result.episodes is not None:
        click.echo(
            f"episodes: {result.episodes.relinked} contacts relinked, {result.episodes.contacts} stored"
        )
    if result.failed:
        sys.exit(1)


@main.command("asr-eval")
@click.option("--model", "models", multiple=True, help="A model to measure (repeatable); default: asr.model.")
@click.option(
    "--vocabulary/--no-vocabulary",
    default=False,
    help="Propose site words from repeated corrections and measure each model again with them as hotwords.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_settings
def asr_eval(models: tuple[str, ...], vocabulary: bool, fmt: str, settings: Settings) -> None:
    """WER of each model on the spans reviewers corrected, per service and channel.

    The model that produced the stored transcript is shown as `transkripsjon`.
    """
    from lydlogg.asr_eval import rows_table, run_asr_eval

    report = run_asr_eval(settings, models, vocabulary=vocabulary)
    table = rows_table(report.rows)
    if fmt == "json":
        click.echo(
            json.dumps(
                {"segments": report.segments, "vocabulary": list(report.vocabulary), "rows": table},
                default=str,
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not report.segments:
        click.echo("no corrected segments yet: correct a transcript on the call page first")
        return
    click.echo(f"{report.segments} corrected segment(s)")
    if report.vocabulary:
        click.echo("proposed asr.hotwords: " + " ".join(report.vocabulary))
    click.echo(
        f"{'model':<28} {'service':<14} {'channel':<7} {'segs':>5} {'words':>6} {'WER':>7} {'keyw':>5} {'key WER':>8}"
    )
    for r in table:
        click.echo(
            f"{r['modell']:<28} {r['tjeneste']:<14} {r['kanal']:<7} {r['segmenter']:>5} {r['ord']:>6} "
            f"{r['wer']:>7.3f} {r['nøkkelord']:>5} {r['wer_nøkkelord']:>8.3f}"
        )


@main.command()
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


def _plain(value: Any) -> Any:
    """A JSON-ready value: timestamps as ISO-8601, missing values as null, numpy scalars unwrapped."""
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_settings
def calls(fmt: str, settings: Settings) -> None:
    """List calls: id, source file, duration, channels and status."""
    from lydlogg.audit import record
    from lydlogg.db import connect
    from lydlogg.store import list_calls

    with connect(settings.db_path) as con:
        df = list_calls(con)
        record(con, _cli_actor(), "cli_list_calls", "calls", None, f"{len(df)} calls")
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
        records = [{k: _plain(v) for k, v in record.items()} for record in df.to_dict(orient="records")]
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
    ).fillna("-")
    click.echo(view.to_string(index=False))


@main.command("export-transcript")
@click.argument("call_ids", nargs=-1)
@click.option(
    "--all", "all_calls", is_flag=True, help="Every transcribed call (narrow with --since, --service)."
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Calls started on or after this date."
)
@click.option(
    "--service",
    type=click.Choice(["lvs", "amk", "legevaktlege", "fastlege"]),
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
    username = _cli_actor()
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


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for the transcript files.")  # fmt: skip
@click.option(
    "-f", "--format", "formats", multiple=True, default=("txt",), show_default=True,
    type=click.Choice(["json", "vtt", "srt", "txt", "rttm", "all"]), help="Repeat for several; all: every format.",
)  # fmt: skip
@click.option("--model", default=None, help="Model (default: setting asr.model).")
@click.option("--language", default=None, help="Language code (default: setting asr.language, no).")
@with_settings
def transcribe(
    files: tuple[Path, ...], output: Path, formats: tuple[str, ...], model: str | None, language: str | None,
    settings: Settings,
) -> None:  # fmt: skip
    """Transcribe FILES without a database (decode, ASR, speakers, roles) and write transcript files."""
    from lydlogg.oneoff import transcribe_files
    from transcription import ModelNotAvailableError
    from transcription.formats import TRANSCRIPT_FORMATS

    asr = settings.asr.model_copy(update={k: v for k, v in (("model", model), ("language", language)) if v})
    settings = settings.model_copy(update={"asr": asr})
    wanted = list(TRANSCRIPT_FORMATS) if "all" in formats else list(dict.fromkeys(formats))
    try:
        report = transcribe_files(settings, files, output, wanted)
    except ModelNotAvailableError as e:
        raise Failure(str(e)) from e
    click.echo(f"wrote {len(report.written)} files to {output}")
    for failure in report.failures:
        click.echo(f"  failed: {failure}", err=True)
    if report.failures:
        sys.exit(1)


@main.command()
@click.argument("words", nargs=-1)
@click.option("--role", type=click.Choice(["caller", "operator", "doctor", "staff"]), default=None,
              help="Only segments said by this role.")  # fmt: skip
@click.option("--without", default="", help="Words no staff segment of the call holds (e.g. 113).")
@click.option("--service", type=click.Choice(["lvs", "amk", "legevaktlege", "fastlege"]), default=None)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Calls on or after this date.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Calls on or before this date."
)
@click.option("--operator", "operator_id", default=None, help="Only this operator's calls.")
@click.option("--criterion", default=None, metavar="ID=VALUE",
              help="A criterion's value (a reviewer's, else the suggestion's); VALUE may be 'none'.")  # fmt: skip
@click.option("--reviewed/--unreviewed", default=None, help="Only calls with (without) a human review.")
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
    operator_id: str | None, criterion: str | None, reviewed: bool | None, limit: int, fmt: str,
    username: str | None, settings: Settings,
) -> None:  # fmt: skip
    """Find calls by what was said: every WORD (any inflection) in one segment, with filters.

    Example: lydlogg search tungpust --role caller --without 113 --service lvs --since 2026-03-01
    """
    from lydlogg.db import connect
    from review.access import AccessDenied
    from review.search import SearchQuery, search_calls

    criterion_id = criterion_value = None
    if criterion:
        criterion_id, sep, raw = criterion.partition("=")
        if not sep or not criterion_id or not (raw.lstrip("-").isdigit() or raw == "none"):
            raise click.UsageError("--criterion takes ID=VALUE, VALUE a whole number or 'none'")
        criterion_value = None if raw == "none" else int(raw)
    query = SearchQuery(
        " ".join(words), role, without, service, since.date() if since else None, until.date() if until else None,
        operator_id, criterion_id, criterion_value, reviewed, limit,
    )  # fmt: skip
    user = _acting_user(settings, username) if username else None
    with connect(settings.db_path) as con:
        try:
            hits = search_calls(con, user, query, who=username or _cli_actor())
        except AccessDenied as e:
            raise Failure(f"{username} may not search calls") from e
        except ValueError as e:
            raise click.UsageError(str(e)) from e
    if fmt == "json":
        records = [
            {k: _plain(v) for k, v in r.items()} for r in hits.drop(columns="score").to_dict("records")
        ]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if hits.empty:
        click.echo("no matching calls")
        return
    click.echo(f"{len(hits)} segments in {hits['call_id'].nunique()} calls")
    for h in hits.itertuples():
        minutes, seconds = divmod(int(h.start_s), 60)
        click.echo(f"{h.call_id} [{minutes:02d}:{seconds:02d}] {h.role or '-'}: {h.text.strip()}")


@main.group("export")
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
        from lydlogg.conversation import add_call_measures
        from lydlogg.db import connect
        from lydlogg.exports import ExcelUnavailable, export_dataset
        from lydlogg.pseudonym import load_or_create_key
        from review.access import AccessDenied

        if excel and fmt != "csv":
            raise click.UsageError("--excel applies to --format csv")
        key = load_or_create_key(settings.key_file)
        user = _acting_user(settings, username) if username else None
        with connect(settings.db_path) as con:
            try:
                rows = export_dataset(
                    con, dataset_name, fmt, output, key=key, username=username or _cli_actor(),
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


@main.command()
@click.option(
    "--prepare", is_flag=True, help="Make the configured model ready (assemble and verify the bundled one)."
)
@with_settings
def models(prepare: bool, settings: Settings) -> None:
    """List the speech models available here and which is active."""
    from transcription import list_models, pick_device, resolve_model

    if prepare:
        spec = resolve_model(
            settings.asr.model, models_dir=settings.asr.models_dir, offline=settings.asr.offline
        )
        click.echo(f"ready: {spec.name} at {spec.load_from} (model.bin sha256 {spec.sha256 or 'unknown'})")
        return
    device, compute_type = pick_device(settings.asr.device, settings.asr.compute_type)
    click.echo(f"device: {device} ({compute_type}); offline: {settings.asr.offline}")
    for e in list_models(
        settings.asr.model, models_dir=settings.asr.models_dir, offline=settings.asr.offline
    ):
        click.echo(f"{'*' if e.active else ' '} {e.name:<16} {e.kind:<24} {e.state}  [{e.location}]")


def _read_json(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as e:
        raise Failure(f"{path}: not a readable JSON file ({e})") from e


@main.command("score-transcript")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--rubric", "rubric_id", required=True, help="Rubric id, e.g. lvs_operator (see `lydlogg rubrics`)."
)
@with_settings
def score_transcript(file: Path, rubric_id: str, settings: Settings) -> None:
    """Score a transcript JSON file (or - for standard input) and print the suggestions as JSON.

    Reads {"language", "segments": [{"start", "end", "speaker", "role", "text"}]}; prints
    {"rubric", "version", "criteria": {id: {"value", "confidence", "evidence", "rationale"}}}.
    Touches no database.
    """
    from rubrics import RubricError, build_call_text, load_rubrics, score_call
    from transcription.formats import TranscriptFormatError, from_json

    doc = _read_json(file)
    try:
        rubrics = load_rubrics()
        transcript = from_json(doc, call_id=Path(str(file)).stem if str(file) != "-" else "stdin")
    except (RubricError, TranscriptFormatError) as e:
        raise Failure(f"{file}: {e}") from e
    if rubric_id not in rubrics:
        raise Failure(f"no rubric {rubric_id!r}; available: {', '.join(sorted(rubrics))}")
    result = score_call(build_call_text(transcript, doc.get("service")), rubrics[rubric_id])
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@main.command("import-transcript")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--service",
    type=click.Choice(["lvs", "amk", "legevaktlege", "fastlege"]),
    default=None,
    help="Service of the call(s), when the JSON does not say.",
)
@with_settings
def import_transcript(files: tuple[Path, ...], service: str | None, settings: Settings) -> None:
    """Store written transcripts (JSON) as calls, e.g. for cases built from text."""
    from lydlogg.scoring import import_transcripts

    def docs():
        for f in files:
            try:
                yield str(f), json.loads(f.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as e:
                report_failures.append((str(f), f"not a readable JSON file ({e})"))

    report_failures: list[tuple[str, str]] = []
    report = import_transcripts(settings, docs(), service=service)
    failures = report_failures + report.failures
    click.echo(f"imported {len(report.imported)}, unchanged {len(report.unchanged)}, failed {len(failures)}")
    for source, reason in failures:
        click.echo(f"  failed: {source}: {reason}", err=True)
    if failures:
        sys.exit(1)


@main.command()
@click.option(
    "--rubric", "rubric_id", default=None, help="Score every call with this rubric (default: by service)."
)
@with_settings
def score(rubric_id: str | None, settings: Settings) -> None:
    """Suggest rubric scores for stored calls that have none yet for the current rubric version."""
    from lydlogg.scoring import score_stored
    from rubrics import RubricError

    try:
        report = score_stored(settings, rubric_id=rubric_id)
    except (RubricError, KeyError) as e:
        raise Failure(str(e).strip("'\"")) from e
    click.echo(
        f"scored {report.scored}, already scored {report.already}, no rubric for service "
        f"{len(report.no_rubric)}, failed {len(report.failures)}"
    )
    if report.no_rubric:
        click.echo(
            f"  no rubric applies (service unknown or not covered): {', '.join(report.no_rubric[:10])}"
            + (" ..." if len(report.no_rubric) > 10 else "")
        )
    for call_id, reason in report.failures:
        click.echo(f"  failed: {call_id}: {reason}", err=True)
    if report.failures:
        sys.exit(1)


@main.command()
@click.argument("call_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@with_settings
def advice(call_id: str, fmt: str, settings: Settings) -> None:
    """Show a call's contact reason, how much of the standard worsening advice was given, and the
    SMS the caller could have received (a draft: Lydlogg sends nothing)."""
    from lydlogg.advice import approval_notice, call_advice, library_for, summary_lines, written_advice
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
               "reasons": [{"reason_id": d.reason_id, "name": d.name, "confidence": d.confidence,
                            "cues": list(d.cues), "evidence": [e.as_dict() for e in d.evidence]}
                           for d in result.detected],
               "reason_ids": list(result.reason_ids), "corrected": result.corrected,
               "coverage": result.coverage.as_dict() if result.coverage else None, "sms_draft": sms}  # fmt: skip
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    if notice:
        click.echo(f"NB: {notice}")
    for line in summary_lines(result):
        click.echo(line)
    if sms:
        click.echo(f"\nSlik kunne rådet på SMS ha sett ut ({len(sms)} tegn, utkast, sendes ikke):\n{sms}")


@main.command("rubrics")
@with_settings
def rubrics_cmd(settings: Settings) -> None:
    """List the rubrics: id, version, content hash, services and criteria."""
    from rubrics import RubricError, load_rubrics

    try:
        found = load_rubrics()
    except RubricError as e:
        raise Failure(str(e)) from e
    for loaded in found.values():
        r = loaded.rubric
        click.echo(
            f"{r.id:<24} v{r.version}  #{loaded.sha256[:12]}  {', '.join(r.applies_to.services):<14} "
            f"{len(r.criteria)} criteria: {', '.join(c.id for c in r.criteria)}"
        )


@main.group(invoke_without_command=True)
@click.pass_context
def users(ctx: click.Context) -> None:
    """Local user accounts (`users add`, `users demo`); bare `users` lists them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(users_list)


@users.command("list")
@with_settings
def users_list(settings: Settings) -> None:
    """List user accounts."""
    from lydlogg.auth import list_users
    from lydlogg.db import connect

    with connect(settings.db_path) as con:
        for u in list_users(con):
            click.echo(f"{u.username:<16} {u.role:<9} {u.operator_id or '-':<12} {u.display_name}")


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "leder", "veileder", "operator", "lege"]), required=True)
@click.option("--name", "display_name", required=True, help="Name shown in the app.")
@click.option("--operator-id", default=None, help="The user's id in the call metadata (operator and lege).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt."
)
@with_settings
def users_add(
    username: str,
    role: str,
    display_name: str,
    operator_id: str | None,
    password_stdin: bool,
    settings: Settings,
) -> None:
    """Create a local account (the password is stored as an argon2id hash)."""
    from lydlogg.auth import AuthError, create_user
    from lydlogg.db import connect

    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    with connect(settings.db_path) as con:
        try:
            create_user(con, username, display_name, role, password, operator_id=operator_id,
                        production=settings.env == "production", by="cli")  # fmt: skip
        except AuthError as e:
            raise Failure(str(e)) from e
    click.echo(f"created {username} ({role})")


@users.command("demo")
@with_settings
def users_demo(settings: Settings) -> None:
    """Create the demo accounts (refused when env = production) and print how to log in."""
    from lydlogg.auth import DEMO_USERS, AuthError, create_user
    from lydlogg.db import connect

    if settings.env == "production":
        raise Failure("demo accounts are refused when LYDLOGG_ENV=production")
    with connect(settings.db_path) as con:
        for username, name, role, operator_id, password in DEMO_USERS:
            with contextlib.suppress(AuthError):  # exists already
                create_user(con, username, name, role, password, operator_id=operator_id, by="demo")
    click.echo("Demo log-ins (username / password):")
    for username, _name, role, operator_id, password in DEMO_USERS:
        click.echo(f"  {username:<10} {password:<15} {role}{' (' + operator_id + ')' if operator_id else ''}")


@main.command()
@click.option(
    "--window-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Link contacts this close in time (default: setting episodes.window_hours, 72).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True)
@with_settings
def recontacts(window_hours: float | None, fmt: str, settings: Settings) -> None:
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
        record(con, _cli_actor(), "cli_recontacts", "calls", None, f"{len(episodes)} contacts, {fmt}")
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


@main.command("episode-summary")
@click.argument("call_id")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
@with_settings
def episode_summary(call_id: str, fmt: str, output: Path, settings: Settings) -> None:
    """Write the printable summary of CALL_ID's episode (for an internal review)."""
    from lydlogg.audit import record
    from lydlogg.db import connect
    from lydlogg.episode_report import PdfUnavailableError, episode_html, html_to_pdf
    from lydlogg.episodes import read_episodes

    with connect(settings.db_path) as con:
        linked = read_episodes(con, episode_of=call_id)
        record(con, _cli_actor(), "cli_episode_summary", "call", call_id, fmt)
    if linked.empty:
        raise Failure(
            f"no dated call {call_id!r} in the stored episodes (an episode needs started_at;"
            " `lydlogg process --stage episodes` relinks them)"
        )
    page = episode_html(linked)
    if fmt == "pdf":
        try:
            output.write_bytes(html_to_pdf(page))
        except PdfUnavailableError as e:
            raise Failure(str(e)) from e
    else:
        output.write_text(page, encoding="utf-8")
    click.echo(f"wrote {output}")


@main.command("settings")
@click.option(
    "--markdown", is_flag=True, help="Print the reference table of every setting (docs/configuration.md)."
)
@with_settings
def settings_cmd(markdown: bool, settings: Settings) -> None:
    """Show every setting with its current value, or the documentation table."""
    from lydlogg.settings import env_name, iter_settings, settings_markdown

    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    current = settings.model_dump()
    for name, _default, _help in iter_settings():
        value: Any = current
        for part in name.split("."):
            value = value[part]
        click.echo(f"{name:<28} {env_name(name):<34} {value}")


@main.command()
@click.option("--port", type=int, default=None, help="Port (default: setting server.port, 8501).")
@click.option(
    "--host", default=None, help="Address to listen on (default: setting server.address, localhost)."
)
@_location_options
def serve(port: int | None, host: str | None, config: Path | None, db: Path | None) -> None:
    """Start the review app (Streamlit)."""
    try:
        settings = load_settings(config, **({"db_path": db} if db else {}))
    except ConfigError as e:
        raise Failure(str(e)) from e
    from lydlogg.settings import production_problems

    if problems := production_problems(settings):
        raise Failure("env = production refuses to start: " + "; ".join(problems))
    if settings.env == "production" and settings.db_path.exists():
        from lydlogg.auth import demo_accounts
        from lydlogg.crypto import use_encryption
        from lydlogg.db import DatabaseError, connect

        try:
            use_encryption(settings.db_path, settings.encryption)
            with connect(settings.db_path, read_only=True) as con:
                demo = demo_accounts(con)
        except DatabaseError as e:
            raise Failure(str(e)) from e
        if demo:
            raise Failure(
                f"env = production but the demo accounts {', '.join(demo)} still have their demo passwords; "
                "deactivate them or set new passwords (the Brukere page, or `lydlogg users`)"
            )
    app = Path(__file__).resolve().parent.parent / "app.py"
    if not app.is_file():
        raise Failure(f"{app}: the app file is missing; run from a source checkout (pip install -e .)")
    env = dict(os.environ, LYDLOGG_DB_PATH=str(settings.db_path.resolve()))
    if config:
        env["LYDLOGG_CONFIG"] = str(config.resolve())
    port = port or settings.server.port
    host = host or settings.server.address
    click.echo(f"Lydlogg is at http://{host}:{port}")
    cmd = streamlit_command(settings, app, port, host)
    if settings.sso.enabled:
        from lydlogg.sso import SsoConfigError, write_streamlit_secrets

        try:
            cmd += ["--secrets.files", str(write_streamlit_secrets(settings).resolve())]
        except SsoConfigError as e:
            raise Failure(str(e)) from e
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)  # Streamlit takes over this process, signals included


def streamlit_command(settings: Settings, app: Path, port: int, host: str | None = None) -> list[str]:
    """The command line that starts the review app (pure); ``host`` defaults to server.address."""
    host = host or settings.server.address
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",  # no developer menu or "Deploy" button for users
        "viewer",
        "--server.maxUploadSize",  # the case-package import is the only upload
        str(int(settings.cases.max_package_mb)),
        "--client.showErrorDetails",  # users never see a traceback; the server log has it
        "none",
        # A served app never reloads its source. Watching it would put inotify watches on every
        # folder under the working directory (a virtual environment with Ray brings thousands),
        # which overflowed and stalled the server.
        "--server.fileWatcherType",
        "none",
    ]


def _cli_actor() -> str:
    """Who the audit trail names for a command run from the shell: the OS account."""
    return f"cli:{getpass.getuser()}"


def _cli_admin() -> Any:
    """The actor for admin commands run from the shell (the audit trail names the OS user)."""
    from lydlogg.auth import User

    return User(_cli_actor(), "CLI", "admin")


@main.group()
def retention() -> None:
    """Retention rules: delete old recordings and unreviewed transcripts."""


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@with_settings
def retention_apply(dry_run: bool, settings: Settings) -> None:
    """Apply the retention settings now; counts and ids only, never content."""
    from datetime import UTC, datetime

    from lydlogg.retention import apply_retention

    plan = apply_retention(settings.db_path, settings.retention, user=_cli_admin(), now=datetime.now(UTC),
                           dry_run=dry_run, playback_dir=settings.audio.playback_dir)  # fmt: skip
    click.echo(("would delete: " if dry_run else "deleted: ") + plan.summary())
    for call_id in plan.audio_calls:
        click.echo(f"  recording  {call_id}")
    for call_id in plan.transcript_calls:
        click.echo(f"  transcript {call_id}")
    if plan.files_failed:
        click.echo(f"{len(plan.files_failed)} recordings could not be deleted from disk:", err=True)
        for path in plan.files_failed:
            click.echo(f"  {path}", err=True)
        sys.exit(1)


@main.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-audio", is_flag=True, help="Leave the recordings out.")
@with_settings
def backup_cmd(dest: Path, no_audio: bool, settings: Settings) -> None:
    """Write a consistent backup of the database (and recordings) into the new folder DEST."""
    from lydlogg.backup import BackupError, backup
    from lydlogg.backup_crypto import BackupKeyError, backup_key
    from lydlogg.settings import production_problems

    if problems := production_problems(settings):
        raise Failure("env = production refuses to back up: " + "; ".join(problems))
    try:
        key = backup_key(settings.backup)
        if key is None and not no_audio:
            click.echo("no backup key: recordings are copied unencrypted (`lydlogg backup-keygen`)", err=True)
        manifest = backup(
            settings.db_path, dest, include_audio=not no_audio, user=_cli_admin(), backup_key=key
        )
    except (BackupError, BackupKeyError) as e:
        raise Failure(str(e)) from e
    click.echo(f"{dest}: {manifest.counts['calls']} calls, {len(manifest.recordings)} recordings")
    if manifest.missing_recordings:
        click.echo(f"{len(manifest.missing_recordings)} recordings were not found on disk", err=True)
        sys.exit(1)


@main.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--audio-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Put the recordings here instead of their original paths.")  # fmt: skip
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing database (stop the app and batch first)."
)
@with_settings
def restore_cmd(src: Path, audio_root: Path | None, overwrite: bool, settings: Settings) -> None:
    """Restore the backup in SRC as the database given by --db (or db_path)."""
    from lydlogg.backup import BackupError, restore
    from lydlogg.backup_crypto import BackupKeyError, backup_key

    try:
        report = restore(src, settings.db_path, audio_root=audio_root, overwrite=overwrite,
                         recordings_root=settings.retention.managed_audio_dir, user=_cli_admin(),
                         backup_key=backup_key(settings.backup))  # fmt: skip
    except (BackupError, BackupKeyError) as e:
        raise Failure(str(e)) from e
    click.echo(f"{settings.db_path}: {report.manifest.counts['calls']} calls restored, "
               f"{len(report.recordings_restored)} recordings copied back, "
               f"{report.audit_rows_kept} audit rows since the backup kept")  # fmt: skip
    if report.recordings_refused:
        click.echo(f"{len(report.recordings_refused)} recordings refused: their target lies outside "
                   f"{settings.retention.managed_audio_dir}, goes through a link, or is taken", err=True)  # fmt: skip
        sys.exit(1)


@main.command("backup-keygen")
@with_settings
def backup_keygen(settings: Settings) -> None:
    """Write a new random backup key to backup.key_file (refuses to replace one)."""
    from lydlogg.crypto import create_key_file

    try:
        path = create_key_file(settings.backup.key_file)
    except FileExistsError as e:
        raise Failure(f"{settings.backup.key_file}: exists already; keep it, backups need it") from e
    click.echo(f"{path}: new backup key; keep a copy apart from the backups")


@main.group("db")
def db_group() -> None:
    """Database encryption."""


@db_group.command("keygen")
@with_settings
def db_keygen(settings: Settings) -> None:
    """Write a new random database key to encryption.key_file (refuses to replace one)."""
    from lydlogg.crypto import create_key_file

    try:
        path = create_key_file(settings.encryption.key_file)
    except FileExistsError as e:
        raise Failure(f"{settings.encryption.key_file}: a key exists already; keep it") from e
    click.echo(f"{path}: new key written (mode 0600); copy it to the secret store")


@db_group.command("encrypt")
@click.option("--to", "target", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="New file for the encrypted copy.")  # fmt: skip
@with_settings
def db_encrypt(target: Path, settings: Settings) -> None:
    """Copy the plain database into a new encrypted file; then point db_path at it."""
    from lydlogg.crypto import database_key, encrypt_database

    key = database_key(settings.encryption.model_copy(update={"enabled": True}))
    encrypt_database(settings.db_path, target, key)
    click.echo(f"{target}: encrypted copy written; set db_path to it and enable encryption")


@users.command("unlock")
@click.argument("username")
@with_settings
def users_unlock(username: str, settings: Settings) -> None:
    """Lift a log-in lock-out."""
    from lydlogg.auth import AuthError
    from lydlogg.users import UserAdminService

    try:
        UserAdminService(settings.db_path, _cli_admin()).unlock(username)
    except AuthError as e:
        raise Failure(str(e)) from e
    click.echo(f"{username}: unlocked")


@main.group(invoke_without_command=True)
@click.pass_context
def teams(ctx: click.Context) -> None:
    """Teams (vaktlag) of operators and doctors, for the overview by team; bare `teams` lists them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(teams_list)


@teams.command("list")
@with_settings
def teams_list(settings: Settings) -> None:
    """List each operator id with its team."""
    from lydlogg.users import UserAdminService

    for operator_id, team in UserAdminService(settings.db_path, _cli_admin()).teams().items():
        click.echo(f"{operator_id:<20} {team}")


@teams.command("set")
@click.argument("operator_id")
@click.argument("team", required=False)
@click.option("--none", "clear", is_flag=True, help="Take the operator out of any team.")
@with_settings
def teams_set(operator_id: str, team: str | None, clear: bool, settings: Settings) -> None:
    """Put OPERATOR_ID in TEAM (audited)."""
    from lydlogg.users import UserAdminService

    if (team is None) == (not clear):
        raise Failure("give either a TEAM or --none")
    try:
        UserAdminService(settings.db_path, _cli_admin()).set_teams([(operator_id, None if clear else team)])
    except ValueError as e:
        raise Failure(str(e)) from e
    click.echo(f"{operator_id}: {'no team' if clear else team}")


@teams.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_settings
def teams_import(csv_file: Path, settings: Settings) -> None:
    """Read operator_id,team rows from CSV_FILE; bad rows are reported, good ones saved (audited)."""
    from lydlogg.metadata import MetadataError
    from lydlogg.teams import read_teams_csv
    from lydlogg.users import UserAdminService

    try:
        rows, errors = read_teams_csv(csv_file)
    except MetadataError as e:
        raise Failure(str(e)) from e
    for error in errors:
        click.echo(f"skipped {error}", err=True)
    changed = UserAdminService(settings.db_path, _cli_admin()).set_teams(rows)
    click.echo(f"{len(rows)} operators read, {changed} changed, {len(errors)} rows skipped")
    if errors:
        sys.exit(1)


@main.command("anonymise-text")
def anonymise_text_command() -> None:
    """Read bokmål text on standard input; print it with identifiers replaced by typed placeholders.

    Names, phone numbers, national identity numbers (and spoken dates of birth), addresses, dates
    and places become [NAVN], [TELEFON], [FØDSELSNUMMER], [ADRESSE], [DATO] and [STED]: the same
    detector the case library uses (anonymise/README.md).
    """
    from anonymise import cli_anonymise

    click.echo(cli_anonymise(click.get_text_stream("stdin").read()), nl=False)


@main.command("monthly-report")
@click.argument("month")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
@with_settings
def monthly_report(month: str, fmt: str, output: Path, settings: Settings) -> None:
    """Write the monthly quality report for MONTH (YYYY-MM): aggregate figures only."""
    from lydlogg.audit import record
    from lydlogg.auth import User
    from lydlogg.db import connect
    from lydlogg.episode_report import PdfUnavailableError
    from review.dashboard import DashboardService
    from review.monthly_report import monthly_html, monthly_pdf

    overview = DashboardService(settings.db_path, User("cli", "Kommandolinje", "leder"), settings.dashboard,
                                window_hours=settings.episodes.window_hours, cache=False).overview()  # fmt: skip
    with connect(settings.db_path) as con:
        record(con, _cli_actor(), "cli_monthly_report", "report", month, fmt)
    try:
        if fmt == "pdf":
            output.write_bytes(monthly_pdf(overview, month))
        else:
            output.write_text(monthly_html(overview, month), encoding="utf-8")
    except (ValueError, PdfUnavailableError) as e:
        raise Failure(str(e)) from e
    click.echo(f"wrote {output}")


@main.group()
def case() -> None:
    """The case library: export and import anonymised case packages."""


def _acting_user(settings: Settings, username: str) -> Any:
    """The user a command acts as (``--as``), who proves it with their password (read from the
    terminal, or the first line of standard input); the check is a log-in, audited and throttled."""
    from lydlogg.auth import AuthError, authenticate
    from lydlogg.db import connect

    password = click.prompt(f"password of {username}", hide_input=True, err=True, default="",
                            show_default=False)  # fmt: skip
    with connect(settings.db_path) as con:
        try:
            return authenticate(con, username, password, production=settings.env == "production",
                                settings=settings.login, source=_cli_actor())  # fmt: skip
        except AuthError as e:
            raise Failure(f"--as {username}: {e}") from e


def _case_library(settings: Settings, username: str) -> Any:
    """The case library as ``username`` (:func:`_acting_user`)."""
    from review.cases import CaseLibraryService

    user = _acting_user(settings, username)
    return CaseLibraryService(settings.db_path, user, settings.cases, settings.anonymise)


@case.command("export")
@click.argument("case_id")
@click.option(
    "--as",
    "username",
    required=True,
    help="A leder or veileder; asks for their password; the export is audited in their name.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Zip file to write (default: kasus-CASE_ID.zip).")  # fmt: skip
@with_settings
def case_export(case_id: str, username: str, output: Path | None, settings: Settings) -> None:
    """Write a published case as a package: anonymised audio, transcript, assessment, handout."""
    from review.access import AccessDenied

    try:
        data = _case_library(settings, username).export_case(case_id)
    except AccessDenied as e:
        raise Failure(f"{username} may not export case {case_id!r}, or there is no such case") from e
    target = output or Path(f"kasus-{case_id}.zip")
    target.write_bytes(data)
    click.echo(f"{target}: {len(data)} bytes")


@case.command("import")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "username",
    required=True,
    help="A leder or veileder; asks for their password; the import is audited in their name.",
)
@with_settings
def case_import(package: Path, username: str, settings: Settings) -> None:
    """Publish a case from a package exported by another Lydlogg installation (validated first)."""
    from review.access import AccessDenied
    from review.case_package import PackageError

    if package.stat().st_size > settings.cases.max_package_mb * 1_000_000:
        raise Failure(f"{package}: larger than cases.max_package_mb ({settings.cases.max_package_mb} MB)")
    try:
        case_id = _case_library(settings, username).import_case(package.read_bytes())
    except PackageError as e:
        raise Failure(f"{package}: {e}") from e
    except AccessDenied as e:
        raise Failure(f"{username} may not import cases") from e
    click.echo(f"imported as case {case_id}")


@export_group.command("scorer-feedback")
@click.option(
    "--as",
    "username",
    required=True,
    help="A leder or veileder; asks for their password; the export is audited in their name.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON Lines file to write (default: standard output).")  # fmt: skip
@with_settings
def export_scorer_feedback(username: str, output: Path | None, settings: Settings) -> None:
    """Every suggestion a reviewer overrode: transcript span, suggestion, reviewer's value and reason."""
    from review.access import AccessDenied
    from review.scorer_feedback import scorer_feedback

    user = _acting_user(settings, username)
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
@click.option(
    "--as",
    "username",
    required=True,
    help="A leder or veileder; asks for their password; the export is audited in their name.",
)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (audiofolder layout: train/metadata.csv and 16 kHz WAV clips).")  # fmt: skip
@with_settings
def export_asr_dataset_cmd(username: str, output: Path, settings: Settings) -> None:
    """Reviewer-corrected segments as anonymised 16 kHz clips with their text, for fine-tuning."""
    from lydlogg.asr_dataset import export_asr_dataset
    from review.access import AccessDenied

    user = _acting_user(settings, username)
    try:
        report = export_asr_dataset(settings.db_path, user, output, settings.anonymise,
                                    dual_mono_correlation=settings.audio.dual_mono_correlation)  # fmt: skip
    except AccessDenied as e:
        raise Failure(f"{username} may not export the ASR data set (leder or veileder only)") from e
    click.echo(f"{output}: {report.clips} clips ({report.anonymised} anonymised)")
    for path in report.skipped_files:
        click.echo(f"  skipped (unreadable): {path}", err=True)
    if report.skipped_files:
        sys.exit(1)


@main.group("audit")
def audit_group() -> None:
    """The audit trail: check that no row was changed or removed."""


@audit_group.command("verify")
@with_settings
def audit_verify(settings: Settings) -> None:
    """Walk the hash chain of the audit trail; exit 1 and name the first broken link if any."""
    from lydlogg.audit import record, verify_chain
    from lydlogg.db import connect

    with connect(settings.db_path) as con:
        report = verify_chain(con)
        if report.ok:
            record(con, _cli_actor(), "audit_verify", "audit", None, f"{report.rows} rows, chain intact")
    covered = report.rows - report.legacy_rows
    if not report.ok:
        raise Failure(f"audit trail broken at row {report.broken_at}: {report.reason}")
    click.echo(f"audit trail intact: {covered} chained rows" +
               (f", {report.legacy_rows} older rows written before the chain" if report.legacy_rows else ""))  # fmt: skip


if __name__ == "__main__":
    main()
