#!/usr/bin/env python3
"""Synthesise Lydlogg's demo sample calls from the dialogue YAML files.

Each file in ``<out>/dialogues/*.yaml`` describes one fictional call: metadata,
the turns of the conversation and the rubric values a reviewer would expect.
This script turns every dialogue into audio with espeak-ng (Norwegian bokmål
voice ``nb``) and writes:

* ``<out>/audio/<call_id>.<format>`` -- the call. Stereo layout puts the
  operator/doctor on channel 0 (left) and the caller on channel 1 (right),
  each silent on the other's channel; mono layout mixes both into one channel.
* ``<out>/reference/<call_id>.json`` -- the reference transcript with the exact
  start/end of every turn as placed on the timeline (product transcript shape).
* ``<out>/metadata.csv`` -- one row per call (always rewritten for all calls).

The output is deterministic: voices are picked from the operator id / patient
reference, pauses come from a random generator seeded by the call id.

Usage::

    python scripts/make_sample_calls.py [--out data/samples] [--only CALL_ID]

Requires the ``espeak-ng`` binary (``apt-get install espeak-ng``) and the
Python packages numpy, soundfile and pyyaml. MP3 output uses libsndfile when it
supports MP3 writing, otherwise ``ffmpeg``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from lydlogg.metadata import COLUMNS as METADATA_COLUMNS
from lydlogg.vocabulary import SERVICES, URGENCIES

SAMPLE_RATE = 16_000
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "samples"

# espeak-ng settings, tuned for Whisper recognition (see data/samples/README.md).
SPEED_WPM = 130
WORD_GAP = 0  # extra pause between words, in units of 10 ms
PAUSE_RANGE_S = (0.3, 1.0)
EDGE_SILENCE_S = 0.6
PEAK_LEVEL = 0.5
# Faint hiss on a party's channel while that party talks (plus a short margin).
# Pure digital silence between espeak's words makes Whisper hallucinate; a -53 dB
# noise floor lowered WER clearly in tuning. Between turns the channel stays silent.
LINE_NOISE_STD = 0.0011
LINE_NOISE_MARGIN_S = 0.15
SILENCE_THRESHOLD = 0.01

# Voice variants per gender; (variant, pitch). Picked deterministically per person.
# espeak-ng's female variants (f1-f5) were recognised much worse than the male ones
# (WER 0.66-1.09 vs 0.45-0.53 in tuning), so "female" voices are pitch-raised male
# variants: they sound less female but Whisper understands them far better.
VOICES = {
    "female": [("nb", 68), ("nb+m1", 60)],
    "male": [("nb", 50), ("nb+m7", 40), ("nb+m1", 45)],
}
DEFAULT_GENDER = {"operator": "female", "doctor": "male", "caller": "female", "other": "male"}

STEREO_CHANNEL = {"operator": 0, "doctor": 0, "caller": 1, "other": 1}
SPEAKER_LABEL = {"operator": "S1", "doctor": "S1", "caller": "S2", "other": "S3"}
ROLES = set(STEREO_CHANNEL)
FORMATS = {"flac", "ogg", "mp3", "wav"}


@dataclass(frozen=True)
class Voice:
    variant: str
    pitch: int


@dataclass(frozen=True)
class PlacedTurn:
    role: str
    text: str
    start: float
    end: float


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def require_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        fail("espeak-ng not found on PATH; install it with `apt-get install espeak-ng`")


def load_dialogue(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    required = [
        "call_id",
        "started_at",
        "service",
        "operator_id",
        "caller_number",
        "patient_ref",
        "urgency",
        "layout",
        "format",
        "turns",
    ]
    missing = [key for key in required if key not in data]
    if missing:
        fail(f"{path}: missing fields {missing}")
    if not isinstance(data["started_at"], str):  # YAML parses unquoted timestamps
        data["started_at"] = data["started_at"].isoformat()
    if data["call_id"] != path.stem:
        fail(f"{path}: call_id {data['call_id']!r} does not match the file name")
    if data["service"] not in SERVICES or data["urgency"] not in URGENCIES:
        fail(f"{path}: bad service or urgency")
    if data["layout"] not in ("stereo", "mono") or data["format"] not in FORMATS:
        fail(f"{path}: bad layout or format")
    for turn in data["turns"]:
        if turn.get("role") not in ROLES or not str(turn.get("text", "")).strip():
            fail(f"{path}: bad turn {turn!r}")
    return data


def stable_index(key: str, size: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % size


def pick_voice(dialogue: dict, role: str) -> Voice:
    """Same person -> same voice: callers by patient_ref, staff by operator_id.

    Staff never get the caller's voice in the same call (they shift one step in
    their pool instead), so a recurring caller always sounds the same.
    """
    gender = dialogue.get("voices", {}).get(role, DEFAULT_GENDER[role])
    pool = VOICES[gender]
    if role not in ("operator", "doctor"):
        return Voice(*pool[stable_index(dialogue["patient_ref"] + role, len(pool))])
    caller = pick_voice(dialogue, "caller")
    index = stable_index(dialogue["operator_id"], len(pool))
    voice = Voice(*pool[index])
    return Voice(*pool[(index + 1) % len(pool)]) if voice == caller else voice


def resample(audio: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited FFT resampling (fine for short clips, no scipy needed)."""
    if src_rate == dst_rate:
        return audio
    n_out = int(round(len(audio) * dst_rate / src_rate))
    spectrum = np.fft.rfft(audio)
    keep = n_out // 2 + 1
    spectrum = spectrum[:keep] if keep < len(spectrum) else np.pad(spectrum, (0, keep - len(spectrum)))
    return (np.fft.irfft(spectrum, n_out) * (n_out / len(audio))).astype(np.float32)


