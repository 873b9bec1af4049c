"""LangChain messages to MemOS messages and back: roles, tool calls, multimodal parts, chat_time.

MemOS has four roles. ``HumanMessage`` is ``user``, ``AIMessage`` ``assistant``,
``SystemMessage`` ``system`` and ``ToolMessage`` ``tool``; a ``ChatMessage`` keeps its role when
it is one of these, and the names LangChain and OpenAI use for them are mapped: ``human`` to
``user``, ``ai`` to ``assistant``, ``developer`` to ``system``. Any other message (a
``ChatMessage(role="critic")``, a ``FunctionMessage``) has no MemOS role (:func:`memos_role` is
``None``): :func:`to_memos_messages` refuses it, and the agents' write-back leaves it out with an
INFO log line (:func:`~langchain_memos.scope.messages_to_store`); it is never stored under a
role it did not have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_memos._batching import batch_messages, estimate_tokens
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._service_time import checked_service_time
from langchain_memos._tool_calls import from_openai_calls, to_openai_calls
from langchain_memos._validation import (
    MAX_REQUEST_TOKENS,
    URL,
    check_messages,
    message_tokens,
)
from langchain_memos.types import (
    SERVICE_TIMEZONE,
    ContentPart,
    MessageDetail,
    MessageInput,
    format_service_time,
    parse_timestamp,
)

__all__ = [
    "CHAT_TIME_KEY",
    "batch_messages",
    "estimate_tokens",
    "from_memos_messages",
    "is_blank",
    "memos_role",
    "to_memos_messages",
    "whole_steps",
]

CHAT_TIME_KEY = "chat_time"
"""Where a message's time is read from and written to: ``additional_kwargs["chat_time"]``."""

# Content blocks that say nothing MemOS can store: the model's own reasoning, and tool calls,
# which travel as ``tool_calls`` instead.
_SKIPPED_BLOCKS = frozenset({"reasoning", "thinking", "tool_use", "tool_call", "tool_call_chunk"})


format_chat_time = format_service_time
"""``YYYY-MM-DD HH:MM:SS`` in the service's timezone, as add/message documents it."""


def _chat_time(message: BaseMessage, now: datetime, where: str) -> str:
    for source in (message.additional_kwargs, message.response_metadata):
        value = source.get(CHAT_TIME_KEY)
        if isinstance(value, datetime):
            return checked_service_time(value, f"{where}: {CHAT_TIME_KEY}")
        if isinstance(value, str) and value.strip():
            return value
        if value is not None and not isinstance(value, str):
            raise MemOSInputError(
                f"{where}: {CHAT_TIME_KEY} must be a datetime or a string; got {value!r}"
            )
    return format_chat_time(now)


def _data_uri(block: Mapping[str, Any]) -> str | None:
    """The URL of a standard (v0 or v1) image/file block, as a URL or a data URI."""
    url = block.get("url")
    if isinstance(url, str) and url:
        return url
    data = block.get("base64")
    if data is None and block.get("source_type") == "base64":
        data = block.get("data")
    if data is None and block.get("source_type") == "url":
        return cast("str | None", block.get("url") or block.get("data"))
    if isinstance(data, str) and data:
        mime = block.get("mime_type") or "application/octet-stream"
        return data if data.startswith("data:") else f"data:{mime};base64,{data}"
    return None


def _to_part(block: object, where: str) -> ContentPart | None:
    if isinstance(block, str):
        return {"type": "text", "text": block}
    if not isinstance(block, Mapping):
        raise MemOSInputError(f"{where}: content blocks must be strings or dicts; got {block!r}")
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": str(block.get("text", ""))}
    if kind in _SKIPPED_BLOCKS:
        return None
    if kind == "image_url":
        image = block.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if isinstance(url, str) and url:
            return {"type": "image_url", "image_url": {"url": url}}
    elif kind == "image":
        url = _data_uri(block)
        if url:
            return {"type": "image_url", "image_url": {"url": url}}
    elif kind == "file":
        file = block.get("file")
        if isinstance(file, Mapping) and isinstance(file.get("file_data"), str):
            return {"type": "file", "file": {"file_data": file["file_data"]}}
        url = _data_uri(block)
        if url:
            return {"type": "file", "file": {"file_data": url}}
    else:
        raise MemOSInputError(
            f"{where}: MemOS stores text, images and files; a {kind!r} block has no MemOS form"
        )
    raise MemOSInputError(f"{where}: the {kind!r} block has no URL or base64 data: {block!r}")


