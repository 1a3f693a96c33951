"""The case library: redaction editing, publishing, access, search and the covered audio.

Real DuckDB files built from the sample calls' reference transcripts (no model); the sample
recording of ``lvs-001-feber-barn`` is linked to its call so that the audio path runs for real.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLES, build_reference_db

from anonymise import Redaction
from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.crypto import encrypt_database
from lydlogg.db import DatabaseKey, connect, register_key
from lydlogg.db.fts import build_index, extension_file, has_index, load_fts
from lydlogg.settings import CaseSettings
from review.cases import (
    CaseLibraryService,
    build_case_content,
    merge_redactions,
    normalise_tags,
    word_range_redaction,
    word_tokens,
)
from review.service import Review, ReviewService
from rubrics import load_rubrics
from rubrics.reflection import load_reflection_questions
from transcription.audio import SAMPLE_RATE, decode_audio, file_sha256, probe_audio
from transcription.formats import from_json
from transcription.types import Segment, Transcript

USERS = {u[0]: User(u[0], u[1], u[2], u[3], DEMO_UNITS[u[0]]) for u in DEMO_USERS}
CALL = "lvs-001-feber-barn"  # op-anne's call; the operator introduces herself as "Anne"
AUDIO = SAMPLES / "audio" / f"{CALL}.ogg"
OVERALL = "Innringer Kari Nordmann ga adressen Storgata tolv."
COMMENT = "Ring 41 23 45 67 igjen"


def reference(call_id: str = CALL) -> Transcript:
    return from_json(json.loads((SAMPLES / "reference" / f"{call_id}.json").read_text(encoding="utf-8")))


def link_audio(db: Path, call_id: str, path: Path) -> None:
    """Attach a real recording to a call imported from its reference transcript."""
    info = probe_audio(path)
    sha = file_sha256(path)
    with connect(db) as con:
        con.execute(
            "INSERT INTO audio_files (sha256, path, size_bytes, container, subtype, sample_rate, channels, frames,"
            " duration_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [sha, str(path), info.size_bytes, info.container, info.subtype, info.sample_rate, info.channels,
             info.frames, info.duration_s],
        )  # fmt: skip
        con.execute("UPDATE calls SET audio_sha256 = ? WHERE call_id = ?", [sha, call_id])


def unlink_audio(db: Path) -> None:
    """Detach the recording (tests that do not look at audio skip decoding and covering it)."""
    with connect(db) as con:
        con.execute("UPDATE calls SET audio_sha256 = NULL")


def peer_review(db: Path, call_id: str = CALL, username: str = "veileder", low: bool = True) -> None:
    service = ReviewService(db, USERS[username])
    rubric_id, _ = service.suggestions(call_id)
    loaded = load_rubrics()[rubric_id]
    values = {c.id: c.scale.values[0 if low else -1] for c in loaded.rubric.criteria}
    service.save_review(call_id, kind="peer", rubric_id=rubric_id, rubric_version=loaded.rubric.version,
                        rubric_sha256=loaded.sha256, values=values, overall_comment=OVERALL,
                        comments=[(2, 13.8, COMMENT)])  # fmt: skip


def reviewed_db(folder: Path) -> Path:
    """The reference database with the sample audio linked to CALL and a peer review of it."""
    db = build_reference_db(folder)
    link_audio(db, CALL, AUDIO)
    peer_review(db)
    return db


@pytest.fixture(scope="module")
def built_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not AUDIO.is_file():
        pytest.fail(f"{AUDIO} is missing: run `make samples`")
    return reviewed_db(tmp_path_factory.mktemp("cases"))


@pytest.fixture
def db(built_db: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(built_db, tmp_path / "cases.duckdb"))


def library(db: Path, user: str, tmp_path: Path) -> CaseLibraryService:
    return CaseLibraryService(db, USERS[user], CaseSettings(cases_dir=tmp_path / "cases"))


def publish(lib: CaseLibraryService, redactions=None, **changes) -> str:
    if redactions is None:
        redactions = lib.draft(CALL).proposed
    options = {"title": "Feber hos barn", "learning_points": "Spør om drikke og tiss.",
               "tags": ["barn", "Feber"], "confirmed": True, **changes}  # fmt: skip
    return lib.publish(CALL, redactions, **options)


def audit(db: Path, action: str) -> list[tuple]:
    with connect(db) as con:
        return con.execute(
            "SELECT username, object_type, object_id, detail FROM audit WHERE action = ? ORDER BY audit_id",
            [action],
        ).fetchall()


# --- pure functions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Jeg heter Kari.", ["Jeg", "heter", "Kari"]),
        ("  to   mellomrom ", ["to", "mellomrom"]),
        ("«Storgata 12», sa hun!", ["«Storgata", "12", "sa", "hun"]),
        ("...", ["..."]),
        ("", []),
    ],
)
def test_word_tokens_cut_trailing_punctuation(text, words):
    found = word_tokens(text)
    assert [w for _a, _b, w in found] == words
    assert all(text[a:b] == w for a, b, w in found)


@pytest.mark.parametrize(
    ("segment", "first", "last", "hidden"),
    [(0, 5, 5, "Anne"), (1, 6, 8, "på tre år"), (3, 0, 0, "Han"), (17, 0, 0, None)],
)
def test_a_word_range_becomes_offsets_into_the_whole_call(segment, first, last, hidden):
    transcript = reference()
    tokens = word_tokens(transcript.segments[segment].text)
    r = word_range_redaction(transcript, segment, first, last, "NAVN")
    assert r.source == "manual"
    assert transcript.text[r.start : r.end] == (hidden or tokens[0][2])


@pytest.mark.parametrize(("segment", "first", "last"), [(-1, 0, 0), (18, 0, 0), (0, 2, 1), (0, 0, 99)])
def test_a_word_range_outside_the_call_is_refused(segment, first, last):
    with pytest.raises(ValueError):
        word_range_redaction(reference(), segment, first, last, "NAVN")


@pytest.mark.parametrize(
    ("spans", "merged"),
    [
        ([(5, 9, "NAVN"), (0, 3, "STED")], [(0, 3, "STED"), (5, 9, "NAVN")]),
        ([(0, 5, "NAVN"), (3, 8, "ADRESSE")], [(0, 8, "NAVN")]),
        ([(0, 5, "NAVN"), (5, 8, "NAVN")], [(0, 8, "NAVN")]),
        ([(0, 10, "NAVN"), (2, 4, "DATO")], [(0, 10, "NAVN")]),
        ([], []),
    ],
)
def test_overlapping_redactions_merge(spans, merged):
    found = merge_redactions([Redaction(a, b, k) for a, b, k in spans])
    assert [(r.start, r.end, r.kind) for r in found] == merged


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["Barn", "barn ", "  forverring"], ("barn", "forverring")),
        (["psykisk   helse", "", "rekontakt"], ("psykisk helse", "rekontakt")),
        (["brystsmerter", "gravid-uke-30"], ("brystsmerter", "gravid-uke-30")),
    ],
)
def test_tags_are_normalised(tags, expected):
    assert normalise_tags(tags) == expected


@pytest.mark.parametrize("tag", ["<script>", "a" * 41, "-bindestrek-først", "semi;kolon"])
def test_bad_tags_are_refused(tag):
    with pytest.raises(ValueError, match="lower-case"):
        normalise_tags([tag])


def _review(reviewer: str, kind: str, values: dict, overall: str | None, comments=()) -> Review:
    return Review(
        f"r-{reviewer}", CALL, reviewer, kind, "lvs_operator", 1, None, overall, values, tuple(comments)
    )


def test_case_content_hides_reviewers_and_anonymises_their_comments():
    rubric = load_rubrics()["lvs_operator"].rubric
    top = {c.id: c.scale.values[-1] for c in rubric.criteria}
    low_id = rubric.criteria[0].id
    reviews = [
        _review(
            "u-vera",
            "peer",
            {**top, low_id: rubric.criteria[0].scale.values[0]},
            OVERALL,
            [(2, 13.8, COMMENT)],
        ),
        _review("u-liv", "peer", top, None),
        _review("u-anne", "self", top, "Jeg heter Anne Hansen."),
    ]
    transcript = reference()
    content, spans = build_case_content(
        transcript, [Redaction(38, 42, "NAVN")], title="Feber hos barn", service="lvs", rubric=rubric,
        suggestions=[], reviews=reviews, questions=load_reflection_questions(), learning_points="Ring Kari.",
        tags=["barn"],
    )  # fmt: skip
    a = content.assessment
    dumped = json.dumps(a, ensure_ascii=False)
    assert a["reviewers"] == ["Vurderer 1", "Vurderer 2"]
    for leak in (
        "u-vera",
        "u-liv",
        "u-anne",
        "Anne",
        "Hansen",
        "Kari",
        "Nordmann",
        "Storgata",
        "41 23 45 67",
    ):
        assert leak not in dumped and leak not in content.transcript.text
    assert a["overall"] == [{"reviewer": "Vurderer 1", "text": "Innringer [NAVN] ga adressen [ADRESSE]."}]
    assert a["comments"][0]["text"] == "Ring [TELEFON] igjen" and a["comments"][0]["segment_index"] == 2
    assert content.learning_points == "Ring [NAVN]." and content.title == "Feber hos barn"
    assert content.scores()[low_id] == rubric.criteria[0].scale.values[0]  # the lowest reviewer value
    assert rubric.criteria[0].reflection_question in [q for _t, q in content.reflection]
    assert rubric.criteria[1].reflection_question not in [q for _t, q in content.reflection]  # scored top
    assert len(spans) == 1 and spans[0].estimated and spans[0].segment_index == 0


def test_case_content_needs_a_peer_review_and_a_title():
    rubric = load_rubrics()["lvs_operator"].rubric
    options = {"service": "lvs", "rubric": rubric, "suggestions": [], "questions": load_reflection_questions(),
               "learning_points": "", "tags": []}  # fmt: skip
    self_only = [_review("anne", "self", {}, None)]
    with pytest.raises(ValueError, match="peer review"):
        build_case_content(reference(), [], title="Tittel", reviews=self_only, **options)
    with pytest.raises(ValueError, match="title"):
        build_case_content(
            reference(), [], title="  ", reviews=[_review("vera", "peer", {}, None)], **options
        )


# --- the service on a real database -------------------------------------------------------------


def test_a_draft_proposes_the_detected_redactions(db, tmp_path):
    draft = library(db, "veileder", tmp_path).draft(CALL)
    assert draft.transcript.segments[0].text.startswith("Legevakten, du snakker med sykepleier Anne")
    assert [(r.kind, draft.transcript.text[r.start : r.end]) for r in draft.proposed] == [("NAVN", "Anne")]
    assert draft.has_audio and draft.peer_reviews == 1 and draft.rubric_id == "lvs_operator"
    assert audit(db, "case_draft") == [("veileder", "call", CALL, "proposed redactions shown")]


def test_publishing_stores_only_anonymised_material_and_never_touches_the_original(db, tmp_path):
    before = file_sha256(AUDIO)
    lib = library(db, "veileder", tmp_path)
    case_id = publish(lib, learning_points="Anne burde spurt om tiss tidligere.", publish_audio=True,
                      disguise_voice=False)  # fmt: skip
    assert file_sha256(AUDIO) == before
    case = lib.case(case_id)
    assert "Anne" not in case.content.transcript.text and "[NAVN]" in case.content.transcript.text
    assert case.content.transcript.call_id == "kasus"  # a call id can name the original
    assert case.content.learning_points == "[NAVN] burde spurt om tiss tidligere."
    assert case.content.tags == ("barn", "feber") and case.published_by == "veileder" and not case.imported
    with connect(db) as con:
        row = con.execute(
            "SELECT source_call_id, redactions_json, search_text, audio_file FROM cases WHERE case_id = ?",
            [case_id],
        ).fetchone()
    assert row[0] == CALL and "anne" not in row[2] and "Anne" not in row[1]
    assert json.loads(row[1]) == [{"start": 38, "end": 42, "kind": "NAVN", "source": "cue-weak"}]
    assert (tmp_path / "cases" / row[3]).is_file() and lib.audio_path(case) == tmp_path / "cases" / row[3]
    assert audit(db, "publish_case") == [
        ("veileder", "case", case_id, f"call {CALL}; 1 redactions; audio, voices kept")
    ]
    assert audit(db, "read_case")[-1][:3] == ("veileder", "case", case_id)


def test_the_covered_audio_hides_each_redacted_span_in_every_channel(db, tmp_path):
    lib = library(db, "leder", tmp_path)
    transcript = lib.draft(CALL).transcript
    name = Redaction(38, 42, "NAVN")
    extra = word_range_redaction(transcript, 1, 6, 8, "DATO")  # "på tre år" on the caller's channel
    case = lib.case(publish(lib, [name, extra], publish_audio=True, disguise_voice=False))
    covered, rate = sf.read(str(lib.audio_path(case)), dtype="float32", always_2d=True)
    original = decode_audio(AUDIO).samples.T
    assert rate == SAMPLE_RATE and covered.shape == original.shape and covered.shape[1] == 2
    from anonymise import redact_transcript

    _, spans = redact_transcript(transcript, [name, extra])
    margin = lib.anonymise.estimated_margin_s  # reference transcripts: spans interpolated
    changed = np.abs(covered - original).max(axis=1) > 0.01
    for span in spans:
        a, b = int(np.ceil((span.start_s - margin) * rate)), int((span.end_s + margin) * rate)
        tone = 10 ** (-24 / 20) * np.sin(2 * np.pi * 1000 * np.arange(a, b) / rate)
        for channel in (0, 1):  # the whole widened span is the cover tone, in both channels
            assert np.allclose(covered[a:b, channel], tone, atol=1e-3)
        assert changed[a:b].mean() > 0.5
    far = np.ones(len(covered), dtype=bool)
    for span in spans:
        far[max(0, int((span.start_s - margin - 0.05) * rate)) : int((span.end_s + margin + 0.05) * rate)] = (
            False
        )
    assert not changed[far].any()  # elsewhere the recording is as it was (16-bit rounding aside)


def test_publishing_needs_confirmation_and_a_peer_review(db, tmp_path):
    lib = library(db, "veileder", tmp_path)
    with pytest.raises(ValueError, match="confirmed"):
        publish(lib, confirmed=False)
    with pytest.raises(ValueError, match="peer review"):
        lib.publish(
            "lvs-002-urinveis", [], title="Uten vurdering", learning_points="", tags=[], confirmed=True
        )
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    assert not (tmp_path / "cases").exists() or not any((tmp_path / "cases").iterdir())


def test_the_trainer_decides_what_is_hidden(db, tmp_path):
    lib = library(db, "veileder", tmp_path)
    transcript = lib.draft(CALL).transcript
    kept = publish(lib, [])  # the proposed name removed by the trainer
    assert "sykepleier Anne" in lib.case(kept).content.transcript.text
    added = word_range_redaction(transcript, 5, 9, 9, "STED")  # "barne-TV"
    hidden = lib.case(publish(lib, [added]))
    assert "barne-TV" not in hidden.content.transcript.text and "[STED]" in hidden.content.transcript.text


@pytest.mark.parametrize(
    ("user", "may_read", "may_publish", "may_export"),
    [("leder", True, True, True), ("veileder", True, True, True), ("anne", True, False, False),
     ("lise", True, False, False), ("admin", False, False, False)],
)  # fmt: skip
def test_access_for_each_role(db, tmp_path, user, may_read, may_publish, may_export):
    unlink_audio(db)
    case_id = publish(library(db, "leder", tmp_path))
    lib = library(db, user, tmp_path)
    if may_read:  # the roles that take part in training: trainers and the trained
        assert lib.case(case_id).case_id == case_id
        assert lib.search("feber")["case_id"].tolist() == [case_id]
    else:  # admin administers accounts and retention, and trains nobody
        for read in (lambda: lib.case(case_id), lambda: lib.search("feber"), lib.tags):
            with pytest.raises(AccessDenied):
                read()
    if may_publish:
        assert lib.draft(CALL).call_id == CALL
    else:
        with pytest.raises(AccessDenied):
            lib.draft(CALL)  # the draft shows the original: only for trainers with rights to the call
        with pytest.raises(AccessDenied):
            publish(lib, [])
        with pytest.raises(AccessDenied):
            lib.reviewed_calls()
    if may_export:
        assert lib.export_case(case_id)[:2] == b"PK"
    else:
        with pytest.raises(AccessDenied):
            lib.export_case(case_id)
        with pytest.raises(AccessDenied):
            lib.import_case(b"PK")


def test_an_unknown_call_or_case_looks_like_a_refusal(db, tmp_path):
    lib = library(db, "leder", tmp_path)
    with pytest.raises(AccessDenied):
        lib.draft("no-such-call")
    with pytest.raises(AccessDenied):
        lib.case("no-such-case")


def test_reviewed_calls_lists_only_peer_reviewed_calls(db, tmp_path):
    assert library(db, "veileder", tmp_path).reviewed_calls()["call_id"].tolist() == [CALL]


def test_search_by_text_tags_service_and_criterion_score(db, tmp_path):
    unlink_audio(db)
    lib = library(db, "veileder", tmp_path)
    low = publish(lib, title="Feber hos barn", tags=["barn", "feber"])
    peer_review(db, username="leder", low=False)  # a second reviewer gives the top score everywhere
    both = publish(lib, title="Treåring med feber", tags=["barn"])
    criterion = load_rubrics()["lvs_operator"].rubric.criteria[0]
    reader = library(db, "anne", tmp_path)
    assert reader.search("")["case_id"].tolist() == [both, low]  # newest first
    assert reader.search("FEBER hos")["case_id"].tolist() == [low]
    assert reader.search("barne-tv TREÅRING")["case_id"].tolist() == [both]  # every word, anywhere
    assert reader.search("[navn]")["case_id"].tolist() == [both, low]
    assert reader.search("anne").empty  # the hidden name is not searchable
    assert reader.search("%").empty and reader.search("_").empty  # wildcards are taken literally
    assert reader.search(tags=["feber"])["case_id"].tolist() == [low]
    assert reader.search(tags=["barn", "feber"])["case_id"].tolist() == [low]
    assert reader.search(service="lvs")["case_id"].tolist() == [both, low]
    assert reader.search(service="amk").empty
    bottom = criterion.scale.values[0]
    found = reader.search(criterion_id=criterion.id, max_value=bottom)
    assert found["case_id"].tolist() == [both, low]  # the lowest reviewer value counts
    assert reader.search(criterion_id=criterion.id, max_value=bottom - 1).empty
    assert "feber" in reader.tags() and reader.tags()[0] == "forverring"
    with pytest.raises(ValueError, match="service"):
        reader.search(service="sykehus")


def test_text_search_uses_the_full_text_index(db, tmp_path):
    unlink_audio(db)
    lib = library(db, "veileder", tmp_path)
    worse = publish(lib, title="Uklare råd om forverring", tags=["forverring"],
                    learning_points="Forverring må gjøres konkret. Feber, feber og feber: si hva som er verre.")  # fmt: skip
    plain = publish(lib, title="Treåring")
    reader = library(db, "anne", tmp_path)
    with connect(db) as con:  # rebuilt in the transaction of each publish
        assert has_index(con, "cases")
        assert con.execute("SELECT count(*) FROM fts_main_cases.docs").fetchone()[0] == 2
    # "forverringen" occurs nowhere in the text: only the Norwegian stem finds "forverring"
    assert reader.search("forverringen")["case_id"].tolist() == [worse]
    assert reader.search("FORVERRINGEN råd")["case_id"].tolist() == [worse]
    # Both transcripts have "feber"; the case that says it more often ranks first, although older.
    found = reader.search("feber")
    assert found["case_id"].tolist() == [worse, plain]
    assert found["score"].iloc[0] > found["score"].iloc[1] > 0
    # Inside a compound the index sees nothing, the substring match still finds it.
    inside = reader.search("åring")
    assert inside["case_id"].tolist() == [plain] and inside["score"].isna().all()


def test_a_database_whose_cases_predate_the_index_gets_one_on_first_search(db, tmp_path):
    unlink_audio(db)
    case_id = publish(library(db, "veileder", tmp_path), title="Feber og forverring")
    with connect(db) as con:
        load_fts(con)
        con.execute("PRAGMA drop_fts_index('cases')")
        assert not has_index(con, "cases")
    assert library(db, "anne", tmp_path).search("forverringen")["case_id"].tolist() == [case_id]
    with connect(db) as con:
        assert has_index(con, "cases")


def test_the_full_text_extension_comes_from_the_pinned_package():
    path = extension_file()
    assert path is not None and path.is_file(), "pip install duckdb-extension-fts==<duckdb's version>"
    assert path.parent.name == f"v{duckdb.__version__}"
    assert extension_file("0.0.1") is None


def test_search_in_an_encrypted_database(db, tmp_path):
    unlink_audio(db)
    key = DatabaseKey("case-key-0123456789abcdef", allow_mbedtls=True)
    target = encrypt_database(db, tmp_path / "encrypted.duckdb", key)
    register_key(target, key)
    try:
        lib = library(target, "veileder", tmp_path)
        case_id = publish(lib, title="Forverring hos gravid")
        assert library(target, "anne", tmp_path).search("gravide forverringen")["case_id"].tolist() == [
            case_id
        ]
    finally:
        register_key(target, None)
    assert b"gravid" not in target.read_bytes()


def test_a_case_of_a_call_without_audio_has_no_audio(db, tmp_path):
    peer_review(db, "lvs-002-urinveis")
    lib = library(db, "veileder", tmp_path)
    case_id = lib.publish("lvs-002-urinveis", lib.draft("lvs-002-urinveis").proposed, title="Urinveier",
                          learning_points="", tags=[], confirmed=True)  # fmt: skip
    case = lib.case(case_id)
    assert case.audio_file is None and lib.audio_path(case) is None
    assert "Jonas" not in case.content.transcript.text


def test_the_cases_folder_never_overwrites_a_file(db, tmp_path):
    lib = library(db, "veileder", tmp_path)
    lib.store_audio("fixed", np.zeros((1, 160), dtype=np.float32), SAMPLE_RATE)
    with pytest.raises(FileExistsError):
        lib.store_audio("fixed", np.ones((1, 160), dtype=np.float32), SAMPLE_RATE)
    assert not sf.read(str(tmp_path / "cases" / "case-fixed.wav"))[0].any()


def test_segments_keep_their_times_and_roles(db, tmp_path):
    lib = library(db, "veileder", tmp_path)
    case = lib.case(publish(lib))
    original = reference()
    assert [(s.start, s.end, s.role) for s in case.content.transcript.segments] == [
        (s.start, s.end, s.role) for s in original.segments
    ]
    assert isinstance(case.content.transcript.segments[0], Segment)


def test_a_transcript_corrected_after_the_draft_is_not_published_with_stale_offsets(db, tmp_path):
    unlink_audio(db)
    lib = library(db, "veileder", tmp_path)
    draft = lib.draft(CALL)
    ReviewService(db, USERS["veileder"]).correct_segment(CALL, 0, text="Legevakten, du snakker med Anne Li.")
    with pytest.raises(ValueError, match="changed after the draft"):
        publish(lib, draft.proposed, draft_sha256=draft.text_sha256)
    fresh = lib.draft(CALL)
    assert fresh.text_sha256 != draft.text_sha256
    case = lib.case(publish(lib, fresh.proposed, draft_sha256=fresh.text_sha256))
    assert "Anne" not in case.content.transcript.text


@pytest.mark.parametrize("name", ["cases; DROP TABLE cases", "Cases", "search text", "'x'"])
def test_the_index_takes_only_plain_names(tmp_path, name):
    with connect(tmp_path / "x.duckdb") as con, pytest.raises(ValueError, match="plain table or column"):
        build_index(con, name, "case_id", "search_text")


# --- audio only when chosen, voices disguised, texts confirmed, audio encrypted ----------------


def test_audio_is_published_only_when_chosen_and_then_with_disguised_voices(db, tmp_path):
    lib = library(db, "veileder", tmp_path)
    silent = lib.case(publish(lib))  # the default: text only
    assert silent.audio_file is None and lib.audio_bytes(silent) is None and silent.voice_disguised is None
    assert audit(db, "publish_case")[-1][3].endswith("; no audio")
    name = Redaction(38, 42, "NAVN")
    heard: list[float] = []
    case = lib.case(publish(lib, [name], publish_audio=True, progress=heard.append))  # disguise on by default
    assert case.voice_disguised is True and audit(db, "publish_case")[-1][3].endswith("; disguised audio")
    assert heard and heard == sorted(heard) and heard[-1] == pytest.approx(1.0)  # the page's progress bar
    disguised, rate = sf.read(str(lib.audio_path(case)), dtype="float32", always_2d=True)
    original = decode_audio(AUDIO).samples.T
    assert rate == SAMPLE_RATE and disguised.shape == original.shape
    from anonymise import redact_transcript

    _, (span,) = redact_transcript(lib.draft(CALL).transcript, [name])
    margin = lib.anonymise.estimated_margin_s
    a, b = int(np.ceil((span.start_s - margin) * rate)), int((span.end_s + margin) * rate)
    tone = 10 ** (-24 / 20) * np.sin(2 * np.pi * 1000 * np.arange(a, b) / rate)
    assert np.allclose(disguised[a:b, 0], tone, atol=1e-3)  # the name is still covered by the plain tone
    rest = slice(b + rate, None)  # elsewhere the speech is re-synthesised, not the recording
    for channel in (0, 1):
        assert np.corrcoef(disguised[rest, channel], original[rest, channel])[0, 1] < 0.5
        assert np.abs(disguised[rest, channel]).max() > 0.01  # and not silenced


def test_the_preview_shows_every_text_and_publishing_needs_what_was_confirmed(db, tmp_path):
    lib = library(db, "veileder", tmp_path)
    draft = lib.draft(CALL)
    options = {"title": "Feber hos barn", "learning_points": "Anne spurte godt.", "tags": ["barn"]}
    shown = lib.preview(CALL, draft.proposed, draft_sha256=draft.text_sha256, **options)
    assert shown.transcript.segments[0].text.startswith("Legevakten, du snakker med sykepleier [NAVN]")
    assert shown.learning_points == "[NAVN] spurte godt."
    assert [n["text"] for n in shown.assessment["overall"]] == ["Innringer [NAVN] ga adressen [ADRESSE]."]
    assert [n["text"] for n in shown.assessment["comments"]] == ["Ring [TELEFON] igjen"]
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 0  # a preview stores nothing
    changed = {**options, "learning_points": "Anne spurte godt. Ring Kari på 41 23 45 67."}
    with pytest.raises(ValueError, match="confirmed preview"):
        lib.publish(CALL, draft.proposed, confirmed=True, preview_sha256=shown.sha256, **changed)
    with pytest.raises(ValueError, match="confirmed preview"):
        lib.publish(CALL, [], confirmed=True, preview_sha256=shown.sha256, **options)  # a redaction undone
    case_id = lib.publish(CALL, draft.proposed, confirmed=True, preview_sha256=shown.sha256, **options)
    assert lib.case(case_id).content.sha256 == shown.sha256  # stored exactly as previewed
    with pytest.raises(AccessDenied):
        library(db, "anne", tmp_path).preview(CALL, draft.proposed, **options)


def test_case_audio_is_stored_encrypted_when_encryption_is_on(db, tmp_path):
    from lydlogg.backup_crypto import BackupKeyError
    from lydlogg.crypto import EncryptionSettings, create_key_file

    encryption = EncryptionSettings(enabled=True, key_file=create_key_file(tmp_path / "secrets" / "db.key"))
    settings = CaseSettings(cases_dir=tmp_path / "cases")
    lib = CaseLibraryService(db, USERS["veileder"], settings, encryption=encryption)
    case = lib.case(publish(lib, publish_audio=True, disguise_voice=False))
    stored = lib.audio_path(case)
    assert stored.name == f"case-{case.case_id}.wav.enc" and stored.stat().st_mode & 0o077 == 0
    body = stored.read_bytes()
    assert not body.startswith(b"RIFF") and b"WAVE" not in body[:64]  # no plain audio on disk
    wav, rate = sf.read(io.BytesIO(lib.audio_bytes(case)), dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE and wav.shape == decode_audio(AUDIO).samples.T.shape
    assert lib.export_case(case.case_id)[:2] == b"PK"  # the package carries the decrypted copy
    plain = CaseLibraryService(db, USERS["veileder"], settings)  # encryption off: refused, names the file
    with pytest.raises(BackupKeyError, match=rf"{stored.name}.*encryption.enabled"):
        plain.audio_bytes(case)
    other = EncryptionSettings(enabled=True, key_file=create_key_file(tmp_path / "other" / "db.key"))
    with pytest.raises(BackupKeyError, match="does not decrypt"):
        CaseLibraryService(db, USERS["veileder"], settings, encryption=other).audio_bytes(case)
