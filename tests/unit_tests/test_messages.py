"""LangChain messages to MemOS messages and back."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_memos import MemOSInputError
from langchain_memos.messages import (
    batch_messages,
    estimate_tokens,
    from_memos_messages,
    is_blank,
    memos_role,
    to_memos_messages,
)
from langchain_memos.types import MessageDetail, MessageInput

NOW = datetime(2025, 6, 10, 1, 30, tzinfo=timezone.utc)  # 09:30 in Beijing


def test_roles_tool_calls_and_times_convert() -> None:
    messages: list[BaseMessage] = [
        SystemMessage("You can call tools."),
        HumanMessage("Weather in Beijing?", additional_kwargs={"chat_time": "2025-06-10 08:00:00"}),
        AIMessage(
            "",
            tool_calls=[{"id": "call_123", "name": "get_weather", "args": {"location": "北京"}}],
        ),
        ToolMessage('{"temperature": "7C"}', tool_call_id="call_123"),
        AIMessage("It is 7C.", response_metadata={"chat_time": datetime(2025, 6, 10, 0, 31)}),
    ]
    assert to_memos_messages(messages, now=NOW) == [
        {"role": "system", "content": "You can call tools.", "chat_time": "2025-06-10 09:30:00"},
        {"role": "user", "content": "Weather in Beijing?", "chat_time": "2025-06-10 08:00:00"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "北京"}'},
                }
            ],
            "chat_time": "2025-06-10 09:30:00",
        },
        {
            "role": "tool",
            "content": '{"temperature": "7C"}',
            "tool_call_id": "call_123",
            "chat_time": "2025-06-10 09:30:00",
        },
        # A naive datetime is taken as it is.
        {"role": "assistant", "content": "It is 7C.", "chat_time": "2025-06-10 00:31:00"},
    ]


def test_round_trip_keeps_tool_calls_tool_call_ids_and_times() -> None:
    original: list[BaseMessage] = [
        HumanMessage("Weather?"),
        AIMessage("", tool_calls=[{"id": "c1", "name": "weather", "args": {"city": "Paris"}}]),
        ToolMessage("sunny", tool_call_id="c1"),
        AIMessage("Sunny."),
    ]
    stored = [MessageDetail.model_validate(m) for m in to_memos_messages(original, now=NOW)]
    back = from_memos_messages(stored)

    assert [type(m) for m in back] == [type(m) for m in original]
    assert [m.content for m in back] == [m.content for m in original]
    ai = back[1]
    assert isinstance(ai, AIMessage)
    assert ai.tool_calls == [
        {"id": "c1", "name": "weather", "args": {"city": "Paris"}, "type": "tool_call"}
    ]
    tool = back[2]
    assert isinstance(tool, ToolMessage)
    assert tool.tool_call_id == "c1"
    assert all(m.additional_kwargs["chat_time"] == "2025-06-10 09:30:00" for m in back)
    # Written again, the messages keep their time.
    assert to_memos_messages(back) == to_memos_messages(original, now=NOW)


def test_a_tool_call_the_model_got_wrong_is_kept_when_answered_and_comes_back_invalid() -> None:
    """An invalid tool call (arguments that are not JSON) that a tool message written with it
    answers is stored, so the answer keeps its call, and reads back invalid (it was dropped
    without a word), also with no arguments or no name. One nothing answers is left out, as
    the agent leaves it: a stored call without an answer would not replay."""
    bad = {"id": "c2", "name": "book", "args": "{'hotel': 7 Days", "error": "bad JSON"}
    invalid = "invalid_tool_call"
    original: list[BaseMessage] = [
        AIMessage(
            "",
            tool_calls=[{"id": "c1", "name": "weather", "args": {"city": "Paris"}}],
            invalid_tool_calls=[{**bad, "type": invalid}],
        ),
        ToolMessage("sunny", tool_call_id="c1"),
        ToolMessage("Error: invalid arguments", tool_call_id="c2"),
        AIMessage("Let me look.", invalid_tool_calls=[{**bad, "id": "c9", "type": invalid}]),
        AIMessage(
            "",
            invalid_tool_calls=[
                {"id": "c3", "name": "book", "args": None, "error": "x", "type": invalid},
                {"id": "c4", "name": None, "args": "{}", "error": "x", "type": invalid},
            ],
        ),
        ToolMessage("Error: no arguments", tool_call_id="c3"),
        ToolMessage("Error: no name", tool_call_id="c4"),
    ]
    stored = [MessageDetail.model_validate(m) for m in to_memos_messages(original, now=NOW)]
    first, _, _, unanswered, unnamed, _, _ = from_memos_messages(stored)
    assert isinstance(first, AIMessage)
    assert [c["name"] for c in first.tool_calls] == ["weather"]
    assert [(c["id"], c["name"], c["args"]) for c in first.invalid_tool_calls] == [
        ("c2", "book", "{'hotel': 7 Days")
    ]
    assert isinstance(unanswered, AIMessage)
    assert (unanswered.text, unanswered.tool_calls, unanswered.invalid_tool_calls) == (
        "Let me look.",
        [],
        [],
    )
    # No arguments, or no name: still invalid (not a call with {} or a nameless call).
    assert isinstance(unnamed, AIMessage)
    assert unnamed.tool_calls == []
    assert [(c["id"], c["name"], c["args"]) for c in unnamed.invalid_tool_calls] == [
        ("c3", "book", None),
        ("c4", "", "{}"),
    ]


def test_the_speakers_name_is_sent_and_comes_back() -> None:
    original: list[BaseMessage] = [
        HumanMessage("I love sushi", name="alice"),
        HumanMessage("I hate sushi", name="bob"),
        AIMessage("Noted, both of you."),
        ChatMessage(content="Sushi it is.", role="assistant", name="planner"),
    ]
    sent = to_memos_messages(original, now=NOW)
    # A user's name only: an assistant's (its agent's) would turn "[assistant viewpoint]", which
    # the memory protocol reads as inference, into "[planner viewpoint]".
    assert [m.get("name") for m in sent] == ["alice", "bob", None, None]

    back = from_memos_messages([MessageDetail.model_validate(m) for m in sent])
    assert [(m.name, m.content) for m in back] == [(m.name, m.content) for m in original[:2]] + [
        (None, "Noted, both of you."),
        (None, "Sushi it is."),
    ]
    assert to_memos_messages(back, now=NOW) == sent
    # A tool result's name is the tool's, not a speaker's: the call names the tool already.
    call = AIMessage("", tool_calls=[{"id": "c1", "name": "weather", "args": {}}], name="bot")
    result = ToolMessage("sunny", tool_call_id="c1", name="weather")
    assert [m.get("name") for m in to_memos_messages([call, result])] == [None, None]
    # What MemOS stored with a name comes back with it, whoever said it.
    named = MessageDetail.model_validate({"role": "assistant", "content": "Hi", "name": "planner"})
    assert from_memos_messages([named])[0].name == "planner"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("ali\nce", "messages[0].name holds a control character"),
        ("alice ", "messages[0].name 'alice ' has whitespace around it"),
        ("a" * 101, "messages[0].name is 101 characters long"),
    ],
)
def test_a_name_that_would_garble_the_memory_is_refused(name: str, says: str) -> None:
    with pytest.raises(MemOSInputError, match=re.escape(says)):
        to_memos_messages([HumanMessage("I love sushi", name=name)], now=NOW)


def test_epoch_timestamps_come_back_as_chat_times() -> None:
    (message,) = from_memos_messages(
        [MessageDetail(role="user", content="hi", create_time=1749519000000)]
    )
    assert message.additional_kwargs["chat_time"] == "2025-06-10 09:30:00"


@pytest.mark.parametrize(
    ("block", "part"),
    [
        (
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        ),
        (
            {"type": "image", "url": "https://x.test/a.png"},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        ),
        (
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ),
        (
            {
                "type": "image",
                "source_type": "base64",
                "data": "/9j/4A==",
                "mime_type": "image/jpeg",
            },
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4A=="}},
        ),
        (
            {"type": "file", "url": "https://x.test/report.pdf"},
            {"type": "file", "file": {"file_data": "https://x.test/report.pdf"}},
        ),
        (
            {"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
        ),
        (
            {"type": "file", "file": {"file_data": "JVBERi0="}},
            {"type": "file", "file": {"file_data": "JVBERi0="}},
        ),
    ],
)
def test_multimodal_blocks_become_memos_parts(block: dict[str, object], part: object) -> None:
    (message,) = to_memos_messages([HumanMessage(content=["What is this?", block])], now=NOW)
    assert message["content"] == [{"type": "text", "text": "What is this?"}, part]


@pytest.mark.parametrize(
    ("block", "back"),
    [
        ({"type": "file", "url": "https://x.test/report.pdf"}, None),
        ({"type": "file", "url": "gs://bucket/report.pdf"}, None),
        (
            {"type": "file", "base64": "aGk=", "mime_type": "text/plain; charset=utf-8"},
            {"type": "file", "base64": "aGk=", "mime_type": "text/plain"},
        ),
        ({"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"}, None),
        (
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
            {"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"},
        ),
        (
            {"type": "file", "file": {"file_data": "JVBERi0="}},
            {"type": "file", "file": {"file_data": "JVBERi0="}},
        ),
    ],
)
def test_files_come_back_as_standard_blocks(block: dict[str, object], back: object) -> None:
    """A file stored by URL comes back as a URL (not as inline data, which is how a model's
    converter reads ``file_data``), one stored as base64 as base64 with its MIME type."""
    (stored,) = to_memos_messages([HumanMessage(content=["Read this.", block])], now=NOW)
    (message,) = from_memos_messages([MessageDetail.model_validate(stored)])
    assert message.content == [{"type": "text", "text": "Read this."}, back or block]


def test_text_only_blocks_and_reasoning() -> None:
    ai = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "the user wants a summary"},
            {"type": "text", "text": "Here "},
            {"type": "text", "text": "it is."},
        ]
    )
    (message,) = to_memos_messages([ai], now=NOW)
    assert message["content"] == "Here it is."


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (HumanMessage(content=[{"type": "audio", "base64": "AAAA"}]), "'audio' block"),
        (HumanMessage(content=[{"type": "image"}]), "no URL or base64"),
        (FunctionMessage(content="x", name="f"), "got FunctionMessage"),
        (ChatMessage(content="x", role="critic"), "role 'critic'"),
    ],
)
def test_unsupported_content_is_a_clear_error(message: BaseMessage, error: str) -> None:
    with pytest.raises(MemOSInputError, match=error):
        to_memos_messages([message])


def test_roles_memos_has_under_other_names_are_mapped() -> None:
    chat = [ChatMessage(content="x", role=role) for role in ("human", "ai", "developer", "user")]
    assert [m["role"] for m in to_memos_messages(chat, now=NOW)] == [
        "user",
        "assistant",
        "system",
        "user",
    ]
    assert memos_role(ChatMessage(content="x", role="critic")) is None
    assert memos_role(FunctionMessage(content="x", name="f")) is None


@pytest.mark.parametrize(
    ("message", "blank"),
    [
        (HumanMessage(""), True),
        (HumanMessage(" \n\t"), True),
        (AIMessage([{"type": "reasoning", "reasoning": "hmm"}]), True),
        (AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "c"}]), False),
        (HumanMessage([{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]), False),
        (HumanMessage(" ok "), False),
    ],
)
def test_a_message_without_text_tool_calls_or_media_is_blank(
    message: BaseMessage, blank: bool
) -> None:
    assert is_blank(message) is blank


def test_not_a_list_of_messages() -> None:
    with pytest.raises(MemOSInputError, match="list of LangChain messages"):
        to_memos_messages(HumanMessage("hi"))  # type: ignore[arg-type]
    with pytest.raises(MemOSInputError, match=r"messages\[1\] must be a LangChain message"):
        to_memos_messages([HumanMessage("hi"), {"role": "user"}])  # type: ignore[list-item]


def test_token_estimate_counts_cjk_characters_as_tokens() -> None:
    english = estimate_tokens({"role": "user", "content": "a" * 400})
    chinese = estimate_tokens({"role": "user", "content": "好" * 400})
    assert 100 <= english <= 120
    assert chinese >= 400


def test_batches_keep_the_order_and_stay_under_the_limit() -> None:
    messages: list[MessageInput] = [
        {"role": "user", "content": "a" * 400},
        {"role": "assistant", "content": "b" * 400},
        {"role": "user", "content": "c" * 4_000},  # over the limit by itself: a batch of its own
        {"role": "assistant", "content": "d" * 40},
    ]
    batches = batch_messages(messages, 250)
    assert [m for batch in batches for m in batch] == messages
    assert [len(batch) for batch in batches] == [2, 1, 1]
    assert batch_messages([], 250) == []
