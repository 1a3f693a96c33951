from pathlib import Path

import pytest

from lydlogg.settings import ConfigError, Settings, env_name, iter_settings, load_settings, settings_markdown

pytestmark = pytest.mark.pure  # no model, database, subprocess or audio decoding

REPO = Path(__file__).resolve().parent.parent


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.db_path == Path("data/lydlogg.duckdb")
    assert s.asr.model == "bundled-base"
    assert s.asr.language == "no"
    assert s.asr.offline is True


def test_toml_file_then_environment_wins(tmp_path, monkeypatch):
    cfg = tmp_path / "site.toml"
    cfg.write_text('db_path = "x.duckdb"\n[asr]\nmodel = "/models/nb-whisper"\nbeam_size = 3\n')
    s = load_settings(cfg)
    assert (s.db_path, s.asr.model, s.asr.beam_size) == (Path("x.duckdb"), "/models/nb-whisper", 3)
    monkeypatch.setenv("LYDLOGG_ASR__BEAM_SIZE", "7")
    assert load_settings(cfg).asr.beam_size == 7


def test_default_file_in_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lydlogg.toml").write_text("[server]\nport = 9000\n")
    assert load_settings().server.port == 9000


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[asr\nmodel = 1", "not valid TOML"),
        ("[asr]\nunknown_option = 1\n", "asr.unknown_option"),
        ('[asr]\ndevice = "tpu"\n', "asr.device"),
        ("[asr]\nbeam_size = 0\n", "asr.beam_size"),
        ('colour = "blue"\n', "colour"),
    ],
)
def test_bad_configuration_names_the_file_and_the_problem(tmp_path, content, expected):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert str(cfg) in str(err.value)
    assert expected in str(err.value)


def test_named_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")


def test_every_setting_has_a_description():
    missing = [name for name, _default, help_text in iter_settings() if len(help_text) < 15]
    assert not missing, f"settings without a description: {missing}"


def test_configuration_reference_is_current():
    """docs/configuration.md must be regenerated (`lydlogg settings --markdown`) when a setting changes."""
    doc = (REPO / "docs" / "configuration.md").read_text()
    assert doc == settings_markdown()
    for name, _default, _help in iter_settings():
        assert env_name(name) in doc


def test_settings_are_frozen():
    s = Settings()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        s.asr.model = "other"  # type: ignore[misc]


def test_default_settings_read_neither_the_environment_nor_a_file(tmp_path, monkeypatch):
    from lydlogg.settings import default_settings

    monkeypatch.chdir(tmp_path)
    (tmp_path / "lydlogg.toml").write_text("[episodes]\nwindow_hours = 5\n", encoding="utf-8")
    monkeypatch.setenv("LYDLOGG_ENV", "production")
    assert load_settings().episodes.window_hours == 5 and load_settings().env == "production"
    defaults = default_settings(tmp_path / "x.duckdb")
    assert (defaults.env, defaults.episodes.window_hours, defaults.db_path) == (
        "development",
        72.0,
        tmp_path / "x.duckdb",
    )


def test_the_app_context_is_rebuilt_only_when_the_configuration_changes(tmp_path, monkeypatch):
    from lydlogg.context import config_fingerprint, load_context

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(tmp_path / "a.duckdb"))
    first = config_fingerprint()
    assert config_fingerprint() == first
    assert load_context().db_path == tmp_path / "a.duckdb"
    monkeypatch.setenv("LYDLOGG_DB_PATH", str(tmp_path / "b.duckdb"))
    assert config_fingerprint() != first
    second = config_fingerprint()
    (tmp_path / "lydlogg.toml").write_text("[episodes]\nwindow_hours = 5\n", encoding="utf-8")
    assert config_fingerprint() != second
