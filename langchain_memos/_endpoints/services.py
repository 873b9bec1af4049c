"""The endpoints around MemOS's own models: feedback, task status, extraction, rerank, chat."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import httpx

from langchain_memos._base_client import APIRequest, Flow, Send, Sleep, drop_none
from langchain_memos._endpoints.scopes import post, recall_scope, view_scope, write_scope
from langchain_memos._exceptions import DeadlineExceededError, MemOSInputError
from langchain_memos._validation import (
    check_bool,
    check_fraction,
    check_id,
    check_int,
    check_memos_id,
    check_messages,
    check_optional_id,
    check_optional_str,
    check_seconds,
    check_str_list,
    check_text,
)
from langchain_memos.types import (
    ChatResult,
    ExtractMemoryResult,
    Filter,
    MessageInput,
    RerankResult,
    TaskResult,
    TaskStatus,
)

_EXTRACT_ROLES = frozenset({"user", "assistant", "system"})
_CHAT_MODELS = ("qwen3-32b", "deepseek-r1", "qwen2.5-72b-instruct")


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

    The SDK's ``add_feedback``, with the same names. ``conversation_id`` lets MemOS make a
    semantic correction in that context (the newest API reference requires it); without it the
    feedback works as a keyword replacement, as the SDK and the feature page allow.
    """
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_optional_id("conversation_id", conversation_id),
        feedback_content=check_text("feedback_content", feedback_content),
        feedback_time=check_optional_str("feedback_time", feedback_time),
        **write_scope(agent_id, app_id, allow_public, allow_knowledgebase_ids),
    )
    return post("/add/feedback", TaskResult, body, write=True, timeout=timeout)


def get_status(
    task_id: str, *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[TaskStatus]:
    """The state of an asynchronous task (``running``, ``completed`` or ``failed``).

    The SDK's ``get_task_status``; ``wait_for_task`` polls it.
    """
    task_id = check_memos_id("task_id", task_id)

    def fill_id(status: TaskStatus) -> TaskStatus:
        # The legacy list-shaped answer does not repeat the task id.
        if status.task_id is None:
            status.task_id = task_id
        return status

    return post("/get/status", TaskStatus, {"task_id": task_id}, finish=fill_id, timeout=timeout)


def wait_for_task(
    task_id: str, *, timeout: float = 60.0, interval: float = 0.5
) -> Flow[TaskStatus]:
    """Poll ``get/status`` until the task is ``completed`` or ``failed``.

    Raises:
        DeadlineExceededError: the task was still running after ``timeout`` seconds (it
            goes on in MemOS; a later ``get_status`` shows how it ended).
    """
    deadline = time.monotonic() + check_seconds("timeout", timeout, high=86400, allow_zero=True)
    interval = check_seconds("interval", interval, high=60, allow_zero=True)
    while True:
        status: TaskStatus = yield Send(get_status(task_id))
        if status.done:
            return status
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceededError(f"task {task_id} still {status.status!r} after {timeout} s")
        yield Sleep(min(interval, remaining))


def extract_memory(
    messages: Sequence[MessageInput],
    *,
    extraction_types: Sequence[Literal["memory", "preference"]] | None = None,
    model: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[ExtractMemoryResult]:
    """Extract facts and preferences from messages without storing anything (8k tokens max).

    The SDK's ``extract_memory``, with the same names.
    """
    checked = check_messages(messages, roles=_EXTRACT_ROLES)
    for index, message in enumerate(checked):
        if not isinstance(message.get("content"), str):
            raise MemOSInputError(f"messages[{index}].content must be a string for extract_memory")
    types = check_str_list("extraction_types", extraction_types, allow_empty=False)
    if types is not None and not set(types) <= {"memory", "preference"}:
        raise MemOSInputError(f"extraction_types may hold 'memory' and 'preference'; got {types}")
    body = drop_none(messages=checked, extraction_types=types, model=model)
    return post("/extract/memory", ExtractMemoryResult, body, timeout=timeout)


def rerank(
    query: str,
    documents: Sequence[str],
    *,
    model: str | None = None,
    top_n: int | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[RerankResult]:
    """Order ``documents`` by relevance to ``query`` with a MemOS reranker.

    The SDK's ``rerank``, with the same names.

    ``model`` is ``memos-reranker-0.6b`` or ``memos-reranker-4b``; results come best first.
    """
    body = drop_none(
        query=check_text("query", query),
        documents=check_str_list("documents", documents, allow_empty=False),
        model=model,
        top_n=check_int("top_n", top_n, low=1),
    )
    return post("/rerank", RerankResult, body, enveloped=False, timeout=timeout)


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
    include_tool_memory: bool | None = None,
    tool_memory_limit_number: int | None = None,
    relativity: float | None = None,
    internet_search: bool | None = None,
    force_stop: bool | None = None,
    use_mem_os_cube: bool | None = None,
    model_name: str | None = None,
    system_prompt: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    add_message_on_answer: bool | None = None,
    async_mode: bool | None = None,
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

    The SDK's ``chat``, with the same names; its ``stream=True`` is ``chat_stream``. The API
    reference does not document ``internet_search`` (search the web too), ``force_stop``,
    ``use_mem_os_cube``, ``async_mode`` (how the answer is written to memory),
    ``include_tool_memory`` or ``tool_memory_limit_number``; they are sent as the SDK sends them.
    """
    if model_name is not None and model_name not in _CHAT_MODELS:
        raise MemOSInputError(f"model_name must be one of {list(_CHAT_MODELS)}; got {model_name!r}")
    body = drop_none(
        user_id=check_id("user_id", user_id),
        conversation_id=check_id("conversation_id", conversation_id),
        query=check_text("query", query),
        **recall_scope(filter, knowledgebase_ids, memory_limit_number, relativity),
        **view_scope(
            None,
            include_preference=include_preference,
            preference_limit_number=preference_limit_number,
            include_tool_memory=include_tool_memory,
            tool_memory_limit_number=tool_memory_limit_number,
        ),
        internet_search=check_bool("internet_search", internet_search),
        force_stop=check_bool("force_stop", force_stop),
        use_mem_os_cube=check_bool("use_mem_os_cube", use_mem_os_cube),
        model_name=model_name,
        system_prompt=check_optional_str("system_prompt", system_prompt),
        max_tokens=check_int("max_tokens", max_tokens, low=1),
        temperature=check_fraction("temperature", temperature, high=2.0),
        top_p=check_fraction("top_p", top_p),
        add_message_on_answer=check_bool("add_message_on_answer", add_message_on_answer),
        async_mode=check_bool("async_mode", async_mode),
        **write_scope(
            agent_id, app_id, allow_public, allow_knowledgebase_ids, tags=tags, info=info
        ),
        source=source,
        stream=False,
    )
    return post("/chat", ChatResult, body, write=True, timeout=timeout)


def as_stream(request: APIRequest[Any]) -> APIRequest[Any]:
    """The streaming form of a chat request."""
    return replace(request, body={**(request.body or {}), "stream": True})
