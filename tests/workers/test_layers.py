"""The house's arrows for services, workers and the scheduler, read from the source: services
never import their callers, and workers/ holds actors and their plumbing only."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# What services may not import: the processes that call them, and the composition root.
CALLERS = ("workers", "api", "scheduler", "plaudit.cli", "plaudit.demo")
# The modules of workers/ that are plumbing, not actors.
PLUMBING = {"__init__", "broker", "enqueue", "actors", "runner"}


def imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_services_import_none_of_their_callers():
    offending = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "services").rglob("*.py")
        for name in imported(path)
        if any(name == caller or name.startswith(caller + ".") for caller in CALLERS)
    }
    assert offending == set()


def test_every_module_of_workers_declares_actors_or_is_its_plumbing():
    without = []
    for path in sorted((ROOT / "workers").glob("*.py")):
        if path.stem in PLUMBING:
            continue
        tree = ast.parse(path.read_text())
        actors = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
            and any("actor" in ast.unparse(d) for d in node.decorator_list)
        ]
        others = [
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node not in actors
        ]
        # An actor module holds actors, and at most a helper that reads the message itself.
        if not actors or any(not name.startswith("_") for name in others):
            without.append(path.name)
    assert without == []


def test_the_scheduler_does_not_reach_into_the_api():
    offending = {
        name
        for path in (ROOT / "scheduler").rglob("*.py")
        for name in imported(path)
        if name == "api" or name.startswith("api.")
    }
    assert offending == set()
