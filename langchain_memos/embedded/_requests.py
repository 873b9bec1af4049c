"""The requests of the message and memory endpoints: each JSON body, read once into a typed model.

How a body is read, and what a mistake answers on the wire, is :mod:`._request_base`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import Self

from langchain_memos import _codes as codes
from langchain_memos._constants import MAX_MESSAGE_LIMIT, MAX_PAGE_SIZE, MAX_RECALL_LIMIT
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_bool,
    check_fraction,
    check_info,
    check_int,
    check_messages,
    check_str_list,
    check_text,
    exactly_one,
    message_tokens,
)
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._fields import MEMORY_TYPES
from langchain_memos.embedded._filter_sql import filter_sql
from langchain_memos.embedded._ranking import DEFAULT_RELATIVITY, FEEDBACK_TAG
from langchain_memos.embedded._request_base import (
    Request,
    coded,
    limit_of,
    optional_id_of,
    user_id_of,
)
from langchain_memos.filters import validate_filter

MAX_REQUEST_TOKENS = 40_000


class Filter(BaseModel):
    """A checked ``filter``, as SQL over ``memories m`` and its parameters (``"1"``: none)."""

    model_config = ConfigDict(frozen=True)

    where: str = "1"
    params: list[Any] = []

    @classmethod
    def read(cls, value: object) -> Filter:
        params: list[Any] = []
        where = filter_sql(None if value is None else validate_filter(value), params)
        return cls(where=where, params=params)


class AddMessage(Request):
    route = "/add/message"
    writes = True

    user_id: str
    conversation_id: str
    messages: list[dict[str, Any]]
    agent_id: str | None
    app_id: str | None
    info: dict[str, Any] | None
    allow_public: bool | None
    tags: list[str]
    async_mode: bool  # False only when false was sent: then the refinement is waited for

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        user_id = user_id_of(body.get("user_id"))
        conversation_id = user_id_of(body.get("conversation_id"), "conversation_id")
        messages = check_messages(body.get("messages"), max_tokens=None)
        if message_tokens(messages) > MAX_REQUEST_TOKENS:
            raise EngineError(codes.TOO_MANY_TOKENS, f"messages exceed {MAX_REQUEST_TOKENS} tokens")
        return cls(
            user_id=user_id,
            conversation_id=conversation_id,
            messages=messages,
            agent_id=optional_id_of(body, "agent_id"),
            app_id=optional_id_of(body, "app_id"),
            info=check_info(body.get("info")),
            allow_public=check_bool("allow_public", body.get("allow_public")),
            tags=check_str_list("tags", body.get("tags")) or [],
            async_mode=check_bool("async_mode", body.get("async_mode")) is not False,
        )


class AddFeedback(Request):
    route = "/add/feedback"
    writes = True

    feedback_content: str
    user_id: str
    conversation_id: str
    feedback_time: object
    agent_id: str | None
    app_id: str | None
    allow_public: bool | None
    # The feedback as the user's newest message, tagged as a correction; not a field of the body.
    message: AddMessage = Field(exclude=True)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        content = check_text("feedback_content", body.get("feedback_content"))
        message: dict[str, Any] = {"role": "user", "content": content}
        if body.get("feedback_time"):
            message["chat_time"] = body["feedback_time"]
        scope = {k: body[k] for k in ("user_id", "agent_id", "app_id", "allow_public") if k in body}
        added = AddMessage.read(
            {
                **scope,
                "conversation_id": body.get("conversation_id") or "feedback",
                "messages": [message],
                "tags": [FEEDBACK_TAG],
                "async_mode": False,
            }
        )
        return cls(
            feedback_content=content,
            user_id=added.user_id,
            conversation_id=added.conversation_id,
            feedback_time=body.get("feedback_time"),
            agent_id=added.agent_id,
            app_id=added.app_id,
            allow_public=added.allow_public,
            message=added,
        )


class GetMessage(Request):
    route = "/get/message"

    user_id: str
    conversation_id: str
    message_limit_number: int

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            user_id=user_id_of(body.get("user_id")),
            conversation_id=user_id_of(body.get("conversation_id"), "conversation_id"),
            message_limit_number=limit_of(body, "message_limit_number", 6, MAX_MESSAGE_LIMIT),
        )


class ExtractMemory(Request):
    route = "/extract/memory"

    messages: list[dict[str, Any]]
    extraction_types: list[str]

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        messages = check_messages(body.get("messages"))
        types = check_str_list("extraction_types", body.get("extraction_types"))
        return cls(messages=messages, extraction_types=types or ["memory", "preference"])


class SearchMemory(Request):
    route = "/search/memory"

    user_id: str
    query: str
    conversation_id: Any  # only compared: memories of this conversation rank a little higher
    relativity: float
    filter: Filter
    knowledgebase_ids: list[str]
    # (kind, key of the answer, limit) for each kind of memory asked for, facts first.
    plan: list[tuple[str, str, int]]

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        user_id = user_id_of(body.get("user_id"))
        query = check_text("query", body.get("query"))
        relativity = coded(
            codes.RELATIVITY_OUT_OF_RANGE, check_fraction, "relativity", body.get("relativity")
        )
        search_filter = Filter.read(body.get("filter"))
        knowledgebase_ids = check_str_list("knowledgebase_ids", body.get("knowledgebase_ids"))
        plan = [("fact", "memory_detail_list", limit_of(body, "memory_limit_number", 9, 25))]
        if check_bool("include_preference", body.get("include_preference")) is not False:
            limit = limit_of(body, "preference_limit_number", 9, MAX_RECALL_LIMIT)
            plan.append(("preference", "preference_detail_list", limit))
        if check_bool("include_tool_memory", body.get("include_tool_memory")):
            limit = limit_of(body, "tool_memory_limit_number", 6, MAX_RECALL_LIMIT)
            plan.append(("tool", "tool_memory_detail_list", limit))
        if body.get("include_skill"):
            limit_of(body, "skill_limit_number", 6, MAX_RECALL_LIMIT)  # no skills: only checked
        return cls(
            user_id=user_id,
            query=query,
            conversation_id=body.get("conversation_id"),
            relativity=DEFAULT_RELATIVITY if relativity is None else relativity,
            filter=search_filter,
            knowledgebase_ids=knowledgebase_ids or [],
            plan=plan,
        )


class GetMemory(Request):
    route = "/get/memory"

    user_id: str
    page: int
    size: int
    filter: Filter
    # (kind, key of the answer) for each kind of memory listed.
    kinds: list[tuple[str, str]]

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        user_id = user_id_of(body.get("user_id"))
        page = check_int("page", body.get("page"), low=1) or 1
        size = limit_of(body, "size", 10, MAX_PAGE_SIZE)
        listed = Filter.read(body.get("filter"))
        kinds = [("fact", "memory_detail_list")]
        if check_bool("include_preference", body.get("include_preference")) is not False:
            kinds.append(("preference", "preference_detail_list"))
        if check_bool("include_tool_memory", body.get("include_tool_memory")) is not False:
            kinds.append(("tool", "tool_memory_detail_list"))
        return cls(user_id=user_id, page=page, size=size, filter=listed, kinds=kinds)


class DeleteMemory(Request):
    route = "/delete/memory"
    writes = True

    memory_ids: list[str] | None
    user_id: str | None
    agent_id: str | None
    memory_type: str | None

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        mode = exactly_one(
            memory_ids=body.get("memory_ids"),
            user_id=body.get("user_id"),
            agent_id=body.get("agent_id"),
        )
        memory_type = body.get("memory_type")
        if memory_type is not None and (
            not isinstance(memory_type, str) or memory_type not in MEMORY_TYPES
        ):
            raise MemOSInputError(
                f"memory_type must be one of {', '.join(MEMORY_TYPES)}; got {memory_type!r}"
            )
        ids = None
        if mode == "memory_ids":
            ids = check_str_list("memory_ids", body["memory_ids"], allow_empty=False)
        owner = None if mode == "memory_ids" else user_id_of(body[mode], mode)
        return cls(
            memory_ids=ids,
            user_id=owner if mode == "user_id" else None,
            agent_id=owner if mode == "agent_id" else None,
            memory_type=memory_type,
        )


class UpdateMemory(Request):
    route = "/update/memory"
    writes = True

    memory_id: str
    content: str | None
    title: str | None
    status: str | None

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        def optional(name: str) -> str | None:
            return None if body.get(name) is None else check_text(name, body[name])

        return cls(
            memory_id=check_text("memory_id", body.get("memory_id")),
            content=optional("content"),
            title=optional("title"),
            status=optional("status"),
        )


class GetStatus(Request):
    route = "/get/status"

    task_id: str

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        return cls(task_id=check_text("task_id", body.get("task_id")))
