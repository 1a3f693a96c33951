"""Case packages: export, validation on import, and the round trip into another installation."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_cases import AUDIO, CALL, COMMENT, OVERALL, library, reference, reviewed_db

from anonymise import find_identifiers, find_transcript_identifiers
from lydlogg.access import AccessDenied
from lydlogg.db import connect
from lydlogg.settings import CaseSettings
from review.case_package import MEMBERS, PackageError, build_package, handout_html, read_package

METADATA = ("+47 400 12 345", "400 12 345", "pas-1001", "op-anne", "Vera Veileder", "veileder")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, bytes]:
    """A published case of CALL (with audio) and its exported package."""
    if not AUDIO.is_file():
        pytest.fail(f"{AUDIO} is missing: run `make samples`")
    folder = tmp_path_factory.mktemp("package")
    db = reviewed_db(folder)
    lib = library(db, "veileder", folder)
    case_id = lib.publish(CALL, lib.draft(CALL).proposed, title="Feber hos barn",
                          learning_points="Anne spurte godt om drikke.", tags=["barn", "feber"],
                          confirmed=True, publish_audio=True, disguise_voice=False)  # fmt: skip
    return db, case_id, lib.export_case(case_id)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(files: dict[str, bytes], *, fix_manifest: bool = True) -> bytes:
    """A package with ``files``; the manifest is rewritten to match unless told not to."""
    files = dict(files)
    if fix_manifest:
        listed = {n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in files.items()
                  if n != "manifest.json"}  # fmt: skip
        files["manifest.json"] = json.dumps(
            {"format": "lydlogg-case", "format_version": 1, "files": listed}
        ).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_the_package_holds_every_format(exported):
    _db, _case_id, data = exported
    files = members(data)
    assert set(files) == set(MEMBERS)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(MEMBERS) - {"manifest.json"}
    assert files["transcript.vtt"].startswith(b"WEBVTT") and b"[NAVN]" in files["transcript.vtt"]
    assert files["handout.pdf"].startswith(b"%PDF")
    wav, ogg = sf.info(io.BytesIO(files["audio.wav"])), sf.info(io.BytesIO(files["audio.ogg"]))
    assert (wav.format, ogg.format, ogg.subtype) == ("WAV", "OGG", "VORBIS")
    assert wav.channels == ogg.channels == 2 and abs(wav.duration - sf.info(str(AUDIO)).duration) < 0.01
    case = json.loads(files["case.json"])
    assert case["tags"] == ["barn", "feber"] and case["assessment"]["reviewers"] == ["Vurderer 1"]
    assert (
        "Læringspunkter" in files["handout.html"].decode() and "<script" not in files["handout.html"].decode()
    )


def test_the_package_contains_no_identifier_of_the_original(exported):
    _db, _case_id, data = exported
    found = [r.text for r in find_transcript_identifiers(reference())]
    found += [r.text for r in find_identifiers(OVERALL)] + [r.text for r in find_identifiers(COMMENT)]
    assert {"Anne", "Kari Nordmann", "Storgata tolv", "41 23 45 67"} <= set(found)
    for name, body in members(data).items():
        text = body.decode("utf-8", errors="ignore")
        for leak in (*found, *METADATA, CALL):
            assert leak not in text, f"{leak!r} leaked into {name}"
        if name.endswith((".json", ".vtt", ".html")):
            assert not re.search(r"\banne\b", text, re.IGNORECASE), name


def test_export_is_audited(exported):
    db, case_id, data = exported
    with connect(db) as con:
        rows = con.execute(
            "SELECT username, object_type, object_id, detail FROM audit WHERE action = 'export_case'"
        ).fetchall()
    assert rows == [("veileder", "case", case_id, f"{len(data)} bytes")]


def test_round_trip_into_a_fresh_installation(exported, tmp_path):
    db, case_id, data = exported
    publisher = library(db, "leder", db.parent)
    original = publisher.case(case_id)
    fresh = tmp_path / "other.duckdb"
    with connect(fresh):
        pass
    other = library(fresh, "leder", tmp_path / "other")
    imported_id = other.import_case(data)
    other.publish_imported(imported_id, disguise_voice=False)  # a draft until a trainer publishes it (below)
    reader = library(fresh, "anne", tmp_path / "other")
    assert reader.search("drikke feber", tags=["barn"])["case_id"].tolist() == [imported_id]
    case = reader.case(imported_id)
    assert case.imported and case.content.title == original.content.title
    assert case.content.transcript == original.content.transcript
    assert case.content.assessment == original.content.assessment
    assert (
        case.content.reflection == original.content.reflection and case.content.tags == original.content.tags
    )
    audio, rate = sf.read(io.BytesIO(reader.audio_bytes(case)), dtype="float32", always_2d=True)
    before, _ = sf.read(io.BytesIO(publisher.audio_bytes(original)), dtype="float32", always_2d=True)
    assert rate == 16_000 and audio.shape == before.shape and abs(audio - before).max() < 1e-4
    with connect(fresh) as con:
        row = con.execute("SELECT source_call_id, imported_sha256 FROM cases").fetchone()
        logged = con.execute("SELECT username, detail FROM audit WHERE action = 'import_case'").fetchall()
    assert row == (None, hashlib.sha256(data).hexdigest())
    assert logged == [("leder", f"package sha256 {row[1]}; a draft until published")]


def test_an_imported_case_is_a_draft_until_a_trainer_publishes_it(exported, tmp_path):
    fresh = tmp_path / "other.duckdb"
    with connect(fresh):
        pass
    trainer = library(fresh, "veileder", tmp_path / "other")
    reader = library(fresh, "anne", tmp_path / "other")
    case_id = trainer.import_case(exported[2])
    assert reader.search().empty and reader.search("feber").empty
    with pytest.raises(AccessDenied):
        reader.case(case_id)  # an operator cannot open a draft by its id either
    with pytest.raises(AccessDenied):
        reader.publish_imported(case_id)
    assert trainer.search().empty and trainer.drafts()["case_id"].tolist() == [case_id]
    assert not trainer.case(case_id).published  # the trainer reads it before publishing
    trainer.publish_imported(case_id, disguise_voice=False)  # listened to (disguise: the next test)
    assert reader.search("feber")["case_id"].tolist() == [case_id] and trainer.drafts().empty
    published = reader.case(case_id)
    assert published.published and published.published_by == "veileder" and published.imported
    with pytest.raises(AccessDenied):
        trainer.publish_imported(case_id)  # published already
    with connect(fresh) as con:
        assert con.execute(
            "SELECT username, object_id, detail FROM audit WHERE action = 'publish_case'"
        ).fetchall() == [("veileder", case_id, "imported package; audio as imported")]


def test_an_imported_cases_voices_are_disguised_when_it_is_published(exported, tmp_path):
    files = members(exported[2])
    audio, rate = sf.read(io.BytesIO(files["audio.wav"]), dtype="float32", always_2d=True)
    short = io.BytesIO()  # three seconds keep the disguise quick
    sf.write(short, audio[: 3 * rate], rate, format="WAV", subtype="PCM_16")
    files["audio.wav"] = short.getvalue()
    files.pop("audio.ogg", None)
    fresh = tmp_path / "other.duckdb"
    with connect(fresh):
        pass
    trainer = library(fresh, "veileder", tmp_path / "other")
    case_id = trainer.import_case(rezip(files))
    imported = trainer.audio_path(trainer.case(case_id))
    assert trainer.case(case_id).voice_disguised is None  # a package does not say
    heard: list[float] = []
    trainer.publish_imported(case_id, progress=heard.append)  # disguised unless the trainer says otherwise
    case = trainer.case(case_id)
    assert case.voice_disguised is True and heard[-1] == pytest.approx(1.0)
    assert not imported.exists() and trainer.audio_path(case) != imported  # the imported voices are gone
    out, out_rate = sf.read(io.BytesIO(trainer.audio_bytes(case)), dtype="float32", always_2d=True)
    assert out_rate == rate and out.shape == (3 * rate, audio.shape[1])
    speech = np.abs(audio[: 3 * rate, 0]) > 0.01
    assert np.corrcoef(out[speech, 0], audio[: 3 * rate][speech, 0])[0, 1] < 0.5  # re-synthesised
    with connect(fresh) as con:
        assert con.execute(
            "SELECT detail FROM audit WHERE action = 'publish_case' AND object_id = ?", [case_id]
        ).fetchone() == ("imported package; voices disguised",)
        sha = con.execute("SELECT audio_sha256 FROM cases WHERE case_id = ?", [case_id]).fetchone()[0]
    assert sha == hashlib.sha256(trainer.audio_path(case).read_bytes()).hexdigest()


def _edit_case(files: dict[str, bytes], edit) -> dict[str, bytes]:
    case = json.loads(files["case.json"])
    edit(case)
    return {**files, "case.json": json.dumps(case).encode()}


def _small(exported) -> dict[str, bytes]:
    """The exported package's text files, with a manifest that matches them."""
    files = members(exported[2])
    kept = {n: b for n, b in files.items() if not n.startswith("audio") and n != "handout.pdf"}
    return members(rezip(kept))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: {**f, "../evil.json": b"{}"}, "unexpected file"),
        (lambda f: {**f, "/etc/passwd": b"x"}, "unexpected file"),
        (lambda f: {**f, "sub/case.json": f["case.json"]}, "unexpected file"),
        (lambda f: {**f, "extra.exe": b"MZ"}, "unexpected file"),
        (lambda f: {n: b for n, b in f.items() if n != "case.json"}, "lacks case.json"),
        (lambda f: {**f, "audio.wav": b"RIFF not audio"}, "audio.wav is not readable"),
        (lambda f: {**f, "case.json": b"[1, 2]"}, "case.json is not a case"),
        (
            lambda f: {**f, "case.json": f["case.json"].replace(b'"title"', b'"titel"', 1)},
            "title: Field required",
        ),
        (lambda f: _edit_case(f, lambda c: c["assessment"]["reviewers"].append("Vurderer 2")), "2 reviewers"),
        (
            lambda f: {
                **f,
                "case.json": f["case.json"].replace(b'"segment_index": 2', b'"segment_index": 99'),
            },
            "past the transcript",
        ),
        (lambda f: {**f, "case.json": f["case.json"].replace(b'"barn"', b'"<b>"')}, "tags are not"),
        (lambda f: {**f, "transcript.json": b'{"call_id": "x", "segments": 3}'}, "transcript.json"),
    ],
)
def test_bad_packages_are_refused(exported, change, message):
    with pytest.raises(PackageError, match=message):
        read_package(rezip(change(_small(exported))))