def trim_silence(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size == 0:
        return audio
    return audio[loud[0] : loud[-1] + 1]


def synthesise(text: str, voice: Voice) -> np.ndarray:
    """Synthesise one turn; returns float32 mono audio at SAMPLE_RATE, peak-normalised."""
    cmd = [
        "espeak-ng",
        "-v",
        voice.variant,
        "-s",
        str(SPEED_WPM),
        "-p",
        str(voice.pitch),
        "-g",
        str(WORD_GAP),
        "--stdout",
        text,
    ]
    wav = subprocess.run(cmd, capture_output=True, check=True).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    audio = trim_silence(resample(audio, rate, SAMPLE_RATE))
    return audio * (PEAK_LEVEL / max(float(np.max(np.abs(audio))), 1e-6))


def render_call(dialogue: dict) -> tuple[np.ndarray, list[PlacedTurn]]:
    """Place the turns on a timeline; returns (samples x 2 array, placed turns)."""
    rng = np.random.default_rng(zlib.crc32(dialogue["call_id"].encode("utf-8")))
    clips: list[tuple[int, np.ndarray, str, str]] = []
    cursor = EDGE_SILENCE_S
    placed: list[PlacedTurn] = []
    for i, turn in enumerate(dialogue["turns"]):
        if i > 0:
            cursor += float(rng.uniform(*PAUSE_RANGE_S))
        role, text = turn["role"], " ".join(str(turn["text"]).split())
        clip = synthesise(text, pick_voice(dialogue, role))
        start_sample = int(round(cursor * SAMPLE_RATE))
        clips.append((start_sample, clip, role, text))
        end_sample = start_sample + len(clip)
        placed.append(PlacedTurn(role, text, start_sample / SAMPLE_RATE, end_sample / SAMPLE_RATE))
        cursor = end_sample / SAMPLE_RATE
    total = int(round((cursor + EDGE_SILENCE_S) * SAMPLE_RATE))
    audio = np.zeros((total, 2), dtype=np.float32)
    for start_sample, clip, role, _ in clips:
        audio[start_sample : start_sample + len(clip), STEREO_CHANNEL[role]] += clip
    return audio, placed


def to_layout(audio: np.ndarray, layout: str) -> np.ndarray:
    if layout == "stereo":
        return audio
    return np.clip(audio.sum(axis=1), -1.0, 1.0)


def write_audio(path: Path, audio: np.ndarray, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "flac":
        sf.write(path, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)
    elif fmt == "wav":
        sf.write(path, audio, SAMPLE_RATE, format="WAV", subtype="PCM_16")
    elif fmt == "ogg":
        sf.write(path, audio, SAMPLE_RATE, format="OGG", subtype="VORBIS")
    elif fmt == "mp3":
        write_mp3(path, audio)


def write_mp3(path: Path, audio: np.ndarray) -> None:
    if "MP3" in sf.available_formats():
        sf.write(path, audio, SAMPLE_RATE, format="MP3", subtype="MPEG_LAYER_III")
        return
    if shutil.which("ffmpeg") is None:
        fail("this libsndfile cannot write MP3 and ffmpeg is missing (apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "call.wav"
        sf.write(wav, audio, SAMPLE_RATE, subtype="PCM_16")
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(wav),
                "-codec:a",
                "libmp3lame",
                "-q:a",
                "4",
                str(path),
            ],
            check=True,
        )


def reference_json(dialogue: dict, audio_file: str, placed: list[PlacedTurn]) -> dict:
    stereo = dialogue["layout"] == "stereo"
    segments = [
        {
            "start": round(turn.start, 3),
            "end": round(turn.end, 3),
            "channel": STEREO_CHANNEL[turn.role] if stereo else None,
            "speaker": SPEAKER_LABEL[turn.role],
            "role": turn.role,
            "text": turn.text,
            "words": [],
        }
        for turn in placed
    ]
    return {
        "call_id": dialogue["call_id"],
        "language": "no",
        "audio_file": audio_file,
        "channels": 2 if stereo else 1,
        "segments": segments,
    }


def audio_file_name(dialogue: dict) -> str:
    return f"audio/{dialogue['call_id']}.{dialogue['format']}"


def build_call(dialogue: dict, out: Path) -> float:
    audio, placed = render_call(dialogue)
    audio_file = audio_file_name(dialogue)
    write_audio(out / audio_file, to_layout(audio, dialogue["layout"]), dialogue["format"])
    ref_path = out / "reference" / f"{dialogue['call_id']}.json"
    ref_path.parent.mkdir(parents=True, exist_ok=True)
    ref = reference_json(dialogue, audio_file, placed)
    ref_path.write_text(json.dumps(ref, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return len(audio) / SAMPLE_RATE


def write_metadata(dialogues: list[dict], out: Path) -> None:
    with open(out / "metadata.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(METADATA_COLUMNS)
        for d in sorted(dialogues, key=lambda d: (d["started_at"], d["call_id"])):
            row = {**d, "audio_file": audio_file_name(d)}
            writer.writerow([str(row.get(column) or "") for column in METADATA_COLUMNS])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="samples folder holding dialogues/ (default: data/samples)",
    )
    parser.add_argument("--only", metavar="CALL_ID", help="synthesise only this call")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_espeak()
    paths = sorted((args.out / "dialogues").glob("*.yaml"))
    if not paths:
        fail(f"no dialogue files in {args.out / 'dialogues'}")
    dialogues = [load_dialogue(path) for path in paths]
    selected = [d for d in dialogues if args.only in (None, d["call_id"])]
    if not selected:
        fail(f"unknown call id {args.only!r}")
    for dialogue in selected:
        seconds = build_call(dialogue, args.out)
        print(f"{dialogue['call_id']}: {seconds:.1f} s -> {audio_file_name(dialogue)}")
    write_metadata(dialogues, args.out)


if __name__ == "__main__":
    main()
