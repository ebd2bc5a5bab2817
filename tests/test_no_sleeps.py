"""Tests wait on what they can observe, never on the clock: a `time.sleep` in a test is either
too short on a loaded machine (a flake) or too long everywhere else. The one sleep allowed is
the polling interval inside `tests.support.wait_for`."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent
ALLOWED = {("support.py", "wait_for")}


class _Sleeps(ast.NodeVisitor):
    def __init__(self, path: Path) -> None:
        self.path, self.within, self.found = path, ["<module>"], []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.within.append(node.name)
        self.generic_visit(node)
        self.within.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        callee = node.func
        called = callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
        if called == "sleep" and (self.path.name, self.within[-1]) not in ALLOWED:
            self.found.append(f"{self.path.relative_to(TESTS)}:{node.lineno} in {self.within[-1]}")
        self.generic_visit(node)


def _sleeps(path: Path) -> list[str]:
    visitor = _Sleeps(path)
    visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    return visitor.found


def test_no_test_sleeps_in_place_of_waiting_for_a_condition():
    found = sorted({hit for path in TESTS.rglob("*.py") for hit in _sleeps(path)})
    assert found == [], "wait_for an observable condition instead of sleeping: " + ", ".join(found)


def test_the_check_finds_a_sleep(tmp_path: Path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import time\n\ndef test_x():\n    time.sleep(1)\n")
    global TESTS
    saved, TESTS = TESTS, tmp_path
    try:
        assert _sleeps(sample) == ["test_sample.py:4 in test_x"]
    finally:
        TESTS = saved
