"""Findings of an outside review: key-shaped values never reach a saved template (--save and `templates edit`),
deeply nested templates, key stores and config files are one line (exit 4), and `cache import FOLDER` is one
line (exit 3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from summarizer.secrets import looks_like_key

from .test_cli import EXAMPLE, one_error_line, run

DEEP_JSON = "[" * 100_000 + "]" * 100_000 + "\n"

# -- 1. templates never store a key-shaped value -----------------------------------------------------------

KEYS = (
    "sk-proj-abcdef1234567890abcdef",
    "sk-abcdef1234567890abcdef1234",
    "sk-ant-api03-abcdefghijklmnopqrstuv",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "AKIAIOSFODNN7EXAMPLE",
    "xoxb-123456789012-abcdefghij",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "pk_test_MADEUPabcdefghij0123456789",  # Stripe's shape (a news page embedded a live one)
    "NRJS-0123456789MADEUPabcd",  # New Relic's browser key (news pages embed theirs)
    "Bearer abcdefghijklmnopqrstuvwxyz0123",
)


@pytest.mark.parametrize("key", KEYS)
def test_key_shapes_are_recognised_inside_text(key):
    assert looks_like_key(key)
    assert looks_like_key(f"use key {key} please")
    assert looks_like_key(f"http://127.0.0.1:9/{key.replace(' ', '')}/v1") or key.startswith("Bearer")


@pytest.mark.parametrize(
    "text",
    ["gpt-4o-mini", "llama3.2", "focus on money", "sk-learn models", "http://localhost:11434/v1", "task-force-x"],
)
def test_ordinary_option_values_are_not_keys(text):
    assert not looks_like_key(text)


def _template_dir(tmp_path: Path) -> Path:
    return tmp_path / "config" / "summarizer" / "templates"  # XDG_CONFIG_HOME is tmp_path/config (conftest)


@pytest.mark.parametrize(
    ("args", "secret"),
    [
        (("--instructions", "use key sk-proj-abcdef1234567890abcdef"), "abcdef1234567890"),
        (("--instructions", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "abcdefghijklmnop"),
        (("--model", "sk-abcdef1234567890abcdef1234"), "abcdef1234567890"),
        (("--base-url", "http://127.0.0.1:9/sk-proj-abcdef1234567890abcdefXYZ/v1"), "abcdef1234567890"),
    ],
)
def test_save_refuses_a_key_shaped_value_without_echoing_it(cli, tmp_path, args, secret):
    done = run(cli, "summarize", *args, "--save", "leaky")
    assert done.returncode == 4 and done.stdout == ""
    line = one_error_line(done)
    assert f"{args[0]} holds what looks like an API key or token" in line and "nothing was saved" in line
    assert secret not in done.stderr
    assert not (_template_dir(tmp_path) / "leaky.json").exists()


def _editor(tmp_path: Path, added: dict[str, object]) -> dict[str, str]:
    """An $EDITOR that adds ``added`` to the template it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import json, sys\n"
        "path = sys.argv[1]\n"
        "data = json.load(open(path))\n"
        f"data.update(json.loads({json.dumps(added)!r}))\n"
        "json.dump(data, open(path, 'w'))\n"
    )
    return {"EDITOR": f"{sys.executable} {script}"}


@pytest.mark.parametrize(
    ("added", "expected", "hidden"),
    [
        ({"base_url": "http://u:p@h/v1"}, "--base-url holds a credential", "u:p"),
        ({"base_url": "http://h/v1?api_key=abcdefgh12345678"}, "--base-url holds a credential", "abcdefgh"),
        ({"sentences": 0}, "sentences", None),
        ({"model": "sk-abcdef1234567890abcdef1234"}, "--model holds what looks like an API key", "abcdef12"),
        ({"instructions": "token ghp_abcdefghijklmnopqrstuvwxyz0123456789"}, "--instructions holds", "abcdefgh"),
        ({"sentences": "sk-abcdef1234567890abcdef1234"}, "--sentences", "abcdef12"),
    ],
)
def test_templates_edit_applies_the_checks_of_save(cli, tmp_path, added, expected, hidden):
    assert run(cli, "summarize", "--style", "brief", "--save", "mine").returncode == 0
    path = _template_dir(tmp_path) / "mine.json"
    before = path.read_bytes()
    done = run(cli, "templates", "edit", "mine", env=_editor(tmp_path, added))
    assert done.returncode == 4
    line = one_error_line(done)
    assert line.startswith("summarizer: error: not saved: ") and expected in line
    assert hidden is None or hidden not in done.stderr
    assert path.read_bytes() == before


def test_templates_edit_still_saves_valid_options(cli, tmp_path):
    assert run(cli, "summarize", "--style", "brief", "--save", "mine").returncode == 0
    done = run(cli, "templates", "edit", "mine", env=_editor(tmp_path, {"language": "de", "sentences": 3}))
    assert done.returncode == 0, done.stderr
    saved = json.loads((_template_dir(tmp_path) / "mine.json").read_text())
    assert saved == {"style": "brief", "language": "de", "sentences": 3}


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


def test_no_fixture_or_example_holds_anything_shaped_like_a_key():
    """Pages copied from other projects' test suites carried live-looking credentials in their scripts (Google
    API keys, a signed token, Gigya ``APIKey=3_…``, a Stripe ``pk_live_…``, ``auth=`` and ``key=`` tokens): they are
    replaced (``python tests/fixtures/scrub_credentials.py``), and a page copied later must be cleaned the same way."""
    import runpy

    from summarizer.secrets import looks_like_key

    credentials = runpy.run_path(str(Path(__file__).parent / "fixtures" / "scrub_credentials.py"))["credentials"]
    root = Path(__file__).parent
    places = [
        *(root / "fixtures").rglob("*"),
        *(root.parent / "examples").rglob("*"),
        *(root.parent / "eval").rglob("*"),
    ]
    found = [
        str(path.relative_to(root.parent))
        for path in places
        if path.is_file()
        and (
            looks_like_key(text := path.read_bytes().decode("utf-8", "replace"))
            or (path.suffix == ".html" and credentials(text))  # a page's keys; a cassette's "key" is our cache key
        )
    ]
    assert found == []
