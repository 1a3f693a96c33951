"""bench/role_naming.py: speakers stored in a real DuckDB file named again, measured, written back."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from conftest import make_settings

from lydlogg.db import connect
from lydlogg.scoring import import_transcripts

REPO = Path(__file__).resolve().parent.parent

# A mono call as the pipeline may store it: the caller's voice first, no greeting heard, and the
# stored roles the wrong way round (what the naming gave before the address balance).
TURNS = [
    ("A", "caller", 0.5, 3.0, "Ja, hei, det er øyet mitt som er rødt."),
    ("B", "operator", 3.5, 6.0, "Bruker du linser i det daglige."),
    ("A", "caller", 6.5, 8.0, "Ja, jeg sov med dem i natt."),
    ("B", "operator", 8.5, 11.0, "Det ser ut som du trenger å bli sett på."),
]


def _bench():
    for name in ("e2e_rubric", "role_naming"):
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    return sys.modules["role_naming"]


def _stored_call(tmp_path: Path) -> tuple[Path, Path]:
    settings = make_settings(tmp_path)
    stored = {"A": "operator", "B": "caller"}  # swapped
    doc = {
        "call_id": "rs-test-001",
        "language": "no",
        "service": "lvs",
        "segments": [
            {"start": a, "end": b, "speaker": s, "role": stored[s], "text": text}
            for s, _, a, b, text in TURNS
        ],
    }
    import_transcripts(settings, [("rs-test-001.json", doc)])
    with connect(settings.db_path) as con:
        (tid,) = con.execute("SELECT transcript_id FROM transcripts").fetchone()
        for i, (_, _, start, end, text) in enumerate(TURNS):
            tokens = text.split()
            step = (end - start) / len(tokens)
            con.executemany(
                "INSERT INTO words (transcript_id, segment_index, word_index, start_s, end_s, text, probability)"
                " VALUES (?, ?, ?, ?, ?, ?, 0.5)",
                [(tid, i, k, start + k * step, start + (k + 1) * step, tok) for k, tok in enumerate(tokens)],
            )
        con.executemany(
            "INSERT INTO transcript_speakers (transcript_id, speaker, role, confidence, evidence_json, strategy)"
            " VALUES (?, ?, ?, 0.7, '[]', 'embeddings')",
            [(tid, s, r) for s, r in stored.items()],
        )
    spoken = tmp_path / "spoken"
    (spoken / "reference").mkdir(parents=True)
    reference = {
        "call_id": "rs-test-001",
        "segments": [{"start": a, "end": b, "speaker": s, "role": r, "text": t} for s, r, a, b, t in TURNS],
    }
    (spoken / "reference" / "rs-test-001.json").write_text(json.dumps(reference), encoding="utf-8")
    return settings.db_path, spoken


def test_the_stored_speakers_are_named_again_and_written_back_only_when_asked(tmp_path):
    db, spoken = _stored_call(tmp_path)
    bench = _bench()
    res = bench.run(spoken, db, ["rs-test-001", "not-in-the-db"], write=False, show_calls=False)
    assert res["calls"] == 1
    assert res["before"]["accuracy"] == 0.0  # every word on the wrong side, as stored
    assert res["after"]["accuracy"] == 1.0 and res["best"]["accuracy"] == 1.0
    with connect(db) as con:
        assert con.execute("SELECT role FROM segments ORDER BY segment_index").fetchall()[0] == ("operator",)

    bench.run(spoken, db, ["rs-test-001"], write=True, show_calls=False)
    with connect(db) as con:
        roles = [r[0] for r in con.execute("SELECT role FROM segments ORDER BY segment_index").fetchall()]
        speakers = dict(con.execute("SELECT speaker, role FROM transcript_speakers").fetchall())
    assert roles == ["caller", "operator", "caller", "operator"]
    assert speakers == {"A": "caller", "B": "operator"}
    again = bench.run(spoken, db, ["rs-test-001"], write=False, show_calls=False)
    assert again["before"]["accuracy"] == 1.0
