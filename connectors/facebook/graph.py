"""facebook-sdk 3.1.0 (its last release), adapted in one place.

Two workarounds, both from PROVIDERS.md §F:

- its constructor only accepts versions up to 3.1, so the pinned version is set on the client
  after constructing it;
- its base URL is a module constant joined to every path, so instead of mutating the module we
  inject a ``requests.Session`` that re-targets those URLs at the configured Graph URL (and
  reads the usage headers the SDK ignores).

Everything else talks to :class:`GraphClient`, which classifies the SDK's ``GraphAPIError``
through the Facebook error table and retries like every other provider client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import facebook
import requests

from connectors.base import Call, Failure, Limiter, ProviderClient, ProviderFailure
from connectors.facebook import versions
from connectors.facebook.errors import FacebookErrors
from connectors.facebook.usage import Usage, share_usage, usage_scopes
from connectors.limits import UsageGate
from connectors.paging import CursorPaginator
from core.settings import get_settings

T = TypeVar("T")


class GraphSession(requests.Session):
    """Sends the SDK's requests to ``base_url`` and keeps the last answer's usage figures."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.usage = Usage()
        self.last_status = 200
        # Proxies from the environment, read once rather than on every request of a long sync.
        self.proxies = requests.utils.get_environ_proxies(self.base_url)
        self.trust_env = False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        target = url.decode() if isinstance(url, bytes) else url
        if target.startswith(facebook.FACEBOOK_GRAPH_URL):
            target = self.base_url + target[len(facebook.FACEBOOK_GRAPH_URL) :]
        response = super().request(method, target, *args, **kwargs)
        self.usage = Usage.from_headers(response.headers)
        self.last_status = response.status_code
        return response


def version() -> str:
    """The pinned version; an unlisted or ended one is used as it is, and logged."""
    pinned = versions.normalise(get_settings().facebook_graph_version)
    versions.log_warnings(pinned, versions.today_utc())
    return pinned


def graph_api(
    access_token: str | None, session: GraphSession, graph_version: str | None = None
) -> facebook.GraphAPI:
    settings = get_settings()
    graph = facebook.GraphAPI(
        access_token=access_token,
        timeout=settings.provider_timeout_seconds,
        session=session,
    )
    # The constructor's check would refuse "22.0"; the attribute is what every call uses.
    graph.version = graph_version or version()
    return graph


class GraphTransport:
    """facebook-sdk: a ``Call`` by path (under the client's version) or an SDK operation
    (``lambda graph: graph.extend_access_token(…)``); its ``GraphAPIError`` becomes the answer
    to classify, and every answer's usage figures are shared with the other processes."""

    def __init__(
        self,
        graph: facebook.GraphAPI,
        session: GraphSession,
        gate: UsageGate | None,
        page_id: str | None,
    ) -> None:
        self.graph, self.session, self.gate, self.page_id = graph, session, gate, page_id

    def send(self, request: Call | Callable[[facebook.GraphAPI], Any]) -> Any:
        operation = self._by_path(request) if isinstance(request, Call) else request
        try:
            answer = operation(self.graph)
        except facebook.GraphAPIError as exc:
            body = exc.result if isinstance(exc.result, dict) else {}
            usage = self.session.usage
            if self.gate is not None:
                share_usage(self.gate, usage, body, page_id=self.page_id)
            retry_after = usage.regain_seconds if usage.regain_seconds > 0 else None
            raise ProviderFailure(Failure(self.session.last_status, body, retry_after)) from None
        if self.gate is not None:
            share_usage(self.gate, self.session.usage, None, page_id=self.page_id)
        return answer

    def _by_path(self, call: Call) -> Callable[[facebook.GraphAPI], Any]:
        """``path`` without the version; ``json`` is sent as form fields, as the SDK does."""
        full_path = f"{self.graph.version}/{call.path.lstrip('/')}"
        return lambda graph: graph.request(
            full_path,
            args=dict(call.params or {}),
            post_args=dict(call.json) if call.json is not None else None,
            method=call.method,
        )

    def refresh(self) -> bool:
        return False  # long-lived tokens are not refreshed: a refused one needs a person


class GraphClient(ProviderClient):
    """One token's Graph API calls, through facebook-sdk, classified and retried."""

    def __init__(
        self,
        access_token: str | None,
        *,
        limiter: Limiter | None = None,
        page_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        graph_version: str | None = None,
    ) -> None:
        """``graph_version``: another version than the pinned one, for an edge only an older
        version still serves (recommendations)."""
        settings = get_settings()
        session = GraphSession(settings.facebook_graph_url)
        # A page token's calls count against the app and the page (PROVIDERS.md §G.6).
        self.page_id = page_id
        self.gate = limiter if isinstance(limiter, UsageGate) else None
        if self.gate is not None:
            limiter = self.gate.scoped(usage_scopes(page_id))
        self.graph_session = session
        self.graph = graph_api(access_token, session, graph_version)
        super().__init__(
            GraphTransport(self.graph, session, self.gate, page_id),
            error_table=FacebookErrors(),
            limiter=limiter,
            sleep=sleep,
        )

    def sdk(self, call: Callable[[facebook.GraphAPI], T], *, write: bool = False) -> T:
        """Run one facebook-sdk call with classification and retries (none blind for a write)."""
        answer: T = self.send(call, write=write)
        return answer


def edge(client: ProviderClient, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of one cursor-paged edge, as bodies."""
    paginator = CursorPaginator()
    while True:
        body = client.request("GET", path, params=params)
        yield body
        following = paginator.next_params(body)
        if following is None:
            return
        params = {**params, **following}
