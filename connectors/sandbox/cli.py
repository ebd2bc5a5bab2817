"""`python -m connectors.sandbox`: run the sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime

from connectors.sandbox.server import SandboxServer, base_urls
from connectors.sandbox.state import SandboxState


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.sandbox",
        description="A loopback server that speaks Google's and Facebook's APIs, seeded and in "
        "memory.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--locations", type=int, default=3)
    parser.add_argument("--reviews-per-location", type=int, default=20)
    parser.add_argument("--facebook-pages", type=int, default=2)
    parser.add_argument("--posts-per-page", type=int, default=3)
    parser.add_argument("--comments-per-post", type=int, default=4)
    parser.add_argument("--ratings-per-page", type=int, default=5)
    parser.add_argument("--client-id", default="sandbox-client")
    parser.add_argument("--client-secret", default="sandbox-secret")
    parser.add_argument(
        "--anchor",
        type=lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC),
        help="UTC date seeded times count back from (default: today's midnight)",
    )
    parser.add_argument(
        "--no-warm", action="store_true", help="serialise reviews lazily on first listing"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    state = SandboxState.seeded(
        seed=args.seed,
        accounts=args.accounts,
        locations=args.locations,
        reviews_per_location=args.reviews_per_location,
        client_id=args.client_id,
        client_secret=args.client_secret,
        anchor=args.anchor,
        facebook_pages=args.facebook_pages,
        posts_per_page=args.posts_per_page,
        comments_per_post=args.comments_per_post,
        ratings_per_page=args.ratings_per_page,
    )
    if not args.no_warm:
        state.warm()
    seeded_in = time.perf_counter() - started
    server = SandboxServer(state, host=args.host, port=args.port).start()
    print(
        f"plaudit sandbox on {server.url}: {len(state.locations)} locations, "
        f"{len(state.reviews)} reviews (seed {args.seed}, built in {seeded_in:.1f}s)"
    )
    print(f"  OAuth client: {args.client_id} / {args.client_secret}")
    print(f"  Facebook app: {state.facebook.app_id} / {state.facebook.app_secret}")
    for key, value in base_urls(server.url).items():
        print(f"  {key}={value}")
    print(f"  admin API: {server.url}/_admin/  (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping sandbox")
    finally:
        server.stop()
    return 0
