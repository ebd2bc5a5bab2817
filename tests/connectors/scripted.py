"""A loopback HTTP server that answers from a script of hand-built responses.

Unit tests of the provider clients use it instead of a sandbox: each test says exactly which
answers come back (a 503, a 429 with ``Retry-After``, a page with a next token), and the client
under test talks real HTTP through its real session, so nothing of the HTTP layer is faked.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    """One hand-built response; ``body`` is sent as JSON unless it is already bytes."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]  # names in lower case

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class ScriptedServer:
    """Answers each request with the next reply of the script; records what it received.

    A request that finds the script empty gets a 599, which no error table retries, so a client
    that asks more than the test expected fails loudly instead of hanging."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                with server._lock:
                    server.received.append(
                        Received(
                            method=self.command,
                            path=parts.path,
                            query={k: v[0] for k, v in parse_qs(parts.query).items()},
                            body=self.rfile.read(length) if length else b"",
                            headers={k.lower(): v for k, v in self.headers.items()},
                        )
                    )
                    reply = server.script.popleft() if server.script else Reply(599, {})
                raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
                payload = raw.encode() if isinstance(raw, str) else raw
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json"} | reply.headers
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return None  # the test reads ``received`` instead

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, *replies: Reply) -> None:
        """Replace the script: these replies, in order, then 599 for anything more."""
        with self._lock:
            self.script = deque(replies)
            self.received = []

    @property
    def left(self) -> int:
        return len(self.script)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
