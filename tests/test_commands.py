"""The README's first command, as a new user runs it: a clean clone, `make run`, nothing else;
then a second start on the same data."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.support import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent


class MakeRun:
    def __init__(self, clone: Path, port: int) -> None:
        # A new user's environment: none of the test suite's settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLAUDIT_")}
        self.proc = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def token(self, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(1, deadline - time.monotonic()))
            assert line is not None, "make run ended early:\n" + "".join(self.output[-40:])
            self.output.append(line)
            if line.strip().startswith("Ready token"):
                return line.split()[-1]

    def ctrl_c(self) -> str:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise
        while (line := self.lines.get(timeout=5)) is not None:
            self.output.append(line)
        return "".join(self.output)


def test_make_run_on_a_clean_clone_then_a_second_start_on_the_same_data(tmp_path):
    clone = tmp_path / "plaudit"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    first = MakeRun(clone, port)
    try:
        headers = {"Authorization": f"Bearer {first.token()}"}
        assert httpx.get(f"{base}/docs").status_code == 200

        def demo_reviews():
            """the demo's reviews are in the inbox"""
            return httpx.get(f"{base}/api/v1/items", headers=headers).json()["items"]

        reviews = wait_for(demo_reviews, timeout=30)
    finally:
        text = first.ctrl_c()
    # Ctrl-C reaches make too, which then reports the interrupt; plaudit must stop cleanly.
    assert first.proc.returncode in (0, -signal.SIGINT), text[-3000:]
    assert "plaudit demo: stopping" in text and "Traceback" not in text, text[-3000:]
    assert (clone / ".plaudit" / "secrets.json").stat().st_mode & 0o777 == 0o600

    second = MakeRun(clone, port)
    try:
        headers = {"Authorization": f"Bearer {second.token()}"}
        again = httpx.get(f"{base}/api/v1/items", params={"limit": 100}, headers=headers).json()[
            "items"
        ]
        # The same data: everything seen before the restart is still there.
        assert {i["id"] for i in reviews} <= {i["id"] for i in again}
        connection = httpx.get(f"{base}/api/v1/connections", headers=headers).json()
        connection_id = connection["connections"][0]["id"]
        before = connection["connections"][0]["last_synced_at"]
        sync = httpx.post(f"{base}/api/v1/connections/{connection_id}/sync", headers=headers)
        assert sync.status_code == 202, sync.text

        def synced_again():
            """the stored grant still works after a restart"""
            now = httpx.get(f"{base}/api/v1/connections/{connection_id}", headers=headers).json()
            return now["status"] == "active" and now["last_synced_at"] != before

        wait_for(synced_again, timeout=30)
    finally:
        text = second.ctrl_c()
    assert "Traceback" not in text, text[-3000:]
