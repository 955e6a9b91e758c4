"""A benchmark before and after a change, side by side in one run: the script as it is at ``--base`` (a
commit) and as it is in this tree, run alternately on the same machine, their outputs printed one after the
other, and the JSON figures each prints on its last line set side by side as after/before ratios.

    python bench/compare.py --base ef3f6c5 bench/overhead.py -n 64 --rounds 2
    python bench/compare.py --base ef3f6c5 --rounds 2 bench/batch.py --only cached

Both sides run this tree's script (copied into the base: the same measurement of two versions of the library;
``--base-script`` runs the base's own), and each imports its own ``summarizer`` (the scripts put their own tree
first on ``sys.path``). The base is a temporary ``git worktree`` of that commit, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run(tree: Path, script: str, args: list[str]) -> tuple[str, dict[str, float]]:
    done = subprocess.run(
        [sys.executable, str(tree / script), *args], cwd=tree, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{script} failed in {tree} ({done.returncode}):\n{done.stderr[-3000:]}")
    figures: dict[str, float] = {}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            figures = {k: v for k, v in json.loads(line).items() if isinstance(v, int | float)}
            break
    return done.stdout, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each side, alternating (medians compared)")
    parser.add_argument("--base-script", action="store_true", help="run the script as it is at --base there")
    parser.add_argument("script", help="a bench script, relative to the project root")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), options.base], cwd=ROOT, check=True)
        if not options.base_script:
            shutil.copyfile(ROOT / options.script, base / options.script)
        try:
            sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            outputs: dict[str, str] = {}
            for _ in range(options.rounds):
                for side, tree in (("before", base), ("after", ROOT)):
                    outputs[side], figures = run(tree, options.script, options.args)
                    sides[side].append(figures)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False)
    for side, label in (("before", f"before ({options.base})"), ("after", "after (this tree)")):
        print(f"===== {label}: {options.script} {' '.join(options.args)} (last of {options.rounds} runs)")
        print(outputs[side].rstrip())
    medians: dict[str, dict[str, Any]] = {
        side: {k: statistics.median(run[k] for run in runs if k in run) for k in (runs[0] if runs else {})}
        for side, runs in sides.items()
    }
    print(f"===== side by side (medians of {options.rounds} runs each)")
    print(f"{'figure':34} {'before':>12} {'after':>12} {'after/before':>13}")
    for key, before in medians["before"].items():
        after = medians["after"].get(key)
        if after is None:
            continue
        ratio = f"{after / before:12.3f}x" if before else ""
        print(f"{key:34} {before:12.3f} {after:12.3f} {ratio}")


if __name__ == "__main__":
    main()
