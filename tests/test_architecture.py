"""The package map of docs/architecture.md holds, and the check that holds it bites.

import-linter's layers contract (pyproject.toml) runs over the source tree; a copy of the tree with
one planted upward import (the log importing the evaluator) must break it, and must name the
import it found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def test_the_tree_keeps_the_map() -> None:
    res = lint(ROOT / "src", ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 kept, 0 broken" in res.stdout


@pytest.mark.parametrize(("module", "planted", "expected"), [
    ("log/merkle.py", "import detente.compliance.evaluate", "detente.log is not allowed to import"),
    ("inspection/draw.py", "from detente.desk import open_log", "detente.inspection is not allowed"),
    ("compliance/findings.py", "import detente.scenarios", "detente.compliance is not allowed"),
    ("report/build.py", "import detente.dashboard.views", "detente.report is not allowed"),
])
def test_a_planted_reverse_import_breaks_it(tmp_path: Path, module: str, planted: str, expected: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "detente", src / "detente",
                    ignore=shutil.ignore_patterns("__pycache__", "*.geojson"))
    target = src / "detente" / module
    target.write_text(target.read_text() + f"\n\nif False:  # planted by the test\n    {planted}  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    res = lint(src, tmp_path)
    assert res.returncode != 0, res.stdout
    assert expected in res.stdout, res.stdout
    assert "detente." + module.removesuffix(".py").replace("/", ".") + " ->" in res.stdout, res.stdout
