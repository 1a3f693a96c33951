#!/usr/bin/env python3
"""Speak the labelled rubric set (tests/data/rubric_set) into audio, in three layouts.

Every written transcript in ``tests/data/rubric_set/calls/`` becomes a call spoken by espeak-ng
exactly the way ``scripts/make_sample_calls.py`` makes the demo calls (same voices, pauses and
line noise; S1 on the left channel, every other party on the right). Each call is written as:

* ``stereo16k/<call_id>.flac`` -- stereo, 16 kHz, 16-bit PCM (what a call recorder exports);
* ``ulaw8k/<call_id>.wav`` -- stereo, 8 kHz, G.711 mu-law (what telephony recorders export);
* ``mono16k/<call_id>.flac`` -- both parties mixed into one channel (the diarization path);
* ``mono8k/<call_id>.wav`` -- the mu-law mix-down at 8 kHz;
* ``reference/<call_id>.json`` -- the transcript with the exact start/end of every turn;
* ``manifest.csv`` -- call id, split (dev/holdout), rubric, service and duration;
* ``metadata-<layout>.csv`` -- a ``lydlogg ingest --metadata`` file per layout.

The held-out split stays apart: ``--split dev`` (default ``all``) writes only that part, and the
manifest names the split of every call so the benchmark can report them separately.

Usage::

    python scripts/make_spoken_rubric_set.py --out /work/wt/cache-h13/spoken [--split holdout]
        [--only rs-lvs-001,rs-llt-002]

Requires espeak-ng on PATH. Output is deterministic (voices and pauses seeded by the call id).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_sample_calls as msc  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RUBRIC_SET = REPO / "tests" / "data" / "rubric_set"
LAYOUTS = {
    "stereo16k": ("flac", 16_000, "stereo"),
    "ulaw8k": ("wav", 8_000, "stereo"),
    "mono16k": ("flac", 16_000, "mono"),
    "mono8k": ("wav", 8_000, "mono"),
}
_BRACKETED = re.compile(r"\[[^\]]*\]")


def spoken_text(text: str) -> str:
    """What the voice says: bracketed notes such as ``[arabisk]`` stand for untranscribed speech."""
    return " ".join(_BRACKETED.sub(" ", text).split()) or "mm"


def dialogue_from_transcript(doc: dict) -> dict:
    """The fields of a sample-call dialogue that the renderer needs, from a rubric-set transcript."""
    staff = "doctor" if doc.get("service") == "legevaktlege" else "operator"
    turns = []
    for seg in doc["segments"]:
        role = seg.get("role") or ("caller" if seg.get("speaker") != "S1" else staff)
        turns.append({"role": role, "text": spoken_text(str(seg["text"]))})
    return {
        "call_id": doc["call_id"],
        "operator_id": f"{doc['call_id']}-staff",
        "patient_ref": f"{doc['call_id']}-caller",
        "turns": turns,
    }


def write_layout(path: Path, audio: np.ndarray, layout: str) -> None:
    fmt, rate, channels = LAYOUTS[layout]
    data = msc.to_layout(audio, channels)
    if rate != msc.SAMPLE_RATE:
        data = np.stack([msc.resample(c, msc.SAMPLE_RATE, rate) for c in np.atleast_2d(data.T)], axis=1)
        data = np.clip(data, -1.0, 1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "flac":
        sf.write(path, data, rate, format="FLAC", subtype="PCM_16")
    else:
        sf.write(path, data, rate, format="WAV", subtype="ULAW")


def build(call_id: str, entry: dict, out: Path) -> float:
    doc = json.loads((RUBRIC_SET / "calls" / f"{call_id}.json").read_text(encoding="utf-8"))
    dialogue = dialogue_from_transcript(doc)
    audio, placed = msc.render_call(dialogue)
    for layout, (fmt, _, _) in LAYOUTS.items():
        write_layout(out / layout / f"{call_id}.{fmt}", audio, layout)
    segments = [
        {
            "start": round(turn.start, 3),
            "end": round(turn.end, 3),
            "channel": msc.STEREO_CHANNEL[turn.role],
            "speaker": msc.SPEAKER_LABEL[turn.role],
            "role": turn.role,
            "text": orig["text"],
        }
        for turn, orig in zip(placed, doc["segments"], strict=True)
    ]
    ref = {"call_id": call_id, "service": doc.get("service"), "language": "no", "segments": segments}
    (out / "reference").mkdir(parents=True, exist_ok=True)
    (out / "reference" / f"{call_id}.json").write_text(
        json.dumps(ref, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return len(audio) / msc.SAMPLE_RATE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (outside the repo)")
    parser.add_argument("--split", choices=["all", "dev", "holdout"], default="all")
    parser.add_argument("--only", help="comma-separated call ids")
    args = parser.parse_args()
    msc.require_espeak()
    labels = yaml.safe_load((RUBRIC_SET / "labels.yaml").read_text(encoding="utf-8"))
    only = set(args.only.split(",")) if args.only else None
    chosen = {
        cid: e
        for cid, e in sorted(labels.items())
        if args.split in ("all", e["split"]) and (only is None or cid in only)
    }
    if not chosen:
        msc.fail("no call matches --split/--only")
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = args.out / "manifest.csv"
    rows = {}
    if manifest.exists():
        with open(manifest, newline="", encoding="utf-8") as fh:
            rows = {r["call_id"]: r for r in csv.DictReader(fh)}
    for call_id, entry in chosen.items():
        seconds = build(call_id, entry, args.out)
        service = "legevaktlege" if entry["rubric"] == "legevaktlege_telefon" else "lvs"
        rows[call_id] = {
            "call_id": call_id,
            "split": entry["split"],
            "rubric": entry["rubric"],
            "service": service,
            "duration_s": f"{seconds:.1f}",
        }
        print(f"{call_id} ({entry['split']}): {seconds:.1f} s")
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh, ["call_id", "split", "rubric", "service", "duration_s"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows[k] for k in sorted(rows))
    write_metadata(args.out, rows)


def write_metadata(out: Path, rows: dict[str, dict]) -> None:
    """One ``lydlogg ingest --metadata`` CSV per layout (audio paths relative to ``out``)."""
    for layout, (fmt, _, _) in LAYOUTS.items():
        with open(out / f"metadata-{layout}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["call_id", "service", "audio_file"])
            for call_id in sorted(rows):
                writer.writerow([call_id, rows[call_id]["service"], f"{layout}/{call_id}.{fmt}"])


if __name__ == "__main__":
    main()
