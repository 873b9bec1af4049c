"""The exported scope helpers: whose memory a run uses, and which messages are new."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_memos import MemOSClient, resolve_scope, unsaved_messages
from langchain_memos.graph import MEMORY_MESSAGE_ID
from langchain_memos.messages import to_memos_messages
from langchain_memos.scope import MEMORY_TOOL_NAMES, Scope, messages_to_store
from langchain_memos.tools import create_memory_tools

CONVERSATION = [
    SystemMessage("memories", id=MEMORY_MESSAGE_ID),
    HumanMessage("Hi", id="h1"),
    AIMessage("Hello", id="a1"),
    HumanMessage("Book a hotel", id="h2"),
    HumanMessage("A cheap one", id="h3"),
    AIMessage("", id="a2", tool_calls=[{"name": "book", "args": {}, "id": "c1"}]),
    ToolMessage("booked", tool_call_id="c1", id="t1"),
    AIMessage("Done.", id="a3"),
]


def ids(messages: Sequence[BaseMessage]) -> list[str | None]:
    return [m.id for m in messages]


def test_without_bookkeeping_the_latest_user_turn_is_new() -> None:
    assert ids(unsaved_messages(CONVERSATION)) == ["h2", "h3", "a2", "t1", "a3"]
    assert unsaved_messages([]) == []
    assert unsaved_messages([AIMessage("hi", id="a")]) == []  # no user turn yet


def test_after_the_last_saved_message_everything_is_new() -> None:
    assert ids(unsaved_messages(CONVERSATION, "a2")) == ["t1", "a3"]
    assert unsaved_messages(CONVERSATION, "a3") == []
    # A turn that was never saved (the process died before its save) is not skipped.
    assert ids(unsaved_messages(CONVERSATION, "h1")) == ["a1", "h2", "h3", "a2", "t1", "a3"]
    # The saved message was trimmed away: back to the latest turn.
    assert ids(unsaved_messages(CONVERSATION, "gone")) == ["h2", "h3", "a2", "t1", "a3"]


def test_the_memory_message_is_never_new() -> None:
    only_memory = [HumanMessage("Hi", id="h1"), SystemMessage("m", id=MEMORY_MESSAGE_ID)]
    assert ids(unsaved_messages(only_memory, "h1")) == []


def test_resolve_scope_is_exported() -> None:
    config = {"configurable": {"user_id": "alice", "thread_id": 7}}
    assert resolve_scope(user_id=None, conversation_id=None, config=config) == Scope("alice", "7")


def test_the_memory_tools_calls_and_results_are_not_stored() -> None:
    client = MemOSClient(embedded=":memory:")
    names = {tool.name for tool in create_memory_tools(client=client, user_id="alice")}
    assert names == MEMORY_TOOL_NAMES  # the rule is keyed on the names the tools really have
    turn = [
        HumanMessage("What do I like?", id="h"),
        AIMessage("", id="a1", tool_calls=[{"name": "search_memory", "args": {}, "id": "s"}]),
        ToolMessage("<memories>likes tea</memories>", tool_call_id="s", id="t1"),  # no name
        AIMessage("", id="a2", tool_calls=[{"name": "book", "args": {}, "id": "c1"}]),
        ToolMessage("booked", tool_call_id="c1", name="book", id="t2"),
        AIMessage("You like tea.", id="a3"),
    ]
    assert ids(messages_to_store(turn)) == ["h", "a2", "t2", "a3"]
    first = turn[1]
    assert isinstance(first, AIMessage)
    assert first.tool_calls[0]["name"] == "search_memory"  # the turn itself is left as it was


def test_a_summary_put_in_place_of_earlier_messages_is_not_stored_as_the_users_words() -> None:
    summary = HumanMessage(
        "Here is a summary of the conversation to date: ...",
        additional_kwargs={"lc_source": "summarization"},
    )
    question = HumanMessage("And the parents?")
    assert messages_to_store([summary, question]) == [question]


def test_blocks_memos_has_no_form_for_are_left_out_and_the_rest_stored() -> None:
    search = {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}}
    answer = AIMessage(content=[search, {"type": "text", "text": "Try the coast."}])
    only_results = AIMessage(content=[{"type": "web_search_tool_result", "content": []}])
    stored = messages_to_store([answer, only_results])
    assert [m.content for m in stored] == [[{"type": "text", "text": "Try the coast."}]]
    assert to_memos_messages(stored)[0]["content"] == "Try the coast."
