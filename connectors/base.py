"""The part every connector shares: requests with retries and rate limits, paging, checkpoints.

A provider capability only declares what is specific to it: where its records are, how to page,
how to parse one record, and which error table classifies its failures.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import requests
import urllib3.exceptions

from connectors import errors
from connectors.capability import Answering, Push
from connectors.paging import Paginator
from connectors.records import ItemRecord, MalformedRecord, Page

log = logging.getLogger(__name__)


class Action(enum.Enum):
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    NEEDS_REAUTH = "needs_reauth"
    MISSING_PERMISSION = "missing_permission"
    RETIRED = "retired"
    NOT_FOUND = "not_found"
    FAIL = "fail"
    # A write that may or may not have been applied: never repeated in place.
    OUTCOME_UNKNOWN = "outcome_unknown"


_RAISES: dict[Action, type[errors.ProviderError]] = {
    Action.RETRY: errors.Transient,
    Action.RATE_LIMITED: errors.RateLimited,
    Action.NEEDS_REAUTH: errors.NeedsReauth,
    Action.MISSING_PERMISSION: errors.MissingPermission,
    Action.RETIRED: errors.CapabilityRetired,
    Action.NOT_FOUND: errors.NotFound,
    Action.FAIL: errors.Rejected,
    Action.OUTCOME_UNKNOWN: errors.OutcomeUnknown,
}
# Methods that change nothing at the provider; every other one is a write.
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Failure:
    """A provider's answer that was not a success, before classification."""

    status: int
    body: dict[str, Any]
    retry_after: float | None = None


class ErrorTable(Protocol):
    def classify(self, failure: Failure) -> tuple[Action, str]:
        """The action to take and a message safe to store (no tokens, no personal data)."""


class Limiter(Protocol):
    def acquire(self) -> None:
        """Block until one more request to the provider is allowed."""


class Unlimited:
    def acquire(self) -> None:
        return None


class _FailedResponse(Exception):
    def __init__(self, failure: Failure) -> None:
        self.failure = failure


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the provider: no connection was made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        # requests wraps urllib3's MaxRetryError, whose ``reason`` is the real cause; a refused
        # connection or a failed name lookup is a NewConnectionError (a reset is not).
        cause = exc.args[0] if exc.args else None
        cause = getattr(cause, "reason", cause)
        return isinstance(cause, urllib3.exceptions.NewConnectionError)
    return False


def classify_failure(
    exc: Exception, error_table: ErrorTable, *, write: bool
) -> tuple[Action, str, float | None]:
    """What to do about one failed attempt: the action, a message safe to store, the wait asked.

    A read is retried after any transient failure. A write is retried only when the provider
    cannot have applied it: a refusal (429, or a throttling code), or a connection never made.
    A 5xx or a connection lost after sending leaves its outcome unknown.
    """
    if isinstance(exc, _FailedResponse):
        action, message = error_table.classify(exc.failure)
        if write and action is Action.RETRY:
            return Action.OUTCOME_UNKNOWN, message, None
        return action, message, exc.failure.retry_after
    if isinstance(exc, requests.RequestException):
        message = f"network error: {type(exc).__name__}"
        if write and not never_sent(exc):
            return Action.OUTCOME_UNKNOWN, message, None
        return Action.RETRY, message, None
    raise TypeError(f"not a provider failure: {type(exc).__name__}")


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from these providers, and backoff covers it


