"""The ASR fine-tuning export: the rule for what leaves (a reviewer's "free of identifiers" mark, or
the anonymiser), the mark on the call page, and Hugging Face `datasets` loading the export."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from anonymise.audio import AnonymiseSettings
from lydlogg.asr_dataset import release_segment
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.db import connect
from transcription.audio import SAMPLE_RATE

USERS = {u[2]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
SECRET = "Jeg heter Kari Nordmann og nummeret mitt er 412 34 567."


def _clip(seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.2 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)


@pytest.mark.pure
def test_a_text_marked_free_of_identifiers_leaves_as_it_is_even_when_the_anonymiser_would_change_it():
    clip = _clip()
    out = release_segment(SECRET, clip, free_of_identifiers=True, anonymise=AnonymiseSettings())
    assert out.text == SECRET and not out.anonymised
    assert np.array_equal(out.clip, clip)


@pytest.mark.pure
def test_an_unmarked_text_gets_the_anonymisers_placeholders_and_its_clip_the_tone():
    clip = _clip(6.0)
    out = release_segment(SECRET, clip, free_of_identifiers=False, anonymise=AnonymiseSettings())
    assert out.text == "Jeg heter [NAVN] og nummeret mitt er [TELEFON]." and out.anonymised
    assert out.clip.shape == clip.shape
    # placed by character share with a 0.5 s margin: the name (chars 10-23 of 55) is covered from
    # about 0.6 s to 3.0 s, the number (44-54) from 4.3 s to 6.0 s; the rest is the recording
    seconds = np.arange(clip.size) / SAMPLE_RATE
    kept = (seconds < 0.5) | ((seconds > 3.1) & (seconds < 4.2))
    assert np.array_equal(out.clip[kept], clip[kept])
    for covered in ((seconds > 1.2) & (seconds < 2.4), seconds > 4.9):
        assert not np.allclose(out.clip[covered], clip[covered], atol=1e-3)


@pytest.mark.pure
def test_an_unmarked_text_without_identifiers_leaves_unchanged():
    clip = _clip()
    text = "Han har hatt feber i tre dager, ring 113 hvis han blir slapp."
    out = release_segment(text, clip, free_of_identifiers=False, anonymise=AnonymiseSettings())
    assert out.text == text and not out.anonymised and np.array_equal(out.clip, clip)


@pytest.fixture
def two_corrections(tmp_path, app_db):
    """A copy of the app database with two long segments of one call corrected to a text holding a
    name and a phone number: the first marked free of identifiers when correcting, the second not."""
    from conftest import make_settings

    from review.service import ReviewService

    db = tmp_path / "dataset.duckdb"
    shutil.copy(app_db, db)
    with connect(db, read_only=True) as con:
        rows = con.execute(
            "SELECT t.call_id, s.segment_index FROM segments s JOIN transcripts t USING (transcript_id)"
            " WHERE s.end_s - s.start_s > 2 AND t.call_id = (SELECT min(call_id) FROM calls)"
            " ORDER BY s.segment_index LIMIT 2"
        ).fetchall()
    (call_id, first), (_, second) = rows
    leder = ReviewService(db, USERS["leder"])
    leder.correct_segment(call_id, first, text=SECRET, free_of_identifiers=True)
    leder.correct_segment(call_id, second, text=SECRET)
    settings = make_settings(tmp_path).model_copy(update={"db_path": db})
    return settings, leder, call_id, first, second


def _exported(folder: Path) -> dict[int, dict]:
    with open(folder / "train" / "metadata.csv", newline="", encoding="utf-8") as fh:
        return {int(r["file_name"].rsplit("-", 1)[1].removesuffix(".wav")): r for r in csv.DictReader(fh)}


def test_the_export_follows_the_reviewers_mark_and_a_new_correction_needs_a_new_mark(
    two_corrections, tmp_path
):
    from lydlogg.access import AccessDenied
    from lydlogg.asr_dataset import export_asr_dataset
    from review.service import ReviewService

    settings, leder, call_id, first, second = two_corrections
    assert leder.identifier_marks(call_id) == {first: True, second: False}

    report = export_asr_dataset(settings.db_path, USERS["veileder"], tmp_path / "a", settings.anonymise)
    rows = _exported(tmp_path / "a")
    assert (report.clips, report.marked_free, report.anonymised) == (2, 1, 1)
    assert rows[first]["transcription"] == SECRET and rows[first]["free_of_identifiers"] == "True"
    assert rows[first]["anonymised"] == "False"
    assert "Kari" not in rows[second]["transcription"] and rows[second]["anonymised"] == "True"
    # the marked clip is the recording's span as it is; the other carries the tone
    with connect(settings.db_path, read_only=True) as con:
        path, channel, spans = con.execute(
            "SELECT a.path, any_value(s.channel), list((s.segment_index, s.start_s, s.end_s))"
            " FROM segments s JOIN transcripts t USING (transcript_id) JOIN audio_files a ON a.sha256 = t.audio_sha256"
            " WHERE t.call_id = ? AND s.segment_index IN (?, ?) GROUP BY a.path",
            [call_id, first, second],
        ).fetchone()
    from transcription.audio import decode_audio

    audio = decode_audio(Path(path))
    row = channel if (channel is not None and audio.layout == "stereo") else 0
    for index, start, end in spans:
        source = audio.samples[row, int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        clip, rate = sf.read(str(tmp_path / "a" / "train" / rows[index]["file_name"]), dtype="float32")
        assert rate == SAMPLE_RATE and clip.shape == source.shape
        same = np.allclose(clip, source, atol=1 / 16_000)  # PCM_16 rounding
        assert same == (index == first)

    # marked afterwards: the second goes out as it is too
    leder.mark_free_of_identifiers(call_id, second)
    # corrected again: the first's mark belonged to the earlier text
    leder.correct_segment(call_id, first, text=SECRET.replace("Kari", "Randi"))
    assert leder.identifier_marks(call_id) == {first: False, second: True}
    report = export_asr_dataset(settings.db_path, USERS["veileder"], tmp_path / "b", settings.anonymise)
    rows = _exported(tmp_path / "b")
    assert (report.marked_free, report.anonymised) == (1, 1)
    assert rows[second]["transcription"] == SECRET and "Randi" not in rows[first]["transcription"]
    # taken back
    leder.mark_free_of_identifiers(call_id, second, False)
    assert leder.identifier_marks(call_id)[second] is False

    with connect(settings.db_path, read_only=True) as con:
        audit = con.execute(
            "SELECT detail FROM audit WHERE action = 'mark_identifiers' AND object_id = ? ORDER BY audit_id",
            [call_id],
        ).fetchall()
        corrections = con.execute(
            "SELECT detail FROM audit WHERE action = 'correct_transcript' AND object_id = ? ORDER BY audit_id",
            [call_id],
        ).fetchall()
    assert [a[0] for a in audit] == [
        f"segment {second}: free of identifiers",
        f"segment {second}: not free of identifiers",
    ]
    assert corrections[0][0] == f"segment {first}: text; segment {first}: free of identifiers"
    assert "Kari" not in str(audit + corrections)  # the trail names segments, never their text

    # only a corrected text can be marked, and only by someone who may correct the call
    uncorrected = second + 1  # segments come in index order: first < second
    with pytest.raises(ValueError, match=f"segment {uncorrected} has no corrected text"):
        leder.mark_free_of_identifiers(call_id, uncorrected)
    with pytest.raises(ValueError, match="only a corrected text can be marked"):
        leder.correct_segment(call_id, second, role="caller", free_of_identifiers=True)
    with pytest.raises(AccessDenied):
        ReviewService(settings.db_path, USERS["operator"]).mark_free_of_identifiers(call_id, second)


def test_datasets_loads_the_export_as_16k_audio_with_text_and_metadata(
    two_corrections, tmp_path, monkeypatch
):
    """`datasets.load_dataset("audiofolder", data_dir=DIR)` on an export from a real DuckDB file,
    offline: the audio column decodes (datasets decodes through torchcodec, which needs torch)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip(
            "datasets decodes audio through torchcodec, which needs torch: `make pyannote` installs it"
        )
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    from lydlogg.asr_dataset import COLUMNS, export_asr_dataset

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    settings, _leder, _call_id, first, second = two_corrections
    folder = tmp_path / "ds"
    export_asr_dataset(settings.db_path, USERS["leder"], folder, settings.anonymise)
    written = _exported(folder)

    loaded = datasets.load_dataset("audiofolder", data_dir=str(folder), cache_dir=str(tmp_path / "hf-cache"))
    assert list(loaded) == ["train"]
    train = loaded["train"]
    assert train.num_rows == 2
    assert set(train.column_names) == {"audio", *COLUMNS} - {"file_name"}
    assert isinstance(train.features["audio"], datasets.Audio)
    for example in train:
        audio = example["audio"]
        array = np.asarray(audio["array"])
        assert audio["sampling_rate"] == 16_000 and array.ndim == 1 and array.dtype == np.float32
        index = int(Path(audio.metadata.path).stem.rsplit("-", 1)[1])
        row = written[index]
        assert abs(array.size / 16_000 - float(row["duration_s"])) < 0.01 and np.abs(array).max() > 0
        assert example["transcription"] == row["transcription"]
        assert example["service"] == row["service"] and example["model_id"] == row["model_id"]
        assert example["free_of_identifiers"] == (index == first) and example["anonymised"] == (
            index == second
        )


