"""Every route of the app, with what the README's permission table says about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from models import Role

README = Path(__file__).parent.parent.parent / "README.md"
_ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (\w+) \| (yes|no|—) \|$")


@dataclass(frozen=True)
class Rule:
    minimum: Role | None  # None: public, or signed by a provider
    api_key: bool
    signed: bool = False


def permission_table() -> dict[tuple[str, str], Rule]:
    table: dict[tuple[str, str], Rule] = {}
    for line in README.read_text().splitlines():
        if match := _ROW.match(line):
            method, path, minimum, key = match.groups()
            assert (method, path) not in table, f"{method} {path} is in the table twice"
            table[(method, path)] = Rule(
                minimum=None if minimum in ("public", "signed") else Role(minimum),
                api_key=key == "yes",
                signed=minimum == "signed",
            )
    return table


def routes(app: FastAPI) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, OpenAPI operation) for every route; None for routes kept out of the
    OpenAPI document (HTML pages), which are walked all the same."""
    spec = app.openapi()
    found = []
    for path, route in _api_routes(app.router.routes, prefix=""):
        for method in sorted(route.methods - {"HEAD"}):
            operation = spec["paths"].get(path, {}).get(method.lower())
            assert (operation is None) == (not route.include_in_schema), path
            found.append((method, path, operation))
    return found


def _api_routes(entries: list[Any], *, prefix: str) -> list[tuple[str, APIRoute]]:
    found: list[tuple[str, APIRoute]] = []
    for entry in entries:
        if isinstance(entry, APIRoute):
            found.append((prefix + entry.path, entry))
        elif hasattr(entry, "include_context"):
            found += _api_routes(
                entry.include_context.included_router.routes,
                prefix=prefix + entry.include_context.prefix,
            )
    return found


def fill(path: str, ids: dict[str, Any]) -> str:
    """The path with each parameter replaced from ``ids`` (a missing name is a test bug)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in ids, f"no value for path parameter {name} in {path}"
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path)


def example_body(spec: dict[str, Any], operation: dict[str, Any]) -> Any:
    """The JSON request body's documented example; ``{}`` for a free-form body without one
    (a provider's payload). A body schema of our own without an example fails the test."""
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is None:
        return None
    if "example" in content:
        return content["example"]
    schema = content["schema"]
    refs = [schema] if "$ref" in schema else [s for s in schema.get("anyOf", []) if "$ref" in s]
    if not refs:
        return (schema.get("examples") or [{}])[0]
    name = refs[0]["$ref"].rsplit("/", 1)[1]
    examples = spec["components"]["schemas"][name].get("examples")
    assert examples, f"{operation['operationId']}: the body schema {name} has no example"
    return examples[0]
