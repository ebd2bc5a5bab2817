"""Run the sandbox on a loopback port in a background thread, for tests and embedding."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from connectors.sandbox.app import base_urls, build_app
from connectors.sandbox.state import SandboxState

__all__ = ["SandboxServer", "base_urls"]

STARTUP_TIMEOUT_S = 10.0


class _Switchboard:
    """Forwards to the current app, so a running server can be given fresh state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class SandboxServer:
    def __init__(
        self, state: SandboxState | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.state = state if state is not None else SandboxState.seeded()
        self.host = host
        self.port = port
        self._switchboard = _Switchboard(build_app(self.state))
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Listen, then return; the socket is bound here so port 0 resolves before serving."""
        if self._thread is not None:
            return self
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP, and without it every response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._switchboard,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sandbox server failed to start")
            time.sleep(0.005)
        return self

    def replace_state(self, state: SandboxState) -> None:
        """Serve `state` from now on: a clean slate without the cost of a restart."""
        self.state = state
        self._switchboard.app = build_app(state)

    def stop(self, *, wait: bool = True) -> None:
        """Stop serving. With ``wait=False`` return at once: the server's thread ends by itself
        on its next tick (uvicorn looks every 0.1 s), which a caller that is done with this
        port (a test's teardown) need not wait for."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        if wait:
            self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self._server = None
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