def test_a_changed_file_fails_its_checksum(exported):
    files = _small(exported)
    files["case.json"] = files["case.json"].replace(b"Vurderer 1", b"Vurderer X")
    with pytest.raises(PackageError, match="case.json: checksum"):
        read_package(rezip(files, fix_manifest=False))


def test_the_manifest_must_list_exactly_the_files(exported):
    files = _small(exported)
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["audio.ogg"] = {"sha256": "0" * 64, "bytes": 1}
    files["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(PackageError, match="exactly the files"):
        read_package(rezip(files, fix_manifest=False))
    files["manifest.json"] = b'{"format": "something-else", "format_version": 1, "files": {}}'
    with pytest.raises(PackageError, match="not a lydlogg-case package"):
        read_package(rezip(files, fix_manifest=False))


def test_size_caps(exported):
    data = exported[2]
    with pytest.raises(PackageError, match="at most"):
        read_package(data, CaseSettings(max_package_mb=len(data) / 1_000_000 / 2))
    bomb = rezip({**_small(exported), "transcript.vtt": b"WEBVTT\n" + b" " * 3_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(PackageError, match="unpacks to more than"):
        read_package(bomb, CaseSettings(max_unpacked_mb=1))


def test_not_a_zip_is_refused():
    with pytest.raises(PackageError, match="not a zip"):
        read_package(b"%PDF-1.7 not a zip")


def test_a_package_without_audio_or_pdf(exported, tmp_path):
    db, case_id, _ = exported
    content = library(db, "leder", tmp_path).case(case_id).content
    data = build_package(content, None, pdf=False)
    assert set(members(data)) == {
        "manifest.json",
        "case.json",
        "transcript.json",
        "transcript.vtt",
        "handout.html",
    }
    package = read_package(data)
    assert package.audio is None and package.content == content


def test_the_handout_escapes_what_users_wrote(exported, tmp_path):
    import dataclasses

    db, case_id, _ = exported
    content = library(db, "leder", tmp_path).case(case_id).content
    page = handout_html(
        dataclasses.replace(content, title="<script>alert(1)</script>", learning_points="a & b")
    )
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; b" in page


def test_an_imported_package_is_copied_not_linked(exported, tmp_path):
    _db, _case_id, data = exported
    fresh = Path(shutil.copy(exported[0], tmp_path / "copy.duckdb"))
    lib = library(fresh, "veileder", tmp_path / "elsewhere")
    one, two = lib.import_case(data), lib.import_case(data)  # the same package twice: two cases, two files
    assert one != two
    assert len(list((tmp_path / "elsewhere" / "cases").glob("case-*.wav"))) == 2


def test_a_failed_import_leaves_no_audio_behind(exported, tmp_path):
    from lydlogg.db import DatabaseError

    broken = tmp_path / "not-a-database.duckdb"
    broken.write_bytes(b"this is not a DuckDB file")
    lib = library(broken, "leder", tmp_path)
    with pytest.raises(DatabaseError):
        lib.import_case(exported[2])
    assert list((tmp_path / "cases").iterdir()) == []


# Members the zip module cannot unpack, or whose headers lie: each is refused as a PackageError
# that names the member, before anything is imported.


def stored(files: dict[str, bytes], *, fix_manifest: bool = True) -> bytes:
    """A package of ``files`` (the manifest rewritten to match unless told not to) whose members
    are stored uncompressed, so that their bytes can be found and changed in the zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, body in members(rezip(files, fix_manifest=fix_manifest)).items():
            zf.writestr(name, body)
    return buf.getvalue()


def patch_headers(data: bytes, name: str, **fields: int) -> bytes:
    """``data`` with fields of ``name``'s local and central headers overwritten: ``flag``,
    ``method``, ``crc``, ``size`` (the declared unpacked size)."""
    local = {"flag": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"), "size": (22, "<I")}
    central = {"flag": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"), "size": (24, "<I")}
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local_at = zf.getinfo(name).header_offset
    central_at = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02"))
    while data[central_at + 46 : central_at + 46 + len(name)] != name.encode():
        central_at = data.index(b"PK\x01\x02", central_at + 4)
    for field, value in fields.items():
        for base, table in ((local_at, local), (central_at, central)):
            offset, fmt = table[field]
            struct.pack_into(fmt, out, base + offset, value)
    return bytes(out)


def test_a_member_with_corrupt_bytes_is_refused(exported):
    files = _small(exported)
    data = stored(files)
    body = files["case.json"]
    at = data.index(body)
    flipped = data[: at + 10] + bytes([data[at + 10] ^ 0xFF]) + data[at + 11 :]  # the CRC no longer matches
    with pytest.raises(PackageError, match="case.json: the member is corrupt") as caught:
        read_package(flipped)
    assert caught.value.member == "case.json"


def test_a_garbled_deflate_stream_is_refused(exported):
    files = _small(exported)
    data = rezip(files)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("transcript.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    garbled = data[:start] + b"\xff" * 64 + data[start + 64 :]
    with pytest.raises(PackageError, match="transcript.json: the member is corrupt"):
        read_package(garbled)


def test_a_truncated_member_is_refused(exported):
    """The zip declares a smaller unpacked size than the member has: the stream is cut short."""
    files = _small(exported)
    size = len(files["transcript.vtt"])
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["transcript.vtt"]["bytes"] = size - 5  # the manifest agrees with the lie
    cut = stored({**files, "manifest.json": json.dumps(manifest).encode()}, fix_manifest=False)
    with pytest.raises(PackageError, match="transcript.vtt: the member is corrupt"):
        read_package(patch_headers(cut, "transcript.vtt", size=size - 5))


def test_an_encrypted_member_is_refused(exported):
    data = patch_headers(stored(_small(exported)), "case.json", flag=0x1)
    with pytest.raises(PackageError, match="case.json: the member is encrypted; accepted: unencrypted"):
        read_package(data)


def test_an_unknown_compression_method_is_refused(exported):
    data = patch_headers(stored(_small(exported)), "handout.html", method=99)  # AES, as 7-Zip writes it
    with pytest.raises(PackageError, match="handout.html: compression method 99 is not accepted"):
        read_package(data)


def test_a_declared_size_that_differs_from_the_manifest_is_refused_before_unpacking(exported):
    """A member declaring 300 MB (within the unpacked cap) that the manifest lists as small is
    refused from the headers alone, before it is unpacked."""
    data = patch_headers(stored(_small(exported)), "transcript.vtt", size=300_000_000)
    with pytest.raises(PackageError, match="transcript.vtt: the zip declares 300000000 bytes but manifest"):
        read_package(data)


def test_a_refused_import_stores_nothing(exported, tmp_path):
    """All or nothing: a package with one corrupt member leaves no case, no audio, no audit row."""
    db, _case_id, data = exported
    fresh = Path(shutil.copy(db, tmp_path / "copy.duckdb"))
    files = members(data)
    packed = stored(files)
    at = packed.index(files["case.json"])
    broken = packed[: at + 10] + bytes([packed[at + 10] ^ 0xFF]) + packed[at + 11 :]
    lib = library(fresh, "veileder", tmp_path / "elsewhere")
    with connect(fresh) as con:
        before = con.execute("SELECT count(*) FROM cases").fetchone()
    with pytest.raises(PackageError, match="case.json"):
        lib.import_case(broken)
    with connect(fresh) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone() == before
        assert con.execute("SELECT count(*) FROM audit WHERE action = 'import_case'").fetchone() == (0,)
    assert not list((tmp_path / "elsewhere").rglob("case-*"))


def test_the_page_refusal_names_the_file_and_what_is_accepted():
    from review.case_package import refusal_text

    text = refusal_text("kasus.zip", PackageError("x", member="case.json"), 200.0)
    assert "«kasus.zip» ble ikke importert" in text and "«case.json»" in text
    assert "høyst 200 MB" in text and "manifest.json, case.json" in text and "ukryptert" in text
    assert "ikke en gyldig kasuspakke" in refusal_text("x.zip", PackageError("x"), 200.0)


def test_the_cli_refuses_a_corrupt_member_naming_the_file_and_imports_nothing(exported, tmp_path):
    from click.testing import CliRunner

    from lydlogg.auth import create_user
    from lydlogg.cli import main

    files = members(exported[2])
    packed = stored(files)
    at = packed.index(files["case.json"])
    package = tmp_path / "kasus-skadet.zip"
    package.write_bytes(packed[: at + 10] + bytes([packed[at + 10] ^ 0xFF]) + packed[at + 11 :])
    db = tmp_path / "cli.duckdb"
    with connect(db) as con:
        create_user(con, "vera", "Vera", "veileder", "veras-password-1")
    env = {"LYDLOGG_DB_PATH": str(db), "LYDLOGG_CASES__CASES_DIR": str(tmp_path / "cases")}
    result = CliRunner().invoke(main, ["case", "import", str(package), "--as", "vera"], env=env,
                                input="veras-password-1\n")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"{package}: case.json: the member is corrupt" in result.output and "accepted:" in result.output
    with connect(db) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone() == (0,)
    assert not (tmp_path / "cases").exists() or not list((tmp_path / "cases").iterdir())


def test_the_cli_imports_a_draft_and_a_trainer_publishes_it(exported, tmp_path):
    from click.testing import CliRunner

    from lydlogg.auth import create_user
    from lydlogg.cli import main

    package = tmp_path / "kasus.zip"
    package.write_bytes(exported[2])
    db = tmp_path / "cli.duckdb"
    with connect(db) as con:
        create_user(con, "vera", "Vera", "veileder", "veras-password-1")
        create_user(con, "otto", "Otto", "operator", "ottos-password-1", operator_id="op-otto")
    env = {"LYDLOGG_DB_PATH": str(db), "LYDLOGG_CASES__CASES_DIR": str(tmp_path / "cases")}
    runner = CliRunner()
    result = runner.invoke(main, ["case", "import", str(package), "--as", "vera"], env=env,
                           input="veras-password-1\n")  # fmt: skip
    assert result.exit_code == 0 and "a draft until a trainer publishes it" in result.output, result.output
    case_id = result.output.split("imported as case ")[1].split()[0]
    with connect(db) as con:
        assert con.execute("SELECT published FROM cases WHERE case_id = ?", [case_id]).fetchone() == (False,)
    refused = runner.invoke(main, ["case", "publish", case_id, "--as", "otto"], env=env,
                            input="ottos-password-1\n")  # fmt: skip
    assert refused.exit_code != 0 and "may not publish" in refused.output
    result = runner.invoke(main, ["case", "publish", case_id, "--keep-voices", "--as", "vera"], env=env,
                           input="veras-password-1\n")  # fmt: skip
    assert result.exit_code == 0 and f"published case {case_id}" in result.output, result.output
    with connect(db) as con:
        assert con.execute("SELECT published, published_by, voice_disguised FROM cases").fetchone() == (
            True, "vera", None)  # fmt: skip
        assert con.execute("SELECT detail FROM audit WHERE action = 'publish_case'").fetchone() == (
            "imported package; audio as imported",)  # fmt: skip
