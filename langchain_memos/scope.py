"""Whose memory an agent run uses, which of its messages are this turn's, and which to store.

The middleware and the graph nodes decide all three the same way, through these functions; they
are public so that your own nodes can too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_id
from langchain_memos.messages import describe, is_blank, memos_role, without_foreign_blocks

__all__ = [
    "ADD_MEMORY_TOOL",
    "MEMORY_MESSAGE_ID",
    "MEMORY_TOOL_NAMES",
    "SEARCH_MEMORY_TOOL",
    "Scope",
    "last_human_text",
    "message_filter",
    "messages_to_store",
    "resolve_scope",
    "turn_start",
    "unsaved_messages",
    "without_tools",
]

logger = logging.getLogger("langchain_memos")

MEMORY_MESSAGE_ID = "memos-memory"
"""The id of the memory ``SystemMessage`` the graph's recall node keeps in the state."""

SEARCH_MEMORY_TOOL = "search_memory"
"""The name of :func:`~langchain_memos.tools.create_memory_tools`' search tool."""
ADD_MEMORY_TOOL = "add_memory"
"""The name of :func:`~langchain_memos.tools.create_memory_tools`' tool that stores a memory."""
MEMORY_TOOL_NAMES = frozenset({SEARCH_MEMORY_TOOL, ADD_MEMORY_TOOL})
"""The package's own memory tools, whose calls and results the write-back leaves out."""


@dataclass(frozen=True)
class Scope:
    """Whose memory a run reads and writes, and the conversation its turns belong to."""

    user_id: str
    conversation_id: str | None


def _lookup(source: object, key: str) -> Any:
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(key)
    return getattr(source, key, None)


def _user(source: str, value: object) -> str | None:
    """A user id where one was given: the retriever's rule (a string, checked, never coerced)."""
    return None if value is None else check_id(source, value)


def _conversation(source: str, value: object) -> str | None:
    """A conversation id where one was given: stringified first, as the retriever does, since
    LangGraph accepts any ``thread_id`` (an int, a UUID) and keys its checkpoints by ``str``."""
    return None if value is None else check_id(source, str(value))


def resolve_scope(
    *,
    user_id: str | None,
    conversation_id: str | None,
    config: Mapping[str, Any] | None,
    context: object = None,
) -> Scope:
    """The run's scope: explicit argument > ``config["configurable"]`` > runtime context.

    The user comes from ``user_id``, else ``configurable.user_id``, else the context's
    ``user_id`` (attribute or key); the conversation from ``conversation_id``, else
    ``configurable.conversation_id``, else ``configurable.thread_id``, else the context's
    ``conversation_id`` / ``thread_id``. There is no shared default user.

    One rule, the :class:`~langchain_memos.retrievers.MemOSRetriever`'s: the first source that
    is not ``None`` is used, and must be a valid id (:func:`~langchain_memos._validation.check_id`:
    a non-blank string of at most 100 characters). A user id is never coerced: ``42`` or ``""``
    is an error, not the user ``"42"`` nor a fall-through to the next source. A conversation id
    is stringified first (``thread_id=7`` files the turns under ``"7"``), as the retriever and
    LangGraph's checkpointers do.

    Raises:
        MemOSInputError: no user id anywhere, or an id that breaks the rule above (the message
            names where it came from).
    """
    configurable = (config or {}).get("configurable") or {}
    user = (
        _user("user_id", user_id)
        or _user("configurable.user_id", configurable.get("user_id"))
        or _user("the runtime context's user_id", _lookup(context, "user_id"))
    )
    if user is None:
        raise MemOSInputError(
            "MemOS memory needs a user_id: pass user_id=..., put it in the run's config as "
            "{'configurable': {'user_id': ...}}, or give the runtime context a user_id"
        )
    conversation = (
        _conversation("conversation_id", conversation_id)
        or _conversation("configurable.conversation_id", configurable.get("conversation_id"))
        or _conversation("configurable.thread_id", configurable.get("thread_id"))
        or _conversation(
            "the runtime context's conversation_id", _lookup(context, "conversation_id")
        )
        or _conversation("the runtime context's thread_id", _lookup(context, "thread_id"))
    )
    return Scope(user_id=user, conversation_id=conversation)


def message_filter(write_back: object) -> Callable[[BaseMessage], bool] | None:
    """An integration's ``write_back`` as the filter of the messages it writes.

    ``True`` or ``False`` give ``None`` (every message; whether to write at all is the
    caller's); a function of a message is the filter.

    Raises:
        MemOSInputError: anything else.
    """
    if isinstance(write_back, bool):
        return None
    if not callable(write_back):
        raise MemOSInputError(
            f"write_back must be True, False or a function of a message; got {write_back!r}"
        )
    return cast("Callable[[BaseMessage], bool]", write_back)


def last_human_text(messages: Sequence[BaseMessage]) -> str | None:
    """The query a turn recalls memories for: the text of its latest human message that has
    any (a turn sent as a question, then an image on its own, recalls for the question)."""
    for message in reversed(messages[turn_start(messages) :]):
        if isinstance(message, HumanMessage) and message.text.strip():
            return message.text.strip()
    return None


