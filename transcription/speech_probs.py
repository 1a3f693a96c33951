"""Silero's speech probabilities worked out once per audio and shared by the stages of one call.

The recogniser's voice-activity filter and the diarization's speech regions both run the Silero
detector that faster-whisper ships, each with its own options (the recogniser: 1 s of silence
ends speech, 400 ms padding; the diarization: 300 ms, 30 ms). The options only act on the
detector's output, a speech probability every 32 ms, and that output depends on the samples
alone. So inside :func:`shared_speech_probabilities` the detector runs once for each distinct
array it is given, and a second stage asking about the same samples gets the same probabilities
back: its speech regions, and the transcript, are the ones it would have found itself.

The stages share an array when they read the same samples from the same start: a mono call up to
``asr.block_s`` (and ``diarization.block_s``) long, or the first block of a longer one. The
recogniser reads a stereo call's channels laid end to end, which the diarization never does, so
there both still run the detector (README, *Measured*).

How: faster-whisper's ``get_speech_timestamps`` looks its model up through
``faster_whisper.vad.get_vad_model`` on every call; that lookup is replaced, once per process,
by one that hands out the same model wrapped so that it consults the scope of the current
context (a :class:`contextvars.ContextVar`, so threads do not see each other's scope). Outside a
scope the wrapper calls the model as before.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SpeechProbabilities", "shared_speech_probabilities"]

log = logging.getLogger(__name__)


def _digest(samples: np.ndarray) -> bytes:
    return hashlib.sha1(np.ascontiguousarray(samples).view(np.uint8), usedforsecurity=False).digest()


@dataclass
class SpeechProbabilities:
    """The detector's output for each distinct array seen in one scope, and how often it ran or
    was reused. An array is known by its length, dtype and the sha1 of its bytes (hashing takes
    about a twentieth of the detector's time), so no copy of the audio is kept."""

    computed: int = 0
    reused: int = 0
    _found: dict[tuple[int, str, bytes], np.ndarray] = field(default_factory=dict, repr=False)

    def probabilities(self, samples: np.ndarray, model: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``model(samples)``, worked out once for these samples in this scope."""
        key = (len(samples), samples.dtype.str, _digest(samples))
        probs = self._found.get(key)
        if probs is not None:
            self.reused += 1
            return probs
        probs = model(samples)
        probs.setflags(write=False)  # handed to every stage that asks: nobody may change it
        self._found[key] = probs
        self.computed += 1
        return probs


_scope: ContextVar[SpeechProbabilities | None] = ContextVar("speech_probability_scope", default=None)
_install_lock = threading.Lock()


class _SharedModel:
    """The Silero model, consulting the current scope (if any) before it runs."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __call__(self, audio: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        scope = _scope.get()
        if scope is None or args or kwargs:
            return self._model(audio, *args, **kwargs)
        return scope.probabilities(audio, self._model)


def _install() -> None:
    """Route faster-whisper's model lookup through :class:`_SharedModel` (once per process)."""
    import faster_whisper.vad as vad

    with _install_lock:
        if getattr(vad.get_vad_model, "lydlogg_shared", False):
            return
        original = vad.get_vad_model
        shared: dict[str, _SharedModel] = {}

        def get_vad_model() -> _SharedModel:
            if "model" not in shared:
                shared["model"] = _SharedModel(original())
            return shared["model"]

        get_vad_model.lydlogg_shared = True  # type: ignore[attr-defined]
        vad.get_vad_model = get_vad_model


@contextmanager
def shared_speech_probabilities() -> Iterator[SpeechProbabilities]:
    """A scope (one call's decoding and diarization) inside which the Silero detector runs once
    for each distinct array; yields its counts. Scopes nest: the inner one is used inside it."""
    _install()
    scope = SpeechProbabilities()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)
        log.debug("speech probabilities: %d worked out, %d reused", scope.computed, scope.reused)
