"""The transcription batch: every call whose recording has no transcript yet for the configured
model and options is decoded once, transcribed, diarized (who spoke when, in which role) from the
same decoded array, and written in one transaction.

A call whose diarization fails keeps its transcript; the diarization row records the error and
the segments stay without speaker and role.

Results are keyed on (audio sha256, model, options hash): a re-run skips what is done, and a run
killed halfway leaves no half-written transcript (its transaction never committed). The database
is opened only to read the work list and to write each finished call, so other processes (the
review app) can write in between.
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
from typing import Protocol

import duckdb

import lydlogg
from lydlogg.db import connect, transaction
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
    "PendingCall",
    "ProcessReport",
    "ProgressHook",
    "asr_options",
    "model_key",
    "pending_calls",
    "process",
]

log = logging.getLogger(__name__)


class ProgressHook(Protocol):
    """Called as work advances; ``completed``/``total`` are seconds of audio."""

    def __call__(
        self, step: str, *, completed: float, total: float, files_done: int, files_total: int
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
    audio: DecodedAudio,
    result: AsrResult,
    run_id: str,
    key: str,
    options_hash: str,
    speakers: _SpeakerStage,
) -> None:
    transcript_id = uuid.uuid4().hex
    segments = speakers.labelled.segments if speakers.labelled else result.segments
    with transaction(con):
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
                audio.layout,
                result.channels_transcribed,
                audio.duration_s,
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
            con.executemany("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", seg_rows)
        if word_rows:
            con.executemany("INSERT INTO words VALUES (?, ?, ?, ?, ?, ?, ?, ?)", word_rows)
        _write_speakers(con, transcript_id, speakers)
        con.execute(
            "UPDATE failures SET resolved_at = current_timestamp WHERE call_id = ? AND resolved_at IS NULL",
            [call.call_id],
        )
        con.execute("UPDATE runs SET files_done = files_done + 1 WHERE run_id = ?", [run_id])


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
            "INSERT INTO speaker_turns VALUES (?, ?, ?, ?, ?)",
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


def process(
    settings: Settings,
    *,
    progress: ProgressHook | None = None,
    limit: int | None = None,
    transcriber_factory: Callable[[ModelSpec, AsrOptions], Transcriber] | None = None,
) -> ProcessReport:
    """Transcribe every pending call; one bad file is recorded and the batch goes on.

    The model is resolved before anything else, so a missing model fails at once
    (:class:`transcription.ModelNotAvailableError`) without touching the database.
    """
    spec = resolve_model(settings.asr.model, models_dir=settings.asr.models_dir, offline=settings.asr.offline)
    options = asr_options(settings)
    key, options_hash = model_key(spec), options.hash()
    report = ProcessReport(run_id=None, model=spec.name)

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

    if transcriber_factory is None:
        model = load_model(
            spec,
            device=options.device,
            compute_type=options.compute_type,
            cpu_threads=settings.asr.cpu_threads,
        )
        transcriber = Transcriber(model, options)
    else:
        transcriber = transcriber_factory(spec, options)
    diarization_settings = _diarization_settings(settings)
    total_s = sum(c.duration_s for c in todo)
    done_s = 0.0
    t0 = time.perf_counter()

    def advance(seconds: float) -> None:
        nonlocal done_s
        done_s += seconds
        if progress:
            progress(
                "transcribe",
                completed=done_s,
                total=total_s,
                files_done=len(report.done) + len(report.failed),
                files_total=len(todo),
            )

    for call in todo:
        start_s = done_s
        stage = "decode"
        try:
            audio = decode_audio(Path(call.path), dual_mono_correlation=settings.audio.dual_mono_correlation)
            stage = "transcribe"
            result = transcriber.transcribe(audio, progress=advance)
            speakers = _speakers(
                audio, result, diarization_settings, call.service, getattr(settings, "pyannote", None)
            )
        except (AudioError, OSError, RuntimeError, ValueError, MemoryError) as e:
            reason = str(e) if isinstance(e, AudioError) else f"{type(e).__name__}: {e}"
            log.warning("call %s failed at %s: %s", call.call_id, stage, reason)
            report.failed.append((call.call_id, reason))
            with connect(settings.db_path) as con:
                _write_failure(con, call, run_id, stage, reason)
            advance(call.duration_s - (done_s - start_s))
            continue
        with connect(settings.db_path) as con:
            _write_transcript(con, call, audio, result, run_id, key, options_hash, speakers)
        report.done.append(call.call_id)
        report.audio_s += call.duration_s
        advance(max(0.0, call.duration_s - (done_s - start_s)))

    report.elapsed_s = time.perf_counter() - t0
    with connect(settings.db_path) as con:
        con.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", [datetime.now(UTC), run_id])
    log.info(
        "run %s: %d transcribed, %d failed, %.1f min audio in %.1f s",
        run_id,
        len(report.done),
        len(report.failed),
        report.audio_s / 60,
        report.elapsed_s,
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
