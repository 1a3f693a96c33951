"""What the FFmpeg (PyAV) fallback costs against libsndfile: one 60 s telephone call, decoded to
16 kHz float32, per format. Median of N runs, wall time on this machine.

    python bench/decode_fallback.py [--seconds 60] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from conftest import load_bcg729, write_encoded, write_g729_wav  # noqa: E402

from transcription.audio import decode_audio, probe_audio  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = int(args.seconds * 8000)
        speechlike = (0.2 * rng.standard_normal((n, 2)) * np.sin(np.linspace(0, 60, n))[:, None]).astype(
            np.float32
        )
        files = {}
        for name, subtype in (("pcm16.wav", "PCM_16"), ("ulaw.wav", "ULAW"), ("gsm.wav", "GSM610"),
                              ("ima.wav", "IMA_ADPCM")):  # fmt: skip
            channels = 1 if subtype in ("GSM610", "IMA_ADPCM") else 2
            sf.write(str(folder / name), speechlike[:, :channels], 8000, subtype=subtype)
            files[name] = folder / name
        for name, fmt, codec, rate in (("aac.m4a", "ipod", "aac", 16000), ("amr.amr", "amr", "libopencore_amrnb", 8000),
                                       ("opus.opus", "ogg", "libopus", 48000), ("wma.wma", "asf", "wmav2", 22050)):  # fmt: skip
            files[name] = write_encoded(folder / name, fmt, codec, rate=rate, seconds=args.seconds)
        files["g722.wav"] = write_encoded(
            folder / "g722.wav", "wav", "g722", rate=16000, seconds=args.seconds
        )
        if (bcg729 := load_bcg729()) is not None:  # the one G.729 encoder here (libbcg729-0)
            files["g729.wav"] = write_g729_wav(folder / "g729.wav", bcg729, speechlike[:, 0])
        else:
            print("g729.wav left out: libbcg729 is not installed (apt-get install libbcg729-0)")
        print(f"{'file':<12} {'decoder':<11} {'median ms':>9}  per audio minute")
        for name, path in files.items():
            decoder = probe_audio(path).decoder
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                decode_audio(path)
                times.append(time.perf_counter() - t0)
            ms = statistics.median(times) * 1000
            print(f"{name:<12} {decoder:<11} {ms:9.1f}  {ms / (args.seconds / 60):.1f} ms")


if __name__ == "__main__":
    main()
