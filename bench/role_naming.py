"""Role naming alone, re-run on the speakers a work database already holds: no audio, no model.

``bench/e2e_rubric.py`` transcribes and diarizes the spoken rubric set once into per-layout
DuckDB files under ``--work``; the words and every word's speaker stay there. This benchmark reads
them back, names each call's speakers again with the current role inference
(``transcription.diarization.infer_roles``, exactly the input ``lydlogg process`` gives it: the
segments after word assignment, with the call's service) and measures role accuracy against the
spoken set's exact turns, as the end-to-end benchmark does. It takes seconds, so a change to the
naming can be tried without re-transcribing (hours) or re-diarizing.

Per call it prints the words on the right side with the stored roles and with the new ones, the
best naming the clusters allow (each speaker given the side most of its words are on: what
naming alone can reach), the confidence, and the evidence's sum per speaker. ``--write`` stores
the new roles in the database (``transcript_speakers`` and each segment's role) so that
``bench/e2e_rubric.py --transcribed-only`` scores with them; run it on a copy of the cache.

    python bench/role_naming.py --spoken SPOKEN --work WORK --layout mono16k --layout mono8k \\
        [--split dev] [--only rs-lvs-007,...] [--calls] [--write] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import duckdb  # noqa: E402
from e2e_rubric import STAFF_ROLES, RoleCounts, load_labels, role_counts  # noqa: E402

from transcription.diarization import SpeakerTurn, apply_roles, infer_roles, speaker_for  # noqa: E402
from transcription.types import Segment, Word  # noqa: E402

MONO = ("mono16k", "mono8k")
LAYOUTS = (*MONO, "stereo16k", "ulaw8k")  # stereo: speakers are the channels, roles still from the words


def stored_segments(con: duckdb.DuckDBPyConnection, call_id: str) -> tuple[str, str | None, list[Segment]]:
    """The newest transcript of ``call_id``: its id, the call's service, and its segments with
    speaker, stored role and words, as the role inference was given them."""
    tid, service = con.execute(
        "SELECT t.transcript_id, c.service FROM transcripts t JOIN calls c USING (call_id) WHERE call_id = ?"
        " ORDER BY t.created_at DESC LIMIT 1",
        [call_id],
    ).fetchone()
    words: dict[int, list[Word]] = defaultdict(list)
    for idx, start, end, text, prob, channel in con.execute(
        "SELECT segment_index, start_s, end_s, text, probability, channel FROM words WHERE transcript_id = ?"
        " ORDER BY segment_index, word_index",
        [tid],
    ).fetchall():
        words[idx].append(Word(start, end, text, prob, channel))
    segments = [
        Segment(start, end, text, channel, speaker, role, tuple(words[idx]), logprob, no_speech)
        for idx, start, end, text, channel, speaker, role, logprob, no_speech in con.execute(
            "SELECT segment_index, start_s, end_s, text, channel, speaker, role, avg_logprob, no_speech_prob"
            " FROM segments WHERE transcript_id = ? ORDER BY segment_index",
            [tid],
        ).fetchall()
    ]
    return tid, service, segments


def _reference(spoken: Path, call_id: str) -> tuple[list[SpeakerTurn], dict[str, str]]:
    ref = json.loads((spoken / "reference" / f"{call_id}.json").read_text(encoding="utf-8"))
    turns = [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in ref["segments"]]
    return turns, {s["speaker"]: s["role"] for s in ref["segments"]}


def _word_roles(segments: list[Segment]) -> list[tuple[float, float, str | None]]:
    return [(w.start, w.end, s.role) for s in segments for w in s.words]


def best_naming(segments: list[Segment], turns: list[SpeakerTurn], roles: dict[str, str]) -> list[Segment]:
    """Each speaker named by the side most of its words are on (the best naming can do)."""
    votes: dict[str, Counter] = defaultdict(Counter)
    for s in segments:
        for w in s.words:
            if s.speaker is not None:
                votes[s.speaker][roles.get(speaker_for(turns, w.start, w.end) or "") in STAFF_ROLES] += 1
    side = {sp: ("operator" if c[True] > c[False] else "caller") for sp, c in votes.items()}
    return [Segment(**{**s.__dict__, "role": side.get(s.speaker or "", s.role)}) for s in segments]


def _write(con: duckdb.DuckDBPyConnection, tid: str, roles, segments: list[Segment]) -> None:
    for r in roles:
        con.execute(
            "UPDATE transcript_speakers SET role = ?, confidence = ?, evidence_json = ? WHERE transcript_id = ?"
            " AND speaker = ?",
            [
                r.role,
                r.confidence,
                json.dumps([e.__dict__ for e in r.evidence], ensure_ascii=False),
                tid,
                r.speaker,
            ],
        )
    for i, s in enumerate(segments):
        con.execute(
            "UPDATE segments SET role = ? WHERE transcript_id = ? AND segment_index = ?", [s.role, tid, i]
        )


def run(spoken: Path, db: Path, call_ids: list[str], write: bool, show_calls: bool) -> dict:
    before = after = best = RoleCounts()
    rows = []
    with duckdb.connect(str(db), read_only=not write) as con:
        known = {r[0] for r in con.execute("SELECT call_id FROM transcripts").fetchall()}
        for call_id in [c for c in call_ids if c in known]:
            tid, service, segments = stored_segments(con, call_id)
            turns, ref_roles = _reference(spoken, call_id)
            roles = infer_roles(segments, service)
            renamed = list(apply_roles(segments, roles))
            b = role_counts(_word_roles(segments), turns, ref_roles)
            a = role_counts(_word_roles(renamed), turns, ref_roles)
            o = role_counts(_word_roles(best_naming(segments, turns, ref_roles)), turns, ref_roles)
            before, after, best = before + b, after + a, best + o
            staff = [r for r in roles if r.role in STAFF_ROLES]
            score = {r.speaker: round(sum(e.weight for e in r.evidence), 2) for r in roles}
            rows.append({
                "call_id": call_id, "before": b.shares()["accuracy"], "after": a.shares()["accuracy"],
                "best": o.shares()["accuracy"], "confidence": staff[0].confidence if staff else None,
                "scores": score,
            })  # fmt: skip
            if write:
                _write(con, tid, roles, renamed)
    if show_calls:
        for r in rows:
            flag = "  <-- named wrong" if r["after"] is not None and r["best"] - r["after"] > 0.2 else ""
            print(
                f"  {r['call_id']:12s} stored {r['before']:6.1%}  now {r['after']:6.1%}  best {r['best']:6.1%}"
                f"  conf {r['confidence'] or 0:.2f}  {r['scores']}{flag}"
            )
    return {
        "calls": len(rows),
        "before": before.shares(),
        "after": after.shares(),
        "best": best.shares(),
        "per_call": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--spoken", type=Path, required=True, help="output folder of make_spoken_rubric_set.py"
    )
    parser.add_argument("--work", type=Path, required=True, help="folder of the per-layout databases")
    parser.add_argument("--layout", action="append", choices=LAYOUTS, help="default: both mono layouts")
    parser.add_argument("--split", choices=["all", "dev", "holdout"], default="dev")
    parser.add_argument("--only", help="comma-separated call ids")
    parser.add_argument("--calls", action="store_true", help="print every call")
    parser.add_argument("--write", action="store_true", help="store the new roles (run on a copy)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    call_ids = list(load_labels(args.split, only))
    out = {}
    for layout in args.layout or list(MONO):
        db = args.work / f"{layout}.duckdb"
        if not db.is_file():
            raise SystemExit(f"{db}: missing; run bench/e2e_rubric.py --layout {layout} first")
        print(f"{layout} ({args.split}):")
        res = run(args.spoken, db, call_ids, args.write, args.calls)
        under = sum(1 for r in res["per_call"] if r["after"] is not None and r["after"] < 0.5)
        at95 = sum(1 for r in res["per_call"] if r["after"] is not None and r["after"] >= 0.95)
        print(
            f"  {res['calls']} calls: role accuracy stored {res['before']['accuracy']:.1%},"
            f" now {res['after']['accuracy']:.1%}, best naming {res['best']['accuracy']:.1%};"
            f" calls >= 95 %: {at95}, under 50 %: {under}"
        )
        out[layout] = res
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
