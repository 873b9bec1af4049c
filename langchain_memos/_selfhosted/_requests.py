"""The cloud requests this package builds, mapped onto the server's ``/product`` routes.

Pure functions: a cloud request (method, path and JSON body) in, a :class:`ProductCall` out.
Every field of every cloud request is either translated or refused with a
:class:`MemOSInputError` naming it; what the server does not serve at all (raw messages,
knowledge bases, extraction, rerank, memory edits) is refused by route. Request shapes are the
server's (``memos/api/product_models.py`` of ``MemoryOS``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._selfhosted._filters import translate_filter
from langchain_memos._selfhosted._scope import SelfHostedOptions, issue_task_id, task_owner

# What a ``get/memory`` page holds when the call leaves it unset: the cloud's defaults. The
# server's own default, no page, answers with every memory of the cube at once.
DEFAULT_PAGE = 1
DEFAULT_PAGE_SIZE = 10

# Metadata field names of the server's memories (``list_all_fields()`` of
# ``memos.memories.textual.item``, MemoryOS 2.0.33): the server silently drops info keys named
# so, so they are refused here instead.
RESERVED_INFO_KEYS = frozenset(
    {
        "id",
        "memory",
        "metadata",
        "background",
        "confidence",
        "covered_history",
        "created_at",
        "dialog_id",
        "embedding",
        "evolve_to",
        "file_ids",
        "history",
        "info",
        "internal_info",
        "is_fast",
        "key",
        "mem_cube_id",
        "memory_type",
        "original_text",
        "preference",
        "preference_type",
        "relativity",
        "score",
        "session_id",
        "source",
        "sources",
        "status",
        "tags",
        "type",
        "updated_at",
        "usage",
        "user_id",
        "version",
        "visibility",
        "working_binding",
    }
)

UNSERVED = {
    "/get/message": "raw conversation messages (get/message): its router has no such route; "
    "the messages live on only as the memories made from them",
    "/update/memory": "editing a memory (update/memory); use add_feedback to correct memories",
    "/extract/memory": "stateless extraction (extract/memory)",
    "/rerank": "the MemOS rerankers (rerank)",
    "/bind/profile_template": "profile templates",
    "/edit/profile": "profile templates",
    "/delete/profile": "profile templates",
}
_KNOWLEDGE_BASE = re.compile(
    r"/(create|delete)/knowledgebase$|/(add|get|delete)/knowledgebase-file$"
)


@dataclass(frozen=True)
class ProductCall:
    """One request to the self-hosted server, and what translating its answer back needs.

    ``kind`` names the cloud call (``add``, ``search``, ...); ``context`` holds what the answer
    does not repeat (the task id issued, the page asked for).
    """

    kind: str
    method: str
    path: str
    body: Any = None
    params: dict[str, str] | None = None
    context: dict[str, Any] = field(default_factory=dict)


def refuse(what: str) -> MemOSInputError:
    return MemOSInputError(f"a self-hosted MemOS server does not offer {what}")


class _Body:
    """A cloud request body taken field by field; what is left over at the end is refused."""

    def __init__(self, call: str, body: Any) -> None:
        if not isinstance(body, dict):
            raise MemOSInputError(f"{call}: the request body must be a JSON object")
        self._call = call
        self._fields: dict[str, Any] = dict(body)

    def take(self, name: str) -> Any:
        return self._fields.pop(name, None)

    def refuse_set(self, name: str, what: str) -> None:
        """Refuse ``name`` unless it is unset, false or empty (the cloud's defaults)."""
        if self._fields.pop(name, None):
            raise refuse(f"{what} ({self._call} {name})")

    def done(self) -> None:
        if self._fields:
            raise MemOSInputError(
                f"{self._call}: the self-hosted mode does not translate "
                f"{', '.join(sorted(self._fields))}, so it refuses to send the call without them"
            )


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _write_info(body: _Body, info: Any) -> dict[str, Any] | None:
    """The cloud's ``info`` plus ``agent_id`` / ``app_id``, kept as info keys the filters see."""
    merged = dict(info or {})
    reserved = sorted(set(merged) & RESERVED_INFO_KEYS)
    if reserved:
        raise MemOSInputError(
            f"info keys {reserved} name memory fields of the self-hosted server, which drops "
            "them: rename them"
        )
    for name in ("agent_id", "app_id"):
        value = body.take(name)
        if value is None:
            continue
        if merged.get(name, value) != value:
            raise MemOSInputError(f"info[{name!r}] and {name}= disagree: pass one of them")
        merged[name] = value
    return merged or None


def _async_mode(value: Any) -> str:
    return "sync" if value is False else "async"


def add_message(body: _Body, options: SelfHostedOptions) -> ProductCall:
    user_id = body.take("user_id")
    asynchronous = _async_mode(body.take("async_mode")) == "async"
    task_id = issue_task_id(user_id) if asynchronous else None
    body.refuse_set("allow_public", "public memory")
    body.refuse_set("allow_knowledgebase_ids", "knowledge bases")
    body.refuse_set("source", "a channel tag: the server drops info.source")
    request = _drop_none(
        user_id=user_id,
        session_id=body.take("conversation_id"),
        messages=body.take("messages"),
        writable_cube_ids=options.writable(user_id),
        async_mode="async" if asynchronous else "sync",
        mode=None if asynchronous else options.add_mode,
        custom_tags=body.take("tags"),
        info=_write_info(body, body.take("info")),
        task_id=task_id,
    )
    body.done()
    return ProductCall("add", "POST", "/product/add", request, context={"task_id": task_id})


def _recall(body: _Body) -> dict[str, Any]:
    """The fields search and chat share, under the server's names."""
    body.refuse_set("knowledgebase_ids", "knowledge bases")
    return _drop_none(
        session_id=body.take("conversation_id"),
        filter=translate_filter(body.take("filter")),
        top_k=body.take("memory_limit_number"),
        include_preference=body.take("include_preference"),
        pref_top_k=body.take("preference_limit_number"),
        relativity=body.take("relativity"),
    )


def search_memory(body: _Body, options: SelfHostedOptions) -> ProductCall:
    user_id = body.take("user_id")
    request = {
        "query": body.take("query"),
        "user_id": user_id,
        "readable_cube_ids": options.readable(user_id),
        **_recall(body),
        # The cloud recalls tool memories and skills only when asked; the server by default.
        "search_tool_memory": bool(body.take("include_tool_memory")),
        "include_skill_memory": bool(body.take("include_skill")),
        **_drop_none(
            tool_mem_top_k=body.take("tool_memory_limit_number"),
            skill_mem_top_k=body.take("skill_limit_number"),
            source=body.take("source"),
        ),
    }
    body.done()
    return ProductCall("search", "POST", "/product/search", request)


def get_memory(body: _Body, options: SelfHostedOptions) -> ProductCall:
    user_id = body.take("user_id")
    page = body.take("page") or DEFAULT_PAGE
    size = body.take("size") or DEFAULT_PAGE_SIZE
    request = _drop_none(
        mem_cube_id=options.readable(user_id)[0],
        user_id=user_id,
        page=page,
        page_size=size,
        filter=translate_filter(body.take("filter")),
        include_preference=body.take("include_preference"),
        include_tool_memory=body.take("include_tool_memory"),
    )
    body.done()
    return ProductCall(
        "get_memory", "POST", "/product/get_memory", request, context={"page": page, "size": size}
    )


def delete_memory(body: _Body, options: SelfHostedOptions) -> ProductCall:
    memory_ids, user_id, agent_id = (
        body.take(name) for name in ("memory_ids", "user_id", "agent_id")
    )
    body.done()
    if memory_ids is not None:
        request: dict[str, Any] = {"memory_ids": memory_ids}
    elif user_id is not None:
        # Every memory the user wrote, in the cubes the user's writes go to.
        request = {"user_id": user_id, "writable_cube_ids": options.writable(user_id)}
    elif agent_id is not None:
        request = {"filter": {"and": [{"info.agent_id": agent_id}]}}
    else:
        raise MemOSInputError("delete_memory needs memory_ids, user_id or agent_id")
    return ProductCall("delete", "POST", "/product/delete_memory", request)


def add_feedback(body: _Body, options: SelfHostedOptions) -> ProductCall:
    user_id = body.take("user_id")
    task_id = issue_task_id(user_id)
    body.refuse_set("allow_public", "public memory")
    body.refuse_set("allow_knowledgebase_ids", "knowledge bases")
    request = _drop_none(
        user_id=user_id,
        session_id=body.take("conversation_id"),
        history=[],  # required by the server; the cloud call carries no history
        feedback_content=body.take("feedback_content"),
        feedback_time=body.take("feedback_time"),
        writable_cube_ids=options.writable(user_id),
        async_mode="async",
        info=_write_info(body, None),
        task_id=task_id,
    )
    body.done()
    return ProductCall(
        "feedback", "POST", "/product/feedback", request, context={"task_id": task_id}
    )


def get_status(body: _Body, options: SelfHostedOptions) -> ProductCall:
    task_id = body.take("task_id")
    body.done()
    params = {"user_id": task_owner(str(task_id)), "task_id": str(task_id)}
    return ProductCall(
        "status", "GET", "/product/scheduler/status", params=params, context={"task_id": task_id}
    )


def chat(body: _Body, options: SelfHostedOptions) -> ProductCall:
    user_id = body.take("user_id")
    stream = bool(body.take("stream"))
    for name in ("tags", "info", "agent_id", "app_id", "source"):
        body.refuse_set(name, "write metadata on a chat")
    body.refuse_set("allow_public", "public memory")
    body.refuse_set("allow_knowledgebase_ids", "knowledge bases")
    request = {
        "user_id": user_id,
        "query": body.take("query"),
        "readable_cube_ids": options.readable(user_id),
        "writable_cube_ids": options.writable(user_id),
        **_recall(body),
        **_drop_none(
            system_prompt=body.take("system_prompt"),
            model_name_or_path=body.take("model_name"),
            max_tokens=body.take("max_tokens"),
            temperature=body.take("temperature"),
            top_p=body.take("top_p"),
            add_message_on_answer=body.take("add_message_on_answer"),
        ),
    }
    body.done()
    path = "/product/chat/stream" if stream else "/product/chat/complete"
    return ProductCall("chat_stream" if stream else "chat", "POST", path, request)


_POST_ROUTES: dict[str, Callable[[_Body, SelfHostedOptions], ProductCall]] = {
    "/add/message": add_message,
    "/search/memory": search_memory,
    "/get/memory": get_memory,
    "/delete/memory": delete_memory,
    "/add/feedback": add_feedback,
    "/get/status": get_status,
    "/chat": chat,
}
_MEMORY_BY_ID = re.compile(r"/get/memory/([^/]+)$")


def cloud_route(path: str) -> str | None:
    """The cloud route ``path`` ends with, whatever the base URL's own path."""
    for route in (*_POST_ROUTES, *UNSERVED):
        if path.endswith(route):
            return route
    if _KNOWLEDGE_BASE.search(path):
        return "knowledgebase"
    match = _MEMORY_BY_ID.search(path)
    return match.group(0) if match else None


def translate_request(
    method: str, path: str, body: Any, options: SelfHostedOptions
) -> tuple[str, ProductCall]:
    """``(cloud route, server call)`` for one cloud request.

    Raises:
        MemOSInputError: the server does not offer the call, or the call sets a field it
            cannot honour; nothing is sent.
    """
    route = cloud_route(path)
    if route is None:
        raise MemOSInputError(f"the self-hosted mode knows no MemOS call at {path!r}")
    if route == "knowledgebase":
        raise refuse(
            "knowledge bases: its documents are added as messages of file type to a cube, "
            "and cubes are chosen with readable_cube_ids / writable_cube_ids"
        )
    if route in UNSERVED:
        raise refuse(UNSERVED[route])
    if route.startswith("/get/memory/"):
        memory_id = route.rsplit("/", 1)[1]
        return route, ProductCall(
            "get_by_id", "GET", "/product/get_memory/" + quote(memory_id, safe="")
        )
    if method != "POST":
        raise MemOSInputError(f"{route} is a POST call; got {method}")
    return route, _POST_ROUTES[route](_Body(route.strip("/"), body), options)
