"""Findings of an outside review: key-shaped values never reach a saved template (--save and `templates edit`),
deeply nested templates, key stores and config files are one line (exit 4), and `cache import FOLDER` is one
line (exit 3)."""

from __future__ import annotations

from .test_cli import one_error_line, run

# -- 3. cache import of a folder ---------------------------------------------------------------------------


def test_cache_import_of_a_folder_is_an_input_error(cli, tmp_path):
    done = run(cli, "cache", "import", str(tmp_path))
    assert done.returncode == 3
    assert one_error_line(done) == f"summarizer: error: cannot read {tmp_path}: it is a folder"
