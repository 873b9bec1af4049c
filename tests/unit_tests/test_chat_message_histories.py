"""MemOSChatMessageHistory against a stateful fake MemOS, through both code paths."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import httpx
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from langchain_memos import (
    AsyncMemOSClient,
    MemOSClient,
    MemOSError,
    MemOSInputError,
    PermissionDeniedError,
)
from langchain_memos._ordered import OrderedWrites
from langchain_memos.chat_message_histories import MemOSChatMessageHistory
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.outbox import Outbox, OutboxSender
from langchain_memos.types import MemoryView
from tests.fakes import StatefulMemOS, envelope

TURN: list[BaseMessage] = [
    HumanMessage("We always travel with the kids.", additional_kwargs={"chat_time": "2025-06-10"}),
    AIMessage("", tool_calls=[{"id": "c1", "name": "plan_trip", "args": {"who": "family"}}]),
    ToolMessage("3 family-friendly cities", tool_call_id="c1"),
    AIMessage("Noted: family trips."),
]


@pytest.fixture
def memos() -> StatefulMemOS:
    return StatefulMemOS()


def sync_client(memos: StatefulMemOS) -> MemOSClient:
    transport = httpx.MockTransport(memos.handler)
    return MemOSClient(api_key="k", http_client=httpx.Client(transport=transport))


def async_client(memos: StatefulMemOS) -> AsyncMemOSClient:
    transport = httpx.MockTransport(memos.handler)
    return AsyncMemOSClient(api_key="k", http_client=httpx.AsyncClient(transport=transport))


def history(memos: StatefulMemOS, mode: str, **options: Any) -> MemOSChatMessageHistory:
    """``mode``: sync, async (an async client), or executor (async methods over a sync client)."""
    conversation = options.pop("conversation_id", "0610")
    if mode == "async":
        return MemOSChatMessageHistory(
            "u1", conversation, async_client=async_client(memos), **options
        )
    return MemOSChatMessageHistory("u1", conversation, client=sync_client(memos), **options)


def add(hist: MemOSChatMessageHistory, mode: str, messages: list[BaseMessage]) -> None:
    if mode == "sync":
        hist.add_messages(messages)
    else:
        asyncio.run(hist.aadd_messages(messages))


def read(hist: MemOSChatMessageHistory, mode: str) -> list[BaseMessage]:
    return hist.messages if mode == "sync" else asyncio.run(hist.aget_messages())


def clear(hist: MemOSChatMessageHistory, mode: str) -> None:
    if mode == "sync":
        hist.clear()
    else:
        asyncio.run(hist.aclear())


MODES = ["sync", "async", "executor"]


@pytest.mark.parametrize("mode", MODES)
def test_one_request_per_batch_and_the_conversation_comes_back_in_order(
    memos: StatefulMemOS, mode: str
) -> None:
    hist = history(memos, mode)
    add(hist, mode, TURN)

    assert len(memos.calls("/add/message")) == 1
    stored = read(hist, mode)
    assert [type(m) for m in stored] == [type(m) for m in TURN]
    assert [m.content for m in stored] == [m.content for m in TURN]
    ai = stored[1]
    assert isinstance(ai, AIMessage)
    assert ai.tool_calls[0]["args"] == {"who": "family"}
    tool = stored[2]
    assert isinstance(tool, ToolMessage)
    assert tool.tool_call_id == "c1"
    assert stored[0].additional_kwargs["chat_time"] == "2025-06-10 00:00:00"
    assert memos.calls("/get/message")[0]["message_limit_number"] == 50


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_over_the_token_limit_is_split_in_order(memos: StatefulMemOS, mode: str) -> None:
    messages: list[BaseMessage] = [HumanMessage(f"message {i} " + "x" * 400) for i in range(10)]
    hist = history(memos, mode, max_request_tokens=300)

    add(hist, mode, messages)

    batches = [body["messages"] for body in memos.calls("/add/message")]
    assert len(batches) > 1
    assert [m["content"] for batch in batches for m in batch] == [m.content for m in messages]


@pytest.mark.parametrize("mode", MODES)
def test_an_error_after_some_batches_says_how_many_were_stored(
    memos: StatefulMemOS, mode: str
) -> None:
    """Split in several calls, a write failing after the first was taken says how many were,
    so that retrying the rest stores each message once."""
    messages: list[BaseMessage] = [HumanMessage(f"message {i} " + "x" * 400) for i in range(10)]
    hist = history(memos, mode, max_request_tokens=300)

    def second_add_refused(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/add/message") and len(memos.calls("/add/message")) == 2:
            refused: httpx.Response = envelope(None, code=40000, message="Invalid parameters")
            return refused
        return memos.answer(request)

    memos.replies = [second_add_refused]
    with pytest.raises(MemOSError) as raised:
        add(hist, mode, messages)
    stored = raised.value.stored_messages
    assert stored == len(memos.calls("/add/message")[0]["messages"])
    add(hist, mode, messages[stored:])
    kept = [m["content"] for m in memos.messages[("u1", "0610")]]
    assert kept == [m.content for m in messages]


@pytest.mark.parametrize("mode", MODES)
def test_write_options_reach_every_call(memos: StatefulMemOS, mode: str) -> None:
    hist = history(memos, mode, agent_id="travel-agent", tags=["trip"], async_mode=False)
    add(hist, mode, TURN[:1])
    (body,) = memos.calls("/add/message")
    assert body["agent_id"] == "travel-agent"
    assert body["tags"] == ["trip"]
    assert body["async_mode"] is False
    assert body["user_id"] == "u1"
    assert body["conversation_id"] == "0610"


@pytest.mark.parametrize("mode", MODES)
def test_wait_polls_the_task_until_done(memos: StatefulMemOS, mode: str) -> None:
    hist = history(memos, mode, wait=True)
    add(hist, mode, TURN[:1])
    assert len(memos.calls("/get/status")) == 1

    memos.requests.clear()
    add(history(memos, mode), mode, TURN[:1])
    assert memos.calls("/get/status") == []


@pytest.mark.parametrize("mode", MODES)
def test_a_wait_that_runs_out_is_a_deadline_not_a_request_timeout(
    memos: StatefulMemOS, mode: str
) -> None:
    from langchain_memos import APITimeoutError, DeadlineExceededError, MemOSError

    memos.task_status = "running"  # MemOS answers every poll; the task just does not finish
    hist = history(memos, mode, wait=True, wait_timeout=0)
    with pytest.raises(MemOSError) as caught:
        add(hist, mode, TURN[:1])
    assert type(caught.value) is DeadlineExceededError
    assert not isinstance(caught.value, APITimeoutError)
    assert isinstance(caught.value, TimeoutError)
    assert len(memos.calls("/add/message")) == 1  # stored; only the wait gave up


@pytest.mark.parametrize("mode", MODES)
def test_clear_deletes_only_this_conversations_memories(memos: StatefulMemOS, mode: str) -> None:
    other = history(memos, mode, conversation_id="other")
    add(other, mode, [HumanMessage("I live in Nanjing.")])
    hist = history(memos, mode)
    add(hist, mode, [HumanMessage(f"fact {i}") for i in range(60)])  # two pages of get/memory

    clear(hist, mode)

    assert [m["memory_value"] for m in memos.memories] == ["I live in Nanjing."]
    # Two pages of facts, then one listing of the views a default listing leaves out.
    assert [body["page"] for body in memos.calls("/get/memory")] == [1, 2, 1]
    assert memos.calls("/get/memory")[2]["include_memory_view"] == ["event", "skill"]
    assert all("user_id" not in body for body in memos.calls("/delete/memory"))


@pytest.mark.parametrize("mode", MODES)
def test_clear_pages_on_when_the_answer_has_no_page_count(
    memos: StatefulMemOS, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    paged = memos._get_memory

    def without_pages(body: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in paged(body).items() if key != "pages"}

    monkeypatch.setattr(memos, "_get_memory", without_pages)
    hist = history(memos, mode)
    add(hist, mode, [HumanMessage(f"fact {i}") for i in range(120)])

    clear(hist, mode)

    assert memos.memories == []
    assert [body["page"] for body in memos.calls("/get/memory")] == [1, 2, 3, 1]


@pytest.mark.parametrize("mode", MODES)
def test_a_clear_that_finds_the_memories_gone_already_succeeds(
    memos: StatefulMemOS, mode: str
) -> None:
    hist = history(memos, mode)
    add(hist, mode, [HumanMessage(f"fact {i}") for i in range(150)])  # two delete chunks
    answer = memos.answer
    refusal: list[int] = []

    def cleared_elsewhere_first(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/delete/memory"):
            return answer(request)
        refused: httpx.Response
        if refusal:
            refused = envelope(None, code=refusal[0], message="no permission", status=403)
            return refused
        memos.memories = []  # a second worker's clear went first: these ids are gone
        refused = envelope(None, code=40307, message="none of these memories exists", status=404)
        return refused

    memos.replies = [cleared_elsewhere_first]

    clear(hist, mode)  # the conversation's memories are gone, as asked

    assert memos.memories == []
    assert len(memos.calls("/delete/memory")) == 2

    # Only "none of these memories exists" is taken for done: a refusal still raises.
    add(hist, mode, [HumanMessage("I live in Nanjing.")])
    refusal.append(40306)
    with pytest.raises(PermissionDeniedError):
        clear(hist, mode)
    assert [m["memory_value"] for m in memos.memories] == ["I live in Nanjing."]


@pytest.mark.parametrize("mode", MODES)
def test_a_server_that_refuses_the_views_still_has_the_rest_cleared(
    memos: StatefulMemOS, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One older than events, or a gateway that checks the views: the clear raised before
    deleting anything (found by a review)."""
    hist = history(memos, mode)
    add(hist, mode, [HumanMessage("I take lithium.")])
    answer = memos.answer

    def views_refused(request: httpx.Request) -> httpx.Response:
        if "include_memory_view" in json.loads(request.content or b"{}"):
            refused: httpx.Response = envelope(None, code=40000, message="bad view", status=400)
            return refused
        return answer(request)

    memos.replies = [views_refused]
    caplog.set_level(logging.WARNING, logger="langchain_memos")

    clear(hist, mode)

    assert memos.memories == []
    assert "events and skills could not be listed" in caplog.text


