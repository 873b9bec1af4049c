"""Faults survived: the client, the middleware and the graph nodes against a MemOS that fails.

Every test talks over real sockets to ``fault_server.FaultServer`` (healthy answers from the
embedded engine, faults scripted per endpoint) or to a loopback port where nothing listens. For
each fault the suite checks what a caller sees (exception class, code, status, a message that
says what happened), how many attempts reached the server against the documented retry policy,
that an agent turn ends within a bound and answers with or without memories, and that a turn's
write reaches the service once it recovers.

Timeouts and retry counts are small client options, and a test that is not about how long a
retry waits takes the ``no_backoff`` fixture, so the suite stays fast. Times are compared only
as bounds: a retry comes no earlier than the wait the policy asks for, and a turn ends before a
generous deadline (a hang is a bug, a slow machine is not).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from langchain_memos import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncMemOSClient,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    MemOSClient,
    MemOSError,
    RateLimitError,
)
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.graph import MemOSGraphMemory
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.types import MessageInput, SearchMemoryResult
from tests.unit_tests.agent_fakes import ScriptedToolModel

from .fault_server import API_PREFIX, Fault, FaultServer, free_port

pytestmark = pytest.mark.loopback

SEARCH = "/search/memory"
ADD = "/add/message"
USER = "alice"
THREAD = "t1"
FACT = "I always travel with my kids and my parents."
QUESTION = "Where should I travel with my kids this summer?"
ANSWER = "Here is your answer."  # what ScriptedToolModel(tool_calls=0) says
NOTE = "Remember: my passport expires in May."

CLIENT_TIMEOUT = 2.0  # what the client-level tests' clients wait for an answer...
SHORT_TIMEOUT = 0.25  # ...and where the test is about a read timeout
RECALL_TIMEOUT = 2.0  # the agents' search deadline (the default)...
SHORT_RECALL = 0.5  # ...and where the test is about that deadline
SLACK = 5.0  # a turn may take this much beyond its search deadline: bounds a hang, not speed
SLOW = 3.0  # a hung server: longer than any timeout here (cut short when the server closes)
CLOCK = 0.01  # monotonic-clock granularity allowed when comparing arrival times
# Exponential backoff from 0.5 s with up to 25 % jitter: the earliest retry number n may come.
EARLIEST_BACKOFF = (0.375, 0.75)
OUTBOX_FIRST_BACKOFF = 1.0  # the durable outbox's first wait before it sends a write again

RATE_LIMITED = "token usage per time window exceeded"


# ---- the service ---------------------------------------------------------------------------


@pytest.fixture
def engine() -> Iterator[EmbeddedEngine]:
    """The engine behind the server, where alice already said who she travels with."""
    engine = EmbeddedEngine(":memory:")
    with MemOSClient(embedded=engine) as local:
        local.add_message(
            [{"role": "user", "content": FACT}], user_id=USER, conversation_id="earlier"
        )
    yield engine
    engine.close()


@pytest.fixture
def server(engine: EmbeddedEngine) -> Iterator[FaultServer]:
    with FaultServer(engine) as running:
        yield running


def dead_url() -> str:
    """An API root on a loopback port where nothing listens: connections are refused."""
    return f"http://127.0.0.1:{free_port()}{API_PREFIX}"


def stored(engine: EmbeddedEngine, conversation: str = THREAD) -> list[Any]:
    """The contents of the messages the engine holds for alice's ``conversation``."""
    with MemOSClient(embedded=engine) as local:
        found = local.get_message(user_id=USER, conversation_id=conversation)
    return [message.content for message in found.message_detail_list]


def wait_until_stored(engine: EmbeddedEngine, content: str, timeout: float = 5.0) -> None:
    """Wait for a write the server is still processing after its client gave up."""
    deadline = time.monotonic() + timeout
    while content not in stored(engine) and time.monotonic() < deadline:
        time.sleep(0.05)


def recalls_fact(found: SearchMemoryResult) -> bool:
    """Whether a search found what alice said before."""
    return any(FACT in (memory.memory_value or "") for memory in found.memory_detail_list)


