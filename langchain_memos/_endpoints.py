"""One description per MemOS endpoint: its signature, docstring, validation and request.

Each function here validates its arguments (raising :class:`MemOSInputError` before any I/O)
and returns an :class:`APIRequest`. ``client.py`` turns every one of them into a method of both
``MemOSClient`` and ``AsyncMemOSClient``, so the signature and docstring below are exactly what
users of either client see. Each also takes ``timeout``: this call's own, else the client's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from os import PathLike, fspath
from pathlib import Path
from typing import Any, Literal, TypeAlias
from urllib.parse import quote

import httpx

from langchain_memos._base_client import APIRequest, check_timeout, drop_none
from langchain_memos._constants import MAX_MESSAGE_LIMIT, MAX_PAGE_SIZE, MAX_RECALL_LIMIT
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_bool,
    check_fraction,
    check_id,
    check_info,
    check_int,
    check_memos_id,
    check_messages,
    check_optional_id,
    check_optional_str,
    check_str_list,
    check_text,
    exactly_one,
)
from langchain_memos.filters import validate_filter
from langchain_memos.types import (
    ChatResult,
    ExtractMemoryResult,
    Filter,
    KnowledgeBase,
    KnowledgeBaseFileInput,
    KnowledgeBaseFileList,
    KnowledgeBaseFiles,
    MemoryDetail,
    MemoryListResult,
    MessageInput,
    MessageListResult,
    OperationResult,
    RerankResult,
    SearchMemoryResult,
    TaskResult,
    TaskStatus,
)

MAX_FILES_PER_UPLOAD = 20
_EXTRACT_ROLES = frozenset({"user", "assistant", "system"})
_CHAT_MODELS = ("qwen3-32b", "deepseek-r1", "qwen2.5-72b-instruct")

FileSource: TypeAlias = str | PathLike[str] | tuple[str, bytes]
"""A file to upload: a path, or a ``(file name, content)`` pair."""


def _filter(value: Filter | None) -> dict[str, Any] | None:
    return None if value is None else validate_filter(value)


def _recall_limit(name: str, value: int | None) -> int | None:
    return check_int(name, value, low=1, high=MAX_RECALL_LIMIT)


def _write_scope(
    agent_id: str | None,
    app_id: str | None,
    tags: Sequence[str] | None,
    info: Mapping[str, Any] | None,
    allow_public: bool | None,
    allow_knowledgebase_ids: Sequence[str] | None,
) -> dict[str, Any]:
    """The fields that say where a write's memories go (add/message, chat)."""
    return drop_none(
        agent_id=check_optional_id("agent_id", agent_id),
        app_id=check_optional_id("app_id", app_id),
        tags=check_str_list("tags", tags),
        info=check_info(info),
        allow_public=check_bool("allow_public", allow_public),
        allow_knowledgebase_ids=check_str_list("allow_knowledgebase_ids", allow_knowledgebase_ids),
    )


def _recall_scope(
    filter: Filter | None,
    knowledgebase_ids: Sequence[str] | None,
    memory_limit_number: int | None,
    include_preference: bool | None,
    preference_limit_number: int | None,
    relativity: float | None,
) -> dict[str, Any]:
    """The fields that say what a recall may return (search/memory, chat)."""
    return drop_none(
        filter=_filter(filter),
        knowledgebase_ids=check_str_list("knowledgebase_ids", knowledgebase_ids),
        memory_limit_number=_recall_limit("memory_limit_number", memory_limit_number),
        include_preference=check_bool("include_preference", include_preference),
        preference_limit_number=_recall_limit("preference_limit_number", preference_limit_number),
        relativity=check_fraction("relativity", relativity),
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
        **_write_scope(agent_id, app_id, tags, info, allow_public, allow_knowledgebase_ids),
        async_mode=check_bool("async_mode", async_mode),
        source=check_optional_str("source", source),
    )
    return APIRequest(
        "POST", "/add/message", TaskResult, body=body, write=True, timeout=check_timeout(timeout)
    )


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
        **_recall_scope(
            filter,
            knowledgebase_ids,
            memory_limit_number,
            include_preference,
            preference_limit_number,
            relativity,
        ),
        include_tool_memory=check_bool("include_tool_memory", include_tool_memory),
        tool_memory_limit_number=_recall_limit(
            "tool_memory_limit_number", tool_memory_limit_number
        ),
        include_skill=check_bool("include_skill", include_skill),
        skill_limit_number=_recall_limit("skill_limit_number", skill_limit_number),
        source=check_optional_str("source", source),
    )
    return APIRequest(
        "POST", "/search/memory", SearchMemoryResult, body=body, timeout=check_timeout(timeout)
    )


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
        filter=_filter(filter),
        include_preference=check_bool("include_preference", include_preference),
        include_tool_memory=check_bool("include_tool_memory", include_tool_memory),
    )
    return APIRequest(
        "POST", "/get/memory", MemoryListResult, body=body, timeout=check_timeout(timeout)
    )


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
    return APIRequest(
        "POST", "/get/message", MessageListResult, body=body, timeout=check_timeout(timeout)
    )


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
    return APIRequest(
        "POST", "/delete/memory", OperationResult, body=body, timeout=check_timeout(timeout)
    )


