"""Mono diarization on telephone-like audio: the built-in method against speaker embeddings.

Material (every mono signal is a mix-down, so the reference is exact: who speaks when comes from
the separate channels or from the script that made the call):

* the twelve sample calls (``data/samples``): ten stereo calls mixed down to mono and the two
  mono calls, with exact turn times in ``reference/*.json``;
* ``../shared/testdata/stereo_call/stereo_diarization.wav``: real speech, one speaker per
  channel, mixed down; the reference is each channel's speech regions (Silero, as the channel
  strategy finds them);
* ``../shared/testdata/meeting_2spk/dev00.wav``: a real two-person meeting excerpt (mono, with
  overlap) and its RTTM.

Every file is run at 16 kHz and as 8 kHz telephony: band-limited to 8 kHz, G.711 mu-law
companded, and back up to 16 kHz as the decoder hands it on.

Tuning (the window, the re-segmentation rounds, the ``auto`` choice) looked only at the
*tuning* half of the sample calls (``TUNING`` below); the other six sample calls and both shared
real-speech files were held out and are reported apart.

DER (pyannote.metrics) without a collar and with a 0.5 s collar. Role accuracy is the share of
words whose role (after diarization and the role inference of ``label``) is the reference turn's
role: the words are the reference text spread evenly over each reference turn (default; the
diarization and role inference alone), or with ``--asr`` the words Whisper recognised on the
mono signal (the whole pipeline). The meeting and stereo files have no roles.

    python bench/mono_diarization.py [--asr] [--methods builtin,embeddings,builtin/p0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO.parent / "shared" / "testdata"
SAMPLES = REPO / "data" / "samples"
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from pyannote.core import Annotation  # noqa: E402
from pyannote.core import Segment as Span  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402

from transcription.audio import DecodedAudio, decode_audio  # noqa: E402
from transcription.diarization import DiarizationSettings, SpeakerTurn, diarize, label, speaker_for  # noqa: E402
from transcription.diarization.vad import speech_regions  # noqa: E402
from transcription.types import Segment, Word  # noqa: E402

# Sample calls the method was tuned on; the rest of the material is held out.
TUNING = (
    "lvs-001-feber-barn",
    "lvs-003-brystsmerter",
    "lvs-004-kuttskade",
    "ep1-c1-fastlege",
    "ep1-c3-lvs",
    "ep1-c5-legevaktlege",
)


@dataclass(frozen=True)
class Case:
    name: str
    audio: DecodedAudio  # mono, 16 kHz
    reference: tuple[SpeakerTurn, ...]
    roles: dict[str, str]  # reference speaker -> role; empty when the file has none
    text: tuple[tuple[SpeakerTurn, str], ...]  # reference turns with their words
    service: str | None
    held_out: bool


def _mono(audio: DecodedAudio) -> DecodedAudio:
    mix = audio.samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return replace(audio, samples=mix, layout="mono")


def telephone(audio: DecodedAudio) -> DecodedAudio:
    """The 8 kHz version: down to 8 kHz, G.711 mu-law (8 bits), back up to 16 kHz."""
    x = resample_poly(audio.samples[0].astype(np.float64), 1, 2)
    x = np.clip(x, -1.0, 1.0)
    mu = 255.0
    coded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    coded = np.round((coded + 1) / 2 * 255) / 255 * 2 - 1  # 8-bit code words
    x = np.sign(coded) * np.expm1(np.abs(coded) * np.log1p(mu)) / mu
    y = resample_poly(x, 2, 1).astype(np.float32)[None, :]
    return replace(audio, samples=np.ascontiguousarray(y))


def _rttm(path: Path) -> tuple[SpeakerTurn, ...]:
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append(SpeakerTurn(start, start + dur, parts[7]))
    return tuple(turns)


def cases() -> list[Case]:
    service_of = {}
    for line in (SAMPLES / "metadata.csv").read_text().splitlines()[1:]:
        cols = line.split(",")
        service_of[cols[0]] = cols[2]
    out = []
    for path in sorted((SAMPLES / "reference").glob("*.json")):
        doc = json.loads(path.read_text())
        turns = [(SpeakerTurn(s["start"], s["end"], s["speaker"]), s["text"]) for s in doc["segments"]]
        audio = decode_audio(SAMPLES / doc["audio_file"])
        name = doc["call_id"] + (" (mix)" if audio.layout == "stereo" else "")
        out.append(
            Case(
                name,
                _mono(audio),
                tuple(t for t, _ in turns),
                {s["speaker"]: s["role"] for s in doc["segments"]},
                tuple(turns),
                service_of.get(doc["call_id"]),
                doc["call_id"] not in TUNING,
            )
        )
    if TESTDATA.is_dir():
        stereo = decode_audio(TESTDATA / "stereo_call" / "stereo_diarization.wav")
        ref = []
        for c in range(2):
            ref += [SpeakerTurn(a, b, f"S{c + 1}") for a, b in speech_regions(stereo.samples[c], "silero")]
        out.append(Case("stereo_diarization.wav (mix)", _mono(stereo), tuple(ref), {}, (), None, True))
        dev = decode_audio(TESTDATA / "meeting_2spk" / "dev00.wav")
        out.append(
            Case(
                "dev00.wav (meeting)",
                dev,
                _rttm(TESTDATA / "meeting_2spk" / "dev00.rttm"),
                {},
                (),
                None,
                True,
            )
        )
    return out


def _annotation(turns) -> Annotation:
    ann = Annotation()
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[Span(t.start, t.end), i] = t.speaker
    return ann


def der(reference, hypothesis, collar: float) -> float:
    """DER over the union of both annotations' extents (pyannote's warning about it is silenced)."""
    warnings.filterwarnings("ignore", message="'uem' was approximated")
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    return float(metric(_annotation(reference), _annotation(hypothesis)))


def reference_segments(case: Case) -> list[Segment]:
    """The reference text as segments whose words are spread evenly over their turn."""
    segments = []
    for turn, text in case.text:
        tokens = text.split()
        step = (turn.end - turn.start) / max(1, len(tokens))
        words = tuple(
            Word(turn.start + i * step, turn.start + (i + 1) * step, tok, 1.0) for i, tok in enumerate(tokens)
        )
        segments.append(Segment(turn.start, turn.end, text, words=words))
    return segments


def role_accuracy(segments, hyp, case: Case, settings: DiarizationSettings) -> tuple[int, int]:
    labelled = label(segments, hyp, settings, case.service)
    right = total = 0
    for seg in labelled.segments:
        for w in seg.words:
            truth = case.roles.get(speaker_for(case.reference, w.start, w.end) or "")
            total += 1
            right += seg.role == truth
    return right, total


def _transcriber():
    from lydlogg.batch import asr_options
    from lydlogg.settings import load_settings
    from transcription import Transcriber, load_model, resolve_model

    settings = load_settings(None, asr={"models_dir": REPO / "data" / "models"})
    spec = resolve_model(settings.asr.model, models_dir=settings.asr.models_dir, offline=True)
    options = asr_options(settings)
    model = load_model(spec, device=options.device, compute_type=options.compute_type)
    return Transcriber(model, options)


def _recognised(transcriber, audio: DecodedAudio, case: Case, rate: str, cache: Path | None) -> list[Segment]:
    """Whisper's segments for ``case`` at ``rate``, kept under ``cache`` (if given) between runs."""
    from transcription.formats import from_json, to_json
    from transcription.types import Transcript

    path = cache / f"{case.name.split()[0]}-{rate}.json" if cache else None
    if path is not None and path.is_file():
        return list(from_json(json.loads(path.read_text(encoding="utf-8"))).segments)
    segments = list(transcriber.transcribe(audio).segments)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(to_json(Transcript(case.name.split()[0], "no", tuple(segments)))), encoding="utf-8"
        )
    return segments


