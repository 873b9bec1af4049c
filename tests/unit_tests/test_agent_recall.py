"""The agents' recall (``_recall``): one search per turn, bounded by its deadline, on the caller's
thread, with errors and warnings that say what ran out."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from typing import Any

import httpx
import pytest

from langchain_memos import (
    APITimeoutError,
    AsyncMemOSClient,
    DeadlineExceededError,
    InternalServerError,
    MemOSClient,
    MemOSInputError,
)
from langchain_memos._recall import MemoryRecall
from langchain_memos.scope import Scope
from langchain_memos.settings import MemorySettings
from tests.fakes import FakeMemOS, envelope

SCOPE = Scope("alice", "t1")
FOUND: httpx.Response = envelope(
    {"memory_detail_list": [{"id": "m1", "memory_value": "Alice travels with her kids."}]}
)
FAILING: httpx.Response = envelope(None, code=50000, status=500)  # a failure the client would retry
LATE = re.compile(r"the memory search took longer than 0\.1 s: the answer came after (\d+\.\d\d) s")


def came_after(said: str) -> float:
    """The seconds the deadline's message says a late answer took (at least its 0.3 s of delay:
    on a loaded machine it can be any amount more)."""
    found = LATE.search(said)
    assert found is not None, said
    return float(found.group(1))


def recall(mode: str, fake: FakeMemOS, **options: Any) -> MemoryRecall:
    """A recall whose clients (``max_retries=2``) talk to ``fake``.

    ``mode``: ``sync`` (search), ``async`` (asearch, async client), ``async-over-sync``
    (asearch with only a sync client).
    """
    client = MemOSClient(
        api_key="k",
        max_retries=2,
        http_client=httpx.Client(transport=httpx.MockTransport(fake.handler)),
    )
    aclient = AsyncMemOSClient(
        api_key="k",
        max_retries=2,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(fake.handler)),
    )
    async_client = aclient if mode == "async" else None
    return MemoryRecall(MemorySettings(client=client, async_client=async_client, **options))


def search(memory: MemoryRecall, mode: str, query: str = "Where to travel?") -> Any:
    if mode == "sync":
        return memory.search(query, SCOPE)
    return asyncio.run(memory.asearch(query, SCOPE))


MODES = ["sync", "async", "async-over-sync"]


@pytest.mark.parametrize("mode", MODES)
def test_a_recall_is_one_attempt_bounded_by_its_timeout(
    mode: str, fake: FakeMemOS, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    fake.replies = [FAILING]
    memory = recall(mode, fake, timeout=1.5)

    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        prompt = search(memory, mode)

    assert prompt.matches == []
    [sent] = fake.requests  # no retry, no back-off: the turn's budget is the deadline
    assert sleeps == []
    assert sent.extensions["timeout"] == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}
    assert "HTTP 500" in caplog.text or "code=50000" in caplog.text
    assert "answering without memories" in caplog.text


@pytest.mark.parametrize("mode", MODES)
def test_the_clients_given_keep_their_own_settings(
    mode: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [FAILING]
    memory = recall(mode, fake, timeout=1.5)
    search(memory, mode)
    assert memory.client is not None
    with pytest.raises(InternalServerError):
        memory.client.search_memory("q", user_id="alice")
    assert len(fake.requests) == 1 + 3  # the client itself still retries twice
    assert fake.requests[-1].extensions["timeout"]["read"] == 30.0


def test_a_sync_search_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    start = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    searched_on: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        searched_on.append(threading.get_ident())
        return httpx.Response(200, content=FOUND.content)

    client = MemOSClient(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(answer))
    )
    memory = MemoryRecall(MemorySettings(client=client))

    prompts = [memory.search(f"question {n}", SCOPE) for n in range(5)]

    assert [len(prompt.matches) for prompt in prompts] == [1] * 5
    assert started == []
    assert searched_on == [threading.get_ident()] * 5  # on the caller's own thread


@pytest.mark.parametrize("mode", MODES)
def test_a_timed_out_search_says_what_it_waited_for(mode: str, fake: FakeMemOS) -> None:
    fake.replies = [httpx.ReadTimeout("timed out")]
    memory = recall(mode, fake, timeout=2.0, fail_open=False)

    with pytest.raises(APITimeoutError) as caught:
        search(memory, mode)

    message = str(caught.value)
    assert message.startswith("the memory search took longer than 2 s: ")
    assert "MemOS did not answer in time at" in message
    assert "/search/memory (ReadTimeout)" in message
    assert isinstance(caught.value.__cause__, APITimeoutError)


def test_a_sync_answer_after_the_deadline_is_not_used(
    fake: FakeMemOS, caplog: pytest.LogCaptureFixture
) -> None:
    """A transport that cannot be cut short (the embedded engine) answers late: no memories."""

    def late(request: httpx.Request) -> httpx.Response:
        time.sleep(0.3)
        return FOUND

    fake.replies = [late]
    memory = recall("sync", fake, timeout=0.1)
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        prompt = memory.search("Where to travel?", SCOPE)

    assert prompt.matches == []
    assert came_after(caplog.text) >= 0.3
    assert "answering without memories" in caplog.text


def test_a_late_answer_is_a_deadline_not_a_request_without_answer(fake: FakeMemOS) -> None:
    def late(request: httpx.Request) -> httpx.Response:
        time.sleep(0.3)
        return FOUND

    fake.replies = [late]
    memory = recall("sync", fake, timeout=0.1, fail_open=False)
    with pytest.raises(DeadlineExceededError) as caught:
        memory.search("Where to travel?", SCOPE)
    assert not isinstance(caught.value, APITimeoutError)  # the request was answered
    assert isinstance(caught.value, TimeoutError)
    said = str(caught.value)
    assert said.startswith("the memory search took longer than 0.1 s: the answer came after ")
    assert came_after(said) >= 0.3
    assert said.endswith(" s and is not used")


async def test_an_async_search_is_cut_short_at_its_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def hangs(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    aclient = AsyncMemOSClient(
        api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(hangs))
    )
    memory = MemoryRecall(MemorySettings(async_client=aclient, timeout=0.1, fail_open=False))
    started = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"^the memory search took longer than 0\.1 s$"):
        await memory.asearch("Where to travel?", SCOPE)
    assert time.monotonic() - started < 10  # far below the 30 s hang, whatever the load


@pytest.mark.parametrize("mode", MODES)
def test_a_query_memos_cannot_take_is_a_recall_failure(
    mode: str, fake: FakeMemOS, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        prompt = search(recall(mode, fake), mode, "bad \udc80 text")
    assert prompt.matches == []
    assert fake.requests == []
    assert "memory search failed for user alice (MemOSInputError: query holds a lone" in (
        caplog.text
    )

    with pytest.raises(MemOSInputError, match="query holds a lone surrogate"):
        search(recall(mode, fake, fail_open=False), mode, "bad \udc80 text")


def test_a_configuration_mistake_still_raises_under_fail_open(fake: FakeMemOS) -> None:
    aclient = AsyncMemOSClient(
        api_key="k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(fake.handler))
    )
    memory = MemoryRecall(MemorySettings(async_client=aclient))  # fail_open by default
    with pytest.raises(MemOSInputError, match="a sync run needs a sync MemOS client"):
        memory.search("Where to travel?", SCOPE)


def test_search_options_cannot_set_the_timeout() -> None:
    with pytest.raises(MemOSInputError, match=r"search_options cannot set .*timeout"):
        MemorySettings(client=MemOSClient(embedded=":memory:"), search_options={"timeout": 9})