def test_the_call_page_marks_a_corrected_segment_when_correcting_and_afterwards(
    monkeypatch, tmp_path, app_db
):
    from test_app import app

    from review.service import ReviewService

    db = tmp_path / "page.duckdb"
    shutil.copy(app_db, db)
    with connect(db, read_only=True) as con:
        call_id = con.execute("SELECT min(call_id) FROM calls").fetchone()[0]
    at = app(monkeypatch, db, "leder", "samtale", samtale=call_id)
    assert not at.exception, at.exception
    next(w for w in at.number_input if w.label == "Segment nr.").set_value(2)
    next(w for w in at.text_area if w.label.startswith("Riktig tekst")).input(
        "Hei, du snakker med legevakten."
    )
    at.checkbox(key="correction-free").check()
    at.button(key="FormSubmitter:correction-Lagre retting").click().run()
    assert not at.exception, at.exception
    service = ReviewService(db, USERS["leder"])
    assert service.identifier_marks(call_id) == {1: True}
    assert any(c.value == "Rettede segmenter fri for identifikatorer: 2" for c in at.caption)

    at.selectbox(key="marks-segment").set_value(1)
    at.checkbox(key="marks-free").uncheck()
    at.button(key="FormSubmitter:identifier-marks-Lagre merking").click().run()
    assert not at.exception, at.exception
    assert service.identifier_marks(call_id) == {1: False}
    assert any(c.value == "Rettede segmenter fri for identifikatorer: ingen" for c in at.caption)
