"""The requests of the message and memory endpoints: each JSON body, read once into a typed model.

How a body is read, and what a mistake answers on the wire, is :mod:`._request_base`'s.
"""

from __future__ import annotations

import uuid
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
    check_optional_str,
    check_str_list,
    check_text,
    exactly_one,
    message_tokens,
)
from langchain_memos.embedded import _bodies as bodies
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
from langchain_memos.embedded._scope import (
    VIEWS,
    Subject,
    owners_of,
    subject_of,
    switch,
    views_of,
)
from langchain_memos.filters import validate_filter

MAX_REQUEST_TOKENS = 40_000


class Filter(BaseModel):
    """A checked ``filter``, as SQL over ``memories m`` and its parameters (``"1"``: none)."""

    model_config = ConfigDict(frozen=True)

    where: str = "1"
    params: list[Any] = []

    @classmethod
    def read(cls, value: object, *, unnamed: bool = True) -> Filter:
        """``unnamed``: see :func:`filter_sql` (False for a delete)."""
        params: list[Any] = []
        checked = None if value is None else validate_filter(value)
        return cls(where=filter_sql(checked, params, unnamed=unnamed), params=params)


class AddMessage(Request):
    route = "/add/message"
    writes = True

    # As sent: one id or a list; the memories go to each (user, agent) pair of ``owners``.
    user_id: list[str]
    agent_id: list[str]
    conversation_id: str  # generated when none is sent
    messages: list[dict[str, Any]]
    app_id: str | None
    info: dict[str, Any] | None
    allow_public: bool | None
    tags: list[str]
    async_mode: bool  # False only when false was sent: then the refinement is waited for
    allow_memory_view: list[str]  # the views made; all when none is sent
    owners: list[tuple[str | None, str | None]] = Field(exclude=True)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        owners = owners_of(body)
        conversation = body.get("conversation_id")
        conversation_id = (
            f"generated-{uuid.uuid4()}"
            if conversation is None
            else user_id_of(conversation, "conversation_id")
        )
        messages = check_messages(body.get("messages"), max_tokens=None)
        for index, message in enumerate(messages):
            reserved = [key for key in message if key.startswith(bodies.RESERVED)]
            if reserved:  # it would be read as the engine's own (see _bodies)
                raise MemOSInputError(
                    f"messages[{index}] has the key {reserved[0]!r}: the embedded engine keeps "
                    f"keys beginning with {bodies.RESERVED!r} for itself"
                )
        if message_tokens(messages) > MAX_REQUEST_TOKENS:
            raise EngineError(codes.TOO_MANY_TOKENS, f"messages exceed {MAX_REQUEST_TOKENS} tokens")
        views = views_of(body, "allow_memory_view", list(VIEWS), {})
        return cls(
            user_id=sorted({user for user, _ in owners if user is not None}),
            agent_id=sorted({agent for _, agent in owners if agent is not None}),
            conversation_id=conversation_id,
            messages=messages,
            app_id=optional_id_of(body, "app_id"),
            info=check_info(body.get("info")),
            allow_public=check_bool("allow_public", body.get("allow_public")),
            tags=check_str_list("tags", body.get("tags")) or [],
            async_mode=check_bool("async_mode", body.get("async_mode")) is not False,
            allow_memory_view=views,
            owners=owners,
        )


class AddFeedback(Request):
    route = "/add/feedback"
    writes = True

    feedback_content: str
    user_id: list[str]
    agent_id: list[str]
    conversation_id: str
    feedback_time: object
    app_id: str | None
    allow_public: bool | None
    # The feedback as the user's newest message, tagged as a correction; not a field of the body.
    message: AddMessage = Field(exclude=True)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        content = check_text("feedback_content", body.get("feedback_content"))
        message: dict[str, Any] = {"role": "user", "content": content}
        when = check_optional_str("feedback_time", body.get("feedback_time"))
        if when:  # structured or natural language, as a message's chat_time
            message["chat_time"] = when
        scope = {k: body[k] for k in ("user_id", "agent_id", "app_id", "allow_public") if k in body}
        # Optional (the cn feature page); anything given is checked as an id.
        conversation = body.get("conversation_id")
        conversation = "feedback" if conversation is None else conversation
        added = AddMessage.read(
            {
                **scope,
                "conversation_id": conversation,
                "messages": [message],
                "tags": [FEEDBACK_TAG],
                "async_mode": False,
            }
        )
        return cls(
            feedback_content=content,
            user_id=added.user_id,
            agent_id=added.agent_id,
            conversation_id=added.conversation_id,
            feedback_time=body.get("feedback_time"),
            app_id=added.app_id,
            allow_public=added.allow_public,
            message=added,
        )


class GetMessage(Request):
    route = "/get/message"

    user_id: str
    conversation_id: str | None  # none: the user's latest conversations
    message_limit_number: int
    conversation_limit_number: int

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        conversation = body.get("conversation_id")
        return cls(
            user_id=user_id_of(body.get("user_id")),
            conversation_id=None
            if conversation is None
            else user_id_of(conversation, "conversation_id"),
            message_limit_number=limit_of(body, "message_limit_number", 6, MAX_MESSAGE_LIMIT),
            conversation_limit_number=limit_of(
                body, "conversation_limit_number", 1, MAX_MESSAGE_LIMIT
            ),
        )