class ProviderClient:
    """Sends requests for one connection; retries what the error table says is worth it.

    Short waits happen here; a wait longer than ``max_wait`` is handed back to the worker as
    ``RateLimited``/``Transient`` so that it can re-enqueue the job instead of holding a thread.
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        base_url: str,
        error_table: ErrorTable,
        limiter: Limiter | None = None,
        timeout: float = 30.0,
        max_attempts: int = 4,
        base_backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.error_table = error_table
        self.limiter = limiter or Unlimited()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests_made = 0
        self.rate_limit_waits = 0  # 429s waited out here; a sync run records them

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        write: bool | None = None,
        wait_out_rate_limits: bool = True,
    ) -> dict[str, Any]:
        """One call; ``write`` defaults to "anything but GET/HEAD" (see :meth:`call`)."""
        assert self.session is not None, "this client only classifies calls made elsewhere"
        session = self.session
        url = self.base_url + path.lstrip("/")

        def attempt() -> dict[str, Any]:
            response = session.request(method, url, params=params, json=json, timeout=self.timeout)
            if response.status_code >= 400:
                raise _FailedResponse(
                    Failure(
                        response.status_code,
                        _json_or_empty(response),
                        retry_after_seconds(response.headers.get("Retry-After")),
                    )
                )
            return _json_or_empty(response)

        if write is None:
            write = method.upper() not in READ_METHODS
        return self.call(attempt, write=write, wait_out_rate_limits=wait_out_rate_limits)

    def call(
        self,
        attempt: Callable[[], Any],
        *,
        write: bool = False,
        wait_out_rate_limits: bool = True,
    ) -> Any:
        """Run one provider call with classification and retries. ``attempt`` raises
        ``_FailedResponse`` (see :meth:`failure`) for a provider error answer.

        A ``write`` is never repeated blind: after a failure that leaves its outcome unknown it
        raises ``OutcomeUnknown`` at once, and the caller reads the provider's state back before
        writing again (the reply outbox does).

        ``wait_out_rate_limits=False``: a rate-limit refusal is raised at once (``RateLimited``)
        for the caller to pace and re-enqueue, rather than slept on here (per-location writes,
        whose limit a short in-place wait would only meet again).
        """
        for number in range(1, self.max_attempts + 1):
            self.limiter.acquire()
            self.requests_made += 1
            try:
                return attempt()
            except (_FailedResponse, requests.RequestException) as exc:
                action, message, wait = classify_failure(exc, self.error_table, write=write)
            except errors.ProviderError:
                raise
            if action not in (Action.RETRY, Action.RATE_LIMITED):
                raise _RAISES[action](message)
            wait = wait if wait is not None else self._backoff(number)
            held_back = action is Action.RATE_LIMITED and not wait_out_rate_limits
            if held_back or number == self.max_attempts or wait > self.max_wait:
                raise _RAISES[action](message, retry_after=wait)
            log.info("provider asked to wait %.1fs (%s), attempt %d", wait, action.value, number)
            if action is Action.RATE_LIMITED:
                self.rate_limit_waits += 1
            self.sleep(wait)
        raise AssertionError("unreachable")

    @staticmethod
    def failure(status: int, body: dict[str, Any], retry_after: float | None = None) -> Exception:
        """For attempts made through another client library (googleapiclient)."""
        return _FailedResponse(Failure(status, body, retry_after))

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many workers from retrying in lockstep.
        return random.uniform(0, self.base_backoff * 2 ** (attempt - 1))


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class Listing:
    """Where a listing's records are and how they page: ``path`` (a template of ``{location}``),
    ``query``, the key of the records in a page, the paginator, and the key of a record's id."""

    path_template: ClassVar[str]
    query: ClassVar[dict[str, Any]] = {}
    records_key: ClassVar[str] = "data"
    paginator: ClassVar[type[Paginator]]
    id_key: ClassVar[str] = "id"

    def __init__(self, client: ProviderClient) -> None:
        self.client = client

    def path(self, location: str) -> str:
        return self.path_template.format(location=location)

    def params(self) -> dict[str, Any]:
        return dict(self.query)

    def record_id(self, record: Any) -> str | None:
        """The record's id if it can be found even in a malformed record."""
        value = record.get(self.id_key) if isinstance(record, dict) else None
        return value if isinstance(value, str) and value else None


