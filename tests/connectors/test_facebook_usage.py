"""Facebook's usage headers and the pacing they drive, against hand-built headers, an injected
clock, and the shared store on its real back-ends (Redis, PostgreSQL): what one client (one
process) learns paces every other from its first call."""

from __future__ import annotations

import json
import uuid

import pytest
import redis

from connectors.errors import RateLimited
from connectors.facebook.graph import GraphClient
from connectors.facebook.usage import APP, Level, Usage, page_scope, share_usage
from connectors.limits import RedisCounter, UsageGate
from core.settings import get_settings
from services.sync.limits import PostgresCounter
from tests.connectors.scripted import Reply, ScriptedServer

START = 1_800_000_000.0  # a minute's first second


def buc(page: str, call_count: int, regain_minutes: int = 0) -> str:
    entry = {
        "type": "pages",
        "call_count": call_count,
        "total_cputime": 5,
        "total_time": 5,
        "estimated_time_to_regain_access": regain_minutes,
    }
    return json.dumps({page: [entry]})


def app_usage(call_count: int) -> str:
    return json.dumps({"call_count": call_count, "total_cputime": 3, "total_time": 3})


# -- the headers ------------------------------------------------------------------------------


def test_no_header_means_low_use_not_an_error():
    usage = Usage.from_headers({})
    assert usage == Usage() and usage.percent == 0 and usage.regain_seconds == 0


def test_each_page_has_its_own_figures_and_its_wait_in_seconds():
    both = json.loads(buc("111", 40)) | json.loads(buc("222", 100, regain_minutes=3))
    usage = Usage.from_headers(
        {
            "X-App-Usage": app_usage(12),
            "X-Page-Usage": json.dumps({"call_count": 1, "total_cputime": 30, "total_time": 2}),
            "X-Business-Use-Case-Usage": json.dumps(both),
        }
    )
    assert usage.app == Level(30.0)  # the token's own limit counts with the app's
    assert usage.pages == {"111": Level(40.0), "222": Level(100.0, 180.0)}
    assert (usage.percent, usage.regain_seconds) == (100.0, 180.0)


def test_figures_that_are_not_numbers_are_ignored():
    usage = Usage.from_headers(
        {
            "x-app-usage": json.dumps({"call_count": "90", "total_time": True}),
            "x-business-use-case-usage": json.dumps({"1": "nope", "2": [None, {"call_count": 7}]}),
        }
    )
    assert usage.app == Level() and usage.pages == {"1": Level(), "2": Level(7.0)}


# -- pacing, shared -------------------------------------------------------------------------


@pytest.fixture(params=["redis", "postgresql"])
def store(request, db):
    if request.param == "redis":
        return RedisCounter(redis.Redis.from_url(get_settings().broker_url), uuid.uuid4().hex)
    return PostgresCounter()


class Clock:
    def __init__(self) -> None:
        self.now, self.slept = START, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gates(store, clock):
    """Gates as separate processes have them: one store, caches of their own."""
    prefix = uuid.uuid4().hex

    def gate() -> UsageGate:
        return UsageGate(store, prefix, slowdown_percent=80, clock=clock, sleep=clock.sleep)

    return gate


def test_a_new_client_is_paced_from_its_first_call_by_what_another_process_saw(gates, clock):
    # Given one process saw the page at 90 %
    gates().report(page_scope("1"), 90)

    # When a fresh gate (another process) makes its first call about that page
    gates().acquire((APP, page_scope("1")))

    # Then it waits half of the 2 s slowdown (90 % is halfway from 80 % to 100 %)
    assert clock.slept == [1.0]


def test_below_the_slowdown_and_with_nothing_known_calls_go_at_once(gates, clock):
    first, other = gates(), gates()
    first.report(APP, 79)
    other.acquire((APP, page_scope("1")))
    assert clock.slept == []


