"""A location's next pages read while the last ones are written: the provider's round trips and
the database's overlap, so a pass takes about the longer of the two rather than their sum.

The connector's page iterator stays synchronous and unaware of this: it runs on a thread of its
own and hands its pages over a queue of ``DEPTH``, so at most that many pages wait in memory
whatever the location's size. What it raises reaches the reader at the place of the page it
failed to read, after every page before it, so the pass keeps what it read and leaves the
cursor alone exactly as without reading ahead.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")

# Pages waiting for the writer: one to write while the next arrives is the whole gain; a second
# absorbs a slow page on either side. Memory stays a few pages, flat in the location's size.
DEPTH = 2


class _Ended:
    """The reading's end, normal (``error`` None) or with what the iterator raised."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class ReadAhead(Generic[T]):
    """Iterates ``pages`` on a thread of its own; use as a context manager, which stops the
    reading and waits for it however the block ends, so that the iterator's client is never
    used by two threads at once (look-ups and the next location reuse it)."""

    def __init__(self, pages: Iterator[T], *, depth: int = DEPTH) -> None:
        self._pages = pages
        self._handoff: queue.Queue[T | _Ended] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        # The reader's context (the request id in log lines) goes along with it.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._read,), name="sync-read-ahead", daemon=True
        )

    def __enter__(self) -> Iterator[T]:
        self._thread.start()
        return self._iterate()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        # A reader blocked on a full queue gets room for its one last page, then sees the stop.
        while True:
            try:
                self._handoff.get_nowait()
            except queue.Empty:
                break
        self._thread.join()

    def _read(self) -> None:
        pages = self._pages
        try:
            for page in pages:
                self._handoff.put(page)
                if self._stop.is_set():
                    close = getattr(pages, "close", None)
                    if close is not None:
                        close()  # on this thread, where the generator runs
                    return
        except BaseException as exc:  # handed to the writer, who raises it
            self._handoff.put(_Ended(exc))
            return
        self._handoff.put(_Ended())

    def _iterate(self) -> Iterator[T]:
        while True:
            item = self._handoff.get()
            if isinstance(item, _Ended):
                if item.error is not None:
                    raise item.error
                return
            yield item