def without_foreign_blocks(message: BaseMessage) -> tuple[BaseMessage, list[str]]:
    """``message`` without its content blocks that have no MemOS form (a provider's web search
    results, a refusal, audio, an image given only as a provider's file id ...), which
    :func:`to_memos_messages` refuses, and the kinds of the blocks left out, in order."""
    content = message.content
    if isinstance(content, str):
        return message, []
    kept: list[str | dict[Any, Any]] = []
    left_out: list[str] = []
    for block in content:
        try:
            _to_part(block, "message")
        except MemOSInputError:
            kind = block.get("type") if isinstance(block, Mapping) else None
            left_out.append(str(kind) if kind is not None else type(block).__name__)
        else:
            kept.append(block)
    if not left_out:
        return message, []
    return message.model_copy(update={"content": kept}), left_out


def _content(message: BaseMessage, where: str) -> str | list[ContentPart] | None:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [part for part in (_to_part(b, where) for b in content) if part is not None]
    if not parts:
        return None
    if all(part["type"] == "text" for part in parts):
        return "".join(cast("dict[str, str]", part)["text"] for part in parts)
    return parts


_CHAT_ROLES = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
}
"""A ``ChatMessage``'s role and the MemOS role it is stored under."""


def memos_role(message: BaseMessage) -> str | None:
    """The MemOS role ``message`` is stored under, ``None`` when MemOS has none for it.

    See the module docstring for the mapping.
    """
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, ToolMessage):
        return "tool"
    if isinstance(message, ChatMessage):
        return _CHAT_ROLES.get(message.role)
    return None


def describe(message: BaseMessage) -> str:
    """``message``'s kind as an error or a log line names it: its class, and a chat role."""
    role = f" with role {message.role!r}" if isinstance(message, ChatMessage) else ""
    return f"{type(message).__name__}{role}"


def _role(message: BaseMessage, where: str) -> str:
    role = memos_role(message)
    if role is None:
        raise MemOSInputError(
            f"{where}: MemOS stores human, AI, system and tool messages; got {describe(message)}"
        )
    return role


def is_blank(message: BaseMessage) -> bool:
    """``message`` says nothing to store: no tool call, and no text but whitespace, no image
    and no file (a reasoning block alone counts as nothing)."""
    if isinstance(message, AIMessage) and message.tool_calls:
        return False
    try:
        content = _content(message, "message")
    except MemOSInputError:
        return False  # not blank: converting it says what is wrong with it
    if isinstance(content, list):
        return False  # parts that are not all text: an image or a file
    return content is None or not content.strip()


def to_memos_messages(
    messages: Sequence[BaseMessage], *, now: datetime | None = None
) -> list[MessageInput]:
    """Convert LangChain messages to the messages ``add/message`` takes.

    AI tool calls become OpenAI-style ``tool_calls``; ``ToolMessage.tool_call_id`` is kept; text,
    image and file blocks (LangChain standard blocks or OpenAI ``image_url``) become MemOS
    content parts. ``chat_time`` comes from ``additional_kwargs["chat_time"]`` (or
    ``response_metadata``) when present, else ``now``. A user message's ``name`` (who speaks, in
    a conversation of several people) is sent as its ``name``; an AI message's (its agent's) and
    a tool message's (its tool's) are not, so that what an assistant said stays marked as the
    assistant's.

    Raises:
        MemOSInputError: a message type or content block that MemOS cannot store, or what
            ``add/message`` would refuse (a tool message without ``tool_call_id``, invalid
            base64, a ``chat_time`` that is neither a datetime nor a string, a ``name`` that is
            not a valid id, one message over the per-request token limit).
    """
    if isinstance(messages, BaseMessage) or not isinstance(messages, Sequence):
        raise MemOSInputError("messages must be a list of LangChain messages")
    now = now or datetime.now(SERVICE_TIMEZONE)
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    converted: list[MessageInput] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, BaseMessage):
            raise MemOSInputError(f"{where} must be a LangChain message; got {message!r}")
        out: dict[str, Any] = {"role": _role(message, where)}
        # Who speaks, of the users of a conversation: "[alice viewpoint]" rather than "[user
        # viewpoint]". Only a user's: an AI message's name is its agent's (create_agent(name=)),
        # and MemOS marks what an assistant said "[assistant viewpoint]", which the memory
        # protocol tells models is inference; a ToolMessage's name is its tool's.
        if message.name and out["role"] == "user":
            out["name"] = message.name
        content = _content(message, where)
        calls = (
            to_openai_calls(message, index, where, answered)
            if isinstance(message, AIMessage)
            else []
        )
        if calls:
            out["tool_calls"] = calls
            if content:
                out["content"] = content
        else:
            out["content"] = "" if content is None else content
        if isinstance(message, ToolMessage):
            out["tool_call_id"] = message.tool_call_id
        out["chat_time"] = _chat_time(message, now, where)
        converted.append(cast("MessageInput", out))
    # What add/message would refuse fails here, before a batch of them is sent.
    check_messages(converted, max_tokens=None)
    for index, item in enumerate(converted):
        tokens = message_tokens([item])
        if tokens > MAX_REQUEST_TOKENS:
            raise MemOSInputError(
                f"messages[{index}] alone holds about {tokens:,} tokens of text; one add/message "
                f"request takes at most {MAX_REQUEST_TOKENS:,}"
            )
    return converted


