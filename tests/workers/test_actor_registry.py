"""Every actor any code can send to is declared in a worker process.

A message to an actor the worker never imported is moved to the dead-letter queue with
"undefined actor": the work it stood for never happens. Both sides are found, not listed: the
actors are every ``@dramatiq.actor`` in the project's packages, and a worker process is asked
which it declares after importing exactly what ``plaudit worker`` imports.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "connectors", "models", "plaudit", "scheduler", "workers")


def _declared_in_source() -> dict[str, str]:
    """actor name → module, for every actor declaration in the project's code."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for decorator in node.decorator_list:
                    name = _actor_name(decorator, default=node.name)
                    if name is not None:
                        found[name] = str(path.relative_to(ROOT))
    return found


def _actor_name(decorator: ast.expr, *, default: str) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if ast.unparse(target) not in ("dramatiq.actor", "actor"):
        return None
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "actor_name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
    return default


def _declared_by_a_worker() -> set[str]:
    # What `plaudit worker` imports (plaudit/cli.py → workers.runner), in a fresh interpreter.
    script = (
        "import json, workers.runner\n"
        "from workers.broker import broker\n"
        "print(json.dumps(sorted(broker.get_declared_actors())))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_actor_in_the_code_is_declared_in_a_worker_process():
    in_source = _declared_in_source()
    assert "privacy.subject_request" in in_source  # the scan finds what it must

    in_worker = _declared_by_a_worker()

    missing = {name: module for name, module in in_source.items() if name not in in_worker}
    assert not missing, f"actors a worker never declares (their messages would be lost): {missing}"