@pytest.mark.parametrize("mode", MODES)
def test_adding_no_messages_does_nothing(memos: StatefulMemOS, mode: str) -> None:
    hist = history(memos, mode)
    turn: list[BaseMessage] = [HumanMessage("Hi"), AIMessage("Hello!")]
    add(hist, mode, turn)

    add(hist, mode, turn[2:])  # nothing new since the last write

    assert len(memos.calls("/add/message")) == 1
    assert [m.content for m in read(hist, mode)] == ["Hi", "Hello!"]


@pytest.mark.parametrize("mode", MODES)
def test_the_speakers_name_is_stored_and_comes_back(memos: StatefulMemOS, mode: str) -> None:
    hist = history(memos, mode)
    add(hist, mode, [HumanMessage("I love sushi", name="alice"), HumanMessage("Me too")])

    assert [m.get("name") for m in memos.calls("/add/message")[0]["messages"]] == ["alice", None]
    assert [(m.name, m.content) for m in read(hist, mode)] == [
        ("alice", "I love sushi"),
        (None, "Me too"),
    ]


def test_a_named_speakers_memories_say_whose_they_are() -> None:
    """Through the embedded engine, which marks each memory with who said it."""
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"))
    hist = MemOSChatMessageHistory("u1", "party", client=client)
    hist.add_messages([HumanMessage("I love sushi", name="alice")])
    found = client.search_memory("sushi", user_id="u1").memory_detail_list
    assert [m.memory_value for m in found] == ["[alice viewpoint] I love sushi"]