def _settings(method: str) -> DiarizationSettings:
    """``builtin`` or ``embeddings``, each optionally followed by ``/rN`` (N rounds of the
    embeddings' nearest-mean re-segmentation) and ``/pX`` (X the HMM change penalty; ``/p0``:
    no HMM, flips smoothed as before it), e.g. ``embeddings/r5/p0``."""
    name, *options = method.split("/")
    extra: dict[str, float | int] = {}
    for option in options:
        if option.startswith("r"):
            extra["embedding_resegment"] = int(option[1:])
        elif option.startswith("p"):
            extra[{"builtin": "builtin_change_penalty"}.get(name, "embedding_change_penalty")] = float(
                option[1:]
            )
        else:
            raise SystemExit(f"--methods: {method!r}: expected options /rN or /pX after the method name")
    return DiarizationSettings(strategy=name, **extra)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--asr", action="store_true", help="role accuracy on Whisper's words (slow)")
    parser.add_argument(
        "--methods",
        default="builtin,embeddings",
        help="comma list; /rN sets the embeddings' rounds, /pX the HMM change penalty (/p0: off)",
    )
    parser.add_argument("--rates", default="16k,8k", help="comma list of 16k and 8k")
    parser.add_argument("--only", help="only files whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument(
        "--asr-cache",
        type=Path,
        help="with --asr: folder keeping Whisper's words per file and rate (re-used)",
    )
    args = parser.parse_args()
    methods = args.methods.split(",")
    transcriber = _transcriber() if args.asr else None
    rows = []
    for case in cases():
        if args.only and args.only not in case.name:
            continue
        for rate in args.rates.split(","):
            audio = case.audio if rate == "16k" else telephone(case.audio)
            words = None
            if case.roles:
                words = (
                    _recognised(transcriber, audio, case, rate, args.asr_cache)
                    if transcriber
                    else reference_segments(case)
                )
            for method in methods:
                settings = _settings(method)
                t0 = time.perf_counter()
                hyp = diarize(audio, settings)
                seconds = time.perf_counter() - t0
                right, total = role_accuracy(words, hyp, case, settings) if words is not None else (0, 0)
                rows.append(
                    {
                        "file": case.name,
                        "held_out": case.held_out,
                        "rate": rate,
                        "method": method,
                        "ran": hyp.strategy,
                        "der": der(case.reference, hyp.turns, 0.0),
                        "der_collar": der(case.reference, hyp.turns, 0.5),
                        "speakers": len(hyp.speakers),
                        "seconds": seconds,
                        "role_right": right,
                        "role_words": total,
                    }
                )
                print_row(rows[-1], flush=True)
    print()
    summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def print_row(r: dict, flush: bool = False) -> None:
    roles = f"{r['role_right'] / r['role_words']:.1%}" if r["role_words"] else "-"
    part = "held out" if r["held_out"] else "tuning"
    print(
        f"{r['file']:34} {part:8} {r['rate']:4} {r['method']:15} {r['der']:6.1%} {r['der_collar']:8.1%}"
        f" {r['speakers']:4d} {r['seconds']:6.2f} {roles:>7}",
        flush=flush,
    )


