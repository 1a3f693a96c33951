"""`lydlogg export {calls,suggestions,reviews,episodes}` on a real database, in every format."""

import io
import shutil

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import clear_reviews

from lydlogg.access import AccessDenied
from lydlogg.auth import DEMO_UNITS, DEMO_USERS, User
from lydlogg.cli import main
from lydlogg.conversation import MEASURE_COLUMNS
from lydlogg.exports import DATASET_COLUMNS, csv_bytes, escape_formulas, load_excel
from review.service import ReviewService

LEDER = User("leder", "Liv Leder", "leder", units=DEMO_UNITS["leder"])
ANNE = User("anne", "Anne", "operator", "op-anne", DEMO_UNITS["anne"])


@pytest.fixture(scope="module")
def db(tmp_path_factory, reference_db):
    path = tmp_path_factory.mktemp("exports") / "db.duckdb"
    shutil.copy(reference_db, path)
    with duckdb.connect(str(path)) as con:
        clear_reviews(con)
        ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY call_id").fetchall()]
        con.execute(  # Anne's call, in her unit
            "UPDATE calls SET operator_id = 'op-anne', unit = ? WHERE call_id = ?",
            [DEMO_UNITS["anne"][0], ids[0]],
        )
        con.execute("UPDATE calls SET operator_id = '=HYPERLINK(\"x\")' WHERE call_id = ?", [ids[1]])
    values = {"introduces_self": 1, "worsening_advice": None}
    leder = ReviewService(path, LEDER)
    first = dict(kind="peer", rubric_id="lvs_operator", rubric_version=1, rubric_sha256="x")  # noqa: C408
    leder.save_review(ids[0], **first, values=values)
    leder.save_review(
        ids[0], **first, values={"introduces_self": 0, "worsening_advice": 1}
    )  # replaces the first
    ReviewService(path, ANNE).save_review(ids[0], **{**first, "kind": "self"}, values=values)
    return path


def invoke(*args, password: str | None = None):
    """Run the CLI; ``password`` answers the prompt of ``--as USER``."""
    return CliRunner().invoke(main, [str(a) for a in args], input=password, catch_exceptions=False)


PASSWORDS = {username: password for username, _name, _role, _op, password in DEMO_USERS}