def turn_start(messages: Sequence[BaseMessage]) -> int:
    """Index where the latest user turn starts: its first human message (``len`` if none).

    Consecutive human messages (system messages between them aside) are one turn's input.
    """
    start = len(messages)
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, HumanMessage):
            start = index
        elif isinstance(message, SystemMessage):
            continue
        elif start < len(messages):
            break
    return start


def unsaved_messages(
    messages: Sequence[BaseMessage], saved_id: str | None = None
) -> list[BaseMessage]:
    """The messages not written to memory yet: those after ``saved_id``, else this turn's.

    ``saved_id`` is the id of the last message already written, as the graph's save node keeps
    it in the state (``memos_saved_id``). Without it, or when that message is no longer in
    ``messages`` (trimmed away), the latest user turn is the new part: from its first human
    message (consecutive ones are one turn's input) to the end. The recall node's memory
    message is never part of it.

    Example:
        >>> def save(state: State, config: RunnableConfig) -> dict[str, Any]:
        ...     new = unsaved_messages(state["messages"], state.get("memos_saved_id"))
        ...     scope = resolve_scope(user_id=None, conversation_id=None, config=config)
        ...     stored = messages_to_store(new)
        ...     if stored:
        ...         client.add_message(to_memos_messages(stored), user_id=scope.user_id,
        ...                            conversation_id=scope.conversation_id or "my-agent")
        ...     return {"memos_saved_id": new[-1].id} if new else {}
    """
    kept = [m for m in messages if m.id != MEMORY_MESSAGE_ID]
    ids = [m.id for m in kept]
    if saved_id is not None and saved_id in ids:
        return kept[ids.index(saved_id) + 1 :]
    return kept[turn_start(kept) :]


def without_tools(
    messages: Sequence[BaseMessage], names: Collection[str] = MEMORY_TOOL_NAMES
) -> list[BaseMessage]:
    """``messages`` without the calls of the tools ``names`` and their results (by default the
    memory tools)."""
    calls = {
        call["id"]
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["name"] in names and call["id"] is not None
    }
    kept: list[BaseMessage] = []
    for message in messages:
        if isinstance(message, ToolMessage):
            if message.tool_call_id in calls or message.name in names:
                continue
        elif isinstance(message, AIMessage) and any(
            call["name"] in names for call in message.tool_calls
        ):
            others = [c for c in message.tool_calls if c["name"] not in names]
            message = message.model_copy(update={"tool_calls": others})  # blank if that was all
        kept.append(message)
    return kept


def messages_to_store(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Of a turn's new messages, those the write-back stores as memory; in order.

    The middleware and the graph's save node write what this returns (after their
    ``write_back`` filter), so your own save node can do the same. Left out:

    * system messages (also a ``ChatMessage`` with a system role): instructions, not
      conversation (the recall node's memory message too);
    * the calls of the package's own memory tools (:data:`MEMORY_TOOL_NAMES`, the tools of
      :func:`~langchain_memos.tools.create_memory_tools`) and their results: what
      ``search_memory`` returns are memories already, and what ``add_memory`` stores is stored
      by the tool itself; written back, they would come back as new memories (and a tool of
      your own with one of these names is left out too). An AI message that also says something,
      or calls other tools, is kept without the memory tools' calls. The calls of every other
      tool and their results are stored: MemOS keeps them as tool memories;
    * messages with nothing to remember (:func:`~langchain_memos.messages.is_blank`: empty or
      whitespace-only, without tool calls, images or files); a tool's empty result is kept,
      as the answer of its call;
    * messages MemOS has no role for (:func:`~langchain_memos.messages.memos_role`, e.g. a
      ``ChatMessage(role="critic")``), each with an INFO log line saying so; they are never
      stored under another role;
    * a summary another middleware put in place of earlier messages (:func:`is_summary`);
    * of a message's content, the blocks MemOS has no form for (a provider's web search
      results, a refusal, audio ...; see
      :func:`~langchain_memos.messages.without_foreign_blocks`), with an INFO log line: the
      rest of the message, and of the turn, is stored.
    """
    kept: list[BaseMessage] = []
    for message in without_tools(messages):
        role = memos_role(message)
        if role is None:
            logger.info(
                "MemOS has no role for a %s: left out of the memory write-back", describe(message)
            )
            continue
        if is_summary(message):
            continue
        message, left_out = without_foreign_blocks(message)
        if left_out:
            logger.info(
                "MemOS stores text, images and files: %s block(s) of a %s left out of the "
                "memory write-back",
                ", ".join(dict.fromkeys(left_out)),
                describe(message),
            )
        if role != "system" and (role == "tool" or not is_blank(message)):
            kept.append(message)
    return kept


def is_summary(message: BaseMessage) -> bool:
    """``message`` is a summary of earlier messages that a middleware put in their place
    (``SummarizationMiddleware`` marks it ``additional_kwargs["lc_source"] == "summarization"``):
    what it sums up was written when it was said."""
    return message.additional_kwargs.get("lc_source") == "summarization"