def summary(rows: list[dict]) -> None:
    """Per method and rate: mean DER and pooled role accuracy over the sample calls (tuning,
    held out, all), and the shared real-speech files one by one."""
    print(f"{'summary':34} {'part':8} {'rate':4} {'method':15} {'DER':>6} {'DER±.25':>8} {'roles':>12}")
    groups = (
        ("tuning", lambda r: not r["held_out"]),
        ("held out", lambda r: r["held_out"]),
        ("all", lambda r: True),
    )
    for rate in sorted({r["rate"] for r in rows}):
        for method in dict.fromkeys(r["method"] for r in rows):
            sample = [r for r in rows if r["rate"] == rate and r["method"] == method and r["role_words"]]
            for part, keep in groups:
                sel = [r for r in sample if keep(r)]
                if not sel:
                    continue
                right = sum(r["role_right"] for r in sel)
                words = sum(r["role_words"] for r in sel)
                bad = sum(r["role_right"] / r["role_words"] < 0.95 for r in sel)
                print(
                    f"{'sample calls (' + str(len(sel)) + ')':34} {part:8} {rate:4} {method:15}"
                    f" {np.mean([r['der'] for r in sel]):6.1%} {np.mean([r['der_collar'] for r in sel]):8.1%}"
                    f" {right / words:7.1%} {bad:2d}<95"
                )
    for r in rows:
        if not r["role_words"]:
            print_row(r)


if __name__ == "__main__":
    main()