@pytest.mark.parametrize("client", ["sync", "async"])
def test_writes_made_at_once_are_stored_in_call_order(client: str) -> None:
    """Without an outbox too: each of gather's calls went out as soon as it could, and the
    conversation was stored in the order they finished (5 of 5 trials, by a red team)."""
    engine = EmbeddedEngine(":memory:")
    if client == "sync":  # the async methods run the sync client in threads
        hist = MemOSChatMessageHistory("u1", "c1", client=MemOSClient(embedded=engine))
    else:
        hist = MemOSChatMessageHistory("u1", "c1", async_client=AsyncMemOSClient(embedded=engine))
    said = [f"p{i}" for i in range(20)]

    async def at_once() -> list[BaseMessage]:
        await asyncio.gather(*[hist.aadd_messages([HumanMessage(text)]) for text in said])
        return await hist.aget_messages()

    assert [m.text for m in asyncio.run(at_once())[-20:]] == said


def test_an_async_write_cancelled_in_flight_lets_the_next_go() -> None:
    ordered, done = OrderedWrites(), []

    async def write(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    async def scenario() -> None:
        first = asyncio.ensure_future(ordered.run_async(lambda: write("first", 10)))
        second = asyncio.ensure_future(ordered.run_async(lambda: write("second", 0)))
        await asyncio.sleep(0.01)
        first.cancel()  # an async write stops with its caller
        await asyncio.wait_for(second, 5)
        assert first.cancelled()

    asyncio.run(scenario())
    assert done == ["second"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_clear_deletes_the_conversations_events_too(mode: str) -> None:
    """Newer MemOS derives events from a conversation, which ``get/memory`` lists only when
    asked for by view: a clear that left them would leave what it said it deleted recallable."""
    engine = EmbeddedEngine(":memory:")
    if mode == "sync":
        hist = MemOSChatMessageHistory("u1", "c1", client=MemOSClient(embedded=engine))
    else:
        hist = MemOSChatMessageHistory("u1", "c1", async_client=AsyncMemOSClient(embedded=engine))
    add(hist, mode, [HumanMessage("Last Tuesday I met Ana at the Porto clinic.")])
    kept = MemOSChatMessageHistory("u1", "c2", client=MemOSClient(embedded=engine))
    kept.add_messages([HumanMessage("On Friday I flew to Porto to see the clinic.")])
    reader = MemOSClient(embedded=engine)
    views: list[MemoryView] = ["detail_factual", "event"]

    def recalled() -> list[tuple[str | None, str]]:
        found = reader.search_memory("Ana Porto clinic", user_id="u1", include_memory_view=views)
        facts = [(m.conversation_id, "f") for m in found.memory_detail_list]
        return sorted(facts + [(m.conversation_id, "e") for m in found.event_detail_list])

    assert ("c1", "e") in recalled()

    clear(hist, mode)

    assert recalled() == [("c2", "e"), ("c2", "f")]


@pytest.mark.parametrize("mode", MODES)
def test_clearing_the_whole_user_must_be_asked_for(memos: StatefulMemOS, mode: str) -> None:
    add(history(memos, mode, conversation_id="other"), mode, [HumanMessage("I live in Nanjing.")])
    hist = history(memos, mode, clear_scope="user")
    clear(hist, mode)
    assert memos.memories == []
    assert memos.calls("/delete/memory") == [{"user_id": "u1"}]


def test_bad_configuration_fails_before_any_request(memos: StatefulMemOS) -> None:
    client = sync_client(memos)
    with pytest.raises(MemOSInputError, match="user_id"):
        MemOSChatMessageHistory("", "c1", client=client)
    with pytest.raises(MemOSInputError, match="conversation_id"):
        MemOSChatMessageHistory("u1", "c" * 101, client=client)
    with pytest.raises(MemOSInputError, match="clear_scope"):
        MemOSChatMessageHistory("u1", "c1", client=client, clear_scope="everything")  # type: ignore[arg-type]
    with pytest.raises(MemOSInputError, match="either a client or the options"):
        MemOSChatMessageHistory("u1", "c1", client=client, api_key="k")
    hist = MemOSChatMessageHistory("u1", "c1", client=client)
    with pytest.raises(MemOSInputError, match="'audio' block"):
        hist.add_messages([HumanMessage(content=[{"type": "audio", "base64": "AAAA"}])])
    assert memos.requests == []


@pytest.mark.parametrize("with_client", [False, True])
def test_an_option_nobody_knows_is_named(memos: StatefulMemOS, with_client: bool) -> None:
    # A typo of a history option lands in **client_options: the client does not know it either.
    given = {"client": sync_client(memos)} if with_client else {"api_key": "k"}
    with pytest.raises(
        MemOSInputError, match=r"unknown option 'wiat' \(did you mean 'wait'\?\)"
    ) as raised:
        MemOSChatMessageHistory("u1", "c1", wiat=True, **given)
    assert "max_retries" in str(raised.value)  # and the options it does take are listed
    assert memos.requests == []


def test_only_an_async_client_means_async_methods(memos: StatefulMemOS) -> None:
    hist = history(memos, "async")
    with pytest.raises(MemOSInputError, match="only an async_client"):
        hist.add_messages(TURN)
    assert memos.requests == []


def test_built_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    hist = MemOSChatMessageHistory("u1", "c1", base_url="http://127.0.0.1:9/api/openmem/v1")
    assert hist.client.base_url == "http://127.0.0.1:9/api/openmem/v1"
    assert repr(hist) == "MemOSChatMessageHistory(user_id='u1', conversation_id='c1')"
    hist.close()


def test_runnable_with_message_history_remembers_without_double_writes(
    memos: StatefulMemOS,
) -> None:
    from langchain_core.runnables.history import RunnableWithMessageHistory

    seen_prompts: list[list[BaseMessage]] = []
    model = GenericFakeChatModel(messages=iter([AIMessage("Hi Ann!"), AIMessage("You are Ann.")]))
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    )

    def remember(value: Any) -> Any:
        seen_prompts.append(value.to_messages())
        return value

    client = sync_client(memos)
    with pytest.warns(DeprecationWarning, match="RunnableWithMessageHistory"):
        chain = RunnableWithMessageHistory(
            prompt | remember | model,
            lambda session_id: MemOSChatMessageHistory("u1", session_id, client=client),
            input_messages_key="question",
            history_messages_key="history",
        )
    config = {"configurable": {"session_id": "s1"}}
    chain.invoke({"question": "I am Ann."}, config)  # type: ignore[arg-type]
    chain.invoke({"question": "Who am I?"}, config)  # type: ignore[arg-type]

    stored = [(m["role"], m["content"]) for m in memos.messages[("u1", "s1")]]
    assert stored == [
        ("user", "I am Ann."),
        ("assistant", "Hi Ann!"),
        ("user", "Who am I?"),
        ("assistant", "You are Ann."),
    ]
    assert [m.content for m in seen_prompts[1]] == ["I am Ann.", "Hi Ann!", "Who am I?"]


@pytest.mark.parametrize("mode", ["sync", "executor"])
def test_with_an_outbox_what_memos_would_refuse_is_refused_at_hand_over(
    memos: StatefulMemOS, mode: str
) -> None:
    outbox = Outbox()
    with pytest.raises(MemOSInputError, match="tags must be a list of strings"):
        history(memos, mode, outbox=outbox, tags="abc")
    tags = ["trip"]
    hist = history(memos, mode, outbox=outbox, tags=tags)
    tags.append("")  # changed after the history checked it
    # Before, accepted into the outbox, then refused at send time into its dead letters.
    with pytest.raises(MemOSInputError, match="tags must contain non-empty strings"):
        add(hist, mode, TURN)
    assert hist.close(timeout=5)
    assert outbox.pending() == 0
    assert outbox.dead_letters() == []
    assert memos.calls("/add/message") == []
    outbox.close()


@pytest.mark.parametrize("mode", MODES)
def test_a_token_limit_no_request_can_carry_is_refused_up_front(
    memos: StatefulMemOS, mode: str
) -> None:
    # Before, a 59k-token batch was formed and refused only when it was sent.
    with pytest.raises(MemOSInputError, match="max_request_tokens must be between 1 and 40000"):
        history(memos, mode, max_request_tokens=60_000)
    hist = history(memos, mode, max_request_tokens=40_000)
    turn: list[BaseMessage] = [HumanMessage("q" * 116_000), AIMessage("a" * 120_000)]
    add(hist, mode, turn)
    batches = [body["messages"] for body in memos.calls("/add/message")]
    assert [[m["content"] for m in batch] for batch in batches] == [[t.content] for t in turn]


def test_a_cancelled_hand_over_to_the_outbox_still_lands_in_its_turn(
    memos: StatefulMemOS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``aadd_messages`` commits to the outbox in a thread, which a cancelled caller cannot
    stop: the messages it handed over are still stored, and before those handed over next."""
    hist = history(memos, "sync", outbox=Outbox())
    gate, deliver = threading.Event(), OutboxSender.deliver

    def slow_first(sender: OutboxSender, *args: Any, **kwargs: Any) -> Any:
        if "first" in json.dumps(args[2]):  # user, conversation, batches
            assert gate.wait(10)  # a commit that takes a while (a busy file, a full outbox)
        return deliver(sender, *args, **kwargs)

    monkeypatch.setattr(OutboxSender, "deliver", slow_first)

    async def hand_over() -> None:
        first = asyncio.create_task(hist.aadd_messages([HumanMessage("first")]))
        await asyncio.sleep(0.05)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        second = asyncio.create_task(hist.aadd_messages([HumanMessage("second")]))
        await asyncio.sleep(0.05)
        assert not second.done()  # waits for the first, which still runs
        gate.set()
        await second

    asyncio.run(hand_over())
    assert hist.close(timeout=5)
    assert [m["content"] for m in memos.messages[("u1", "0610")]] == ["first", "second"]


def test_the_latest_messages_do_not_begin_with_a_result_whose_call_is_cut_off() -> None:
    """get/message gives the latest 50: when the window begins inside a tool step, its first
    results answer a call not there, which a model's API refuses on replay; they are left
    out."""
    history = MemOSChatMessageHistory("u1", "c1", client=MemOSClient(embedded=EmbeddedEngine()))
    turns: list[BaseMessage] = [
        HumanMessage("Weather?"),
        AIMessage("", tool_calls=[{"id": "z", "name": "weather", "args": {}}]),
        ToolMessage("sunny", tool_call_id="z"),
    ]
    turns += [HumanMessage(f"q{i}") if i % 2 else AIMessage(f"a{i}") for i in range(49)]
    history.add_messages(turns)
    back = history.messages
    assert [m.text for m in back] == [m.text for m in turns[3:]]
