"""The transcription batch: every call whose recording has no transcript yet for the configured
model and options is decoded once, transcribed, diarized (who spoke when, in which role) from the
same decoded array, and written in one transaction.

A call whose diarization fails keeps its transcript; the diarization row records the error and
the segments stay without speaker and role.

Each stage's result is keyed on the content and its own options. The recogniser's output is kept
per (audio sha256, model, ASR options hash) in ``asr_results``/``asr_segments``; a transcript (that
output with speakers and roles) per the same key plus the diarization options' hash
(:func:`diarization_hash`). A re-run skips what is done; changed ``[diarization]`` settings
re-diarize from the stored ASR output without decoding speech again; a run killed halfway leaves
no half-written transcript (its transaction never committed). The database
is opened only to read the work list and to write each finished call, so other processes (the
review app) can write in between.

The heavy stage of one call (decode -> ASR -> diarization -> roles) is :class:`CallWorker`; it
returns a plain, picklable :class:`CallResult`. The ``local`` executor runs it in this process; the
``ray`` executor (:mod:`lydlogg.distributed`) runs it in a pool of Ray actors. Either way this
process stores every result through the same writer, one transaction per call, as the only writer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import duckdb

import lydlogg
from lydlogg.db import connect, transaction
from lydlogg.db.bulk import insert_columns
from lydlogg.search_index import refresh_after_change
from lydlogg.settings import Settings
from transcription import (
    AsrOptions,
    AsrResult,
    AudioError,
    DecodedAudio,
    ModelSpec,
    Segment,
    Transcriber,
    Word,
    decode_audio,
    load_model,
    pick_device,
    resolve_model,
    shared_speech_probabilities,
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
    "Rerun",
    "asr_options",
    "decode_call",
    "diarize_call",
    "diarization_hash",
    "label_roles",
    "load_asr",
    "model_key",
    "pending_calls",
    "process",
    "transcribe_call",
]

if TYPE_CHECKING:
    from lydlogg.distributed import RayPool
    from transcription.diarization.pyannote_adapter import PyannoteSettings

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
    """A call to decode and diarize; ``asr`` is the stored recogniser output to diarize from (None:
    transcribe it). ``asr_cached`` says whether that output is stored; ``transcribed`` whether the
    call has a transcript for this model and ASR options under any diarization options; ``stored``
    whether it has one under these very options that a newer one (other options, since reverted)
    hides."""

    call_id: str
    audio_sha256: str
    path: str
    duration_s: float
    service: str | None = None
    asr_cached: bool = False
    transcribed: bool = False
    stored: bool = False
    asr: AsrResult | None = None


Rerun = Literal["asr", "diarization"]


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
    asr_reused: list[str] = field(default_factory=list)  # diarized from the stored ASR output
    asr_run: list[str] = field(default_factory=list)  # the recogniser ran on these
    # Diarization options changed, but the ASR output predates its cache (schema v20): only
    # `lydlogg process --stage diarization` re-diarizes these, transcribing them again.
    stale_uncached: list[str] = field(default_factory=list)


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


def diarization_hash(options: DiarizationSettings, pyannote: PyannoteSettings | None = None) -> str:
    """Short stable hash of the diarization options, as stored with each transcript (the
    ``options_json`` of its ``diarizations`` row hashes to the same value).

    A configured pyannote pipeline (``[pyannote] pipeline`` set) is part of the key with the one
    option that changes its turns (``exclusive``), so pointing at other weights re-diarizes; its
    token, offline flag, device and batch sizes change nothing in the result and are left out. With
    no pipeline configured the key is the ``[diarization]`` section's alone.
    """
    text = options.result_json()
    if pyannote is not None and pyannote.pipeline:
        text += pyannote.model_dump_json(include={"pipeline", "exclusive"})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pending_calls(
    con: duckdb.DuckDBPyConnection,
    key: str,
    options_hash: str,
    diarization_key: str = "",
    *,
    every: bool = False,
) -> list[PendingCall]:
    """Calls with audio whose newest transcript is not for this model, ASR options and diarization
    options (``every``: all calls with audio), with whether their ASR output is stored."""
    rows = con.execute(
        """
        WITH newest AS (SELECT call_id, arg_max(transcript_id, created_at) AS tid FROM transcripts GROUP BY call_id)
        SELECT c.call_id, a.sha256, a.path, a.duration_s, c.service, r.asr_id IS NOT NULL,
               EXISTS (SELECT 1 FROM transcripts t
                       WHERE t.audio_sha256 = a.sha256 AND t.model_id = $key AND t.options_hash = $opts),
               k.transcript_id IS NOT NULL
        FROM calls c JOIN audio_files a ON a.sha256 = c.audio_sha256
        LEFT JOIN asr_results r ON r.audio_sha256 = a.sha256 AND r.model_id = $key AND r.options_hash = $opts
        LEFT JOIN transcripts k ON k.audio_sha256 = a.sha256 AND k.model_id = $key AND k.options_hash = $opts
                               AND k.diarization_hash = $diar
        LEFT JOIN newest n ON n.call_id = c.call_id
        WHERE $every OR k.transcript_id IS NULL OR n.tid IS DISTINCT FROM k.transcript_id
        ORDER BY c.started_at NULLS LAST, c.call_id
        """,
        {"key": key, "opts": options_hash, "diar": diarization_key, "every": every},
    ).fetchall()
    return [
        PendingCall(
            call_id, sha, path, duration, service, asr_cached=cached, transcribed=transcribed, stored=stored
        )
        for call_id, sha, path, duration, service, cached, transcribed, stored in rows
    ]


def load_asr(
    con: duckdb.DuckDBPyConnection, audio_sha256: str, key: str, options_hash: str
) -> AsrResult | None:
    """The stored recogniser output for this recording, model and ASR options, or None."""
    head = con.execute(
        "SELECT asr_id, language, speech_s, asr_seconds, channels_transcribed FROM asr_results"
        " WHERE audio_sha256 = ? AND model_id = ? AND options_hash = ?",
        [audio_sha256, key, options_hash],
    ).fetchone()
    if head is None:
        return None
    asr_id, language, speech_s, asr_seconds, channels = head
    segments = tuple(
        Segment(
            start=start,
            end=end,
            text=text,
            channel=channel,
            words=tuple(Word(ws, we, wt, wp, wc) for ws, we, wt, wp, wc in json.loads(words)),
            avg_logprob=logprob,
            no_speech_prob=no_speech,
        )  # fmt: skip
        for channel, start, end, text, logprob, no_speech, words in con.execute(
            "SELECT channel, start_s, end_s, text, avg_logprob, no_speech_prob, words_json FROM asr_segments"
            " WHERE asr_id = ? ORDER BY segment_index",
            [asr_id],
        ).fetchall()
    )
    return AsrResult(segments, language, speech_s, asr_seconds, channels)


def _write_asr(
    con: duckdb.DuckDBPyConnection,
    call: PendingCall,
    result: AsrResult,
    run_id: str,
    key: str,
    options_hash: str,
) -> None:
    """Store the recogniser's output before diarization, replacing any older one of the same key."""
    where = [call.audio_sha256, key, options_hash]
    con.execute(
        "DELETE FROM asr_segments WHERE asr_id IN (SELECT asr_id FROM asr_results"
        " WHERE audio_sha256 = ? AND model_id = ? AND options_hash = ?)",
        where,
    )
    con.execute("DELETE FROM asr_results WHERE audio_sha256 = ? AND model_id = ? AND options_hash = ?", where)
    asr_id = uuid.uuid4().hex
    con.execute(
        "INSERT INTO asr_results (asr_id, audio_sha256, model_id, options_hash, run_id, language,"
        " channels_transcribed, speech_s, asr_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            asr_id,
            *where,
            run_id,
            result.language,
            result.channels_transcribed,
            result.speech_s,
            result.asr_seconds,
        ],
    )
    segments = result.segments
    insert_columns(
        con,
        "asr_segments",
        {
            "asr_id": ("VARCHAR", [asr_id] * len(segments)),
            "segment_index": ("INTEGER", list(range(len(segments)))),
            **_segment_columns(segments),
            "words_json": ("VARCHAR", [
                json.dumps([[w.start, w.end, w.text, w.probability, w.channel] for w in s.words], ensure_ascii=False)
                for s in segments
            ]),
        },
    )  # fmt: skip


