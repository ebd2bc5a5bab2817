"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
`plaudit api` and `plaudit worker` (child processes) on PostgreSQL and Redis, with the sandbox
speaking Google's APIs. Screenshots go to test-artifacts/web/ (git-ignored)."""

from __future__ import annotations

import shutil
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.fixtures import consent
from tests.support import Process, free_port, wait_for
from tests.web.toolchain import DIST, WEB

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 860}


@dataclass
class Dashboard:
    url: str
    api: Process
    worker: Process

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20)


@pytest.fixture
def dashboard(db, sandbox, configure, tmp_path: Path) -> Iterator[Dashboard]:
    """`plaudit api` serving the built app, and a worker, both as child processes."""
    if not (DIST / "index.html").is_file():
        pytest.fail("the dashboard is not built: `make web` (make test does it first)")
    from workers.broker import broker

    port = free_port()
    configure(public_url=f"http://127.0.0.1:{port}", mailbox_dir=str(tmp_path / "mailbox"))
    broker.flush_all()
    api = Process("api", "--port", str(port))
    worker = Process("worker", "--threads", "2")
    logs = {"api": _drain(api), "worker": _drain(worker)}
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        """plaudit api answers /healthz"""
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        # Generous: on a machine shared with other work, starting takes a while.
        wait_for(up, timeout=90)
        yield Dashboard(url=url, api=api, worker=worker)
    finally:
        # Side by side: each takes a moment to finish what it holds.
        api.terminate()
        worker.terminate()
        api.stop()
        worker.stop()
        for name, lines in logs.items():  # shown by pytest when the test failed
            print(f"--- the last lines of plaudit {name} ---", *lines, sep="\n")


def _drain(process: Process) -> deque[str]:
    """Read a child's output as it comes: a full pipe would block its logging, and with it
    the child. The last lines are kept for a failing test's report."""
    lines: deque[str] = deque(maxlen=100)
    stream = process.proc.stdout
    if stream is not None:
        read = threading.Thread(target=lambda: lines.extend(line.rstrip() for line in stream))
        read.daemon = True
        read.start()
    return lines


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, dashboard: Dashboard) -> Iterator[Any]:
    """A fresh browser profile on the dashboard; fails the test on any CSP violation or
    uncaught script error."""
    context = chromium.new_context(base_url=dashboard.url, viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield page
    finally:
        context.close()
    assert problems == [], problems


def check_accessibility(page: Any, name: str) -> None:
    """axe-core over the page as it is: no serious or critical violation."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern, so the
    # app's own policy stays exactly as served.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
    )
    assert result == [], f"{name}: {result}"


def screenshots(page: Any, name: str) -> None:
    """The page at desktop and at phone width (360 px), as files; and no sideways scrolling
    on the phone."""
    # From the top, whatever the test scrolled to: the pictures show each page as it opens.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"))
    page.set_viewport_size(PHONE)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"))
    wide = page.evaluate(_WIDER_THAN_THE_WINDOW) if overflow > 0 else []
    page.set_viewport_size(DESKTOP)
    assert overflow <= 0, f"{name} scrolls sideways at 360 px by {overflow} px: {wide}"


# The innermost elements that stick out on the right, to name in a failure.
_WIDER_THAN_THE_WINDOW = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))"""


def look(page: Any, name: str) -> None:
    check_accessibility(page, name)
    screenshots(page, name)


def log_in(page: Any, email: str, password: str) -> None:
    """Through the log-in page, to the inbox: the one sign-in of the tests that need a person
    logged in but do not test logging in."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


def connect_google(api: httpx.Client) -> None:
    """Google connected over the API: its consent page answered "Allow" (the browser's way
    through it is tested in test_dashboard.py)."""
    start = api.post("/api/v1/connections/google/authorize", json={})
    query = consent(start.json()["authorization_url"])
    assert api.get("/api/v1/connections/google/callback", params=query).is_success
