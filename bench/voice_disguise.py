"""Voice disguise for case audio, measured on real speech: are the words kept, has the voice moved?

    .venv/bin/python bench/voice_disguise.py [--pitch SEMITONES] [--formant RATIO] [--f0 dio|harvest]

Reads the public speech clips in ../shared/testdata (SOURCES.md there; it exits with a reason when
they are absent). For each clip with a reference text, the bundled Whisper model
(data/models/whisper-base-bundled, int8 on the CPU, language forced per clip) transcribes the
original and the disguised audio; WER is against the reference. For each recording with speech
of one speaker in two parts (the two halves of a clip, or two stretches of one speaker of the
meeting excerpt), Resemblyzer's d-vectors give the cosine similarity of part 1 with part 2
(same speaker, other words: the baseline) and of part 1 with the disguised part 2. A disguise
that works brings the second figure well below the first, towards the similarity between two
different speakers (the meeting's two speakers, printed last). tests/test_voice_disguise.py
uses these functions on one clip.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anonymise.voice import VoiceSettings, disguise_voice  # noqa: E402

TESTDATA = REPO.parent / "shared" / "testdata"
MODEL = REPO / "data" / "models" / "whisper-base-bundled"
RATE = 16_000


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    language: str
    reference: str | None
    channel: int = 0


def clips(root: Path = TESTDATA) -> list[Clip]:
    """The speech clips with a reference transcript (English ones with language `en`)."""
    npsc = root / "norwegian_npsc"
    stereo = root / "stereo_call"
    return [
        Clip("npsc-short (no)", npsc / "norwegian-short-3s.mp3", "no", (npsc / "norwegian-short-3s.txt").read_text()),
        Clip("npsc-medium (no)", npsc / "norwegian-medium-8s.mp3", "no",
             (npsc / "norwegian-medium-8s.txt").read_text()),
        Clip("jfk (en)", root / "dual_mono" / "jfk.flac", "en", (root / "dual_mono" / "jfk.txt").read_text()),
        Clip("stereo left (en)", stereo / "stereo_diarization.wav", "en",
             (stereo / "stereo_diarization.left.txt").read_text(), 0),
        Clip("stereo right (en)", stereo / "stereo_diarization.wav", "en",
             (stereo / "stereo_diarization.right.txt").read_text(), 1),
    ]  # fmt: skip


def load(clip: Clip) -> np.ndarray:
    """One channel of the clip at 16 kHz, float32."""
    from transcription.audio import decode_audio

    samples = decode_audio(clip.path).samples
    return samples[min(clip.channel, samples.shape[0] - 1)]


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\wæøå ]+", " ", text.lower()).split())


@lru_cache(maxsize=1)
def _model():  # noqa: ANN202 - faster_whisper.WhisperModel
    from faster_whisper import WhisperModel

    return WhisperModel(str(MODEL), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(samples: np.ndarray, language: str) -> str:
    segments, _info = _model().transcribe(samples, language=language, beam_size=5, vad_filter=False)
    return " ".join(s.text for s in segments)


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(_words(reference), _words(hypothesis) or "∅"))


@lru_cache(maxsize=1)
def _encoder():  # noqa: ANN202 - resemblyzer.VoiceEncoder
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device="cpu", verbose=False)


def embed(samples: np.ndarray) -> np.ndarray:
    from resemblyzer import preprocess_wav

    return _encoder().embed_utterance(preprocess_wav(samples.astype(np.float32), source_sr=RATE))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def similarity(part1: np.ndarray, part2: np.ndarray, settings: VoiceSettings) -> tuple[float, float]:
    """(same speaker: part 1 vs part 2, disguise: part 1 vs disguised part 2)."""
    reference = embed(part1)
    return cosine(reference, embed(part2)), cosine(reference, embed(disguise_voice(part2, RATE, settings)))


def meeting_speakers(root: Path = TESTDATA) -> dict[str, np.ndarray]:
    """Each speaker's speech in the meeting excerpt (where they alone speak, joined)."""
    from transcription.audio import decode_audio

    folder = root / "meeting_2spk"
    audio = decode_audio(folder / "dev00.wav").samples[0]
    turns = []
    for line in (folder / "dev00.rttm").read_text().splitlines():
        f = line.split()
        if f and f[0] == "SPEAKER":
            turns.append((f[7], float(f[3]), float(f[3]) + float(f[4])))
    active = {who: np.zeros(len(audio), bool) for who in {t[0] for t in turns}}
    for who, s, e in turns:
        active[who][int(s * RATE) : int(e * RATE)] = True
    out = {}
    for who in sorted(active):
        alone = active[who] & ~np.any([m for w, m in active.items() if w != who], axis=0)
        out[who] = audio[alone]
    return out


def halves(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mid = len(samples) // 2
    return samples[:mid], samples[mid:]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = VoiceSettings()
    parser.add_argument("--pitch", type=float, default=defaults.pitch_semitones)
    parser.add_argument("--formant", type=float, default=defaults.formant_ratio)
    parser.add_argument("--f0", choices=["dio", "harvest"], default=defaults.f0_method)
    args = parser.parse_args(argv)
    if not TESTDATA.is_dir():
        print(f"skipped: the shared speech clips are not at {TESTDATA}")
        return 0
    if not MODEL.is_dir():
        print(f"skipped: the bundled model is not at {MODEL} (make demo assembles it)")
        return 0
    settings = VoiceSettings(pitch_semitones=args.pitch, formant_ratio=args.formant, f0_method=args.f0)
    print(f"disguise: pitch {settings.pitch_semitones:+.1f} semitones, formants x{settings.formant_ratio}, "
          f"F0 by {settings.f0_method}")  # fmt: skip
    print(f"{'clip':<20}{'WER orig':>9}{'WER disg':>9}{'s audio':>8}{'s disguise':>11}")
    total_audio = total_time = 0.0
    originals, disguised = [], []
    for clip in clips():
        x = load(clip)
        t0 = time.perf_counter()
        y = disguise_voice(x, RATE, settings)
        took = time.perf_counter() - t0
        total_audio += len(x) / RATE
        total_time += took
        w0, w1 = (
            wer(clip.reference, transcribe(x, clip.language)),
            wer(clip.reference, transcribe(y, clip.language)),
        )
        originals.append(w0)
        disguised.append(w1)
        print(f"{clip.name:<20}{w0:>9.3f}{w1:>9.3f}{len(x) / RATE:>8.1f}{took:>11.2f}")
    print(f"{'mean':<20}{np.mean(originals):>9.3f}{np.mean(disguised):>9.3f}"
          f"   disguise runs at {total_audio / total_time:.0f}x real time")  # fmt: skip
    print()
    print(f"{'speaker':<20}{'same speaker':>13}{'disguised':>10}{'drop':>7}")
    parts = {c.name: halves(load(c)) for c in clips() if c.name.startswith(("jfk", "npsc-medium"))}
    speakers = meeting_speakers()
    parts.update({f"meeting {who}": halves(x) for who, x in speakers.items()})
    drops = []
    for name, (a, b) in parts.items():
        same, disg = similarity(a, b, settings)
        drops.append(same - disg)
        print(f"{name:<20}{same:>13.3f}{disg:>10.3f}{same - disg:>7.3f}")
    who = sorted(speakers)
    if len(who) >= 2:
        print(f"two different speakers (meeting {who[0]} vs {who[1]}): "
              f"{cosine(embed(speakers[who[0]]), embed(speakers[who[1]])):.3f}")  # fmt: skip
    print(f"mean drop in similarity: {np.mean(drops):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