def test_a_throttled_page_waits_its_announced_time_and_other_pages_do_not(gates, clock):
    # Given Facebook announced 2 minutes for page 1 to one process
    gates().report(page_scope("1"), 100, regain_seconds=120)
    other = gates()

    # Then another process hands a call to page 1 back for those 2 minutes
    with pytest.raises(RateLimited) as refused:
        other.acquire((APP, page_scope("1")))
    assert refused.value.retry_after == pytest.approx(120)
    # And page 2 is not held up at all
    other.acquire((APP, page_scope("2")))
    assert clock.slept == []

    # And once the time is out, page 1 goes again
    clock.now += 121
    other.acquire((APP, page_scope("1")))


def test_a_scope_at_100_percent_waits_briefly_in_place_even_without_an_announced_time(gates, clock):
    gates().report(APP, 100)
    gates().acquire((APP,))
    assert clock.slept[0] == pytest.approx(2.0, abs=1.0)  # blocked to the whole second


def test_figures_fade_when_nobody_reports_them_for_two_minutes(gates, clock):
    gates().report(page_scope("1"), 95)
    clock.now += 60  # the next minute still knows the last one's figure
    gates().acquire((page_scope("1"),))
    assert len(clock.slept) == 1
    clock.now += 60
    gates().acquire((page_scope("1"),))
    assert len(clock.slept) == 1


def test_what_an_answer_says_is_shared_by_the_scope_it_concerns(gates, clock):
    gate, other = gates(), gates()

    # A Pages limit refusal with a page token: that page waits its announced minutes
    refusal = {"error": {"code": 80001, "message": "(#80001) too many calls"}}
    usage = Usage.from_headers({"x-business-use-case-usage": buc("1", 100, 4)})
    share_usage(gate, usage, refusal, page_id="1")
    with pytest.raises(RateLimited) as page_refused:
        other.acquire((APP, page_scope("1")))
    assert page_refused.value.retry_after == pytest.approx(240)
    other.acquire((APP, page_scope("2")))

    # The application's limit (4): every call of the app waits a minute, whatever the page
    share_usage(gate, Usage.from_headers({"x-app-usage": app_usage(100)}), _code(4), page_id="2")
    with pytest.raises(RateLimited) as app_refused:
        gates().acquire((APP, page_scope("3")))
    assert app_refused.value.retry_after == pytest.approx(60, abs=1)


def test_a_page_limit_refused_to_a_user_token_holds_the_app(gates):
    share_usage(gates(), Usage(), _code(32), page_id=None)
    with pytest.raises(RateLimited):
        gates().acquire((APP,))


def _code(code: int) -> dict:
    return {"error": {"code": code, "message": f"(#{code}) limit", "is_transient": True}}


# -- through the Graph client, on the wire --------------------------------------------------


@pytest.fixture
def graph_at(scripted: ScriptedServer, configure, gates):
    configure(facebook_graph_url=scripted.url + "/", facebook_graph_version="v22.0")
    gate = gates()

    def client(page_id: str, slept: list[float]) -> GraphClient:
        return GraphClient("page-token", limiter=gate, page_id=page_id, sleep=slept.append)

    return client


def test_a_refused_page_stops_the_next_client_before_it_calls_and_leaves_other_pages(
    scripted: ScriptedServer, graph_at, clock
):
    # Given Facebook refuses page 1 with 80001 and 3 minutes to regain access
    scripted.answer(
        Reply(
            400,
            {"error": {"code": 80001, "type": "OAuthException", "is_transient": True}},
            {"X-Business-Use-Case-Usage": buc("1", 100, 3)},
        ),
        Reply(200, {"id": "2"}, {"X-Business-Use-Case-Usage": buc("2", 10)}),
    )
    with pytest.raises(RateLimited) as refused:
        graph_at("1", []).request("GET", "1")
    assert refused.value.retry_after == pytest.approx(180)

    # When a new client (a new job) calls page 1, nothing is sent
    with pytest.raises(RateLimited):
        graph_at("1", []).request("GET", "1")
    assert len(scripted.received) == 1

    # And page 2 is served as usual
    assert graph_at("2", []).request("GET", "2") == {"id": "2"}
