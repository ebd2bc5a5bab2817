"""A data-subject request made through the API is carried out by a separate worker process (it
stayed `received` for ever while `plaudit worker` did not import its actor)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_a_subject_request_made_through_the_api_is_done_by_a_worker_process(client, owner, db):
    # Given a request recorded through the API (its message is on the real broker)
    made = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "export", "email": "customer@example.com"},
        headers=owner.headers,
    )
    assert made.status_code == 202, made.text
    request_id = made.json()["id"]

    # When a separate `plaudit worker` process runs
    worker = subprocess.Popen(
        [sys.executable, "-m", "plaudit.cli", "worker", "--threads", "1"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Then the request is carried out
        def done() -> bool:
            """the subject request is done"""
            answer = client.get(f"/api/v1/privacy/requests/{request_id}", headers=owner.headers)
            return answer.json()["status"] == "done"

        wait_for(done, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