def _count(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def _read(path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "parquet":
        return pd.read_parquet(path)
    with duckdb.connect() as con:
        load_excel(con)
        return con.execute("SELECT * FROM read_xlsx(?, all_varchar = true)", [str(path)]).df()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
@pytest.mark.parametrize("name", ["calls", "suggestions", "reviews", "episodes"])
def test_every_dataset_in_every_format_has_its_documented_columns(db, tmp_path, name, fmt):
    out = tmp_path / f"{name}.{fmt}"
    result = invoke("export", name, "--format", fmt, "-o", out, "--db", db)
    assert result.exit_code == 0, result.output
    df = _read(out, fmt)
    extra = MEASURE_COLUMNS if name == "calls" else ()
    assert tuple(df.columns) == DATASET_COLUMNS[name] + extra
    rows = {"calls": "SELECT count(*) FROM calls", "suggestions": "SELECT count(*) FROM suggestions",
            "reviews": "SELECT 4", "episodes": "SELECT count(*) FROM calls"}  # fmt: skip
    assert len(df) == _count(db, rows[name]) > 0


def test_suggestions_csv_has_the_documented_columns_and_every_row(db, tmp_path):
    out = tmp_path / "s.csv"
    result = invoke("export", "suggestions", "-o", out, "--db", db)
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out)
    assert tuple(df.columns) == DATASET_COLUMNS["suggestions"]
    assert len(df) == _count(db, "SELECT count(*) FROM suggestions") > 0
    assert df["confidence"].between(0, 1).all()


def test_reviews_are_current_pseudonymous_and_kinded(db, tmp_path):
    out = tmp_path / "r.parquet"
    assert invoke("export", "reviews", "--format", "parquet", "-o", out, "--db", db).exit_code == 0
    df = pd.read_parquet(out)
    assert tuple(df.columns) == DATASET_COLUMNS["reviews"]
    assert sorted(df["kind"].unique()) == ["peer", "self"]
    assert len(df) == 4  # two criteria each for the current peer review and the self review
    peer = df[df["kind"] == "peer"].set_index("criterion_id")["value"]
    assert peer["introduces_self"] == 0 and peer["worsening_advice"] == 1  # the replacing version
    assert not set(df["reviewer"]) & {"leder", "anne"}
    assert all(r.startswith("rev_") for r in df["reviewer"]) and df["reviewer"].nunique() == 2


def test_calls_carry_conversation_measures_in_xlsx(db, tmp_path):
    out = tmp_path / "calls.xlsx"
    assert invoke("export", "calls", "--format", "xlsx", "-o", out, "--db", db).exit_code == 0
    with duckdb.connect() as con:
        load_excel(con)
        df = con.execute("SELECT * FROM read_xlsx(?)", [str(out)]).df()
    assert tuple(df.columns) == DATASET_COLUMNS["calls"] + MEASURE_COLUMNS
    assert len(df) == _count(db, "SELECT count(*) FROM calls")
    transcribed = df[df["staff_talk_s"].notna()]
    assert len(transcribed) == _count(db, "SELECT count(DISTINCT call_id) FROM transcripts")
    assert (transcribed["staff_talk_s"] > 0).all()
    assert df["operator_id"].astype(str).str.startswith("=").sum() == 0  # formula escaped


def test_excel_csv_for_norwegian_excel(db, tmp_path):
    out = tmp_path / "calls.csv"
    assert invoke("export", "calls", "--excel", "-o", out, "--db", db).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfcall_id;started_at;")
    df = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig")
    assert df["duration_s"].dropna().gt(1).all()  # decimal comma read back as numbers
    assert "'=HYPERLINK" in raw.decode("utf-8-sig")


def test_episodes_export(db, tmp_path):
    out = tmp_path / "e.csv"
    assert invoke("export", "episodes", "-o", out, "--db", db).exit_code == 0
    df = pd.read_csv(out)
    assert tuple(df.columns) == DATASET_COLUMNS["episodes"] and df["episode_id"].notna().any()


def test_access_rules_and_audit_apply(db, tmp_path):
    wrong = invoke("export", "calls", "--as", "leder", "-o", tmp_path / "x.csv", "--db", db, password="nei\n")
    assert wrong.exit_code == 2 and "--as leder" in wrong.output and not (tmp_path / "x.csv").exists()
    denied = invoke("export", "calls", "--as", "anne", "-o", tmp_path / "x.csv", "--db", db,
                    password=PASSWORDS["anne"] + "\n")  # fmt: skip
    assert denied.exit_code == 2 and "anne may not export" in denied.output
    assert not (tmp_path / "x.csv").exists()
    assert (
        invoke("export", "reviews", "--as", "leder", "-o", tmp_path / "y.csv", "--db", db,
               password=PASSWORDS["leder"] + "\n").exit_code == 0
    )  # fmt: skip
    assert (
        _count(
            db,
            "SELECT count(*) FROM audit WHERE username = 'leder' AND action = 'export' AND object_id = 'reviews'",
        )
        == 1
    )
    assert (
        invoke(
            "export", "calls", "--format", "parquet", "--excel", "-o", tmp_path / "z", "--db", db
        ).exit_code
        == 2
    )


def test_formula_escape_and_excel_csv_are_pure():
    df = pd.DataFrame({"a": ["=1+1", "+47", "-x", "@y", "ok", None], "b": [1.5, 2, 3, 4, 5, 6]})
    assert list(escape_formulas(df)["a"].fillna("")) == ["'=1+1", "'+47", "'-x", "'@y", "ok", ""]
    assert csv_bytes(df.head(1), excel=True) == "\ufeffa;b\n'=1+1;1,5\n".encode()


def test_dashboard_conversation_measures_by_operator_and_service(db):
    from lydlogg.access import AccessDenied
    from review.dashboard import DashboardService

    everyone = DashboardService(db, LEDER, cache=False).conversation(("operator_id", "service"))
    assert {"operator_id", "service", "calls", "exact_calls", "talk_ratio", "silence_share"} <= set(
        everyone.columns
    )
    assert everyone["calls"].sum() == _count(db, "SELECT count(DISTINCT call_id) FROM transcripts")
    assert everyone["exact_calls"].sum() < everyone["calls"].sum()  # the mono sample calls are estimated
    own = DashboardService(db, ANNE, cache=False).conversation()
    assert set(own["operator_id"]) == {"op-anne"}
    assert own["calls"].sum() == _count(
        db,
        "SELECT count(*) FROM calls c WHERE operator_id = 'op-anne'"
        " AND EXISTS (SELECT 1 FROM transcripts t WHERE t.call_id = c.call_id)",
    )
    with pytest.raises(AccessDenied):
        DashboardService(db, User("x", "X", "operator"), cache=False).conversation()


def test_the_apps_data_downloads_are_the_same_tables_and_audited(db, tmp_path):
    from lydlogg.exports import export_bytes

    key_file = tmp_path / "key"
    data = export_bytes(db, "suggestions", "csv", user=LEDER, key_file=key_file, excel=True)
    df = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig")
    assert tuple(df.columns) == DATASET_COLUMNS["suggestions"]
    assert len(df) == _count(db, "SELECT count(*) FROM suggestions")
    assert (
        _count(
            db,
            "SELECT count(*) FROM audit WHERE username = 'leder' AND object_id = 'suggestions' AND detail LIKE 'csv excel%'",
        )
        == 1
    )
    with pytest.raises(AccessDenied):
        export_bytes(db, "calls", "xlsx", user=ANNE, key_file=key_file)


def _readme_section(title: str) -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    return text[start : text.index("\n## ", start + 1)]


@pytest.mark.pure
def test_the_readme_names_every_export_column_in_order():
    import re

    section = _readme_section("## Transcripts and review data out")
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)`", section, flags=re.MULTILINE))
    assert set(rows) == set(DATASET_COLUMNS)
    for name, columns in DATASET_COLUMNS.items():
        assert tuple(c.strip() for c in rows[name].split(",")) == columns, name
    measures = section[section.index("Conversation measures (columns of `calls`") :].split("Tested in")[0]
    named = [m for m in re.findall(r"`(\w+)`", measures) if m in MEASURE_COLUMNS]
    assert named == list(MEASURE_COLUMNS)


def test_the_excel_extension_comes_from_the_package_pinned_to_duckdbs_release():
    """XLSX needs no INSTALL over a network: the extension file is in the pinned package."""
    import re
    from pathlib import Path

    from lydlogg.exports import _excel_extension_file

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    duckdb_pin = re.search(r'"duckdb==([\d.]+)"', pyproject).group(1)
    assert f'"duckdb-extension-excel=={duckdb_pin}"' in pyproject and duckdb.__version__ == duckdb_pin
    path = _excel_extension_file()
    assert path is not None and f"v{duckdb.__version__}" in path.parts
    with duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    ) as con:
        load_excel(con)
        (loaded,) = con.execute(
            "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'excel'"
        ).fetchone()
    assert loaded


def test_an_exported_abstention_is_marked_and_not_read_as_ikke_aktuelt(tmp_path, reference_db):
    from lydlogg.exports import dataset

    path = shutil.copy(reference_db, tmp_path / "abstain.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE suggestions SET value = NULL, confidence = 0.0, abstained = true"
            " WHERE call_id = 'lvs-001-feber-barn' AND criterion_id = 'asks_prior_contact'"
        )
        export = dataset(con, "suggestions", key=b"k" * 32, user=LEDER)
    marked = export[export["abstained"]]
    assert list(zip(marked["call_id"], marked["criterion_id"], strict=True)) == [
        ("lvs-001-feber-barn", "asks_prior_contact")
    ]
    assert marked["value"].isna().all()
    not_applicable = export[export["value"].isna() & ~export["abstained"]]
    assert len(not_applicable) > 0  # «ikke aktuelt» stays apart from an abstention