def retries_logged(caplog: pytest.LogCaptureFixture, endpoint: str) -> int:
    """How many retries of ``endpoint`` the client logged (one DEBUG line each)."""
    return sum(
        record.getMessage().startswith(f"retrying POST {endpoint} ") for record in caplog.records
    )


# ---- client level --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A fault, and what a client with ``max_retries=1`` must make of it."""

    name: str
    fault: Fault | None  # None: nothing listens on the port (connection refused)
    error: type[MemOSError]
    attempts: int  # requests sent in all: the first one and the retries
    says: tuple[str, ...]  # fragments of str(error)
    code: int | None = None
    http_status: int | None = None
    stored: int | None = None  # writes only: how many times the engine stored the message
    # Also with the async client, whose transport and sleeps are its own; error answers are
    # parsed by code both clients share, so for those the sync client is enough.
    both: bool = False
    timeout: float = CLIENT_TIMEOUT


def with_modes(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(case, mode, id=f"{case.name}-{mode}")
        for case in cases
        for mode in (("sync", "async") if case.both else ("sync",))
    ]


READS = [
    Case("http-500-html", Fault.status(500), InternalServerError, 2, ("HTTP 500",), None, 500),
    Case("http-503-html", Fault.status(503), InternalServerError, 2, ("HTTP 503",), None, 503),
    Case(
        "rate-limit-40309",
        Fault.error(40309, RATE_LIMITED, http_status=429),
        RateLimitError,
        2,
        (RATE_LIMITED, "code=40309"),
        code=40309,
        http_status=429,
    ),
    Case(
        "call-quota-40300",
        Fault.error(40300, "call-count quota exceeded"),
        RateLimitError,
        2,
        ("quota exceeded", "code=40300"),
        code=40300,
        http_status=200,
    ),
    Case(
        "token-quota-40301",
        Fault.error(40301, "request token quota exceeded"),
        RateLimitError,
        1,
        ("token quota", "code=40301"),
        code=40301,
        http_status=200,
    ),
    Case(
        "calls-exhausted-40304",
        Fault.error(40304, "account total API calls exhausted"),
        RateLimitError,
        1,
        ("exhausted", "code=40304"),
        code=40304,
        http_status=200,
    ),
    Case(
        "unavailable-50005",
        Fault.error(50005, "search service temporarily unavailable"),
        InternalServerError,
        2,
        ("temporarily unavailable", "code=50005"),
        code=50005,
        http_status=200,
    ),
    Case(
        "error-envelope-http-200",
        Fault.error(40000, "Invalid request parameters: filter object cannot be empty"),
        BadRequestError,
        1,
        ("filter object cannot be empty", "code=40000", "http_status=200"),
        code=40000,
        http_status=200,
    ),
    Case(
        "invalid-key-40132",
        Fault.error(40132, "invalid or expired API key", http_status=401),
        AuthenticationError,
        1,
        ("invalid or expired", "code=40132"),
        code=40132,
        http_status=401,
    ),
    Case("refused", None, APIConnectionError, 2, ("could not reach MemOS", "refused"), both=True),
    Case(
        "reset",
        Fault.reset(),
        APIConnectionError,
        2,
        ("lost the connection", "reset by peer", "may have been processed"),
        both=True,
    ),
    Case(
        "disconnect",
        Fault.disconnect(),
        APIConnectionError,
        2,
        ("lost the connection", "without sending a response"),
        both=True,
    ),
    Case(
        "read-timeout",
        Fault.slow(SLOW),
        APITimeoutError,
        2,
        ("did not answer in time", "ReadTimeout"),
        both=True,
        timeout=SHORT_TIMEOUT,
    ),
    Case(
        "truncated",
        Fault.truncated(),
        APIConnectionError,
        2,
        ("lost the connection", "complete message body"),
        both=True,
    ),
    # A body delimited by the connection's close arrives "complete"; only the JSON shows it.
    Case(
        "truncated-no-length",
        Fault.truncated(declare_length=False),
        APIResponseValidationError,
        1,
        ("HTTP 200", "truncated JSON body"),
        http_status=200,
        both=True,
    ),
    Case(
        "html-200",
        Fault.non_json(),
        APIResponseValidationError,
        1,
        ("HTTP 200", "non-JSON body", "text/html", "<html>"),
        http_status=200,
        both=True,
    ),
    Case(
        "empty-body-200",
        Fault(name="empty body", body=b""),
        APIResponseValidationError,
        1,
        ("HTTP 200 with an empty body",),
        http_status=200,
    ),
    Case(
        "json-without-code",
        Fault.reply({"data": {"memory_detail_list": []}}),
        APIResponseValidationError,
        1,
        ("not a MemOS envelope",),
        http_status=200,
    ),
    Case(
        "wrong-data-shape",
        Fault.reply({"code": 0, "message": "ok", "data": {"memory_detail_list": "none"}}),
        APIResponseValidationError,
        1,
        ("unexpected data",),
        http_status=200,
    ),
]

