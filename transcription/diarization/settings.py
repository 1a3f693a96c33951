"""Settings of the diarization stage (the ``[diarization]`` section of ``lydlogg.toml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DiarizationSettings"]

# Fields that change how fast diarization runs, never what it finds: left out of its key.
_SPEED_ONLY = frozenset({"embedding_threads"})


class DiarizationSettings(BaseModel):
    """Who spoke when, and in which role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Literal["auto", "channels", "pyannote", "embeddings", "builtin"] = Field(
        "auto",
        description=(
            "How speakers are found. `channels`: true stereo, one party per channel. `builtin`: "
            "speech regions, voice features per window and clustering, no model download. "
            "`embeddings`: the same speech regions described by Resemblyzer speaker embeddings "
            "(the optional `embeddings` extra; fails naming it when missing). "
            "`pyannote`: the pyannote pipeline (needs its weights on disk). `auto`: channels for true "
            "stereo; for mono pyannote when `pyannote.pipeline` is set and loads, else embeddings "
            "when the extra is installed, else builtin."
        ),
    )
    channel_roles: Literal["auto", "operator,caller", "caller,operator", "doctor,caller", "caller,doctor"] = (
        Field(
            "auto",
            description=(
                "Roles of channel 0 and 1 in true-stereo calls, e.g. `operator,caller` when the "
                "switchboard always records staff on the left. `auto` decides from the words "
                "(greeting, questions, advice)."
            ),
        )
    )
    vad: Literal["silero", "energy"] = Field(
        "silero",
        description=(
            "Speech detector of the built-in method: `silero` (the model faster-whisper ships) or "
            "`energy` (frame energy above the call's noise floor; fastest)."
        ),
    )
    num_speakers: int | None = Field(
        2,
        ge=1,
        le=8,
        description=(
            "Speakers expected in a mono call. Empty (null) lets the built-in method choose 2 to "
            "`max_speakers` by the silhouette score of the clustering."
        ),
    )
    max_speakers: int = Field(4, ge=2, le=8, description="Most speakers the built-in method will find.")
    min_turn_s: float = Field(
        1.0,
        ge=0,
        le=10,
        description=(
            "Speaker changes shorter than this (seconds) are smoothed away as flips (by the mono "
            "methods when their change penalty is 0; the HMM re-segmentation replaces it otherwise)."
        ),
    )
    join_pause_s: float = Field(
        1.0,
        ge=0,
        le=5,
        description=(
            "Pauses up to this long (seconds) inside one speaker's talk, with nobody else speaking, "
            "stay inside the turn, so a turn spans the speaker's sentences as a listener hears them."
        ),
    )
    window_s: float = Field(1.5, gt=0.2, le=5, description="Length (seconds) of one voice-feature window.")
    hop_s: float = Field(0.5, gt=0.05, le=5, description="Step (seconds) between voice-feature windows.")
    pitch_weight: float = Field(
        2.0,
        ge=0,
        le=10,
        description=(
            "Weight of the voice's pitch against the 38 spectrum-shape features in the built-in "
            "clustering (2 measured best on the sample calls)."
        ),
    )
    embedding_resegment: int = Field(
        5,
        ge=0,
        le=10,
        description=(
            "Rounds of re-segmentation after the `embeddings` method's clustering of speech "
            "regions: each window goes to the speaker whose mean embedding is nearest, short flips "
            "are smoothed (0 turns it off; it stops early when nothing changes)."
        ),
    )
    builtin_change_penalty: float = Field(
        0.5,
        ge=0,
        le=10,
        description=(
            "Cost of a speaker change between neighbouring windows of one speech region in the "
            "built-in method's HMM re-segmentation (a Viterbi pass over each window's fit to each "
            "speaker's voice features, docs/mono_diarization.md); 0 turns it off, and flips shorter "
            "than `min_turn_s` are smoothed instead. 0.5 measured best on the tuning calls."
        ),
    )
    embedding_change_penalty: float = Field(
        0.2,
        ge=0,
        le=10,
        description=(
            "The same for the `embeddings` method, in cosine units of its d-vectors; 0 turns it off "
            "(flips shorter than `min_turn_s` smoothed instead). 0.2 measured best on the tuning calls."
        ),
    )
    hmm_rounds: int = Field(
        3,
        ge=1,
        le=10,
        description=(
            "Rounds of the HMM re-segmentation: each takes the speakers' means again from the labels "
            "and finds the best path again (it stops early when nothing changes)."
        ),
    )
    embedding_threads: int = Field(
        1,
        ge=0,
        le=64,
        description=(
            "CPU threads the `embeddings` method's speaker encoder (torch) may use; 0 lets torch choose "
            "(every core). It changes speed only, never the result, so it is not part of the "
            "diarization key. 1 measured fastest on the 2-core machine shared with other work: two "
            "threads burned six times the CPU time there for the same embeddings (README, *Measured*)."
        ),
    )
    block_s: float = Field(
        600.0,
        ge=30,
        description="Audio is analysed in blocks this long (seconds) so a 3-hour call keeps memory bounded.",
    )
    silent_channel_dbfs: float = Field(
        -60.0,
        le=0,
        description="A stereo channel whose level stays below this (dBFS) counts as silent; the call is read as mono.",
    )

    def result_json(self) -> str:
        """The options that shape the result, as JSON: what a stored diarization is keyed on
        (the settings that change speed only are left out)."""
        return self.model_dump_json(exclude=set(_SPEED_ONLY))
