"""Findings of an outside review: key-shaped values never reach a saved template (--save and `templates edit`),
deeply nested templates, key stores and config files are one line (exit 4), and `cache import FOLDER` is one
line (exit 3)."""

from __future__ import annotations

from .test_cli import EXAMPLE, one_error_line, run

DEEP_JSON = "[" * 100_000 + "]" * 100_000 + "\n"

# -- 2. deep nesting is a configuration error, not a RecursionError ----------------------------------------


def test_a_deeply_nested_template_file_is_one_line(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(DEEP_JSON)
    done = run(cli, "summarize", EXAMPLE, "-t", str(bad))
    assert done.returncode == 4 and done.stdout == ""
    assert "nested more than" in one_error_line(done)


def test_a_deeply_nested_saved_template_is_one_line_in_show_and_list(cli, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "deep.json").write_text(DEEP_JSON)
    env = {"SUMMARIZER_TEMPLATES_PATH": str(folder)}
    for args in (("templates", "show", "deep"), ("summarize", EXAMPLE, "-t", "deep")):
        done = run(cli, *args, env=env)
        assert done.returncode == 4, args
        assert "cannot read the template" in one_error_line(done) and "nested more than" in done.stderr


def test_a_deeply_nested_key_store_is_one_line(cli, tmp_path):
    store = tmp_path / "deep-keys.json"
    store.write_text(DEEP_JSON)
    done = run(cli, "keys", "list", env={"SUMMARIZER_KEYS_PATH": str(store)})
    assert done.returncode == 4
    line = one_error_line(done)
    assert "cannot read the key store" in line and "nested more than" in line


def test_a_deeply_nested_toml_config_is_one_line(cli, tmp_path):
    config = tmp_path / "deep.toml"
    config.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    done = run(cli, "summarize", EXAMPLE, "--config", str(config))
    assert done.returncode == 4 and done.stdout == ""
    line = one_error_line(done)
    assert "is not valid TOML" in line and "nested too deep" in line


# -- 3. cache import of a folder ---------------------------------------------------------------------------


def test_cache_import_of_a_folder_is_an_input_error(cli, tmp_path):
    done = run(cli, "cache", "import", str(tmp_path))
    assert done.returncode == 3
    assert one_error_line(done) == f"summarizer: error: cannot read {tmp_path}: it is a folder"