# Writes are retried only when MemOS provably did not process them (README, "Retries").
WRITES = [
    Case("http-503-html", Fault.status(503), InternalServerError, 1, ("HTTP 503",), None, 503, 0),
    Case(
        "internal-50000-http-500",
        Fault.error(50000, "internal error", http_status=500),
        InternalServerError,
        1,
        ("internal error", "code=50000"),
        code=50000,
        http_status=500,
        stored=0,
    ),
    Case(
        "unavailable-50004",
        Fault.error(50004, "memory service temporarily unavailable"),
        InternalServerError,
        1,
        ("temporarily unavailable", "code=50004"),
        code=50004,
        http_status=200,
        stored=0,
    ),
    Case(
        "add-failed-50144",
        Fault.error(50144, "add message failed"),
        InternalServerError,
        2,
        ("add message failed", "code=50144"),
        code=50144,
        http_status=200,
        stored=0,
    ),
    Case("http-429-html", Fault.status(429), RateLimitError, 2, ("HTTP 429",), None, 429, 0),
    Case(
        "rate-limit-40309",
        Fault.error(40309, RATE_LIMITED, http_status=429),
        RateLimitError,
        2,
        (RATE_LIMITED, "code=40309"),
        code=40309,
        http_status=429,
        stored=0,
        both=True,
    ),
    Case(
        "call-quota-40300",
        Fault.error(40300, "call-count quota exceeded"),
        RateLimitError,
        2,
        ("code=40300",),
        code=40300,
        http_status=200,
        stored=0,
    ),
    Case(
        "token-quota-40301",
        Fault.error(40301, "request token quota exceeded"),
        RateLimitError,
        1,
        ("code=40301",),
        code=40301,
        http_status=200,
        stored=0,
    ),
    Case(
        "error-envelope-http-200",
        Fault.error(40000, "Invalid messages parameters"),
        BadRequestError,
        1,
        ("Invalid messages parameters", "http_status=200"),
        code=40000,
        http_status=200,
        stored=0,
    ),
    Case("refused", None, APIConnectionError, 2, ("could not reach MemOS", "refused"), both=True),
    Case(
        "reset",
        Fault.reset(),
        APIConnectionError,
        1,
        ("may have been processed",),
        stored=0,
        both=True,
    ),
    Case(
        "reset-after-storing",
        Fault.reset(processed=True),
        APIConnectionError,
        1,
        ("reset by peer", "may have been processed"),
        stored=1,
    ),
    Case(
        "disconnect",
        Fault.disconnect(),
        APIConnectionError,
        1,
        ("without sending a response",),
        stored=0,
        both=True,
    ),
    # The server stores the turn after the client gave up: a retry would have stored it twice.
    Case(
        "read-timeout",
        Fault.slow(0.5),
        APITimeoutError,
        1,
        ("did not answer in time",),
        stored=1,
        both=True,
        timeout=SHORT_TIMEOUT,
    ),
    Case(
        "truncated",
        Fault.truncated(),
        APIConnectionError,
        1,
        ("complete message body",),
        stored=1,
        both=True,
    ),
    Case(
        "truncated-no-length",
        Fault.truncated(declare_length=False),
        APIResponseValidationError,
        1,
        ("truncated JSON body",),
        http_status=200,
        stored=1,
    ),
    Case(
        "html-200",
        Fault.non_json(),
        APIResponseValidationError,
        1,
        ("non-JSON body",),
        http_status=200,
        stored=0,
        both=True,
    ),
]


