"""Shared fixtures. Real files, a real DuckDB, the real offline model; no mocks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lydlogg.settings import AsrSettings, Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
TESTDATA = REPO.parent / "shared" / "testdata"
SAMPLES = REPO / "data" / "samples"
MODELS_DIR = REPO / "data" / "models"


# Fixtures that bring a model, real audio or a database built by the pipeline: a test that asks for
# one is not in the millisecond tier (`-m pure`, `make test-fast`).
NOT_PURE_FIXTURES = frozenset({"bundled_model", "testdata", "processed_db", "app_db", "reference_db"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a ``pure`` test that also needs the model, a browser or a pipeline-built database."""
    wrong = []
    for item in items:
        if item.get_closest_marker("pure") is None:
            continue
        heavy = NOT_PURE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        heavy |= {m for m in ("model", "browser") if item.get_closest_marker(m) is not None}
        if heavy:
            wrong.append(f"{item.nodeid}: {', '.join(sorted(heavy))}")
    if wrong:
        raise pytest.UsageError("tests marked pure need the model, a browser or a built database:\n  "
                                + "\n  ".join(wrong))  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own LYDLOGG_* variables out of the tests."""
    for name in list(os.environ):
        if name.startswith("LYDLOGG_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def testdata() -> Path:
    if not TESTDATA.is_dir():
        pytest.skip(f"shared speech fixtures not found at {TESTDATA} (they sit beside the repository)")
    return TESTDATA


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    """The offline default model, assembled and verified once (needs the bundled-model extra)."""
    from transcription.models import ModelNotAvailableError, prepare_bundled

    try:
        return prepare_bundled(MODELS_DIR)
    except ModelNotAvailableError as e:
        pytest.fail(f"the offline model is required for these tests: {e}")


def make_settings(tmp_path: Path, **asr: object) -> Settings:
    """Settings with a database and key in ``tmp_path`` and the shared model folder."""
    return load_settings(
        None,
        db_path=tmp_path / "lydlogg.duckdb",
        key_file=tmp_path / "secrets" / "pseudonym.key",
        asr=AsrSettings(models_dir=MODELS_DIR, **asr),
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def write_tone(
    path: Path,
    *,
    seconds: float = 1.0,
    rate: int = 16_000,
    channels: int = 1,
    subtype: str | None = None,
    fmt: str | None = None,
    same_channels: bool = False,
) -> Path:
    """Write a short test signal: a different tone per channel unless ``same_channels``."""
    t = np.arange(int(seconds * rate)) / rate
    cols = [0.3 * np.sin(2 * np.pi * (220 if same_channels else 220 * (i + 1)) * t) for i in range(channels)]
    data = np.stack(cols, axis=1).astype(np.float32)
    sf.write(str(path), data, rate, subtype=subtype, format=fmt)
    return path


@pytest.fixture(scope="session")
def processed_db(tmp_path_factory: pytest.TempPathFactory, bundled_model: Path) -> Path:
    """A real database holding two sample calls, ingested and transcribed by the real model."""
    from lydlogg.batch import process
    from lydlogg.ingest import ingest

    tmp = tmp_path_factory.mktemp("processed")
    settings = make_settings(tmp)
    subset, _rows = sample_subset(tmp, 2)
    report = ingest(settings, [], metadata=subset)
    assert len(report.added) == 2 and not report.failures
    assert len(process(settings).done) == 2
    return settings.db_path


def sample_subset(folder: Path, count: int) -> tuple[Path, list[dict[str, str]]]:
    """Copy the ``count`` shortest sample calls and a matching metadata CSV into ``folder``."""
    import csv
    import shutil

    if not (SAMPLES / "metadata.csv").is_file():
        pytest.fail("data/samples/metadata.csv is missing: run `make samples`")
    with open(SAMPLES / "metadata.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows = sorted(rows, key=lambda r: sf.info(str(SAMPLES / r["audio_file"])).duration)[
        :count
    ]  # keep tests quick
    rows.sort(key=lambda r: r["started_at"])
    (folder / "audio").mkdir()
    for row in rows:
        shutil.copy(SAMPLES / row["audio_file"], folder / row["audio_file"])
    meta = folder / "metadata.csv"
    with open(meta, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return meta, rows


@pytest.fixture(scope="session")
def app_db(tmp_path_factory: pytest.TempPathFactory, processed_db: Path) -> Path:
    """The processed sample calls, scored, with the demo users; the first call is Anne's, the second Lise's."""
    import shutil

    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, create_user
    from lydlogg.db import connect
    from lydlogg.scoring import score_stored

    db = tmp_path_factory.mktemp("app") / "app.duckdb"
    shutil.copy(processed_db, db)
    settings = load_settings(None, db_path=db)
    score_stored(settings)
    with connect(db) as con:
        ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY started_at").fetchall()]
        for call_id, owner in zip(ids, ("anne", "lise"), strict=True):
            con.execute(
                "UPDATE calls SET operator_id = ?, unit = ? WHERE call_id = ?",
                [f"op-{owner}", DEMO_UNITS[owner][0], call_id],  # each call in its operator's unit
            )
        for username, name, role, operator_id, password in DEMO_USERS:
            create_user(
                con, username, name, role, password, operator_id=operator_id, units=DEMO_UNITS[username]
            )
    return db


def build_reference_db(folder: Path) -> Path:
    """The sample calls from their reference transcripts (no model), with metadata arriving late,
    scored, and the demo users: a fast database holding the repeat-contact episode."""
    import csv
    import json

    from lydlogg.auth import DEMO_UNITS, DEMO_USERS, create_user
    from lydlogg.db import connect
    from lydlogg.ingest import ingest
    from lydlogg.scoring import import_transcripts, score_stored

    settings = make_settings(folder)
    docs = [(p.stem, json.loads(p.read_text())) for p in sorted((SAMPLES / "reference").glob("*.json"))]
    import_transcripts(settings, docs)
    rows = list(csv.DictReader((SAMPLES / "metadata.csv").read_text(encoding="utf-8").splitlines()))
    late = folder / "late.csv"
    with open(late, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "audio_file": ""} for r in rows)
    ingest(settings, [], metadata=late)
    score_stored(settings)
    with connect(settings.db_path) as con:
        for username, name, role, operator_id, password in DEMO_USERS:
            create_user(
                con, username, name, role, password, operator_id=operator_id, units=DEMO_UNITS[username]
            )
    return settings.db_path


def clear_reviews(con) -> None:  # noqa: ANN001 - a DuckDB connection
    """Remove every review from a copy of the session's reference database, which tests that
    write into it (test_app) may have filled: the copy starts from no reviews."""
    con.execute("DELETE FROM review_comments")
    con.execute("DELETE FROM review_scores")
    con.execute("DELETE FROM reviews")


@pytest.fixture(scope="session")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_reference_db(tmp_path_factory.mktemp("reference"))


def write_encoded(
    path: Path, fmt: str, codec: str, *, rate: int, channels: int = 1, seconds: float = 2.0
) -> Path:
    """Write the write_tone signal through FFmpeg (PyAV) with ``codec`` in container ``fmt``."""
    import av

    t = np.arange(int(seconds * rate)) / rate
    data = np.stack([0.3 * np.sin(2 * np.pi * 220 * (i + 1) * t) for i in range(channels)]).astype(np.float32)
    layout = "stereo" if channels == 2 else "mono"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if codec == "wmav2":
            stream.codec_context.bit_rate = 32_000
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
        frame.rate = rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name,
            layout=layout,
            rate=rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        for chunk in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(chunk):
                out.mux(packet)
    return path


def sign_in(at, db: Path, user) -> str:
    """Put ``user`` in an AppTest session the way a log-in does: with a live session row."""
    from lydlogg.db import connect
    from lydlogg.login_sessions import start_session

    with connect(db) as con:
        token = start_session(con, user)
    at.session_state["user"] = user
    at.session_state["token"] = token
    return token


# G.729 has no encoder in FFmpeg (PyAV decodes only), so the tests encode with libbcg729 (Debian:
# libbcg729-0) through ctypes: 80 samples of 16-bit PCM at 8 kHz in, one 10-byte frame out.
_G729_FRAME_SAMPLES = 80
_G729_FRAME_BYTES = 10
WAVE_FORMAT_G729A = 0x0083  # the format tag FFmpeg's WAV demuxer hands to its g729 decoder


def load_bcg729():  # noqa: ANN201 - a ctypes.CDLL, or None
    """The bcg729 shared library with its encoder's signatures declared, or None when not installed."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("bcg729")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    lib.initBcg729EncoderChannel.restype = ctypes.c_void_p
    lib.initBcg729EncoderChannel.argtypes = [ctypes.c_uint8]
    lib.bcg729Encoder.restype = None
    lib.bcg729Encoder.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int16),
        ctypes.POINTER(ctypes.c_uint8),
        ctypes.POINTER(ctypes.c_uint8),
    ]
    lib.closeBcg729EncoderChannel.restype = None
    lib.closeBcg729EncoderChannel.argtypes = [ctypes.c_void_p]
    return lib


