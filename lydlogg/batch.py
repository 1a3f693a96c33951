"""The transcription batch: every call whose recording has no transcript yet for the configured
model and options is decoded once, transcribed, diarized (who spoke when, in which role) from the
same decoded array, and written in one transaction.

A call whose diarization fails keeps its transcript; the diarization row records the error and
the segments stay without speaker and role.

Results are keyed on (audio sha256, model, options hash): a re-run skips what is done, and a run
killed halfway leaves no half-written transcript (its transaction never committed). The database
is opened only to read the work list and to write each finished call, so other processes (the
review app) can write in between.

The heavy stage of one call (decode -> ASR -> diarization -> roles) is :class:`CallWorker`; it
returns a plain, picklable :class:`CallResult`. The ``local`` executor runs it in this process; the
``ray`` executor (:mod:`lydlogg.distributed`) runs it in a pool of Ray actors. Either way this
process stores every result through the same writer, one transaction per call, as the only writer.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb

import lydlogg
from lydlogg.db import connect, transaction
from lydlogg.search_index import refresh_after_change
from lydlogg.settings import Settings
from transcription import (
    AsrOptions,
    AsrResult,
    AudioError,
    DecodedAudio,
    ModelSpec,
    Transcriber,
    decode_audio,
    load_model,
    pick_device,
    resolve_model,
)
from transcription.diarization import (
    Diarization,
    DiarizationSettings,
    Labelled,
    diarize,
    label,
)

__all__ = [
    "CallResult",
    "CallWorker",
    "PendingCall",
    "ProcessReport",
    "ProgressHook",
    "asr_options",
    "model_key",
    "pending_calls",
    "process",
]

if TYPE_CHECKING:
    from lydlogg.distributed import RayPool

log = logging.getLogger(__name__)


class ProgressHook(Protocol):
    """Called as work advances; ``completed``/``total`` are seconds of audio, ``workers`` how many
    workers (processes holding a model) the run has."""

    def __call__(
        self,
        step: str,
        *,
        completed: float,
        total: float,
        files_done: int,
        files_total: int,
        workers: int = 1,
    ) -> None: ...


@dataclass(frozen=True)
class PendingCall:
    call_id: str
    audio_sha256: str
    path: str
    duration_s: float
    service: str | None = None


@dataclass
class ProcessReport:
    run_id: str | None
    model: str
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    audio_s: float = 0.0
    elapsed_s: float = 0.0
    executor: str = "local"
    workers: int = 1
    retried: list[str] = field(default_factory=list)  # calls re-run after their worker died
    already_stored: list[str] = field(default_factory=list)  # stored meanwhile by another run


def asr_options(settings: Settings) -> AsrOptions:
    """The decoding options the settings ask for, with the device chosen for this machine."""
    device, compute_type = pick_device(settings.asr.device, settings.asr.compute_type)
    return AsrOptions(
        language=settings.asr.language,
        beam_size=settings.asr.beam_size,
        vad_filter=settings.asr.vad_filter,
        vad_min_silence_ms=settings.asr.vad_min_silence_ms,
        word_timestamps=True,
        device=device,
        compute_type=compute_type,
        batch_size=settings.asr.batch_size,
        pause_split_s=settings.asr.pause_split_s,
        block_s=settings.asr.block_s,
        hotwords=settings.asr.hotwords.strip(),
        initial_prompt=settings.asr.initial_prompt.strip(),
    )


def model_key(spec: ModelSpec) -> str:
    """Cache key of a model: its weights' hash when known, else its name."""
    return f"sha256:{spec.sha256[:16]}" if spec.sha256 else spec.name


def pending_calls(con: duckdb.DuckDBPyConnection, key: str, options_hash: str) -> list[PendingCall]:
    rows = con.execute(
        """
        SELECT c.call_id, a.sha256, a.path, a.duration_s, c.service
        FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256
        WHERE NOT EXISTS (
            SELECT 1 FROM transcripts t
            WHERE t.audio_sha256 = a.sha256 AND t.model_id = ? AND t.options_hash = ?)
        ORDER BY c.started_at NULLS LAST, c.call_id
        """,
        [key, options_hash],
    ).fetchall()
    return [PendingCall(*r) for r in rows]