async def send(
    mode: str,
    base_url: str,
    endpoint: str,
    *,
    max_retries: int = 1,
    timeout: float = CLIENT_TIMEOUT,
) -> Any:
    """One search (``SEARCH``) or one write of ``NOTE`` (``ADD``), with a fresh client."""
    note: list[MessageInput] = [{"role": "user", "content": NOTE}]
    if mode == "sync":
        with MemOSClient(base_url=base_url, max_retries=max_retries, timeout=timeout) as client:
            if endpoint == SEARCH:
                return client.search_memory(QUESTION, user_id=USER)
            return client.add_message(note, user_id=USER, conversation_id=THREAD)
    async with AsyncMemOSClient(
        base_url=base_url, max_retries=max_retries, timeout=timeout
    ) as aclient:
        if endpoint == SEARCH:
            return await aclient.search_memory(QUESTION, user_id=USER)
        return await aclient.add_message(note, user_id=USER, conversation_id=THREAD)


async def check_case(
    case: Case,
    endpoint: str,
    mode: str,
    server: FaultServer,
    caplog: pytest.LogCaptureFixture,
) -> MemOSError:
    caplog.set_level(logging.DEBUG, logger="langchain_memos")
    if case.fault is not None:
        server.always(endpoint, case.fault)
    base_url = server.base_url if case.fault is not None else dead_url()

    with pytest.raises(case.error) as caught:
        await send(mode, base_url, endpoint, timeout=case.timeout)

    error = caught.value
    assert type(error) is case.error
    for fragment in case.says:
        assert fragment.lower() in str(error).lower()
    assert isinstance(error, APIError | APIConnectionError)
    assert error.path == endpoint
    if isinstance(error, APIError):
        assert (error.code, error.http_status) == (case.code, case.http_status)
    if case.fault is not None:
        assert server.count(endpoint) == case.attempts
    assert retries_logged(caplog, endpoint) == case.attempts - 1
    return error