class ExtractMemory(Request):
    route = "/extract/memory"

    messages: list[dict[str, Any]]
    extraction_types: list[str]
    model: None = None  # a named extraction model is MemOS-hosted: refused

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        if body.get("model") is not None:
            raise EngineError(
                codes.BAD_REQUEST,
                f"extract/memory with model {body['model']!r} needs a MemOS-hosted model, which "
                "the embedded engine does not have; leave model unset for its own extraction",
            )
        messages = check_messages(body.get("messages"))
        types = check_str_list("extraction_types", body.get("extraction_types"))
        unknown = sorted(set(types or ()) - {"memory", "preference"})
        if unknown:
            raise MemOSInputError(
                f"extraction_types takes 'memory' and 'preference'; got {', '.join(unknown)}"
            )
        return cls(messages=messages, extraction_types=types or ["memory", "preference"])


class SearchMemory(Request):
    route = "/search/memory"
    reads_also = frozenset(
        {
            *("include_preference", "include_tool_memory", "include_skill"),
            *("memory_limit_number", "preference_limit_number"),
            *("tool_memory_limit_number", "skill_limit_number"),
        }
    )

    user_id: str | None
    agent_id: str | None
    query: str
    conversation_id: Any  # only compared: memories of this conversation rank a little higher
    relativity: float
    filter: Filter
    knowledgebase_ids: list[str]
    include_memory_view: list[str]
    context_format: str
    # (kind, key of the answer, limit) for each kind of memory asked for, facts first.
    plan: list[tuple[str, str, int]]
    subject: Subject = Field(exclude=True)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        subject = subject_of(body)
        query = check_text("query", body.get("query"))
        relativity = coded(
            codes.RELATIVITY_OUT_OF_RANGE, check_fraction, "relativity", body.get("relativity")
        )
        search_filter = Filter.read(body.get("filter"))
        knowledgebase_ids = check_str_list("knowledgebase_ids", body.get("knowledgebase_ids"))
        views = views_of(
            body,
            "include_memory_view",
            ["detail_factual", "preference"],
            {
                "preference": switch(body, "include_preference"),
                "tool_memory": switch(body, "include_tool_memory"),
                "skill": switch(body, "include_skill"),
            },
        )
        facts = limit_of(body, "memory_limit_number", 9, 25)
        limits = {
            "preference": limit_of(body, "preference_limit_number", 9, MAX_RECALL_LIMIT),
            "tool_memory": limit_of(body, "tool_memory_limit_number", 6, MAX_RECALL_LIMIT),
            "skill": limit_of(body, "skill_limit_number", 6, MAX_RECALL_LIMIT),
        }
        plan = [(VIEWS[view][0], VIEWS[view][1], limits.get(view, facts)) for view in views]
        context_format = body.get("context_format", "memory")
        if context_format != "memory":
            raise MemOSInputError(
                f"context_format {context_format!r} is not implemented by the embedded engine, "
                "which answers in the 'memory' format (the lists of memories)"
            )
        return cls(
            user_id=subject.user_id,
            agent_id=subject.agent_id,
            query=query,
            conversation_id=body.get("conversation_id"),
            relativity=DEFAULT_RELATIVITY if relativity is None else relativity,
            filter=search_filter,
            knowledgebase_ids=knowledgebase_ids or [],
            include_memory_view=views,
            context_format=context_format,
            plan=plan,
            subject=subject,
        )


class GetMemory(Request):
    route = "/get/memory"
    # The cloud MCP server's get_user_profile names the page "current".
    reads_also = frozenset({"include_preference", "include_tool_memory", "current"})

    user_id: str | None
    agent_id: str | None
    page: int
    size: int
    filter: Filter
    include_memory_view: list[str]
    # (kind, key of the answer) for each kind of memory listed.
    kinds: list[tuple[str, str]]
    subject: Subject = Field(exclude=True)

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        subject = subject_of(body)
        named = "page" if body.get("page") is not None else "current"
        page = check_int(named, body.get(named), low=1) or 1
        size = limit_of(body, "size", 10, MAX_PAGE_SIZE)
        listed = Filter.read(body.get("filter"))
        views = views_of(
            body,
            "include_memory_view",
            ["detail_factual", "preference", "tool_memory"],
            {
                "preference": switch(body, "include_preference"),
                "tool_memory": switch(body, "include_tool_memory"),
            },
        )
        return cls(
            user_id=subject.user_id,
            agent_id=subject.agent_id,
            page=page,
            size=size,
            filter=listed,
            include_memory_view=views,
            kinds=[VIEWS[view] for view in views],
            subject=subject,
        )


class DeleteMemory(Request):
    route = "/delete/memory"
    writes = True

    memory_ids: list[str] | None
    user_id: str | None
    agent_id: str | None
    filter: Filter | None
    memory_type: str | None

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        mode = exactly_one(
            memory_ids=body.get("memory_ids"),
            user_id=body.get("user_id"),
            agent_id=body.get("agent_id"),
            filter=body.get("filter"),
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
        owner = user_id_of(body[mode], mode) if mode in ("user_id", "agent_id") else None
        return cls(
            memory_ids=ids,
            user_id=owner if mode == "user_id" else None,
            agent_id=owner if mode == "agent_id" else None,
            filter=Filter.read(body["filter"], unnamed=False) if mode == "filter" else None,
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
