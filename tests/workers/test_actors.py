"""Every message the code sends has an actor in `plaudit worker`.

dramatiq binds an actor when its module is imported; a worker process imports only what
`plaudit worker` imports (``workers.actors``), so an actor declared in a module nobody imports
there is "undefined" in the worker and its messages go to the dead-letter queue. The sends are
found statically, over the project's source, so a new one is covered without editing this test.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from models import Item
from tests.support import ApiServer, Process, free_port, sign_up, this_runs_broker, wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("api", "connectors", "models", "plaudit", "scheduler", "services", "workers")
SENDS = {"send", "send_with_options", "message", "message_with_options"}
ENQUEUERS = {"enqueue_after_commit"}  # (session, actor, *args)
# Services name the actor instead (services.jobs): (session, "actor.name" or a constant, *args).
NAMED_ENQUEUERS = {"send_after_commit"}
# Where the name is passed on, not chosen: the outbox mechanism sends to the actor its outbox
# declares (``actor = SEND``), and `enqueue_after_commit`'s callers are checked as ENQUEUERS.
PASS_ON = {"services.outbox", "workers.enqueue"}


@dataclass(frozen=True)
class Send:
    where: str
    target: str  # "module:function" of the actor sent to, or "name:<actor name>"


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[_module_of(path)] = ast.parse(path.read_text(), filename=str(path))
    return found


def _actor_name(decorator: ast.expr, function: str) -> str | None:
    """The actor name a ``@dramatiq.actor`` / ``@actor(...)`` decorator declares, or None."""
    call = decorator if isinstance(decorator, ast.Call) else None
    func = call.func if call else decorator
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name != "actor":
        return None
    for keyword in call.keywords if call else []:
        if keyword.arg == "actor_name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return function


def declared_actors(modules: dict[str, ast.Module]) -> dict[str, str]:
    """ "module:function" -> actor name, for every actor in the source."""
    actors = {}
    for module, tree in modules.items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if (name := _actor_name(decorator, node.name)) is not None:
                        actors[f"{module}:{node.name}"] = name
    return actors


def _imports(module: str, tree: ast.Module) -> dict[str, str]:
    """Local name -> "module:name" (from-imports) or "module" (module imports)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolve against this module's package
                package = module.split(".")[: -node.level]
                base = ".".join([*package, node.module])
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}:{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name
    return names


def _resolve(expr: ast.expr, module: str, imports: dict[str, str]) -> str | None:
    if isinstance(expr, ast.Name):
        return imports.get(expr.id, f"{module}:{expr.id}")
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        imported = imports.get(expr.value.id)
        if imported is not None and ":" not in imported:
            return f"{imported}:{expr.attr}"
    return None


def _actor_of(
    expr: ast.expr,
    module: str,
    modules: dict[str, ast.Module],
    actors: dict[str, str],
) -> str | None:
    target = _resolve(expr, module, _imports(module, modules[module]))
    # Follow one re-export (``from workers.actors import send_reply``).
    if target is not None and target not in actors and ":" in target:
        source, name = target.split(":")
        if source in modules:
            again = _imports(source, modules[source]).get(name)
            target = again if again in actors else target
    return target


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _actor_named(expr: ast.expr, module: str, modules: dict[str, ast.Module]) -> str | None:
    """The actor name an expression stands for: a literal, or a constant defined or imported."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if not isinstance(expr, ast.Name):
        return None
    local = _constants(modules[module]).get(expr.id)
    if local is not None:
        return local
    imported = _imports(module, modules[module]).get(expr.id, "")
    source, _, name = imported.partition(":")
    return _constants(modules[source]).get(name) if source in modules else None


def _outbox_actors(module: str, tree: ast.Module, modules: dict[str, ast.Module]) -> list[Send]:
    """``actor = ...`` in the body of each outbox declaration (a class over ``Outbox``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any("Outbox" in ast.unparse(b) for b in node.bases):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                    getattr(t, "id", None) == "actor" for t in statement.targets
                ):
                    name = _actor_named(statement.value, module, modules)
                    assert name is not None, f"{module}:{statement.lineno}: which actor?"
                    found.append(Send(f"{module}:{statement.lineno}", f"name:{name}"))
    return found


def sends(modules: dict[str, ast.Module], actors: dict[str, str]) -> list[Send]:
    """Every place that sends a message, with the actor it names."""
    found = []
    for module, tree in modules.items():

        def resolved(expr: ast.expr, module: str = module) -> str | None:
            return _actor_of(expr, module, modules, actors)

        decorators = {
            id(d)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for d in node.decorator_list
        }
        for node in ast.walk(tree):
            where = f"{module}:{getattr(node, 'lineno', 0)}"
            # ``actor.send(...)``, and ``actor.send`` handed over to be called (a thread pool)
            if isinstance(node, ast.Attribute) and node.attr in SENDS:
                target = resolved(node.value)
                if target in actors:  # other .send()s: e-mail clients, sockets
                    found.append(Send(where, target))
            if not isinstance(node, ast.Call) or id(node) in decorators:
                continue
            for keyword in node.keywords:  # dramatiq.Message(actor_name=...) and the like
                if keyword.arg == "actor_name" and isinstance(keyword.value, ast.Constant):
                    found.append(Send(where, f"name:{keyword.value.value}"))
            func = node.func
            callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if callee in ENQUEUERS:
                assert len(node.args) >= 2, f"{where}: enqueue without an actor"
                target = resolved(node.args[1])
                assert target in actors, f"{where}: cannot tell which actor is enqueued"
                found.append(Send(where, target))
            if callee in NAMED_ENQUEUERS and module not in PASS_ON:
                assert len(node.args) >= 2, f"{where}: enqueue without an actor"
                name = _actor_named(node.args[1], module, modules)
                assert name is not None, f"{where}: cannot tell which actor is enqueued"
                found.append(Send(where, f"name:{name}"))
        found += _outbox_actors(module, tree, modules)
    return found


def worker_actors() -> set[str]:
    """The actors a fresh `plaudit worker` process has: its command runs, up to the point where
    it would start consuming, and reports what its broker declares."""
    probe = (
        "import json, workers.runner\n"
        "from plaudit import cli\n"
        "def report(threads, stop):\n"
        "    from workers.broker import broker\n"
        "    print(json.dumps(sorted(broker.get_declared_actors())))\n"
        "workers.runner.run_worker = report\n"
        "cli.main(['worker', '--threads', '1'])\n"
    )
    env = {**os.environ, "PLAUDIT_BROKER_URL": "stub://"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_actor_the_code_sends_to_is_declared_in_a_worker_process():
    modules = _modules()
    actors = declared_actors(modules)
    found = sends(modules, actors)
    # The scan sees the known ways of sending, or it would prove nothing.
    assert {
        "connect.finish",
        "push.google",
        "sync.capability",
        "privacy.subject_request",
        "reply.send",
        "email.send",
        "webhooks.deliver",
        "feedback.send_due",
        "alerts.digests",
    } <= {actors.get(s.target, s.target.removeprefix("name:")) for s in found}

    declared = worker_actors()

    missing = sorted(
        f"{actors.get(s.target, s.target.removeprefix('name:'))} (sent at {s.where})"
        for s in found
        if actors.get(s.target, s.target.removeprefix("name:")) not in declared
    )
    assert missing == [], "import these actors' modules in workers/actors.py"
    # And every actor in the source is declared there, sent to or not (the CLI sends some).
    assert set(actors.values()) <= declared


@pytest.mark.commits  # a worker process
def test_a_subject_request_made_through_the_api_is_done_by_a_worker_process(db):
    # Given an organisation with one reviewer's review, and a real `plaudit worker`
    this_runs_broker().flush_all()
    worker = Process("worker", "--threads", "1")
    port = free_port()
    try:
        with ApiServer(port) as server, httpx.Client(base_url=server.url, timeout=20) as api:
            signup = sign_up(
                api,
                {
                    "email": "owner@bakery.example",
                    "password": "correct horse battery",
                    "name": "Olive Owner",
                    "organisation_name": "Olive's Bakery",
                },
            )
            api.headers["Authorization"] = f"Bearer {signup['access_token']}"
            me = api.get("/api/v1/me").json()
            _review_by(db, me["organisation"]["id"], "g-42")

            # When an admin asks for the reviewer's data through the API
            created = api.post(
                "/api/v1/privacy/requests", json={"kind": "export", "reviewer_id": "g-42"}
            )
            assert created.status_code == 202, created.text
            request_id = created.json()["id"]

            # Then a worker process does it
            def done() -> dict | None:
                """the request is done"""
                found = api.get(f"/api/v1/privacy/requests/{request_id}").json()
                return found if found["status"] == "done" else None

            finished = wait_for(done, timeout=30)
    finally:
        output = worker.stop()
    assert finished["completed_at"] is not None, output
    assert [i["text"] for i in finished["export"]["items"]] == ["lovely bread"]


def _review_by(db, organisation_id: int, reviewer: str) -> None:
    db.add(
        Item(
            organisation_id=organisation_id,
            source="google",
            kind="review",
            external_id="r-1",
            author_external_id=reviewer,
            author_name="Reviewer",
            text="lovely bread",
            rating=5,
            posted_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
    )
    db.commit()