def add_feedback(
    *,
    user_id: str,
    feedback_content: str,
    conversation_id: str | None = None,
    agent_id: str | None = None,
    app_id: str | None = None,
    feedback_time: str | None = None,
    allow_public: bool | None = None,
    allow_knowledgebase_ids: Sequence[str] | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[TaskResult]:
    """Correct memories in natural language ("I moved to Nanjing last month").

    ``conversation_id`` lets MemOS make a semantic correction in that context; without it the
    feedback works as a keyword replacement.
    """
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_optional_id("conversation_id", conversation_id),
        feedback_content=check_text("feedback_content", feedback_content),
        agent_id=check_optional_id("agent_id", agent_id),
        app_id=check_optional_id("app_id", app_id),
        feedback_time=check_optional_str("feedback_time", feedback_time),
        allow_public=check_bool("allow_public", allow_public),
        allow_knowledgebase_ids=check_str_list("allow_knowledgebase_ids", allow_knowledgebase_ids),
    )
    return APIRequest(
        "POST", "/add/feedback", TaskResult, body=body, write=True, timeout=check_timeout(timeout)
    )


def get_status(
    task_id: str, *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[TaskStatus]:
    """The state of an asynchronous task (``running``, ``completed`` or ``failed``)."""
    task_id = check_memos_id("task_id", task_id)

    def fill_id(status: TaskStatus) -> TaskStatus:
        # The legacy list-shaped answer does not repeat the task id.
        if status.task_id is None:
            status.task_id = task_id
        return status

    return APIRequest(
        "POST",
        "/get/status",
        TaskStatus,
        body={"task_id": task_id},
        finish=fill_id,
        timeout=check_timeout(timeout),
    )


def extract_memory(
    messages: Sequence[MessageInput],
    *,
    extraction_types: Sequence[Literal["memory", "preference"]] | None = None,
    model: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[ExtractMemoryResult]:
    """Extract facts and preferences from messages without storing anything (8k tokens max)."""
    checked = check_messages(messages, roles=_EXTRACT_ROLES)
    for index, message in enumerate(checked):
        if not isinstance(message.get("content"), str):
            raise MemOSInputError(f"messages[{index}].content must be a string for extract_memory")
    types = check_str_list("extraction_types", extraction_types, allow_empty=False)
    if types is not None and not set(types) <= {"memory", "preference"}:
        raise MemOSInputError(f"extraction_types may hold 'memory' and 'preference'; got {types}")
    body = drop_none(messages=checked, extraction_types=types, model=model)
    return APIRequest(
        "POST", "/extract/memory", ExtractMemoryResult, body=body, timeout=check_timeout(timeout)
    )


def rerank(
    query: str,
    documents: Sequence[str],
    *,
    model: str | None = None,
    top_n: int | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[RerankResult]:
    """Order ``documents`` by relevance to ``query`` with a MemOS reranker.

    ``model`` is ``memos-reranker-0.6b`` or ``memos-reranker-4b``; results come best first.
    """
    body = drop_none(
        query=check_text("query", query),
        documents=check_str_list("documents", documents, allow_empty=False),
        model=model,
        top_n=check_int("top_n", top_n, low=1),
    )
    return APIRequest(
        "POST", "/rerank", RerankResult, body=body, enveloped=False, timeout=check_timeout(timeout)
    )


def chat(
    *,
    user_id: str,
    conversation_id: str,
    query: str,
    filter: Filter | None = None,
    knowledgebase_ids: Sequence[str] | None = None,
    memory_limit_number: int | None = None,
    include_preference: bool | None = None,
    preference_limit_number: int | None = None,
    relativity: float | None = None,
    model_name: str | None = None,
    system_prompt: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    add_message_on_answer: bool | None = None,
    app_id: str | None = None,
    agent_id: str | None = None,
    tags: Sequence[str] | None = None,
    info: dict[str, str] | None = None,
    allow_public: bool | None = None,
    allow_knowledgebase_ids: Sequence[str] | None = None,
    source: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[ChatResult]:
    """Ask MemOS's own memory-augmented chat model (8k input tokens, text only).

    ``model_name`` is one of ``qwen3-32b``, ``deepseek-r1`` or ``qwen2.5-72b-instruct`` (the
    default). With ``add_message_on_answer`` (the default) the exchange is written to memory.
    ``chat_stream`` takes the same arguments and yields the answer as it is generated.
    """
    if model_name is not None and model_name not in _CHAT_MODELS:
        raise MemOSInputError(f"model_name must be one of {list(_CHAT_MODELS)}; got {model_name!r}")
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_id("conversation_id", conversation_id),
        query=check_text("query", query),
        **_recall_scope(
            filter,
            knowledgebase_ids,
            memory_limit_number,
            include_preference,
            preference_limit_number,
            relativity,
        ),
        model_name=model_name,
        system_prompt=check_optional_str("system_prompt", system_prompt),
        max_tokens=check_int("max_tokens", max_tokens, low=1),
        temperature=check_fraction("temperature", temperature, high=2.0),
        top_p=check_fraction("top_p", top_p),
        add_message_on_answer=check_bool("add_message_on_answer", add_message_on_answer),
        **_write_scope(agent_id, app_id, tags, info, allow_public, allow_knowledgebase_ids),
        source=source,
        stream=False,
    )
    return APIRequest(
        "POST", "/chat", ChatResult, body=body, write=True, timeout=check_timeout(timeout)
    )


def as_stream(request: APIRequest[Any]) -> APIRequest[Any]:
    """The streaming form of a chat request."""
    return replace(request, body={**(request.body or {}), "stream": True})


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
    return APIRequest(
        "POST", "/update/memory", OperationResult, body=body, timeout=check_timeout(timeout)
    )


def create_knowledgebase(
    knowledgebase_name: str,
    *,
    knowledgebase_description: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBase]:
    """Create a knowledge base in the current project; the result carries its ``id``."""
    body = drop_none(
        knowledgebase_name=check_text("knowledgebase_name", knowledgebase_name),
        knowledgebase_description=check_optional_str(
            "knowledgebase_description", knowledgebase_description
        ),
    )
    return APIRequest(
        "POST", "/create/knowledgebase", KnowledgeBase, body=body, timeout=check_timeout(timeout)
    )


def delete_knowledgebase(
    knowledgebase_id: str, *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[OperationResult]:
    """Detach a knowledge base from the project (permanent deletion is console-only)."""
    body = {"knowledgebase_id": check_memos_id("knowledgebase_id", knowledgebase_id)}
    return APIRequest(
        "POST", "/delete/knowledgebase", OperationResult, body=body, timeout=check_timeout(timeout)
    )


def _check_file_count(count: int) -> None:
    if not 1 <= count <= MAX_FILES_PER_UPLOAD:
        raise MemOSInputError(
            f"upload between 1 and {MAX_FILES_PER_UPLOAD} files per request; got {count}"
        )


def add_knowledgebase_files(
    knowledgebase_id: str,
    files: Sequence[KnowledgeBaseFileInput],
    *,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBaseFiles]:
    """Add documents or skill files to a knowledge base, as URLs, base64 or data URIs.

    Example:
        >>> client.add_knowledgebase_files(
        ...     "kb-1", [{"name": "faq.md", "content": "https://example.com/faq.md"}]
        ... )
    """
    if isinstance(files, (str, bytes, dict)) or not isinstance(files, Sequence):
        raise MemOSInputError("files must be a list of {'content': ..., 'name': ..., 'type': ...}")
    _check_file_count(len(files))
    checked = []
    for index, item in enumerate(files):
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise MemOSInputError(f"files[{index}] needs a string 'content' (URL or base64)")
        if item.get("type", "document") not in ("document", "skill"):
            raise MemOSInputError(f"files[{index}].type must be 'document' or 'skill'")
        checked.append(dict(item))
    body = {
        "knowledgebase_id": check_memos_id("knowledgebase_id", knowledgebase_id),
        "file": checked,
    }
    return APIRequest(
        "POST",
        "/add/knowledgebase-file",
        KnowledgeBaseFiles,
        body=body,
        write=True,
        timeout=check_timeout(timeout),
    )


def upload_knowledgebase_files(
    knowledgebase_id: str,
    files: Sequence[FileSource],
    *,
    type: Literal["document", "skill"] | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBaseFiles]:
    """Upload local files to a knowledge base as multipart form data.

    Args:
        knowledgebase_id: The knowledge base.
        files: Paths, or ``(file name, content bytes)`` pairs; 1-20 per request.
        type: ``document`` (default) or ``skill``.
    """
    if isinstance(files, (str, bytes)) or not isinstance(files, Sequence):
        raise MemOSInputError("files must be a list of paths or (name, bytes) pairs")
    _check_file_count(len(files))
    parts: list[tuple[str, tuple[str, bytes]]] = []
    for index, item in enumerate(files):
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str) or not isinstance(item[1], bytes):
                raise MemOSInputError(f"files[{index}] must be a (name, bytes) pair")
            parts.append(("file", (item[0], item[1])))
            continue
        path = Path(fspath(item))
        if not path.is_file():
            raise MemOSInputError(f"files[{index}]: no such file: {path}")
        parts.append(("file", (path.name, path.read_bytes())))
    if type is not None and type not in ("document", "skill"):
        raise MemOSInputError(f"type must be 'document' or 'skill'; got {type!r}")
    params = drop_none(
        knowledgebase_id=check_memos_id("knowledgebase_id", knowledgebase_id), type=type
    )
    return APIRequest(
        "POST",
        "/add/knowledgebase-file",
        KnowledgeBaseFiles,
        params=params,
        files=parts,
        write=True,
        timeout=check_timeout(timeout),
    )


def get_knowledgebase_files(
    *,
    file_ids: Sequence[str] | None = None,
    knowledgebase_id: str | None = None,
    type: Literal["document", "skill"] | None = None,
    page: int | None = None,
    page_size: int | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBaseFileList]:
    """File details by ``file_ids``, or one page of a knowledge base's files (not both)."""
    mode = exactly_one(file_ids=file_ids, knowledgebase_id=knowledgebase_id)
    if mode == "file_ids":
        if type is not None or page is not None or page_size is not None:
            raise MemOSInputError("type, page and page_size go with knowledgebase_id, not file_ids")
        body: dict[str, Any] = {
            "file_ids": check_str_list(
                "file_ids", file_ids, allow_empty=False, check=check_memos_id
            )
        }
    else:
        body = drop_none(
            knowledgebase_id=check_memos_id("knowledgebase_id", knowledgebase_id),
            type=type,
            page=check_int("page", page, low=1),
            page_size=check_int("page_size", page_size, low=1, high=MAX_PAGE_SIZE),
        )
    return APIRequest(
        "POST",
        "/get/knowledgebase-file",
        KnowledgeBaseFileList,
        body=body,
        timeout=check_timeout(timeout),
    )


def delete_knowledgebase_files(
    file_ids: Sequence[str], *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[OperationResult]:
    """Delete knowledge-base files; deleting a skill file deletes the skill."""
    body = {
        "file_ids": check_str_list("file_ids", file_ids, allow_empty=False, check=check_memos_id)
    }
    return APIRequest(
        "POST",
        "/delete/knowledgebase-file",
        OperationResult,
        body=body,
        timeout=check_timeout(timeout),
    )
