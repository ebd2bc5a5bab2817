"""The part every connector shares: one client over each library's transport (retries, rate
limits, a refused token renewed once, writes never repeated blind), and the declarations a
capability is made of (a ``Listing``, a ``Stream``, a ``ChildStream``).

A provider capability only declares what is specific to it: where its records are, how they
page, how to parse one record, and what ``connectors.capability`` lists; the passes over its
listing are ``connectors.passes``, the failures' actions ``connectors.failures``.
"""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import requests

from connectors import errors
from connectors.capability import Answering, Push
from connectors.failures import RAISES, Action, ErrorTable, Failure, ProviderFailure
from connectors.paging import Paginator
from connectors.passes import ChildPass, IncrementalPass, Pass
from connectors.records import ItemRecord, MalformedRecord

log = logging.getLogger(__name__)


# Methods that change nothing at the provider; every other one is a write.
READ_METHODS = frozenset({"GET", "HEAD"})

__all__ = ["Action", "ErrorTable", "Failure", "ProviderFailure"]  # re-exported for connectors


class Limiter(Protocol):
    def acquire(self) -> None:
        """Block until one more request to the provider is allowed."""


class Unlimited:
    def acquire(self) -> None:
        return None


@dataclass(frozen=True)
class Call:
    """One request by path: what ``ProviderClient.request`` hands its transport."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None


class Transport(Protocol):
    """How one client library sends a request: a ``Call``, or a request that library prepared
    (a googleapiclient ``HttpRequest``, a facebook-sdk operation). It returns the answer's body
    and raises ``ProviderFailure`` for an error answer; anything else it raises goes to the
    error table (network errors, token refresh failures)."""

    def send(self, request: Any) -> Any: ...

    def refresh(self) -> bool:
        """Renew the access token after the provider refused it; False: nothing to renew."""
        ...


class SessionTransport:
    """Plain HTTP through a ``requests`` session (google-auth's ``AuthorizedSession`` for
    Google's APIs without a discovery document)."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        *,
        timeout: float = 30.0,
        refresh: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self._refresh = refresh

    def send(self, request: Call) -> dict[str, Any]:
        url = self.base_url + request.path.lstrip("/")
        response = self.session.request(
            request.method, url, params=request.params, json=request.json, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise ProviderFailure(
                Failure(
                    response.status_code,
                    json_or_empty(response),
                    retry_after_seconds(response.headers.get("Retry-After")),
                )
            )
        return json_or_empty(response)

    def refresh(self) -> bool:
        if self._refresh is None:
            return False
        self._refresh()
        return True


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from these providers, and backoff covers it


class ProviderClient:
    """Sends requests for one connection through its transport; retries what the error table
    says is worth it, renews a refused token once, and never repeats a write blind.

    Short waits happen here; a wait longer than ``max_wait`` is handed back to the worker as
    ``RateLimited``/``Transient`` so that it can re-enqueue the job instead of holding a thread.
    ``session``/``base_url`` are a shorthand for a ``SessionTransport``.
    """

    def __init__(
        self,
        transport: Transport | None = None,
        *,
        error_table: ErrorTable,
        session: requests.Session | None = None,
        base_url: str = "",
        limiter: Limiter | None = None,
        timeout: float = 30.0,
        max_attempts: int = 4,
        base_backoff: float = 0.5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if transport is None:
            if session is None:
                raise TypeError("a ProviderClient needs a transport (or a session to send with)")
            transport = SessionTransport(session, base_url, timeout=timeout)
        self.transport = transport
        self.error_table = error_table
        self.limiter = limiter or Unlimited()
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
        """One call by path; ``write`` defaults to "anything but GET/HEAD" (see :meth:`send`)."""
        if write is None:
            write = method.upper() not in READ_METHODS
        answer: dict[str, Any] = self.send(
            Call(method, path, params, json), write=write, wait_out_rate_limits=wait_out_rate_limits
        )
        return answer

    def send(self, request: Any, *, write: bool = False, wait_out_rate_limits: bool = True) -> Any:
        """Send one request through the transport, with classification and retries.

        A ``write`` is never repeated blind: after a failure that leaves its outcome unknown it
        raises ``OutcomeUnknown`` at once, and the caller reads the provider's state back before
        writing again (the reply outbox does).

        ``wait_out_rate_limits=False``: a rate-limit refusal is raised at once (``RateLimited``)
        for the caller to pace and re-enqueue, rather than slept on here (per-location writes,
        whose limit a short in-place wait would only meet again).
        """
        refreshed = False
        for number in range(1, self.max_attempts + 1):
            self.limiter.acquire()
            self.requests_made += 1
            try:
                return self.transport.send(request)
            except errors.ProviderError:
                raise
            except Exception as exc:
                decided = self.error_table.decide(exc, write=write)
                if decided is None:
                    raise
                action, message, wait = decided
            if action is Action.REFRESH_THEN_RETRY and not refreshed:
                refreshed = self._refresh()
                if refreshed:
                    continue  # at once: the request was refused, not failed
            if action not in (Action.RETRY, Action.RATE_LIMITED):
                raise RAISES[action](message)
            wait = wait if wait is not None else self._backoff(number)
            held_back = action is Action.RATE_LIMITED and not wait_out_rate_limits
            if held_back or number == self.max_attempts or wait > self.max_wait:
                raise RAISES[action](message, retry_after=wait)  # type: ignore[call-arg]
            log.info("provider asked to wait %.1fs (%s), attempt %d", wait, action.value, number)
            if action is Action.RATE_LIMITED:
                self.rate_limit_waits += 1
            self.sleep(wait)
        raise AssertionError("unreachable")

    def _refresh(self) -> bool:
        """Renew the token once; a renewal that fails is classified like any failure."""
        try:
            return self.transport.refresh()
        except errors.ProviderError:
            raise
        except Exception as exc:
            decided = self.error_table.decide(exc, write=False)
            if decided is None:
                raise
            action, message, wait = decided
            if action in (Action.RETRY, Action.RATE_LIMITED):
                raise RAISES[action](message, retry_after=wait) from None  # type: ignore[call-arg]
            raise RAISES[action](message) from None

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many workers from retrying in lockstep.
        return random.uniform(0, self.base_backoff * 2 ** (attempt - 1))


def json_or_empty(response: requests.Response) -> dict[str, Any]:
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
        self.location = ""  # set by ``read``: the location the pass is over

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
    ) -> Pass:
        """``resume``: a stopped pass's ``position``, to carry on from there."""
        self.location = location
        return IncrementalPass(self, location, cursor, resume)


class ChildStream(Stream):
    """A capability whose records hang under the records of a parent listing (Facebook:
    comments under posts): the parents are listed, and the children of every parent changed
    since the cursor are read (``connectors.passes.ChildPass``).

    ``parent``: the parents' listing, newest-updated first; ``parent_updated``: when anything
    under a parent last changed (the cursor is the latest of these); ``child_path_template``
    (of ``{parent}``), ``child_query``: the children's listing, paged like the parent's.
    """

    parent: ClassVar[type[Listing]]
    child_path_template: ClassVar[str]
    child_query: ClassVar[dict[str, Any]] = {}

    @abstractmethod
    def parent_updated(self, record: dict[str, Any]) -> datetime:
        """Raise MalformedRecord when the parent cannot be understood."""

    def parent_id(self, record: Any) -> str:
        found = self.parent(self.client).record_id(record)
        if found is None:
            raise MalformedRecord("parent has no id")
        return found

    def child_path(self, parent_id: str) -> str:
        return self.child_path_template.format(parent=parent_id)

    def parse_all(self, record: dict[str, Any]) -> list[ItemRecord]:
        """Every item one child record holds (a comment and its thread, say)."""
        return [self.parse(record)]

    def read(
        self, location: str, cursor: datetime | None, resume: dict[str, Any] | None = None
    ) -> Pass:
        self.location = location
        return ChildPass(self, location, cursor, resume)