def _write_transcript(
    con: duckdb.DuckDBPyConnection,
    call: PendingCall,
    done: CallResult,
    run_id: str,
    key: str,
    options_hash: str,
) -> bool:
    """Store one call's transcript, segments, words and speakers in one transaction.

    Returns False, storing nothing, when the recording already has a transcript for this model and
    options (another run stored it meanwhile): a call is never stored twice.
    """
    result, speakers = done.asr, done.speakers
    assert result is not None and speakers is not None and done.layout is not None
    transcript_id = uuid.uuid4().hex
    segments = speakers.labelled.segments if speakers.labelled else result.segments
    with transaction(con):
        stored = con.execute(
            "SELECT count(*) FROM transcripts WHERE audio_sha256 = ? AND model_id = ? AND options_hash = ?",
            [call.audio_sha256, key, options_hash],
        ).fetchone()[0]
        if stored:
            return False
        con.execute(
            "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,"
            " layout, channels_transcribed, duration_s, speech_s, asr_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                transcript_id,
                call.call_id,
                call.audio_sha256,
                run_id,
                key,
                options_hash,
                result.language,
                done.layout,
                result.channels_transcribed,
                done.duration_s,
                result.speech_s,
                result.asr_seconds,
            ],
        )
        seg_rows = [
            (
                transcript_id,
                i,
                s.channel,
                s.start,
                s.end,
                s.text,
                s.speaker,
                s.role,
                s.avg_logprob,
                s.no_speech_prob,
            )
            for i, s in enumerate(segments)
        ]
        word_rows = [
            (transcript_id, i, j, w.channel, w.start, w.end, w.text, w.probability)
            for i, s in enumerate(segments)
            for j, w in enumerate(s.words)
        ]
        if seg_rows:
            con.executemany(
                "INSERT INTO segments (transcript_id, segment_index, channel, start_s, end_s, text, speaker, role, avg_logprob, no_speech_prob)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                seg_rows,
            )
        if word_rows:
            con.executemany(
                "INSERT INTO words (transcript_id, segment_index, word_index, channel, start_s, end_s, text, probability) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                word_rows,
            )
        _write_speakers(con, transcript_id, speakers)
        con.execute(
            "UPDATE failures SET resolved_at = current_timestamp WHERE call_id = ? AND resolved_at IS NULL",
            [call.call_id],
        )
        con.execute("UPDATE runs SET files_done = files_done + 1 WHERE run_id = ?", [run_id])
    return True


@dataclass(frozen=True)
class _SpeakerStage:
    """What the diarization stage gave for one call: labels, or the error that stopped it."""

    options_json: str
    seconds: float
    labelled: Labelled | None = None
    error: str | None = None


def _speakers(
    audio: DecodedAudio,
    result: AsrResult,
    settings: DiarizationSettings,
    service: str | None,
    pyannote: object | None = None,
) -> _SpeakerStage:
    """Diarize the decoded call and label its segments; an error is returned, not raised."""
    options_json = settings.model_dump_json()
    t0 = time.perf_counter()
    try:
        found: Diarization = diarize(audio, settings, pyannote)
        labelled = label(result.segments, found, settings, service)
    except (ValueError, RuntimeError, OSError, MemoryError) as e:
        reason = f"{type(e).__name__}: {e}"
        log.warning("diarization failed; transcript kept without speakers: %s", reason)
        return _SpeakerStage(options_json, time.perf_counter() - t0, error=reason)
    return _SpeakerStage(options_json, time.perf_counter() - t0, labelled=labelled)


def _write_speakers(con: duckdb.DuckDBPyConnection, transcript_id: str, stage: _SpeakerStage) -> None:
    labelled = stage.labelled
    if labelled is None:
        con.execute(
            "INSERT INTO diarizations (transcript_id, strategy, options_json, error, diarize_seconds)"
            " VALUES (?, NULL, ?, ?, ?)",
            [transcript_id, stage.options_json, stage.error, stage.seconds],
        )
        return
    found = labelled.diarization
    con.execute(
        "INSERT INTO diarizations (transcript_id, strategy, options_json, speakers, notes, diarize_seconds)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            transcript_id,
            found.strategy,
            stage.options_json,
            len(labelled.roles),
            "\n".join(found.notes) or None,
            stage.seconds,
        ],
    )
    if found.turns:
        con.executemany(
            "INSERT INTO speaker_turns (transcript_id, turn_index, start_s, end_s, speaker) VALUES (?, ?, ?, ?, ?)",
            [(transcript_id, i, t.start, t.end, t.speaker) for i, t in enumerate(found.turns)],
        )
    if labelled.roles:
        con.executemany(
            "INSERT INTO transcript_speakers (transcript_id, speaker, role, confidence, evidence_json, strategy,"
            " source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    transcript_id,
                    r.speaker,
                    r.role,
                    r.confidence,
                    json.dumps([asdict(e) for e in r.evidence], ensure_ascii=False),
                    found.strategy,
                    r.source,
                )
                for r in labelled.roles
            ],
        )


def _diarization_settings(settings: Settings) -> DiarizationSettings:
    """The ``[diarization]`` section, or its defaults while the root settings have none."""
    section = getattr(settings, "diarization", None)
    return section if isinstance(section, DiarizationSettings) else DiarizationSettings()


