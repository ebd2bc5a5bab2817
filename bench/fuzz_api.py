"""Schemathesis over every operation of a real `plaudit api`, with depth: thousands of
generated requests (examples, coverage and fuzzing phases) and the stateful phase, which chains
operations through the links it infers from the schema. Prints server errors and schema
violations per operation, with totals (target: 0 and 0).

    .venv/bin/python bench/fuzz_api.py                  # 1,000 examples per operation
    .venv/bin/python bench/fuzz_api.py --examples 20    # a quick look, a minute or two

A script, not a test: its run time is minutes to hours, and what it finds is for a person to
read. The quick run with a few examples per operation is `tests/api/test_schemathesis.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import configure_environment, free_port, plaudit, wait_for_api

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
SERVER_ERRORS = {"not_a_server_error"}


def _owner_token() -> str:
    from core.crypto import blind_index
    from models import Membership, Organisation, Role, User
    from models.db import session_scope
    from services.accounts.passwords import hash_password
    from services.accounts.tokens import issue_token

    with session_scope() as session:
        user = User(
            email="fuzz@example.com",
            email_index=blind_index("fuzz@example.com"),
            name="Fuzz",
            password_hash=hash_password("a fuzzing passphrase"),
        )
        organisation = Organisation(name="Fuzzing")
        session.add(Membership(organisation=organisation, user=user, role=Role.OWNER))
        session.flush()
        token, _ = issue_token(user_id=user.id, organisation_id=organisation.id)
    return token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000, help="examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("PLAUDIT_BENCH_DB", "plaudit_fuzz")
    configure_environment()
    os.environ["PLAUDIT_JWT_TTL_SECONDS"] = "86400"  # the run outlives a 15-minute token
    from bench.common import recreate_database

    recreate_database()
    token = _owner_token()
    port = free_port()
    api = plaudit("api", "--port", str(port))
    try:
        wait_for_api(port, api)
        with tempfile.TemporaryDirectory() as folder:
            events = Path(folder) / "events.ndjson"
            command = [
                sys.executable, "-m", "schemathesis.cli", "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "--max-examples", str(args.examples),
                "--seed", str(args.seed),
                "--workers", str(args.workers),
                "--phases", "examples,coverage,fuzzing,stateful",
                "--checks", CHECKS,
                "--continue-on-failure",
                "--suppress-health-check", "all",
                "-H", f"Authorization: Bearer {token}",
                "--report", "ndjson", "--report-ndjson-path", str(events),
            ]  # fmt: skip
            run = subprocess.run(command, capture_output=True, text=True)
            report = _read(events)
    finally:
        api.terminate()
        api.wait(timeout=30)
    print(run.stdout[-4000:])
    print(_summary(report))
    return 0


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _summary(events: list[dict]) -> str:
    """Failures per operation from the NDJSON event stream, split into server errors and
    schema violations."""
    server: Counter[str] = Counter()
    violations: Counter[str] = Counter()
    cases = 0
    for event in events:
        for name, body in event.items():
            if not isinstance(body, dict):
                continue
            if name == "ScenarioFinished":
                cases += 1
            for check in _checks(body):
                if check.get("status") != "FAILURE" and check.get("status") != "failure":
                    continue
                label = str(body.get("label") or body.get("recorder", {}).get("label") or "?")
                bucket = server if check.get("name") in SERVER_ERRORS else violations
                bucket[label] += 1
    lines = [f"scenarios: {cases}"]
    for title, counter in (("server errors", server), ("schema violations", violations)):
        lines.append(f"{title}: {sum(counter.values())}")
        lines += [f"  {n:5d}  {label}" for label, n in counter.most_common()]
    return "\n".join(lines)


def _checks(body: dict) -> list[dict]:
    found: list[dict] = []
    stack: list[object] = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "name" in value and "status" in value and len(value) < 12:
                found.append(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


if __name__ == "__main__":
    sys.exit(main())
