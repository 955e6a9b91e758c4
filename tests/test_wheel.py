"""The wheel carries prompts/ and schemas/: install it outside the checkout and summarize."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_installed_wheel_summarizes_from_outside_the_checkout(tmp_path: Path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=300,
    )
    wheel = next(dist.glob("summarizer-*.whl"))

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    new_python = bin_dir / "python"
    purelib = subprocess.run(
        [str(new_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies come from this environment's site-packages, but not its editable install of
    # summarizer: a plain path entry does not run the .pth files inside it.
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", purelib, str(wheel)],
        check=True,
        timeout=300,
    )

    article = tmp_path / "story.txt"
    article.write_text((ROOT / "examples" / "article.txt").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTHONPATH"))}
    located = subprocess.run(
        [
            str(new_python),
            "-c",
            "import summarizer.prompts as p, summarizer.resources as r; "
            "print(r.data_dir('prompts')); print(p.load().version); "
            "print(p.load('reduce-v1').version, p.load('densify-v1').version)",
        ],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert located.startswith(purelib) and "summarize-v1+" in located
    assert "reduce-v1+" in located and "densify-v1+" in located  # every prompt the workflows use ships

    done = subprocess.run(
        [str(new_python), "-m", "summarizer", "summarize", str(article), "--meta"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["meta"]["engine"] == "extractive"
    shown = subprocess.run(
        [str(new_python), "-m", "summarizer", "schemas", "show", "news"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(shown.stdout)["title"] == "News"
