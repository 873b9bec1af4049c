"""The endpoints of messages and memories: add, search, list, read, update and delete them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from langchain_memos._base_client import APIRequest, drop_none
from langchain_memos._config import check_timeout
from langchain_memos._constants import MAX_MESSAGE_LIMIT, MAX_PAGE_SIZE
from langchain_memos._endpoints.scopes import (
    check_filter,
    check_recall_limit,
    post,
    recall_scope,
    write_scope,
)
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_bool,
    check_id,
    check_int,
    check_memos_id,
    check_messages,
    check_optional_id,
    check_optional_str,
    check_str_list,
    check_text,
    exactly_one,
)
from langchain_memos.types import (
    Filter,
    MemoryDetail,
    MemoryListResult,
    MessageInput,
    MessageListResult,
    OperationResult,
    SearchMemoryResult,
    TaskResult,
)


def add_message(
    messages: Sequence[MessageInput],
    *,
    user_id: str,
    conversation_id: str,
    agent_id: str | None = None,
    app_id: str | None = None,
    tags: Sequence[str] | None = None,
    info: dict[str, str | int | float | list[str]] | None = None,
    allow_public: bool | None = None,
    allow_knowledgebase_ids: Sequence[str] | None = None,
    async_mode: bool | None = None,
    source: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[TaskResult]:
    """Hand raw conversation turns to MemOS, which abstracts them into memories.

    Args:
        messages: OpenAI-style messages (``role`` user/assistant/system/tool, ``content`` a string
            or text/image_url/file parts, optional ``chat_time``, ``tool_calls``,
            ``tool_call_id``). One request carries at most 40k tokens.
        user_id: Whose memories these become (at most 100 characters).
        conversation_id: The conversation the turns belong to (at most 100 characters).
        agent_id: Isolates memories per agent.
        app_id: Isolates memories per application.
        tags: Candidate tags; MemOS picks the matching ones.
        info: Flat metadata, filterable by key.
        allow_public: Also write to the project's public memory.
        allow_knowledgebase_ids: Also write the memories into these knowledge bases.
        async_mode: ``True`` (the service default) returns at once with a ``task_id`` to poll;
            ``False`` returns after processing.
        source: A channel tag.
        timeout: Seconds or an ``httpx.Timeout`` for this call (default: the client's).

    Returns:
        The task: ``status`` is ``running`` in async mode, ``completed`` in sync mode.

    Example:
        >>> client.add_message(
        ...     [{"role": "user", "content": "I always travel with my kids."}],
        ...     user_id="u1",
        ...     conversation_id="c1",
        ... )
    """
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_id("conversation_id", conversation_id),
        messages=check_messages(messages),
        **write_scope(
            agent_id, app_id, allow_public, allow_knowledgebase_ids, tags=tags, info=info
        ),
        async_mode=check_bool("async_mode", async_mode),
        source=check_optional_str("source", source),
    )
    return post("/add/message", TaskResult, body, write=True, timeout=timeout)


def search_memory(
    query: str,
    *,
    user_id: str,
    conversation_id: str | None = None,
    filter: Filter | None = None,
    knowledgebase_ids: Sequence[str] | None = None,
    memory_limit_number: int | None = None,
    include_preference: bool | None = None,
    preference_limit_number: int | None = None,
    include_tool_memory: bool | None = None,
    tool_memory_limit_number: int | None = None,
    include_skill: bool | None = None,
    skill_limit_number: int | None = None,
    relativity: float | None = None,
    source: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[SearchMemoryResult]:
    """Recall the facts, preferences, tool memories and skills relevant to ``query``.

    Unset options take the service's defaults (9 facts, 9 preferences, relativity 0.45, tool
    memories and skills off).

    Args:
        query: What to recall memories for.
        user_id: Whose memories to search; one user per request.
        conversation_id: Boosts (does not restrict to) this conversation's memories.
        filter: Scope the search first; see :mod:`langchain_memos.filters`.
        knowledgebase_ids: Knowledge bases to search too (``["all"]`` for every linked one).
        memory_limit_number: At most this many facts (1-25).
        include_preference: Recall preferences too.
        preference_limit_number: At most this many preferences (1-25).
        include_tool_memory: Recall tool memories too.
        tool_memory_limit_number: At most this many tool memories (1-25).
        include_skill: Recall skills too.
        skill_limit_number: At most this many skills (1-25).
        relativity: Minimum relevance in 0..1; 0 disables the threshold.
        source: A channel tag.
        timeout: Seconds or an ``httpx.Timeout`` for this call (default: the client's).

    Example:
        >>> result = client.search_memory("Where should we travel?", user_id="u1")
        >>> [m.memory_value for m in result.memory_detail_list]
    """
    body = drop_none(
        query=check_text("query", query),
        user_id=check_id("user_id", user_id),
        conversation_id=check_optional_id("conversation_id", conversation_id),
        **recall_scope(
            filter,
            knowledgebase_ids,
            memory_limit_number,
            include_preference,
            preference_limit_number,
            relativity,
        ),
        include_tool_memory=check_bool("include_tool_memory", include_tool_memory),
        tool_memory_limit_number=check_recall_limit(
            "tool_memory_limit_number", tool_memory_limit_number
        ),
        include_skill=check_bool("include_skill", include_skill),
        skill_limit_number=check_recall_limit("skill_limit_number", skill_limit_number),
        source=check_optional_str("source", source),
    )
    return post("/search/memory", SearchMemoryResult, body, timeout=timeout)


def get_memory(
    *,
    user_id: str,
    page: int | None = None,
    size: int | None = None,
    filter: Filter | None = None,
    include_preference: bool | None = None,
    include_tool_memory: bool | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[MemoryListResult]:
    """List one page of a user's memories.

    Args:
        user_id: Whose memories to list.
        page: Page number, from 1 (default 1).
        size: Memories per kind and page, 1-50 (default 10).
        filter: Only memories matching this filter.
        include_preference: List preferences too (default true).
        include_tool_memory: List tool memories too (default true).
    """
    body = drop_none(
        user_id=check_id("user_id", user_id),
        page=check_int("page", page, low=1),
        size=check_int("size", size, low=1, high=MAX_PAGE_SIZE),
        filter=check_filter(filter),
        include_preference=check_bool("include_preference", include_preference),
        include_tool_memory=check_bool("include_tool_memory", include_tool_memory),
    )
    return post("/get/memory", MemoryListResult, body, timeout=timeout)


def get_memory_by_id(
    memory_id: str, *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[MemoryDetail]:
    """Fetch one memory by id, with its ``metadata.sources`` (where it came from)."""
    path = "/get/memory/" + quote(check_memos_id("memory_id", memory_id), safe="")
    return APIRequest("GET", path, MemoryDetail, timeout=check_timeout(timeout))


def get_message(
    *,
    user_id: str,
    conversation_id: str,
    message_limit_number: int | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[MessageListResult]:
    """Read the raw messages of one conversation, oldest first.

    Args:
        user_id: Whose conversation.
        conversation_id: Which conversation.
        message_limit_number: At most this many of the latest messages, 1-50 (default 6).
    """
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_id("conversation_id", conversation_id),
        message_limit_number=check_int(
            "message_limit_number", message_limit_number, low=1, high=MAX_MESSAGE_LIMIT
        ),
    )
    return post("/get/message", MessageListResult, body, timeout=timeout)


def delete_memory(
    *,
    memory_ids: Sequence[str] | None = None,
    user_id: str | None = None,
    agent_id: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[OperationResult]:
    """Delete memories: pass exactly one of ``memory_ids``, ``user_id`` or ``agent_id``.

    ``user_id`` deletes **every** memory of that user in the project (facts, preferences, tool
    memories and skills); ``agent_id`` every memory of that agent.
    """
    mode = exactly_one(memory_ids=memory_ids, user_id=user_id, agent_id=agent_id)
    if mode == "memory_ids":
        body: dict[str, Any] = {
            "memory_ids": check_str_list(
                "memory_ids", memory_ids, allow_empty=False, check=check_memos_id
            )
        }
    elif mode == "user_id":
        body = {"user_id": check_id("user_id", user_id)}
    else:
        body = {"agent_id": check_id("agent_id", agent_id)}
    return post("/delete/memory", OperationResult, body, timeout=timeout)


def update_memory(
    memory_id: str,
    *,
    content: str | None = None,
    title: str | None = None,
    status: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[OperationResult]:
    """Edit one memory's content, title or status (at least one of them)."""
    if content is None and title is None and status is None:
        raise MemOSInputError("update_memory needs at least one of content, title or status")
    body = drop_none(
        memory_id=check_memos_id("memory_id", memory_id),
        content=check_optional_str("content", content),
        title=check_optional_str("title", title),
        status=check_optional_str("status", status),
    )
    return post("/update/memory", OperationResult, body, timeout=timeout)
