"""MemOSChatMessageHistory end to end, against recorded MemOS answers (``cassettes/history.yaml``).

The sync test (``MemOSClient``) and the async test (``AsyncMemOSClient``) replay the same
cassette, so both code paths must send the very same requests. The assertions check what a
user of the history notices and what the package puts on the wire, in a way that holds for a
recording made against the MemOS cloud as well as for one made against the doc server:

- the messages go out in one ``add/message`` call, in order, with their roles, tool calls and
  ``chat_time``, and ``wait=True`` returns only once MemOS reports the task completed;
- the conversation comes back as LangChain messages, oldest first, holding the text turns that
  were sent. It may hold more: the message log has no delete endpoint, so on the cloud earlier
  recordings stay in it, and during one recording the doc server (which remembers what it is
  sent, per user and conversation) still holds what the test that ran first added. Nothing
  assumes that tool calls come back: ``get/message`` documents only role, content and times;
- ``clear()`` (conversation scope) deletes by ``memory_ids`` only, exactly the memories that
  ``get/memory`` lists for this conversation (by default, then by the event and skill views),
  never by ``user_id``; ``clear_scope="user"`` is
  the one that deletes by ``user_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.chat_message_histories import MemOSChatMessageHistory

from .conftest import Exchange

USER = "langchain-memos-cassettes-history"
# The conversation of the documented spicy-food memory and preferences (search_memory page), so
# that the doc server's get/memory lists memories of this conversation and of others.
CONVERSATION_ID = "memos_conversation_123"


def _at(minute: int) -> dict[str, Any]:
    # A fixed chat_time per message keeps the request bodies, and so the cassette, deterministic.
    return {"chat_time": f"2025-11-09 15:{minute:02d}:00"}


# A spicy-food turn, then the documented tool-calling example (API reference 1.4) and an answer.
WEATHER = '{"location": "Beijing", "temperature": "7°C", "condition": "Cloudy"}'
TURN: list[BaseMessage] = [
    HumanMessage("我喜欢吃辣的食物，但不太喜欢重油的菜。", additional_kwargs=_at(0)),
    AIMessage("好的，我记住了：喜欢辣，但要清爽不油腻。", additional_kwargs=_at(1)),
    HumanMessage("What's the weather like in Beijing right now?", additional_kwargs=_at(2)),
    AIMessage(
        "",
        tool_calls=[{"id": "call_123", "name": "get_weather", "args": {"location": "Beijing"}}],
        additional_kwargs=_at(3),
    ),
    ToolMessage(WEATHER, tool_call_id="call_123", additional_kwargs=_at(4)),
    AIMessage("It is 7°C and cloudy in Beijing right now.", additional_kwargs=_at(5)),
]
# What add/message must carry for TURN: an AI turn that only calls tools has no content, and
# its arguments travel as a JSON string (the OpenAI form the API reference documents).
WIRE: list[dict[str, Any]] = [
    {"role": "user", "content": TURN[0].content, "chat_time": "2025-11-09 15:00:00"},
    {"role": "assistant", "content": TURN[1].content, "chat_time": "2025-11-09 15:01:00"},
    {"role": "user", "content": TURN[2].content, "chat_time": "2025-11-09 15:02:00"},
    {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_123",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location": "Beijing"}'},
            }
        ],
        "chat_time": "2025-11-09 15:03:00",
    },
    {
        "role": "tool",
        "content": WEATHER,
        "tool_call_id": "call_123",
        "chat_time": "2025-11-09 15:04:00",
    },
    {"role": "assistant", "content": TURN[5].content, "chat_time": "2025-11-09 15:05:00"},
]
KNOWN_TYPES = {"human", "ai", "system", "tool"}


# ---- what a user relies on ----------------------------------------------------------------------


def _data(exchange: Exchange) -> Any:
    assert isinstance(exchange.answer, dict)
    assert exchange.answer.get("code") in (0, 200), exchange.answer
    return exchange.answer["data"]


def check_added(exchanges: Sequence[Exchange]) -> None:
    """One add/message with the whole turn, then (wait=True) a completed task."""
    adds = [exchange for exchange in exchanges if exchange.endpoint == "/add/message"]
    assert len(adds) == 1  # far below the per-request token limit: one batch
    body = adds[0].body
    assert body["user_id"] == USER
    assert body["conversation_id"] == CONVERSATION_ID
    assert body["messages"] == WIRE
    task = _data(adds[0])
    assert task["success"] is True
    assert isinstance(task["task_id"], str)
    # wait=True: when the add was still running, get/status was asked until it was done.
    polls = [exchange for exchange in exchanges if exchange.endpoint == "/get/status"]
    assert all(poll.body == {"task_id": task["task_id"]} for poll in polls)
    final = _data(polls[-1])["status"] if polls else task["status"]
    assert final == "completed"
    assert exchanges[-1] is (polls[-1] if polls else adds[0])  # nothing after the wait


def _is_subsequence(wanted: Sequence[object], found: Sequence[object]) -> bool:
    remaining = iter(found)
    return all(any(item == candidate for candidate in remaining) for item in wanted)


def check_read_back(messages: list[BaseMessage]) -> None:
    """The conversation as LangChain messages, oldest first, holding the text turns sent."""
    assert isinstance(messages, list)
    assert all(isinstance(message, BaseMessage) for message in messages)
    assert {message.type for message in messages} <= KNOWN_TYPES
    for message in messages:
        # get/message documents create_time for every message: it comes back as chat_time.
        assert isinstance(message.additional_kwargs.get("chat_time"), str)
    sent = [(m.type, m.content) for m in TURN if isinstance(m, HumanMessage | AIMessage)]
    sent = [(kind, content) for kind, content in sent if content]
    assert _is_subsequence(sent, [(message.type, message.content) for message in messages])


def check_read_request(exchanges: Sequence[Exchange]) -> None:
    assert [(exchange.endpoint, exchange.body) for exchange in exchanges] == [
        (
            "/get/message",
            {"user_id": USER, "conversation_id": CONVERSATION_ID, "message_limit_number": 50},
        )
    ]


def _ids_by_conversation(listing: Any) -> dict[str, str | None]:
    items = [
        *(listing.get("memory_detail_list") or []),
        *(listing.get("preference_detail_list") or []),
        *(listing.get("tool_memory_detail_list") or []),
        *(listing.get("event_detail_list") or []),
        *(listing.get("skill_detail_list") or []),
    ]
    return {item["id"]: item.get("conversation_id") for item in items}


def check_cleared(exchanges: Sequence[Exchange]) -> None:
    """Listed with get/memory, then deleted by memory_ids: this conversation's and no other's."""
    pages = [exchange for exchange in exchanges if exchange.endpoint == "/get/memory"]
    deletes = [exchange for exchange in exchanges if exchange.endpoint == "/delete/memory"]
    assert pages
    assert len(pages) + len(deletes) == len(exchanges)
    # Two listings, each paged from 1: the default one, then the views it leaves out.
    views = [page.body.get("include_memory_view") for page in pages]
    assert sorted(set(map(str, views))) == ["None", "['event', 'skill']"]
    for listing in (None, ["event", "skill"]):
        numbers = [
            page.body["page"] for page, seen in zip(pages, views, strict=True) if seen == listing
        ]
        assert numbers == list(range(1, len(numbers) + 1))
    assert all(page.body["user_id"] == USER for page in pages)
    listed: dict[str, str | None] = {}
    for page in pages:
        listed.update(_ids_by_conversation(_data(page)))
    ours = [
        memory_id for memory_id, conversation in listed.items() if conversation == CONVERSATION_ID
    ]
    assert ours, "the conversation's memories should be listed"
    for delete in deletes:
        assert set(delete.body) == {"memory_ids"}  # never user_id: other conversations stay
        assert _data(delete)["success"] is True
    deleted = [memory_id for delete in deletes for memory_id in delete.body["memory_ids"]]
    assert sorted(deleted) == sorted(ours)


def check_user_cleared(exchanges: Sequence[Exchange]) -> None:
    """clear_scope="user" is one delete/memory by user_id."""
    assert [(exchange.endpoint, exchange.body) for exchange in exchanges] == [
        ("/delete/memory", {"user_id": USER})
    ]
    assert _data(exchanges[0])["success"] is True


# ---- the tests ----------------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("history")
def test_history_sync(sync_client: MemOSClient, traffic: list[Exchange]) -> None:
    history = MemOSChatMessageHistory(USER, CONVERSATION_ID, client=sync_client, wait=True)

    history.add_messages(TURN)
    check_added(traffic)

    start = len(traffic)
    check_read_back(history.messages)
    check_read_request(traffic[start:])

    start = len(traffic)
    history.clear()
    check_cleared(traffic[start:])

    start = len(traffic)
    everything = MemOSChatMessageHistory(
        USER, CONVERSATION_ID, client=sync_client, clear_scope="user"
    )
    everything.clear()
    check_user_cleared(traffic[start:])


@pytest.mark.vcr
@pytest.mark.default_cassette("history")
async def test_history_async(async_client: AsyncMemOSClient, traffic: list[Exchange]) -> None:
    history = MemOSChatMessageHistory(USER, CONVERSATION_ID, async_client=async_client, wait=True)

    await history.aadd_messages(TURN)
    check_added(traffic)

    start = len(traffic)
    check_read_back(await history.aget_messages())
    check_read_request(traffic[start:])

    start = len(traffic)
    await history.aclear()
    check_cleared(traffic[start:])

    start = len(traffic)
    everything = MemOSChatMessageHistory(
        USER, CONVERSATION_ID, async_client=async_client, clear_scope="user"
    )
    await everything.aclear()
    check_user_cleared(traffic[start:])
