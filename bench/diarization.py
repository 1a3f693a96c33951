"""Diarization error rate (DER) and role accuracy per strategy, on real and synthetic calls.

* ``meeting_2spk/dev00.wav`` (real AMI meeting speech, mono, with ``dev00.rttm``): builtin
  (Silero and energy speech detection), and pyannote when its adapter loads.
* ``stereo_call/stereo_diarization.wav`` (real speech, one speaker per channel, no RTTM): the
  reference turns are Whisper's word spans per channel joined across pauses under 1 s, so this
  checks the channel strategy against an independent timing source (5 s of audio: one number).
* the twelve sample calls (``data/samples``, exact turn times in ``reference/*.json``): stereo
  calls via ``channels``, their mono mix-downs (and the two mono calls) via ``builtin`` by name
  (``bench/mono_diarization.py`` sets it against the speaker embeddings).

DER comes from pyannote.metrics, without a collar and with a 0.5 s collar (0.25 s either side of
each reference boundary). Role accuracy is the share of recognised words whose role (from the
whole pipeline: Whisper base, diarization, role inference) equals the role of the reference turn
at that time. Targets: stereo DER <= 5 %, stereo role accuracy >= 98 %, builtin role accuracy on
the sample calls >= 90 %.

    python bench/diarization.py [--no-asr] [--only CALL_ID]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO.parent / "shared" / "testdata"
SAMPLES = REPO / "data" / "samples"
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from pyannote.core import Annotation, Segment  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402

from transcription.audio import DecodedAudio, decode_audio  # noqa: E402
from transcription.diarization import (  # noqa: E402
    DiarizationSettings,
    SpeakerTurn,
    diarize,
    label,
    speaker_for,
)
from transcription.diarization.pipeline import join_turns  # noqa: E402


def _annotation(turns) -> Annotation:
    ann = Annotation()
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[Segment(t.start, t.end), i] = t.speaker
    return ann


def der(reference, hypothesis, collar: float) -> float:
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    return float(metric(_annotation(reference), _annotation(hypothesis)))


def _rttm(path: Path) -> list[SpeakerTurn]:
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append(SpeakerTurn(start, start + dur, parts[7]))
    return turns


def _transcriber():
    from lydlogg.batch import asr_options
    from lydlogg.settings import load_settings
    from transcription import Transcriber, load_model, resolve_model

    settings = load_settings(None, asr={"models_dir": REPO / "data" / "models"})
    spec = resolve_model(settings.asr.model, models_dir=settings.asr.models_dir, offline=True)
    options = asr_options(settings)
    model = load_model(spec, device=options.device, compute_type=options.compute_type)
    return Transcriber(model, options)


def _mono(audio: DecodedAudio) -> DecodedAudio:
    mix = audio.samples.mean(axis=0, keepdims=True, dtype=np.float32)
    return replace(audio, samples=mix, layout="mono")


def _role_accuracy(labelled, reference: list[SpeakerTurn], ref_roles: dict[str, str]) -> tuple[int, int]:
    right = total = 0
    for seg in labelled.segments:
        for w in seg.words:
            truth = ref_roles.get(speaker_for(reference, w.start, w.end) or "")
            total += 1
            right += seg.role == truth
    return right, total


def _row(name: str, strategy: str, ref, hyp, t: float, roles: tuple[int, int] | None) -> dict:
    return {
        "file": name,
        "strategy": strategy,
        "der": der(ref, hyp.turns, 0.0),
        "der_collar": der(ref, hyp.turns, 0.5),
        "speakers": len(hyp.speakers),
        "seconds": t,
        "role_right": roles[0] if roles else None,
        "role_words": roles[1] if roles else None,
    }


def _run(audio, settings, transcriber, service=None):
    t0 = time.perf_counter()
    hyp = diarize(audio, settings)
    elapsed = time.perf_counter() - t0
    labelled = None
    if transcriber is not None:
        segments = transcriber.transcribe(audio).segments
        labelled = label(segments, hyp, settings, service)
    return hyp, elapsed, labelled


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-asr", action="store_true", help="skip Whisper, so no role accuracy")
    parser.add_argument("--only", help="one sample call id")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--testdata-only", action="store_true", help="only the shared real-speech files")
    args = parser.parse_args()
    transcriber = None if args.no_asr else _transcriber()
    rows: list[dict] = []
    auto = DiarizationSettings()
    builtin = DiarizationSettings(strategy="builtin")  # embeddings: bench/mono_diarization.py

    if not args.only and TESTDATA.is_dir():
        dev = decode_audio(TESTDATA / "meeting_2spk" / "dev00.wav")
        ref = _rttm(TESTDATA / "meeting_2spk" / "dev00.rttm")
        for vad in ("silero", "energy"):
            hyp, t, _ = _run(dev, DiarizationSettings(strategy="builtin", vad=vad), None)
            rows.append(_row("dev00.wav", f"builtin/{vad}", ref, hyp, t, None))
        hyp, t, _ = _run(dev, DiarizationSettings(strategy="pyannote"), None)
        if hyp.strategy == "pyannote":
            rows.append(_row("dev00.wav", "pyannote", ref, hyp, t, None))
        stereo = decode_audio(TESTDATA / "stereo_call" / "stereo_diarization.wav")
        hyp, t, _ = _run(stereo, auto, None)
        if transcriber is not None:
            words = [w for s in transcriber.transcribe(stereo).segments for w in s.words]
            ref = join_turns(tuple(SpeakerTurn(w.start, w.end, f"S{w.channel + 1}") for w in words), 1.0)
            rows.append(_row("stereo_diarization.wav", hyp.strategy, ref, hyp, t, None))

    meta = {}
    for line in (SAMPLES / "metadata.csv").read_text().splitlines()[1:]:
        cols = line.split(",")
        meta[cols[0]] = cols[2]
    for path in [] if args.testdata_only else sorted((SAMPLES / "reference").glob("*.json")):
        doc = json.loads(path.read_text())
        call_id = doc["call_id"]
        if args.only and call_id != args.only:
            continue
        ref = [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in doc["segments"]]
        ref_roles = {s["speaker"]: s["role"] for s in doc["segments"]}
        audio = decode_audio(SAMPLES / doc["audio_file"])
        service = meta.get(call_id)
        if audio.layout == "stereo":
            hyp, t, lab = _run(audio, auto, transcriber, service)
            roles = _role_accuracy(lab, ref, ref_roles) if lab else None
            rows.append(_row(call_id, hyp.strategy, ref, hyp, t, roles))
            audio = _mono(audio)
            name = f"{call_id} (mix)"
        else:
            name = call_id
        hyp, t, lab = _run(audio, builtin, transcriber, service)
        roles = _role_accuracy(lab, ref, ref_roles) if lab else None
        rows.append(_row(name, hyp.strategy, ref, hyp, t, roles))

    print(f"{'file':34} {'strategy':16} {'DER':>6} {'DER±.25':>8} {'spk':>4} {'s':>6} {'roles':>7}")
    for r in rows:
        roles = f"{r['role_right'] / r['role_words']:.1%}" if r["role_words"] else "-"
        print(
            f"{r['file']:34} {r['strategy']:16} {r['der']:6.1%} {r['der_collar']:8.1%} {r['speakers']:4d}"
            f" {r['seconds']:6.2f} {roles:>7}"
        )
    for strategy in ("channels", "builtin"):
        sel = [r for r in rows if r["strategy"] == strategy and r["file"] not in ("dev00.wav",)]
        sel = [r for r in sel if not r["file"].startswith(("dev00", "stereo_diarization"))]
        if not sel:
            continue
        mean = sum(r["der"] for r in sel) / len(sel)
        mean_c = sum(r["der_collar"] for r in sel) / len(sel)
        words = sum(r["role_words"] or 0 for r in sel)
        right = sum(r["role_right"] or 0 for r in sel)
        acc = f"{right / words:.1%}" if words else "-"
        print(f"{'sample calls, mean':34} {strategy:16} {mean:6.1%} {mean_c:8.1%} {'':4} {'':6} {acc:>7}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
