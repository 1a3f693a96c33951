"""The pipeline, in the order a recording goes through it.

1. **ingest** :func:`ingest` (files, metadata CSV -> calls). Stored in ``calls``,
   ``audio_files``; keyed on the sha256 of the recording's bytes.
2. **decode once** :func:`decode` (call -> ``DecodedAudio``, 16 kHz float32). Kept in memory:
   every later stage of the call reads the same array; a call longer than one ASR block
   (``asr.block_s``) is read from its file block by block instead (:mod:`transcription.stream`).
3. **ASR** :func:`transcribe` (audio -> ``AsrResult``). Stored in ``asr_results``,
   ``asr_segments``; keyed on (audio sha256, model, ASR options hash).
4. **diarization** :func:`diarize` (audio -> ``Diarization``). Stored in ``diarizations``,
   ``speaker_turns``; keyed on the ASR key + the diarization options' hash.
5. **roles** :func:`assign_roles` (``AsrResult``, ``Diarization`` -> ``Labelled``). Stored in
   ``transcript_speakers`` and the segments' speaker and role; same key as diarization.
6. **store** :func:`transcribe_and_store` (stages 2-5 for each call, then its transcript,
   segments, words and speakers in one transaction). ``transcripts`` is unique on (audio
   sha256, model, ASR options hash, diarization options hash).
7. **score** :func:`score` (newest transcripts -> ``ScoreReport``). Stored in ``suggestions``,
   ``advice_results``, ``segment_quality``; keyed on (transcript, rubric content hash, + the
   advice library's hash where a criterion reads it).
8. **episodes** :func:`link_episodes` (dated calls -> ``EpisodeUpdate``). Stored in
   ``episodes``; keyed on the calls' time and pseudonyms and ``episodes.window_hours``.

Because every stored result carries its own key, :func:`run` does whatever is not done:
new recordings go through every stage; changed ``[diarization]`` settings re-diarize (and re-label,
re-store, re-score) from the stored ASR output without decoding speech again; an edited rubric
re-scores only; calls that arrived or changed are relinked into episodes. ``PipelineOptions.stage``
re-runs one stage for every call, and the stages after it that read its result: ``asr`` (then
diarization, roles, store, score, episodes), ``diarization`` (then roles, store, score, episodes),
``score``, ``episodes`` (every contact relinked). Re-contact flags are read live from reviews and
suggestions (:func:`lydlogg.episodes.read_episodes`), so scoring does not relink episodes.

The heavy per-call stages (decode -> ASR -> diarization -> roles) run in
:class:`lydlogg.batch.CallWorker`, locally or on Ray actors; this process is the only writer, one
short transaction per call (or per batch of calls when scoring), so the review app can write in
between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from lydlogg.batch import (
    ProcessReport,
    ProgressHook,
    decode_call,
    diarize_call,
    label_roles,
    transcribe_call,
)
from lydlogg.batch import process as _transcribe_pending
from lydlogg.db import connect
from lydlogg.episodes import EpisodeUpdate, update_episodes
from lydlogg.ingest import IngestReport
from lydlogg.ingest import ingest as _ingest
from lydlogg.scoring import ScoreReport, score_stored
from lydlogg.settings import Settings
from transcription import AsrOptions, ModelSpec, Transcriber

__all__ = [
    "STAGES",
    "PipelineOptions",
    "PipelineReport",
    "Stage",
    "assign_roles",
    "decode",
    "diarize",
    "ingest",
    "link_episodes",
    "run",
    "score",
    "transcribe",
    "transcribe_and_store",
]

log = logging.getLogger(__name__)

Stage = Literal["asr", "diarization", "score", "episodes"]
STAGES: tuple[Stage, ...] = get_args(Stage)

# The per-call stages, in order; each is a plain function over frozen dataclasses.
decode = decode_call  # PendingCall -> DecodedAudio
transcribe = transcribe_call  # Transcriber, DecodedAudio -> AsrResult
diarize = diarize_call  # DecodedAudio, DiarizationSettings -> Diarization
assign_roles = label_roles  # AsrResult, Diarization, DiarizationSettings, service -> Labelled


@dataclass(frozen=True)
class PipelineOptions:
    """What :func:`run` does: everything not done (``stage`` None), or one stage again and those
    after it; ``limit`` caps the calls transcribed or diarized in this run; ``rubrics_dir`` scores
    with the rubrics in that folder instead of the shipped ones (``rubrics/``)."""

    stage: Stage | None = None
    limit: int | None = None
    rubrics_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.stage is not None and self.stage not in STAGES:
            raise ValueError(f"stage {self.stage!r} is not one of {', '.join(STAGES)}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"limit must be at least 1, got {self.limit}")


@dataclass(frozen=True)
class PipelineReport:
    """What each stage did; None for a stage that did not run."""

    transcription: ProcessReport | None = None
    scoring: ScoreReport | None = None
    episodes: EpisodeUpdate | None = None

    @property
    def failed(self) -> bool:
        return bool(
            (self.transcription and self.transcription.failed) or (self.scoring and self.scoring.failures)
        )


def ingest(settings: Settings, paths: Iterable[Path], metadata: Path | None = None) -> IngestReport:
    """Stage *ingest*: register recordings and metadata as calls; the calls that arrived are linked
    into episodes at once (:func:`lydlogg.episodes.update_episodes`)."""
    return _ingest(settings, paths, metadata)


def transcribe_and_store(
    settings: Settings,
    *,
    rerun: Literal["asr", "diarization"] | None = None,
    limit: int | None = None,
    progress: ProgressHook | None = None,
    transcriber_factory: Callable[[ModelSpec, AsrOptions], Transcriber] | None = None,
) -> ProcessReport:
    """Stages *decode* to *store* for every call that lacks a transcript under the current keys
    (``rerun``: for every call with audio), each call in its own transaction."""
    return _transcribe_pending(
        settings, progress=progress, limit=limit, transcriber_factory=transcriber_factory, rerun=rerun
    )


def score(settings: Settings, *, again: bool = False, rubrics_dir: Path | None = None) -> ScoreReport:
    """Stage *score*: suggestions for every newest transcript that lacks them under its rubric's
    current hash (``again``: all of them, replacing what is stored)."""
    return score_stored(settings, force=again, rubrics_dir=rubrics_dir)


def link_episodes(settings: Settings, *, everything: bool = False) -> EpisodeUpdate:
    """Stage *episodes*: relink the episodes that calls arrived or changed since can reach
    (``everything``: every contact)."""
    with connect(settings.db_path) as con:
        return update_episodes(con, settings.episodes.window_hours, full=everything)


def run(
    settings: Settings,
    options: PipelineOptions = PipelineOptions(),
    *,
    progress: ProgressHook | None = None,
    transcriber_factory: Callable[[ModelSpec, AsrOptions], Transcriber] | None = None,
) -> PipelineReport:
    """Run every stage after ingest that has work, in order, or re-run ``options.stage`` and the
    stages after it. The model is resolved first when a transcription stage runs, so a missing
    model fails before the database is touched."""
    stage = options.stage
    transcription = None
    if stage in (None, "asr", "diarization"):
        rerun = stage if stage in ("asr", "diarization") else None
        transcription = transcribe_and_store(
            settings,
            rerun=rerun,
            limit=options.limit,
            progress=progress,
            transcriber_factory=transcriber_factory,
        )
    scoring = None
    if stage != "episodes":
        scoring = score(settings, again=stage == "score", rubrics_dir=options.rubrics_dir)
    episodes = link_episodes(settings, everything=stage == "episodes") if stage != "score" else None
    log.info(
        "pipeline%s: %s transcripts stored, %s calls scored, %s contacts relinked",
        f" (stage {stage} again)" if stage else "",
        len(transcription.done) if transcription else "no",
        scoring.scored if scoring else "no",
        episodes.relinked if episodes else "no",
    )
    return PipelineReport(transcription, scoring, episodes)