@pytest.fixture(scope="session")
def bcg729():
    """The bcg729 shared library, or a skip naming the package to install."""
    lib = load_bcg729()
    if lib is None:
        pytest.skip("libbcg729 is not installed (Debian: apt-get install libbcg729-0); "
                    "it is the one G.729 encoder here, FFmpeg only decodes G.729")  # fmt: skip
    return lib


def encode_g729(lib, samples: np.ndarray) -> bytes:  # noqa: ANN001 - the ctypes library
    """G.729 frames (10 bytes per 10 ms, VAD off) of mono float samples in [-1, 1] at 8 kHz."""
    import ctypes

    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    pcm = np.pad(pcm, (0, -len(pcm) % _G729_FRAME_SAMPLES))
    frame = (ctypes.c_uint8 * _G729_FRAME_BYTES)()
    length = ctypes.c_uint8()
    channel = lib.initBcg729EncoderChannel(0)
    out = bytearray()
    try:
        for start in range(0, len(pcm), _G729_FRAME_SAMPLES):
            block = np.ascontiguousarray(pcm[start : start + _G729_FRAME_SAMPLES])
            lib.bcg729Encoder(channel, block.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)), frame,
                              ctypes.byref(length))  # fmt: skip
            assert length.value == _G729_FRAME_BYTES  # VAD off: every frame is a voice frame
            out += bytes(frame)
    finally:
        lib.closeBcg729EncoderChannel(channel)
    return bytes(out)


def write_g729_wav(path: Path, lib, samples: np.ndarray) -> Path:  # noqa: ANN001 - the ctypes library
    """Write ``samples`` (mono, 8 kHz) as a G.729 WAV the way call recorders do: a WAVEFORMATEX
    ``fmt `` chunk with tag 0x0083, 1,000 bytes/s (8 kbit/s), 10-byte blocks, then ``fact`` (sample count)
    and ``data`` holding the frames back to back."""
    import struct

    frames = encode_g729(lib, samples)
    rate = 8_000
    fmt = struct.pack("<HHIIHHH", WAVE_FORMAT_G729A, 1, rate, rate // 8, _G729_FRAME_BYTES, 0, 0)
    sample_count = len(frames) // _G729_FRAME_BYTES * _G729_FRAME_SAMPLES
    chunks = [(b"fmt ", fmt), (b"fact", struct.pack("<I", sample_count)), (b"data", frames)]
    body = b"WAVE" + b"".join(tag + struct.pack("<I", len(data)) + data for tag, data in chunks)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path
