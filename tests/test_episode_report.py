from conftest import build_reference_db

from lydlogg.db import connect
from lydlogg.episode_report import episode_html
from lydlogg.episodes import link_episodes


def test_printable_summary_lists_every_contact_flags_and_leaves_room_for_relatives(tmp_path):
    db = build_reference_db(tmp_path)
    with connect(db) as con:
        df = link_episodes(con)
    episode = df[df["episode_size"] == 6]
    page = episode_html(episode)
    assert page.startswith("<!DOCTYPE html>") and page.count("<tr") == 7  # header + six contacts
    assert "Pasientens eller pårørendes beskrivelse" in page
    assert page.count("rekontakt ikke fanget opp") == int(episode["flagged"].sum())
    assert 'class="flagged"' in page


def test_summary_escapes_what_came_from_metadata(tmp_path):
    db = build_reference_db(tmp_path)
    with connect(db) as con:
        con.execute("UPDATE calls SET operator_id = '<script>alert(1)</script>' WHERE call_id = 'ep1-c2-lvs'")
        df = link_episodes(con)
    page = episode_html(df[df["episode_size"] == 6])
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_summary_as_pdf_through_the_cli(tmp_path):
    from click.testing import CliRunner

    from lydlogg.cli import main

    db = build_reference_db(tmp_path)
    runner = CliRunner()
    out = runner.invoke(main, ["episode-summary", "ep1-c4-amk", "--format", "pdf", "-o", str(tmp_path / "e.pdf"),
                               "--db", str(db)], catch_exceptions=False)  # fmt: skip
    assert out.exit_code == 0, out.output
    assert (tmp_path / "e.pdf").read_bytes().startswith(b"%PDF")
    out = runner.invoke(
        main, ["episode-summary", "ep1-c4-amk", "-o", str(tmp_path / "e.html"), "--db", str(db)]
    )
    assert out.exit_code == 0 and "ep1-c6-legevaktlege" in (tmp_path / "e.html").read_text()
    missing = runner.invoke(
        main, ["episode-summary", "nope", "-o", str(tmp_path / "x.html"), "--db", str(db)]
    )
    assert missing.exit_code == 2
    sor = runner.invoke(main, ["episode-summary", "ep1-c4-amk", "--unit", "Sørvik legevakt", "-o",
                               str(tmp_path / "s.html"), "--db", str(db)])  # fmt: skip
    page = (tmp_path / "s.html").read_text()
    assert sor.exit_code == 0 and "ep1-c6-legevaktlege" in page and "ep1-c5-legevaktlege" not in page
    other = runner.invoke(main, ["episode-summary", "ep1-c4-amk", "--unit", "Nordby legevakt", "-o",
                                 str(tmp_path / "n.html"), "--db", str(db)])  # fmt: skip
    assert other.exit_code == 2 and "is not a call of Nordby legevakt" in other.output
