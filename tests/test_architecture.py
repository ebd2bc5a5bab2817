"""The house's shape, checked: import-linter's contracts in pyproject.toml (see ARCHITECTURE.md)
hold for the code as it is, and the checker does catch an import against them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_every_import_points_down_the_layers():
    result = _lint(ROOT)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_an_import_up_the_layers_is_caught(tmp_path: Path):
    # A copy of the tree in which core imports the API: the arrows are reversed once.
    copy = tmp_path / "tree"
    shutil.copytree(
        ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "web", "node_modules", ".*")
    )
    (copy / "core" / "upwards.py").write_text("import api.app  # noqa: F401\n")

    result = _lint(copy)

    assert result.returncode != 0
    assert "core.upwards -> api.app" in result.stdout
