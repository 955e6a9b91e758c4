"""Settings precedence: flags > environment > config file > defaults."""

from __future__ import annotations

import pytest

from summarizer import ConfigError, load_settings


def test_precedence(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('model = "from-file"\nmode = "md_json"\nmax_retries = 4\ntimeout = 7\n')
    monkeypatch.setenv("SUMMARIZER_CONFIG", str(config))
    assert load_settings().model == "from-file"
    monkeypatch.setenv("SUMMARIZER_MODEL", "from-env")
    monkeypatch.setenv("SUMMARIZER_MODE", "json")
    settings = load_settings(model="from-flag")
    assert (settings.model, settings.mode, settings.max_retries, settings.timeout) == ("from-flag", "json", 4, 7)
    assert load_settings().model == "from-env"


def test_defaults_and_standard_openai_variables(monkeypatch):
    settings = load_settings()
    assert (settings.model, settings.mode, settings.engine, settings.max_retries) == ("gpt-4o-mini", "tools", "auto", 2)
    assert not settings.llm_configured
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    settings = load_settings()
    assert settings.base_url == "http://localhost:11434/v1" and settings.llm_configured
    assert "sk-abc" not in repr(settings)


def test_default_config_file_location_is_read(tmp_path):
    (tmp_path / "config" / "summarizer").mkdir(parents=True)
    (tmp_path / "config" / "summarizer" / "config.toml").write_text('model = "llama3.1"\n')
    assert load_settings().model == "llama3.1"


@pytest.mark.parametrize(
    "content,message",
    [
        ("model = [", "not valid TOML"),
        ("mode = 'telepathy'", "invalid setting mode"),
        ("max_retries = -3", "invalid setting max_retries"),
        ("colour = 'blue'", "invalid setting colour"),
    ],
)
def test_bad_config_files_are_config_errors(tmp_path, monkeypatch, content, message):
    monkeypatch.delenv("SUMMARIZER_MODE")  # the environment would win over the file
    path = tmp_path / "c.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_missing_explicit_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_settings_command_masks_secrets(cli):
    from .test_cli import run

    done = run(
        cli, "settings", env={"OPENAI_API_KEY": "sk-visible-nowhere-42", "SUMMARIZER_RPM": "90", "COLUMNS": "200"}
    )
    assert done.returncode == 0 and "sk-visible-nowhere-42" not in done.stdout + done.stderr
    assert "(set)" in done.stdout and "90.0" in done.stdout