class Stream(Listing, ABC):
    """One capability: a listing of one location's records, newest-updated first (the
    providers' default), and what else it declares (``connectors.capability``).

    Subclasses declare ``name``, ``kind`` and the listing, and implement ``parse``; the reading
    loop and the cursor rule live in ``connectors.passes``.
    """

    name: ClassVar[str]
    kind: ClassVar[str]  # the kind of item it yields; a full pass marks unseen ones deleted
    # How the owner answers its items (None: read-only).
    answering: ClassVar[Answering | None] = None
    # The setting (a field of ``core.settings.Settings``) that turns it on; None: always on.
    enabled_by: ClassVar[str | None] = None
    # How the provider's pushes map to its records (None: it is only polled).
    push: ClassVar[Push | None] = None
    # A listing that can miss records (Google's paging issue): before a full pass concludes a
    # record is gone, it looks it up with ``look_up``.
    reconciles: ClassVar[bool] = False

    @abstractmethod
    def parse(self, record: dict[str, Any]) -> ItemRecord:
        """Normalise one record; raise MalformedRecord when it cannot be understood."""

    def look_up(self, location: str, external_id: str) -> dict[str, Any] | None:
        """One record by id, or None when the provider says it is gone (``reconciles``)."""
        raise NotImplementedError

    def read(
        self, location: str, cursor: datetime | None, resume: dict[str, Any] | None = None
    ) -> IncrementalPass:
        """``resume``: a stopped pass's ``position``, to carry on from there."""
        return IncrementalPass(self, location, cursor, resume)


class IncrementalPass:
    """One pass over a location, newest-updated first.

    The listing is sorted by update time, descending, so everything at or after the cursor
    comes first: the pass stops at the first older record. ``new_cursor`` is only set once the
    pass is complete; an interrupted pass leaves the old cursor, and the next one starts again
    from the top (upserts are idempotent, so re-reading is harmless). With ``cursor=None`` the
    pass reads everything: a first sync, or a full pass that finds deletions.
    """

    def __init__(
        self,
        stream: Stream,
        location: str,
        cursor: datetime | None,
        resume: dict[str, Any] | None = None,
    ) -> None:
        self.stream = stream
        self.location = location
        self.cursor = cursor
        self.new_cursor: datetime | None = None
        self.complete = False
        self.skipped = 0
        self.resume = resume if stream.paginator.resumable else None
        # Where to carry on after the pages yielded so far (None: from the top), for a pass
        # the provider stopped; only listings with resumable cursors have one.
        self.position: dict[str, Any] | None = self.resume

    def pages(self) -> Iterator[Page]:
        stream = self.stream
        paginator = stream.paginator()
        params = stream.params()
        highest = self.cursor
        if self.resume is not None:
            params = {**params, **self.resume["params"]}
            highest = later_time(highest, self.resume.get("highest"))
        while True:
            body = stream.client.request("GET", stream.path(self.location), params=params)
            page, reached_cursor = self._page(body.get(stream.records_key) or [])
            for item in page.items:
                if item.provider_updated_at and (
                    highest is None or item.provider_updated_at > highest
                ):
                    highest = item.provider_updated_at
            self.skipped += page.skipped
            yield page
            next_params = None if reached_cursor else paginator.next_params(body)
            if next_params is None:
                break
            params = {**params, **next_params}
            if paginator.resumable:
                self.position = {"params": next_params, "highest": iso_time(highest)}
        self.complete = True
        self.new_cursor = highest

    def _page(self, records: list[Any]) -> tuple[Page, bool]:
        page = Page(items=[])
        for record in records:
            record_id = self.stream.record_id(record)
            try:
                item = self.stream.parse(record)
            except MalformedRecord as exc:
                # The content may hold personal data: log the id and the reason only.
                log.warning(
                    "skipped a malformed %s record %s: %s", self.stream.name, record_id, exc
                )
                page.skipped += 1
                if record_id:
                    page.seen_ids.append(record_id)
                continue
            updated = item.provider_updated_at or item.posted_at
            if self.cursor is not None and updated < self.cursor:
                return page, True
            page.items.append(item)
            page.seen_ids.append(item.external_id)
        return page, False


def iso_time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def later_time(moment: datetime | None, iso: str | None) -> datetime | None:
    """The later of a time and a position's stored one."""
    stored = datetime.fromisoformat(iso) if iso else None
    if moment is None or stored is None:
        return moment or stored
    return max(moment, stored)
