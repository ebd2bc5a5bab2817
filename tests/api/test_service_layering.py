"""Services say what went wrong with domain errors; only the API's handler knows about HTTP.

Read from the source (no import needed): every module of ``services``, and every module of
ours they reach, must import neither FastAPI nor Starlette nor the API's HTTP error module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
HTTP_MACHINERY = ("fastapi", "starlette", "api.errors", "api.deps", "api.audit", "api.routers")


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _path_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from api import audit` imports the module api.audit
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _is_http(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in HTTP_MACHINERY)


def http_imports_reachable_from(start: list[str]) -> dict[str, set[str]]:
    """For each module of ours reachable from ``start`` through ``api.*`` and ``services.*``
    imports, the HTTP machinery it imports itself."""
    offenders: dict[str, set[str]] = {}
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        if module in seen or (path := _path_of(module)) is None:
            continue
        seen.add(module)
        imported = imports_of(path.read_text())
        if bad := {m for m in imported if _is_http(m)}:
            offenders[module] = bad
        todo += [m for m in imported if m.startswith(("api.", "services.")) and not _is_http(m)]
    return offenders


def test_no_service_reaches_http_machinery():
    services = [_module_of(p) for p in sorted((ROOT / "services").rglob("*.py"))]
    assert len(services) > 10  # the walk found the services

    assert http_imports_reachable_from(services) == {}


def test_the_check_catches_a_service_that_raises_http_errors():
    source = "from fastapi import HTTPException\nfrom api.errors import error_response\n"
    assert {"fastapi", "api.errors"} <= {m for m in imports_of(source) if _is_http(m)}
    assert "api.deps" in {m for m in imports_of("from api import deps\n") if _is_http(m)}
    # An indirect route counts too: a helper module that itself imports FastAPI.
    assert http_imports_reachable_from(["api.app"])  # the app, of course, does