@pytest.mark.usefixtures("no_backoff")  # about what fails, not how long a retry waits
@pytest.mark.parametrize(("case", "mode"), with_modes(READS))
async def test_a_failed_read_says_what_happened_after_the_documented_retries(
    case: Case, mode: str, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    await check_case(case, SEARCH, mode, server, caplog)


@pytest.mark.usefixtures("no_backoff")  # about what fails, not how long a retry waits
@pytest.mark.parametrize(("case", "mode"), with_modes(WRITES))
async def test_a_failed_write_is_retried_only_when_it_was_not_processed(
    case: Case,
    mode: str,
    server: FaultServer,
    engine: EmbeddedEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await check_case(case, ADD, mode, server, caplog)
    if case.stored:
        wait_until_stored(engine, NOTE)
    if case.stored is not None:
        assert stored(engine).count(NOTE) == case.stored


@pytest.mark.parametrize(
    ("mode", "endpoint", "fault"),
    [
        ("sync", SEARCH, Fault.status(429, retry_after=1)),
        ("async", ADD, Fault.error(40309, RATE_LIMITED, http_status=429, retry_after=1)),
    ],
    ids=["sync-search-429", "async-write-40309"],
)
async def test_retry_after_is_waited_for(
    mode: str, endpoint: str, fault: Fault, server: FaultServer, engine: EmbeddedEngine
) -> None:
    server.plan(endpoint, [fault])  # then healthy

    await send(mode, server.base_url, endpoint)

    first, second = server.hits(endpoint)
    assert (first.fault, second.fault) == (fault.name, "ok")
    assert second.at - first.at >= 1.0 - CLOCK
    if endpoint == ADD:
        assert stored(engine).count(NOTE) == 1


async def test_a_read_that_fails_twice_succeeds_on_the_last_retry_after_backing_off(
    server: FaultServer,
) -> None:
    server.plan(SEARCH, [Fault.status(503), Fault.disconnect()])

    found = await send("sync", server.base_url, SEARCH, max_retries=2)

    assert recalls_fact(found)
    hits = server.hits(SEARCH)
    assert [hit.fault for hit in hits] == ["HTTP 503 (HTML)", "closed without an answer", "ok"]
    for earlier, later, earliest in zip(hits[:-1], hits[1:], EARLIEST_BACKOFF, strict=True):
        assert later.at - earlier.at >= earliest - CLOCK


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "fault",
    [Fault.reset(), Fault.disconnect(), Fault.truncated(), Fault.slow(SLOW)],
    ids=["reset", "disconnect", "truncated", "read-timeout"],
)
async def test_a_broken_connection_does_not_break_the_next_call(
    mode: str, fault: Fault, server: FaultServer
) -> None:
    server.plan(SEARCH, [fault])
    timeout = SHORT_TIMEOUT if fault.delay else CLIENT_TIMEOUT
    if mode == "sync":
        with MemOSClient(base_url=server.base_url, max_retries=0, timeout=timeout) as client:
            with pytest.raises(APIConnectionError):
                client.search_memory(QUESTION, user_id=USER)
            found = client.search_memory(QUESTION, user_id=USER)
    else:
        async with AsyncMemOSClient(
            base_url=server.base_url, max_retries=0, timeout=timeout
        ) as aclient:
            with pytest.raises(APIConnectionError):
                await aclient.search_memory(QUESTION, user_id=USER)
            found = await aclient.search_memory(QUESTION, user_id=USER)
    assert recalls_fact(found)


# ---- agent level ---------------------------------------------------------------------------


@asynccontextmanager
async def agent_clients(
    base_url: str, *, max_retries: int = 0, timeout: float = 2.0
) -> AsyncIterator[tuple[MemOSClient, AsyncMemOSClient]]:
    """A sync and an async client for an agent; closed at the end of the block."""
    client = MemOSClient(base_url=base_url, max_retries=max_retries, timeout=timeout)
    aclient = AsyncMemOSClient(base_url=base_url, max_retries=max_retries, timeout=timeout)
    try:
        yield client, aclient
    finally:
        client.close()
        await aclient.aclose()


def config() -> RunnableConfig:
    return {"configurable": {"user_id": USER, "thread_id": THREAD}}


async def timed_turn(runnable: Any, mode: str) -> tuple[dict[str, Any], float]:
    """Run one user turn; return the final state and how long it took."""
    payload = {"messages": [HumanMessage(QUESTION)]}
    started = time.monotonic()
    if mode == "sync":
        result = runnable.invoke(payload, config())
    else:
        result = await runnable.ainvoke(payload, config())
    return result, time.monotonic() - started


def deadline(fault: Fault | None) -> float:
    """The search deadline of an agent: short where the server hangs, else the default."""
    return SHORT_RECALL if fault is not None and fault.delay else RECALL_TIMEOUT


def search_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "memory search failed" in record.getMessage()
    ]


@dataclass(frozen=True)
class SearchFault:
    name: str
    fault: Fault | None  # None: nothing listens (connection refused)
    says: str  # what the logged warning says about the cause

    def __str__(self) -> str:
        return self.name