def _segment_columns(segments: tuple[Segment, ...]) -> dict[str, tuple[str, list]]:
    """The columns ``asr_segments`` and ``segments`` share, one value per segment."""
    return {
        "channel": ("INTEGER", [s.channel for s in segments]),
        "start_s": ("DOUBLE", [s.start for s in segments]),
        "end_s": ("DOUBLE", [s.end for s in segments]),
        "text": ("VARCHAR", [s.text for s in segments]),
        "avg_logprob": ("DOUBLE", [s.avg_logprob for s in segments]),
        "no_speech_prob": ("DOUBLE", [s.no_speech_prob for s in segments]),
    }


def _word_columns(transcript_id: str, segments: tuple[Segment, ...]) -> dict[str, tuple[str, list]]:
    """The ``words`` rows of a transcript's segments, column by column."""
    placed = [(i, j, w) for i, s in enumerate(segments) for j, w in enumerate(s.words)]
    return {
        "transcript_id": ("VARCHAR", [transcript_id] * len(placed)),
        "segment_index": ("INTEGER", [i for i, _j, _w in placed]),
        "word_index": ("INTEGER", [j for _i, j, _w in placed]),
        "channel": ("INTEGER", [w.channel for _i, _j, w in placed]),
        "start_s": ("DOUBLE", [w.start for _i, _j, w in placed]),
        "end_s": ("DOUBLE", [w.end for _i, _j, w in placed]),
        "text": ("VARCHAR", [w.text for _i, _j, w in placed]),
        "probability": ("DOUBLE", [w.probability for _i, _j, w in placed]),
    }


