"""Running dramatiq workers inside a plaudit process (`plaudit worker`, the demo, tests)."""

from __future__ import annotations

import threading

import dramatiq

from workers.actors import broker


def start_worker(threads: int) -> dramatiq.Worker:
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker


def run_worker(threads: int, stop: threading.Event) -> None:
    worker = start_worker(threads)
    try:
        stop.wait()
    finally:
        worker.stop()