SEARCH_FAULTS = [
    SearchFault("http-500-html", Fault.status(500), "HTTP 500"),
    SearchFault("http-502-html", Fault.status(502), "HTTP 502"),
    SearchFault("http-503-html", Fault.status(503), "HTTP 503"),
    SearchFault("http-429-retry-after", Fault.status(429, retry_after=1), "HTTP 429"),
    SearchFault(
        "rate-limit-40309", Fault.error(40309, RATE_LIMITED, http_status=429), "code=40309"
    ),
    SearchFault("call-quota-40300", Fault.error(40300, "call-count quota exceeded"), "code=40300"),
    SearchFault(
        "error-envelope-http-200", Fault.error(40000, "Invalid request parameters"), "code=40000"
    ),
    SearchFault("refused", None, "refused"),
    SearchFault("reset", Fault.reset(), "reset by peer"),
    SearchFault("disconnect", Fault.disconnect(), "without sending a response"),
    SearchFault("read-timeout", Fault.slow(SLOW), f"longer than {SHORT_RECALL:g} s"),
    SearchFault("truncated", Fault.truncated(), "complete message body"),
    SearchFault(
        "truncated-no-length", Fault.truncated(declare_length=False), "truncated JSON body"
    ),
    SearchFault("html-200", Fault.non_json(), "non-JSON body"),
    SearchFault(
        "wrong-data-shape",
        Fault.reply({"code": 0, "message": "ok", "data": {"memory_detail_list": "none"}}),
        "unexpected data",
    ),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", SEARCH_FAULTS, ids=str)
async def test_an_agent_turn_survives_a_failed_search(
    case: SearchFault,
    mode: str,
    server: FaultServer,
    engine: EmbeddedEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    if case.fault is not None:
        server.always(SEARCH, case.fault)
    base_url = server.base_url if case.fault is not None else dead_url()
    model = ScriptedToolModel(tool_calls=0)
    async with agent_clients(base_url) as (client, aclient):
        memory = MemOSMiddleware(client, async_client=aclient, timeout=deadline(case.fault))
        try:
            agent = create_agent(model, [], middleware=[memory])
            result, took = await timed_turn(agent, mode)
            # With nothing listening the write cannot be delivered: it stays in the outbox.
            written = case.fault is not None and memory.flush(timeout=SLACK)
        finally:
            memory.close(timeout=SLACK if case.fault is not None else 0.1)

    assert took < deadline(case.fault) + SLACK
    assert result["messages"][-1].text == ANSWER
    [call] = model.calls
    assert not any("<memories>" in message.text for message in call)
    [warning] = search_warnings(caplog)
    assert "answering without memories" in warning
    assert case.says.lower() in warning.lower()
    if case.fault is not None:
        assert server.count(SEARCH) == 1  # max_retries=0: one attempt, no more
        assert written
        assert stored(engine) == [QUESTION, ANSWER]  # the turn is remembered all the same


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "fault",
    [
        None,
        Fault.reply({"code": 0, "message": "ok"}),
        Fault.reply({"code": 200, "message": "ok", "data": {"memory_detail_list": [{"id": "m1"}]}}),
    ],
    ids=["healthy", "success-without-data", "memory-without-text"],
)
async def test_an_agent_turn_with_a_successful_search(
    fault: Fault | None,
    mode: str,
    server: FaultServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Memories when there are some; a success envelope with missing fields recalls nothing."""
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    if fault is not None:
        server.always(SEARCH, fault)
    model = ScriptedToolModel(tool_calls=0)
    async with agent_clients(server.base_url) as (client, aclient):
        memory = MemOSMiddleware(client, async_client=aclient, timeout=RECALL_TIMEOUT)
        try:
            result, took = await timed_turn(create_agent(model, [], middleware=[memory]), mode)
        finally:
            memory.close(timeout=SLACK)

    assert took < RECALL_TIMEOUT + SLACK
    assert result["messages"][-1].text == ANSWER
    [call] = model.calls
    system = call[0].text if call[0].type == "system" else ""
    assert ("<memories>" in system and FACT in system) is (fault is None)
    assert search_warnings(caplog) == []


@pytest.mark.parametrize(
    ("fault", "mode"),
    [(Fault.status(503), "sync"), (Fault.slow(SLOW), "async")],
    ids=["http-503-sync", "read-timeout-async"],
)
async def test_client_retries_never_stretch_a_turn_past_its_search_deadline(
    fault: Fault, mode: str, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With the default retries, a failing search would take seconds; the turn does not wait."""
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    server.always(SEARCH, fault)
    model = ScriptedToolModel(tool_calls=0)
    async with agent_clients(server.base_url, max_retries=2) as (client, aclient):
        memory = MemOSMiddleware(client, async_client=aclient, timeout=SHORT_RECALL)
        try:
            result, took = await timed_turn(create_agent(model, [], middleware=[memory]), mode)
        finally:
            memory.close(timeout=SLACK)

    assert took < SHORT_RECALL + SLACK
    assert result["messages"][-1].text == ANSWER
    [warning] = search_warnings(caplog)
    assert "answering without memories" in warning


def test_a_search_cut_short_by_its_deadline_still_says_what_failed(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    server.always(SEARCH, Fault.status(503))
    # The client would retry past 0.5 s (backoff from 0.375 s, then 0.75 s); the recall makes
    # one attempt within its deadline, and says why that failed.
    with MemOSClient(base_url=server.base_url, max_retries=2, timeout=2.0) as client:
        memory = MemOSMiddleware(client, timeout=SHORT_RECALL, write_back=False)
        agent = create_agent(ScriptedToolModel(tool_calls=0), [], middleware=[memory])
        agent.invoke({"messages": [HumanMessage(QUESTION)]}, config())
    [warning] = search_warnings(caplog)
    assert "HTTP 503" in warning


async def test_an_async_search_cut_short_by_its_deadline_still_says_what_failed(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    server.always(SEARCH, Fault.status(503))
    async with AsyncMemOSClient(base_url=server.base_url, max_retries=2, timeout=2.0) as client:
        memory = MemOSMiddleware(async_client=client, timeout=SHORT_RECALL, write_back=False)
        agent = create_agent(ScriptedToolModel(tool_calls=0), [], middleware=[memory])
        await agent.ainvoke({"messages": [HumanMessage(QUESTION)]}, config())
    [warning] = search_warnings(caplog)
    assert "HTTP 503" in warning


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_search_past_its_deadline_raises_what_it_waited_for(
    mode: str, server: FaultServer
) -> None:
    """``fail_open=False``: the deadline's error names the timeout under it, and comes in time."""
    server.always(SEARCH, Fault.slow(SLOW))
    async with agent_clients(server.base_url, max_retries=2) as (client, aclient):
        memory = MemOSMiddleware(
            client, async_client=aclient, timeout=SHORT_RECALL, fail_open=False, write_back=False
        )
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            await timed_turn(
                create_agent(ScriptedToolModel(tool_calls=0), [], middleware=[memory]), mode
            )
        took = time.monotonic() - started

    assert took < SHORT_RECALL + SLACK
    assert str(caught.value).startswith(f"the memory search took longer than {SHORT_RECALL:g} s")
    if mode == "sync":  # the client's own read timeout, set to the deadline, ended the wait
        assert "MemOS did not answer in time" in str(caught.value)
        assert "(ReadTimeout)" in str(caught.value)
    assert server.count(SEARCH) == 1


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def memory_graph(memory: MemOSGraphMemory, seen: list[list[BaseMessage]]) -> Any:
    def model(state: State) -> dict[str, Any]:
        seen.append(list(state["messages"]))
        return {"messages": [AIMessage(ANSWER)]}

    graph = StateGraph(State)
    graph.add_node("recall", memory.memory_node())
    graph.add_node("model", model)
    graph.add_node("save", memory.save_node())
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "model")
    graph.add_edge("model", "save")
    return graph.compile()


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    "fault",
    [None, Fault.status(503), Fault.slow(SLOW), Fault.reset(), Fault.non_json()],
    ids=["healthy", "http-503", "read-timeout", "reset", "html-200"],
)
async def test_a_graph_turn_survives_a_failed_search(
    fault: Fault | None,
    mode: str,
    server: FaultServer,
    engine: EmbeddedEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    if fault is not None:
        server.always(SEARCH, fault)
    seen: list[list[BaseMessage]] = []
    async with agent_clients(server.base_url) as (client, aclient):
        memory = MemOSGraphMemory(client, async_client=aclient, timeout=deadline(fault))
        try:
            result, took = await timed_turn(memory_graph(memory, seen), mode)
            written = memory.flush(timeout=SLACK)
        finally:
            memory.close(timeout=SLACK)

    assert took < deadline(fault) + SLACK
    assert result["messages"][-1].text == ANSWER
    [before_model] = seen
    recalled = any(FACT in message.text for message in before_model)
    assert recalled is (fault is None)
    assert len(search_warnings(caplog)) == (0 if fault is None else 1)
    assert written
    assert stored(engine) == [QUESTION, ANSWER]


# ---- writes after an outage ----------------------------------------------------------------


def writing_agent(client: MemOSClient) -> tuple[Any, MemOSMiddleware]:
    memory = MemOSMiddleware(client, timeout=RECALL_TIMEOUT)
    return create_agent(ScriptedToolModel(tool_calls=0), [], middleware=[memory]), memory


@pytest.mark.parametrize(
    "fault",
    [
        Fault.error(50144, "add message failed"),
        Fault.status(429, retry_after=0.2),
        Fault.error(40309, RATE_LIMITED, http_status=429, retry_after=0.2),
    ],
    ids=["add-failed-50144", "http-429-retry-after", "rate-limit-40309"],
)
def test_a_write_refused_within_the_retry_budget_is_delivered_once(
    fault: Fault,
    server: FaultServer,
    engine: EmbeddedEngine,
    caplog: pytest.LogCaptureFixture,
    no_backoff: list[float],
) -> None:
    """A refusal the client may retry (nothing was stored) is retried by the client itself."""
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    server.plan(ADD, [fault])  # then healthy
    with MemOSClient(base_url=server.base_url, max_retries=1, timeout=2.0) as client:
        agent, memory = writing_agent(client)
        try:
            agent.invoke({"messages": [HumanMessage(QUESTION)]}, config())
            assert memory.flush(timeout=SLACK)
        finally:
            memory.close(timeout=SLACK)

    assert [hit.fault for hit in server.hits(ADD)] == [fault.name, "ok"]
    assert len(no_backoff) == 1  # the client's own retry, not the outbox's
    assert stored(engine) == [QUESTION, ANSWER]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.usefixtures("no_backoff")  # about what fails, not how long a retry waits
@pytest.mark.parametrize(
    ("fault", "attempts"),
    [
        (Fault.status(503), 1),
        (Fault.reset(), 1),
        (Fault.status(429, retry_after=0.1), 2),  # rate-limited beyond the client's retries
    ],
    ids=["http-503", "reset", "rate-limited-past-retries"],
)
def test_a_turn_written_during_an_outage_is_delivered_after_recovery(
    fault: Fault, attempts: int, server: FaultServer, engine: EmbeddedEngine
) -> None:
    """Failures past the client's retries: the outbox tries again, with backoff, until it works."""
    server.always(ADD, fault)
    with MemOSClient(base_url=server.base_url, max_retries=1, timeout=2.0) as client:
        agent, memory = writing_agent(client)
        try:
            agent.invoke({"messages": [HumanMessage(QUESTION)]}, config())
            # The writer has tried (and the client has used its retries) while MemOS failed.
            assert server.wait_for(ADD, attempts, timeout=SLACK)
            server.heal(ADD)
            assert memory.flush(timeout=SLACK)
        finally:
            memory.close(timeout=SLACK)

    assert stored(engine) == [QUESTION, ANSWER]  # delivered, and once
    *failed, delivered = server.hits(ADD)
    assert len(failed) >= attempts
    assert {hit.fault for hit in failed} == {fault.name}
    assert delivered.fault == "ok"
    # The outbox waits before trying again (1 s at first, doubling: langchain_memos.outbox).
    assert delivered.at - failed[-1].at >= OUTBOX_FIRST_BACKOFF - CLOCK


@pytest.mark.usefixtures("no_backoff")  # about what fails, not how long a retry waits
def test_a_turn_written_while_memos_is_down_is_delivered_when_it_comes_back(
    engine: EmbeddedEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """Connections refused at first; then MemOS starts on the port the client points at."""
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    port = free_port()
    with MemOSClient(
        base_url=f"http://127.0.0.1:{port}{API_PREFIX}", max_retries=1, timeout=2.0
    ) as client:
        agent, memory = writing_agent(client)
        try:
            agent.invoke({"messages": [HumanMessage(QUESTION)]}, config())
            # Nothing listens, so the server cannot count attempts: give the writer time to try
            # (it logs a warning when a write fails), then bring MemOS up on the same port.
            give_up = time.monotonic() + 3.0
            while "write" not in caplog.text and time.monotonic() < give_up:
                time.sleep(0.05)
            with FaultServer(engine, port=port):
                assert memory.flush(timeout=SLACK)
        finally:
            memory.close(timeout=SLACK)

    assert stored(engine) == [QUESTION, ANSWER]