def _write_transcript(
    con: duckdb.DuckDBPyConnection,
    call: PendingCall,
    done: CallResult,
    run_id: str,
    key: str,
    options_hash: str,
    diarization_key: str = "",
    *,
    replace: bool = False,
) -> bool:
    """Store one call's transcript, segments, words and speakers in one transaction, and the
    recogniser's output when it ran for this result.

    Returns False, storing nothing, when the recording already has a transcript for this model and
    these options (another run stored it meanwhile): a call is never stored twice. With ``replace``
    (a forced re-run) that transcript is kept, its key marked retired, and the new one is stored
    under the key: reviews and corrections keep pointing at the transcript they were made on.
    """
    result, speakers = done.asr, done.speakers
    assert result is not None and speakers is not None and done.layout is not None
    transcript_id = uuid.uuid4().hex
    segments = speakers.labelled.segments if speakers.labelled else result.segments
    key_values = [call.audio_sha256, key, options_hash, diarization_key]
    with transaction(con):
        stored = con.execute(
            "SELECT count(*) FROM transcripts"
            " WHERE audio_sha256 = ? AND model_id = ? AND options_hash = ? AND diarization_hash = ?",
            key_values,
        ).fetchone()[0]
        if stored and not replace:
            return False
        if stored:
            con.execute(
                "UPDATE transcripts SET diarization_hash = diarization_hash || ?"
                " WHERE audio_sha256 = ? AND model_id = ? AND options_hash = ? AND diarization_hash = ?",
                [f"~retired-{run_id[:8]}", *key_values],
            )
        if done.asr_fresh:
            _write_asr(con, call, result, run_id, key, options_hash)
        con.execute(
            "INSERT INTO transcripts (transcript_id, call_id, audio_sha256, run_id, model_id, options_hash, language,"
            " layout, channels_transcribed, duration_s, speech_s, asr_seconds, diarization_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                diarization_key,
            ],
        )
        insert_columns(
            con,
            "segments",
            {
                "transcript_id": ("VARCHAR", [transcript_id] * len(segments)),
                "segment_index": ("INTEGER", list(range(len(segments)))),
                **_segment_columns(segments),
                "speaker": ("VARCHAR", [s.speaker for s in segments]),
                "role": ("VARCHAR", [s.role for s in segments]),
            },
        )
        insert_columns(con, "words", _word_columns(transcript_id, segments))
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


def decode_call(
    call: PendingCall, path: Path | None = None, *, dual_mono_correlation: float, block_s: float | None = None
) -> DecodedAudio:
    """Stage *decode once*: the call's recording (or a copy at ``path``) as 16 kHz float32; with
    ``block_s`` (the recogniser's block), a call longer than one block is read from its file block by
    block instead of held whole (:mod:`transcription.stream`)."""
    return decode_audio(Path(path or call.path), dual_mono_correlation=dual_mono_correlation, block_s=block_s)


def transcribe_call(
    transcriber: Transcriber,
    audio: DecodedAudio,
    audio_sha256: str,
    progress: Callable[[float], None] | None = None,
) -> AsrResult:
    """Stage *ASR*: the recogniser's segments and words, seeded by the recording's hash."""
    _seed_sampling(audio_sha256)
    return transcriber.transcribe(audio, progress=progress)


