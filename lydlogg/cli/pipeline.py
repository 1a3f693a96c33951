"""The pipeline's commands: register recordings, transcribe, score, and the models and rubrics they use."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lydlogg.cli.common import Failure, read_json, with_settings
from lydlogg.vocabulary import SERVICES

if TYPE_CHECKING:
    from lydlogg.settings import Settings


@click.command()
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


@click.command()
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


@click.command()
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


@click.command("asr-eval")
@click.option("--model", "models", multiple=True, help="A model to measure (repeatable); default: asr.model.")
@click.option(
    "--vocabulary/--no-vocabulary",
    default=False,
    help="Propose site words from repeated corrections and measure each model again with them as hotwords"
    " and as the initial prompt.",
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Corrections made on or after this day."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Corrections made on or before this day."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_settings
def asr_eval(
    models: tuple[str, ...], vocabulary: bool, since: Any, until: Any, fmt: str, settings: Settings
) -> None:
    """WER of each model on the spans reviewers corrected, per service and channel.

    The model that produced the stored transcript is shown as `transkripsjon`. Days are calendar
    days in `display.timezone`.
    """
    from lydlogg.asr_eval import day_range, rows_table, run_asr_eval

    start, end = day_range(
        since.date() if since else None, until.date() if until else None, settings.display.timezone
    )
    report = run_asr_eval(settings, models, vocabulary=vocabulary, since=start, until=end)
    table = rows_table(report.rows)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "segments": report.segments,
                    "vocabulary": list(report.vocabulary),
                    "initial_prompt": report.prompt,
                    "rows": table,
                },  # fmt: skip
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
        click.echo("proposed asr.initial_prompt: " + report.prompt)
    click.echo(
        f"{'model':<28} {'service':<14} {'channel':<7} {'segs':>5} {'words':>6} {'WER':>7} {'keyw':>5} {'key WER':>8}"
    )
    for r in table:
        click.echo(
            f"{r['modell']:<28} {r['tjeneste']:<14} {r['kanal']:<7} {r['segmenter']:>5} {r['ord']:>6} "
            f"{r['wer']:>7.3f} {r['nøkkelord']:>5} {r['wer_nøkkelord']:>8.3f}"
        )


@click.command()
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


@click.command("score-transcript")
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
    from lydlogg.calltext import build_call_text
    from rubrics import RubricError, load_rubrics, score_call
    from transcription.formats import TranscriptFormatError, from_json

    doc = read_json(file)
    try:
        rubrics = load_rubrics()
        transcript = from_json(doc, call_id=Path(str(file)).stem if str(file) != "-" else "stdin")
    except (RubricError, TranscriptFormatError) as e:
        raise Failure(f"{file}: {e}") from e
    if rubric_id not in rubrics:
        raise Failure(f"no rubric {rubric_id!r}; available: {', '.join(sorted(rubrics))}")
    result = score_call(build_call_text(transcript, doc.get("service")), rubrics[rubric_id])
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))


@click.command("import-transcript")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--service",
    type=click.Choice(SERVICES),
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


@click.command()
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


@click.command("rubrics")
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
