"""Transcripts out: SRT, RTTM, escaping, and the bulk `export-transcript` over a real database."""

import json
import shutil

import duckdb
import pytest
from click.testing import CliRunner

from lydlogg.cli import main
from transcription.diarization.types import SpeakerTurn
from transcription.formats import render, to_rttm, to_srt, to_vtt, turns_from_segments
from transcription.types import Segment, Transcript

NASTY = Transcript(
    call_id="c:1",
    language="no",
    segments=(
        Segment(0.0, 2.5, "Han sa <b>pust</b> & --> hjelp\n\nnå", channel=0, role="operator"),
        Segment(2.5, 4.0, "{\\an8}ja > nei", channel=1, speaker="S 2", role=None),
        Segment(4.0, 5.0, "og så", channel=1, speaker="S 2", role=None),
    ),
)


def test_webvtt_escapes_what_it_must():
    vtt = to_vtt(NASTY)
    cue = vtt.split("\n\n")[1].splitlines()
    assert cue[1] == "00:00:00.000 --> 00:00:02.500"
    assert cue[2] == "<v operator>Han sa &lt;b&gt;pust&lt;/b&gt; &amp; --&gt; hjelp nå"
    assert vtt.count("-->") == 3  # only the timing lines
    assert "<v S 2>{\\an8}ja &gt; nei" in vtt


def test_srt_has_comma_times_and_no_markup():
    srt = to_srt(NASTY)
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == 3
    assert blocks[0].splitlines() == [
        "1",
        "00:00:00,000 --> 00:00:02,500",
        "operator: Han sa ‹b›pust‹/b› & --› hjelp nå",
    ]
    assert blocks[1].splitlines()[2] == "S 2: (\\an8)ja › nei"
    assert srt.count("-->") == 3


def test_rttm_from_segments_merges_a_speakers_neighbouring_segments():
    turns = turns_from_segments(NASTY)
    assert turns == [SpeakerTurn(0.0, 2.5, "operator"), SpeakerTurn(2.5, 5.0, "S 2")]
    assert to_rttm("c 1", turns).splitlines() == [
        "SPEAKER c_1 1 0.000 2.500 <NA> <NA> operator <NA> <NA>",
        "SPEAKER c_1 1 2.500 2.500 <NA> <NA> S_2 <NA> <NA>",
    ]
    given = [SpeakerTurn(1.0, 1.5, "SPEAKER_01")]
    assert render(NASTY, "rttm", given) == "SPEAKER c:1 1 1.000 0.500 <NA> <NA> SPEAKER_01 <NA> <NA>\n"


@pytest.fixture
def db(tmp_path, reference_db):
    copy = tmp_path / "ref.duckdb"
    shutil.copy(reference_db, copy)
    return copy


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_bulk_export_by_filter_writes_every_format_and_audits(db, tmp_path):
    with duckdb.connect(str(db), read_only=True) as con:
        lvs = [
            r[0]
            for r in con.execute(
                "SELECT call_id FROM calls WHERE service = 'lvs' ORDER BY call_id"
            ).fetchall()
        ]
        everything = con.execute("SELECT count(*) FROM transcripts").fetchone()[0]
    assert lvs and everything > len(lvs)
    out_dir = tmp_path / "ut"
    result = invoke("export-transcript", "--service", "lvs", "-f", "all", "-o", out_dir, "--db", db)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == sorted(f"{c}.{ext}" for c in lvs for ext in ("json", "vtt", "srt", "txt", "rttm"))
    doc = json.loads((out_dir / f"{lvs[0]}.json").read_text())
    assert doc["call_id"] == lvs[0] and doc["segments"]
    assert (out_dir / f"{lvs[0]}.vtt").read_text().startswith("WEBVTT\n")
    assert (out_dir / f"{lvs[0]}.rttm").read_text().startswith(f"SPEAKER {lvs[0]} 1 ")
    with duckdb.connect(str(db), read_only=True) as con:
        audited = con.execute(
            "SELECT object_id FROM audit WHERE action = 'export' AND detail = 'json,vtt,srt,txt,rttm'"
            " ORDER BY object_id"
        ).fetchall()
    assert [r[0] for r in audited] == lvs


def test_bulk_export_all_and_since(db, tmp_path):
    result = invoke("export-transcript", "--all", "-f", "txt", "-o", tmp_path / "all", "--db", db)
    assert result.exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        total = con.execute("SELECT count(DISTINCT call_id) FROM transcripts").fetchone()[0]
        late = con.execute("SELECT max(started_at)::DATE FROM calls").fetchone()[0]
        n_late = con.execute(
            "SELECT count(*) FROM calls c WHERE started_at >= ?::DATE AND EXISTS"
            " (SELECT 1 FROM transcripts t WHERE t.call_id = c.call_id)",
            [late],
        ).fetchone()[0]
    assert len(list((tmp_path / "all").iterdir())) == total
    result = invoke(
        "export-transcript", "--since", late.isoformat(), "-f", "srt", "-o", tmp_path / "late", "--db", db
    )
    assert result.exit_code == 0 and 0 < len(list((tmp_path / "late").iterdir())) == n_late < total


def test_named_calls_with_one_missing_carry_on_and_exit_1(db, tmp_path):
    with duckdb.connect(str(db), read_only=True) as con:
        first = con.execute("SELECT min(call_id) FROM transcripts").fetchone()[0]
    result = invoke("export-transcript", first, "nope", "-f", "vtt", "-o", tmp_path / "x", "--db", db)
    assert result.exit_code == 1 and "no call 'nope'" in result.output
    assert [p.name for p in (tmp_path / "x").iterdir()] == [f"{first}.vtt"]


def test_one_call_still_prints_and_several_need_a_folder(db):
    with duckdb.connect(str(db), read_only=True) as con:
        first = con.execute("SELECT min(call_id) FROM transcripts").fetchone()[0]
    out = invoke("export-transcript", first, "-f", "srt", "--db", db)
    assert out.exit_code == 0 and out.output.startswith("1\n00:00:")
    out = invoke("export-transcript", "--all", "--db", db)
    assert out.exit_code == 2 and "-o DIR" in out.output
    out = invoke("export-transcript", "--db", db)
    assert out.exit_code == 2 and "--all" in out.output