def _write_failure(
    con: duckdb.DuckDBPyConnection, call: PendingCall, run_id: str, stage: str, reason: str
) -> None:
    with transaction(con):
        con.execute(
            "INSERT INTO failures (run_id, call_id, path, stage, reason) VALUES (?, ?, ?, ?, ?)",
            [run_id, call.call_id, call.path, stage, reason],
        )
        con.execute("UPDATE runs SET files_failed = files_failed + 1 WHERE run_id = ?", [run_id])


@dataclass(frozen=True)
class CallResult:
    """What the heavy stage made of one call: a transcript with speakers, or where and why it failed.

    Plain data that pickles, so a Ray worker can hand it to the driver.
    """

    call_id: str
    duration_s: float
    layout: str | None = None
    asr: AsrResult | None = None
    speakers: _SpeakerStage | None = None
    failed_stage: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed_stage is None


class CallWorker:
    """The heavy stage, decode -> ASR -> diarization -> roles, for one call at a time.

    It holds a loaded model; the local executor keeps one in the driver, each Ray actor one of its
    own (:mod:`lydlogg.distributed`).
    """

    def __init__(self, transcriber: Transcriber, settings: Settings) -> None:
        self.transcriber = transcriber
        self._diarization = _diarization_settings(settings)
        self._pyannote = getattr(settings, "pyannote", None)
        self._dual_mono_correlation = settings.audio.dual_mono_correlation

    @classmethod
    def load(
        cls, settings: Settings, spec: ModelSpec, options: AsrOptions, *, cpu_threads: int | None = None
    ) -> CallWorker:
        """Load the model once for many calls."""
        model = load_model(
            spec,
            device=options.device,
            compute_type=options.compute_type,
            cpu_threads=settings.asr.cpu_threads if cpu_threads is None else cpu_threads,
        )
        return cls(Transcriber(model, options), settings)

    def run(
        self,
        call: PendingCall,
        path: Path | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> CallResult:
        """Process ``call`` from ``path`` (default: its registered path). A failure is returned, not
        raised, naming the stage and the registered file."""
        stage = "decode"
        try:
            audio = decode_audio(Path(path or call.path), dual_mono_correlation=self._dual_mono_correlation)
            stage = "transcribe"
            _seed_sampling(call.audio_sha256)
            result = self.transcriber.transcribe(audio, progress=progress)
            speakers = _speakers(audio, result, self._diarization, call.service, self._pyannote)
        except (AudioError, OSError, RuntimeError, ValueError, MemoryError) as e:
            reason = str(e) if isinstance(e, AudioError) else f"{type(e).__name__}: {e}"
            if path is not None:  # a copy's name must not stand in for the registered file
                reason = reason.replace(str(path), call.path)
            log.warning("call %s failed at %s: %s", call.call_id, stage, reason)
            return CallResult(call.call_id, call.duration_s, failed_stage=stage, reason=reason)
        return CallResult(call.call_id, audio.duration_s, audio.layout, result, speakers)


def _seed_sampling(audio_sha256: str) -> None:
    """Seed CTranslate2's sampler from the recording's hash, before its call is decoded.

    Where beam search fails Whisper's quality checks, faster-whisper decodes the window again
    with temperature sampling. Unseeded, that makes the transcript differ from run to run and
    between executors (measured: one of five sample calls); seeded per recording, the same audio,
    model and options give the same transcript in any process, in any order.
    """
    import ctranslate2

    ctranslate2.set_random_seed(int(audio_sha256[:8], 16) if audio_sha256 else 0)


class _Writer:
    """The run's one writer: stores each result in its own transaction and moves the progress bar."""

    def __init__(
        self,
        settings: Settings,
        report: ProcessReport,
        todo: list[PendingCall],
        key: str,
        options_hash: str,
        progress: ProgressHook | None,
    ) -> None:
        self._settings, self._report, self._key, self._hash = settings, report, key, options_hash
        self._progress = progress
        self._files_total = len(todo)
        self._total_s = sum(c.duration_s for c in todo)
        self._done_s = 0.0
        self._call_start_s = 0.0

    def advance(self, seconds: float) -> None:
        self._done_s += seconds
        if self._progress:
            self._progress(
                "transcribe",
                completed=self._done_s,
                total=self._total_s,
                files_done=len(self._report.done) + len(self._report.failed),
                files_total=self._files_total,
                workers=self._report.workers,
            )

    def begin(self) -> None:
        """Mark the start of a call whose ASR reports progress as it goes (the local executor)."""
        self._call_start_s = self._done_s

    def store(self, call: PendingCall, done: CallResult) -> None:
        run_id = self._report.run_id
        assert run_id is not None
        if not done.ok:
            reason = done.reason or "unknown error"
            self._report.failed.append((call.call_id, reason))
            with connect(self._settings.db_path) as con:
                _write_failure(con, call, run_id, done.failed_stage or "transcribe", reason)
        else:
            with connect(self._settings.db_path) as con:
                stored = _write_transcript(con, call, done, run_id, self._key, self._hash)
            if stored:
                self._report.done.append(call.call_id)
                self._report.audio_s += call.duration_s
            else:
                log.warning("call %s was stored meanwhile by another run; result dropped", call.call_id)
                self._report.already_stored.append(call.call_id)
        self.advance(max(0.0, call.duration_s - (self._done_s - self._call_start_s)))
        self._call_start_s = self._done_s


def process(
    settings: Settings,
    *,
    progress: ProgressHook | None = None,
    limit: int | None = None,
    transcriber_factory: Callable[[ModelSpec, AsrOptions], Transcriber] | None = None,
) -> ProcessReport:
    """Transcribe every pending call; one bad file is recorded and the batch goes on.

    The model is resolved before anything else, so a missing model fails at once
    (:class:`transcription.ModelNotAvailableError`) without touching the database. With
    ``executor.kind = "ray"`` the worker pool starts next and its workers' decoding options key
    the work list (a GPU worker decodes with float16); ``transcriber_factory`` applies only to the
    local executor.
    """
    spec = resolve_model(settings.asr.model, models_dir=settings.asr.models_dir, offline=settings.asr.offline)
    options = asr_options(settings)
    pool = None
    if settings.executor.kind == "ray":
        from lydlogg.distributed import RayPool

        pool = RayPool.start(settings, spec, software_version=_software_version())
        options = pool.options
    try:
        return _process(settings, spec, options, pool, progress, limit, transcriber_factory)
    finally:
        if pool is not None:
            pool.close()


def _process(
    settings: Settings,
    spec: ModelSpec,
    options: AsrOptions,
    pool: RayPool | None,
    progress: ProgressHook | None,
    limit: int | None,
    transcriber_factory: Callable[[ModelSpec, AsrOptions], Transcriber] | None,
) -> ProcessReport:
    key, options_hash = model_key(spec), options.hash()
    report = ProcessReport(run_id=None, model=spec.name)
    if pool is not None:
        report.executor, report.workers = "ray", pool.size

    with connect(settings.db_path) as con:
        todo = pending_calls(con, key, options_hash)
    if limit is not None:
        todo = todo[:limit]
    if not todo:
        log.info("nothing to transcribe: every call has a transcript for model %s", spec.name)
        return report

    run_id = uuid.uuid4().hex
    report.run_id = run_id
    with connect(settings.db_path) as con:
        con.execute(
            "INSERT INTO runs (run_id, started_at, software_version, model_id, model_sha256, options_json, options_hash,"
            " files_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                datetime.now(UTC),
                _software_version(),
                spec.name,
                spec.sha256,
                json.dumps(options.as_dict(), sort_keys=True),
                options_hash,
                len(todo),
            ],
        )

    worker = None
    if pool is None:  # the Ray workers loaded theirs when the pool started
        if transcriber_factory is None:
            worker = CallWorker.load(settings, spec, options)
        else:
            worker = CallWorker(transcriber_factory(spec, options), settings)
    writer = _Writer(settings, report, todo, key, options_hash, progress)
    writer.advance(0.0)  # show the bar (and the worker count) before the first call is done
    t0 = time.perf_counter()
    if pool is not None:
        for call, done, attempts in pool.map(todo):
            if attempts > 1 and done.ok:
                report.retried.append(call.call_id)
            writer.store(call, done)
    else:
        assert worker is not None
        for call in todo:
            writer.begin()
            writer.store(call, worker.run(call, progress=writer.advance))

    report.elapsed_s = time.perf_counter() - t0
    with connect(settings.db_path) as con:
        con.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", [datetime.now(UTC), run_id])
        if report.done:
            refresh_after_change(con)  # search covers every call's newest transcript
    log.info(
        "run %s: %d transcribed, %d failed, %.1f min audio in %.1f s (%s, %d worker(s))",
        run_id,
        len(report.done),
        len(report.failed),
        report.audio_s / 60,
        report.elapsed_s,
        report.executor,
        report.workers,
    )
    return report


def _software_version() -> str:
    from importlib.metadata import version

    parts = [f"lydlogg {lydlogg.__version__}"]
    for dist in ("faster-whisper", "ctranslate2"):
        try:
            parts.append(f"{dist} {version(dist)}")
        except Exception:  # noqa: BLE001 - provenance is best effort for third-party versions
            parts.append(f"{dist} ?")
    return ", ".join(parts)
