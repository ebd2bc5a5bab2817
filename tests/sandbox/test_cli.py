"""`python -m connectors.sandbox` prints its base URLs, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from connectors.sandbox.app import base_urls

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.sandbox", "--port", "0", "--locations", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        while not lines or "admin API" not in lines[-1]:
            lines.append(process.stdout.readline())
        urls = dict(
            line.strip().split("=", 1)
            for line in lines
            if re.match(r"\s+(google|facebook)_\w+=", line)
        )
        # Every base-URL setting that points plaudit at the sandbox is printed.
        assert set(urls) == set(base_urls("http://sandbox"))
        base = urls["google_mybusiness_url"].removesuffix("/mybusiness/")
        assert len(httpx.get(base + "/_admin/locations").json()["locations"]) == 2
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0, output
    assert "Traceback" not in output
