"""Connector unit-test fixtures: a scripted loopback server and a recorded sleep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.scripted import ScriptedServer


@pytest.fixture(scope="module")
def _server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def scripted(_server: ScriptedServer) -> ScriptedServer:
    """The module's server, with an empty script and nothing received."""
    _server.answer()
    return _server


@pytest.fixture
def slept() -> list[float]:
    """Every wait a client asked for, instead of waiting: pass ``sleep=slept.append``."""
    return []