def diarize_call(
    audio: DecodedAudio, settings: DiarizationSettings, pyannote: object | None = None
) -> Diarization:
    """Stage *diarization*: who spoke when, from the same decoded audio."""
    return diarize(audio, settings, pyannote)


def label_roles(
    result: AsrResult, found: Diarization, settings: DiarizationSettings, service: str | None
) -> Labelled:
    """Stage *roles*: every word given a speaker by time overlap, each speaker a role."""
    return label(result.segments, found, settings, service)


def _speakers(
    audio: DecodedAudio,
    result: AsrResult,
    settings: DiarizationSettings,
    service: str | None,
    pyannote: object | None = None,
) -> _SpeakerStage:
    """Diarize the decoded call and label its segments; an error is returned, not raised."""
    options_json = settings.result_json()
    t0 = time.perf_counter()
    try:
        found = diarize_call(audio, settings, pyannote)
        labelled = label_roles(result, found, settings, service)
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
    turns, roles = found.turns, labelled.roles
    insert_columns(
        con,
        "speaker_turns",
        {
            "transcript_id": ("VARCHAR", [transcript_id] * len(turns)),
            "turn_index": ("INTEGER", list(range(len(turns)))),
            "start_s": ("DOUBLE", [t.start for t in turns]),
            "end_s": ("DOUBLE", [t.end for t in turns]),
            "speaker": ("VARCHAR", [t.speaker for t in turns]),
        },
    )
    insert_columns(
        con,
        "transcript_speakers",
        {
            "transcript_id": ("VARCHAR", [transcript_id] * len(roles)),
            "speaker": ("VARCHAR", [r.speaker for r in roles]),
            "role": ("VARCHAR", [r.role for r in roles]),
            "confidence": ("DOUBLE", [r.confidence for r in roles]),
            "evidence_json": ("VARCHAR", [json.dumps([asdict(e) for e in r.evidence], ensure_ascii=False) for r in roles]),
            "strategy": ("VARCHAR", [found.strategy] * len(roles)),
            "source": ("VARCHAR", [r.source for r in roles]),
        },
    )  # fmt: skip


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
    asr_fresh: bool = True  # False: diarized from the stored ASR output, which is not stored again

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
        # the recogniser's block decides where a long call is read in pieces (a worker without one
        # still decodes as the settings say)
        self._block_s = transcriber.options.block_s if transcriber is not None else settings.asr.block_s

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
            audio = decode_call(
                call,
                path,
                dual_mono_correlation=self._dual_mono_correlation,
                block_s=self._block_s,
            )
            # The recogniser's voice-activity filter and the diarization's speech regions read
            # the same Silero probabilities where they read the same samples (a mono call).
            with _one_blas_thread(), shared_speech_probabilities():
                result = call.asr
                if result is None:
                    stage = "transcribe"
                    result = transcribe_call(self.transcriber, audio, call.audio_sha256, progress)
                speakers = _speakers(audio, result, self._diarization, call.service, self._pyannote)
        except (AudioError, OSError, RuntimeError, ValueError, MemoryError) as e:
            reason = str(e) if isinstance(e, AudioError) else f"{type(e).__name__}: {e}"
            if path is not None:  # a copy's name must not stand in for the registered file
                reason = reason.replace(str(path), call.path)
            log.warning("call %s failed at %s: %s", call.call_id, stage, reason)
            return CallResult(call.call_id, call.duration_s, failed_stage=stage, reason=reason)
        return CallResult(
            call.call_id, audio.duration_s, audio.layout, result, speakers, asr_fresh=call.asr is None
        )


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """numpy's BLAS held to one thread while a call is decoded and diarized.

    Its matrix products there are small (Whisper's and the speaker encoder's mel filter banks, the
    clustering), too small for a second thread to pay: on the 2-core machine two OpenBLAS threads
    spent twice the CPU time on Whisper's features of a 30 s chunk (43 against 20 ms) for the
    same values, bit for bit. The recogniser (CTranslate2) and the encoder (torch) keep their own
    thread settings."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _with_asr(settings: Settings, call: PendingCall, key: str, options_hash: str) -> PendingCall:
    """``call`` with its stored ASR output to diarize from, when it is to be reused."""
    if not call.asr_cached:
        return call
    with connect(settings.db_path) as con:
        return replace(call, asr=load_asr(con, call.audio_sha256, key, options_hash))


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
        diarization_key: str = "",
        replace: bool = False,
    ) -> None:
        self._settings, self._report, self._key, self._hash = settings, report, key, options_hash
        self._diarization_key, self._replace = diarization_key, replace
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
                stored = _write_transcript(
                    con,
                    call,
                    done,
                    run_id,
                    self._key,
                    self._hash,
                    self._diarization_key,
                    replace=self._replace or call.stored,  # options reverted: the older one retires
                )
            if stored:
                self._report.done.append(call.call_id)
                self._report.audio_s += call.duration_s
                (self._report.asr_run if done.asr_fresh else self._report.asr_reused).append(call.call_id)
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
    rerun: Rerun | None = None,
) -> ProcessReport:
    """Transcribe and diarize every pending call; one bad file is recorded and the batch goes on.

    A call whose ASR output is stored for this model and options is only diarized again (when the
    ``[diarization]`` settings changed). ``rerun`` forces a stage for every call with audio:
    ``"asr"`` transcribes and diarizes again, ``"diarization"`` diarizes again from the stored ASR
    output (transcribing calls stored before that output was kept); each new transcript replaces
    the one stored under the same key, which is kept with its key marked retired.

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
        return _process(settings, spec, options, pool, progress, limit, transcriber_factory, rerun)
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
    rerun: Rerun | None = None,
) -> ProcessReport:
    key, options_hash = model_key(spec), options.hash()
    diarization = _diarization_settings(settings)
    diarization_key = diarization_hash(diarization, getattr(settings, "pyannote", None))
    report = ProcessReport(run_id=None, model=spec.name)
    if pool is not None:
        report.executor, report.workers = "ray", pool.size

    with connect(settings.db_path) as con:
        candidates = pending_calls(con, key, options_hash, diarization_key, every=rerun is not None)
    todo = []
    for call in candidates:
        if rerun is None and call.transcribed and not call.asr_cached:
            report.stale_uncached.append(call.call_id)
        else:
            todo.append(replace(call, asr_cached=call.asr_cached and rerun != "asr"))
    if report.stale_uncached:
        log.warning(
            "%d call(s) have a transcript from other diarization options but no stored ASR output;"
            " `lydlogg process --stage diarization` re-diarizes them (transcribing them again)",
            len(report.stale_uncached),
        )
    if limit is not None:
        todo = todo[:limit]
    if not todo:
        log.info("nothing to transcribe or diarize for model %s", spec.name)
        return report

    run_id = uuid.uuid4().hex
    report.run_id = run_id
    with connect(settings.db_path) as con:
        con.execute(
            "INSERT INTO runs (run_id, started_at, software_version, model_id, model_sha256, options_json, options_hash,"
            " files_total, diarization_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                datetime.now(UTC),
                _software_version(),
                spec.name,
                spec.sha256,
                json.dumps(options.as_dict(), sort_keys=True),
                options_hash,
                len(todo),
                diarization_key,
            ],
        )

    worker = None
    if pool is None:  # the Ray workers loaded theirs when the pool started
        if transcriber_factory is None:
            worker = CallWorker.load(settings, spec, options)
        else:
            worker = CallWorker(transcriber_factory(spec, options), settings)
    writer = _Writer(settings, report, todo, key, options_hash, progress, diarization_key, rerun is not None)
    writer.advance(0.0)  # show the bar (and the worker count) before the first call is done
    t0 = time.perf_counter()
    if pool is not None:
        todo = [
            _with_asr(settings, call, key, options_hash) for call in todo
        ]  # the workers cannot read the database
        for call, done, attempts in pool.map(todo):
            if attempts > 1 and done.ok:
                report.retried.append(call.call_id)
            writer.store(call, done)
    else:
        assert worker is not None
        for call in todo:
            writer.begin()
            call = _with_asr(settings, call, key, options_hash)  # one call's ASR output in memory at a time
            writer.store(call, worker.run(call, progress=writer.advance))

    report.elapsed_s = time.perf_counter() - t0
    with connect(settings.db_path) as con:
        con.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", [datetime.now(UTC), run_id])
        if report.done:
            refresh_after_change(con)  # search covers every call's newest transcript
    log.info(
        "run %s: %d stored (%d diarized from stored ASR output), %d failed, %.1f min audio in %.1f s"
        " (%s, %d worker(s))",
        run_id,
        len(report.done),
        len(report.asr_reused),
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