def _nested(value: object, key: str) -> dict[str, Any]:
    """``image_url`` / ``file`` of a stored part: a dict, also when stored as a bare string."""
    if isinstance(value, Mapping):
        return dict(value)
    return {key: value} if isinstance(value, str) else {}


def _from_part(part: object) -> str | dict[str, Any]:
    if isinstance(part, Mapping):
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            return {"type": "text", "text": text if isinstance(text, str) else str(text or "")}
        if kind == "image_url":
            return {"type": "image_url", "image_url": _nested(part.get("image_url"), "url")}
        if kind == "file":
            return _file_block(_nested(part.get("file"), "file_data"))
        return {str(key): value for key, value in part.items()}
    return str(part)


def _file_block(file: dict[str, Any]) -> dict[str, Any]:
    """A stored file as LangChain's standard file block: by URL, or its base64 data with its
    MIME type (what a model's converter reads as such; ``file_data`` holding a URL is read as
    inline data). What is neither stays in MemOS's form."""
    data = file.get("file_data")
    if isinstance(data, str) and (found := _DATA_URI.fullmatch(data)):
        return {"type": "file", "base64": found["data"], "mime_type": found["mime"]}
    if isinstance(data, str) and URL.match(data):
        return {"type": "file", "url": data}
    return {"type": "file", "file": file}


# A MIME type's parameters (";charset=utf-8") are not kept: the block has the type alone.
_DATA_URI = re.compile(
    r"data:(?P<mime>[\w.+-]+/[\w.+-]+)(?:;[^;,]+=[^;,]*)*;base64,(?P<data>.*)", re.DOTALL
)


def _from_content(raw: object) -> str | list[str | dict[str, Any]]:
    if raw is None:
        return ""  # an assistant turn that only calls tools
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping):
        return [_from_part(raw)]
    if isinstance(raw, list):
        return [_from_part(part) for part in raw]
    return str(raw)


def from_memos_messages(details: Sequence[MessageDetail]) -> list[BaseMessage]:
    """Convert stored MemOS messages (``get/message``) back to LangChain messages, in order.

    The message's ``chat_time`` (or ``create_time``) lands in ``additional_kwargs["chat_time"]``,
    so writing the messages again keeps their time; its ``name`` (the speaker) in ``name``.
    """
    messages: list[BaseMessage] = []
    for detail in details:
        content: Any = _from_content(detail.content)
        name = detail.name or None
        extra: dict[str, Any] = {}
        stamp = detail.chat_time or detail.create_time
        moment = parse_timestamp(stamp)
        if moment is not None:
            extra[CHAT_TIME_KEY] = format_chat_time(moment)
        elif isinstance(stamp, str) and stamp.strip():
            extra[CHAT_TIME_KEY] = stamp  # free text such as a Chinese date
        role = detail.role
        common: dict[str, Any] = {"content": content, "name": name, "additional_kwargs": extra}
        if role == "user":
            messages.append(HumanMessage(**common))
        elif role == "assistant":
            calls, invalid = from_openai_calls(detail.tool_calls)
            messages.append(AIMessage(tool_calls=calls, invalid_tool_calls=invalid, **common))
        elif role == "system":
            messages.append(SystemMessage(**common))
        elif role == "tool":
            messages.append(ToolMessage(tool_call_id=detail.tool_call_id or "", **common))
        else:
            messages.append(ChatMessage(role=role or "", **common))
    return messages


def whole_steps(messages: list[BaseMessage]) -> list[BaseMessage]:
    """``messages`` without the tool results at their start: the latest messages of a longer
    conversation can begin inside a tool step, and a result whose call is not there before it
    is refused by a model's API when the history is replayed."""
    start = 0
    while start < len(messages) and isinstance(messages[start], ToolMessage):
        start += 1
    return messages[start:]
