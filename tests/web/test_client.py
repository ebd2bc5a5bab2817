"""The dashboard's typed client is generated from the API's /openapi.json and committed; it
must match the API as it is now (`make client` regenerates both files)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from api.app import create_app
from tests.web.toolchain import WEB, node

SPEC = WEB / "openapi.json"
SCHEMA = WEB / "src" / "api" / "schema.d.ts"
STALE = "the dashboard's client is stale: run `make client` and commit web/openapi.json and {}"


def current_spec() -> str:
    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


def test_the_committed_spec_is_the_apis(db):
    assert SPEC.read_text() == current_spec(), STALE.format("web/src/api/schema.d.ts")


def test_the_committed_client_is_generated_from_that_spec(tmp_path: Path):
    generated = tmp_path / "schema.d.ts"
    cli = WEB / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
    assert cli.is_file(), "web/node_modules is not installed: run `make web` (make test does)"
    subprocess.run(
        [node(), str(cli), str(SPEC), "-o", str(generated)], check=True, capture_output=True
    )
    assert generated.read_text() == SCHEMA.read_text(), STALE.format("web/src/api/schema.d.ts")
