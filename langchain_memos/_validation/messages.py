"""Checks of the messages a caller hands over: roles, content parts, tool calls, file data, size."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from langchain_memos._constants import CONTENT_PART_TYPES, MAX_REQUEST_TOKENS, MESSAGE_ROLES
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._tokens import approximate_tokens
from langchain_memos._validation.values import check_id, check_json_value, shown

URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
"""How a URL of any scheme begins (https://, gs://, s3:// ...): file data given by address."""
_WHITESPACE = re.compile(r"\s+")


def file_bytes(where: str, value: str) -> bytes:
    """The bytes of file content: a ``data:`` URI (base64, or percent-encoded text as RFC 2397
    has it) or bare base64, line breaks allowed, as MemOS decodes it."""
    if value.startswith("data:"):
        header, comma, payload = value.partition(",")
        if not comma:
            raise MemOSInputError(f"{where}: a data URI needs a ',' before its data")
        if not header.endswith(";base64"):
            return unquote_to_bytes(payload)
        value = payload
    try:
        return base64.b64decode(_WHITESPACE.sub("", value), validate=True)
    except (binascii.Error, ValueError):
        raise MemOSInputError(f"{where} is not valid base64: {shown(value)}") from None


def check_file_data(where: str, value: str, *, raw_base64: bool = True) -> None:
    """A URL, a ``data:`` URI whose base64 payload decodes, or (``raw_base64``) bare base64."""
    if URL.match(value):
        return
    if not value.startswith("data:"):
        if not raw_base64:
            raise MemOSInputError(
                f"{where} must be an http(s) URL or a data: URI; got {shown(value)}"
            )
        if not value.strip():
            raise MemOSInputError(f"{where} must not be empty")
    file_bytes(where, value)


def _check_part(index: int, part: object) -> dict[str, Any]:
    where = f"messages[{index}].content"
    # The type is read as a string first: a list is unhashable, and "in" would raise.
    if (
        not isinstance(part, Mapping)
        or not isinstance(part.get("type"), str)
        or (part["type"] not in CONTENT_PART_TYPES)
    ):
        raise MemOSInputError(
            f"{where} parts must be dicts whose type is one of "
            f"{sorted(CONTENT_PART_TYPES)}; got {shown(part)}"
        )
    kind = part["type"]
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise MemOSInputError(f"{where}: a text part needs a string 'text'")
    elif kind == "image_url":
        image = part.get("image_url")
        if not isinstance(image, Mapping) or not isinstance(image.get("url"), str):
            raise MemOSInputError(
                f"{where}: an image_url part needs {{'image_url': {{'url': ...}}}}"
            )
        check_file_data(f"{where}: the image URL", image["url"], raw_base64=False)
    else:
        file = part.get("file")
        if not isinstance(file, Mapping) or not isinstance(file.get("file_data"), str):
            raise MemOSInputError(f"{where}: a file part needs {{'file': {{'file_data': ...}}}}")
        check_file_data(f"{where}: file_data", file["file_data"])
    return dict(part)


def _check_tool_calls(index: int, calls: object) -> list[dict[str, Any]]:
    where = f"messages[{index}].tool_calls"
    if isinstance(calls, (str, bytes)) or not isinstance(calls, Sequence) or not calls:
        raise MemOSInputError(f"{where} must be a non-empty list")
    for call in calls:
        function = call.get("function") if isinstance(call, Mapping) else None
        if (
            not isinstance(call, Mapping)
            or not isinstance(call.get("id"), str)
            or call.get("type") != "function"
            or not isinstance(function, Mapping)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments"), str)
        ):
            raise MemOSInputError(
                f"{where} items must look like {{'id': str, 'type': 'function', "
                f"'function': {{'name': str, 'arguments': JSON string}}}}; got {shown(call)}"
            )
    return [dict(call) for call in calls]


def message_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Estimated tokens of the messages' text (tool calls included; images and files not)."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            kept = [p if p.get("type") == "text" else {"type": p.get("type")} for p in content]
            message = {**message, "content": kept}
        total += approximate_tokens(json.dumps(message, ensure_ascii=False))
    return total


def check_messages(
    messages: object,
    *,
    roles: frozenset[str] = MESSAGE_ROLES,
    max_tokens: int | None = MAX_REQUEST_TOKENS,
) -> list[dict[str, Any]]:
    """Validate chat messages and return them as plain dicts without ``None`` values.

    ``max_tokens`` bounds the estimated text of all of them together (``None``: no bound).
    """
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise MemOSInputError(f"messages must be a list of message dicts; got {shown(messages)}")
    if not messages:
        raise MemOSInputError("messages must not be empty")
    checked: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise MemOSInputError(f"messages[{index}] must be a dict; got {shown(message)}")
        role = message.get("role")
        if not isinstance(role, str) or role not in roles:
            raise MemOSInputError(
                f"messages[{index}].role must be one of {sorted(roles)}; got {shown(role)}"
            )
        out = {key: value for key, value in message.items() if value is not None}
        content = message.get("content")
        if message.get("tool_calls") is not None:
            if role != "assistant":
                raise MemOSInputError(f"messages[{index}]: only assistant messages have tool_calls")
            out["tool_calls"] = _check_tool_calls(index, message["tool_calls"])
        elif content is None:
            raise MemOSInputError(f"messages[{index}] has no content")
        if isinstance(content, list):
            if not content:
                raise MemOSInputError(f"messages[{index}].content must not be an empty list")
            out["content"] = [_check_part(index, part) for part in content]
        elif content is not None and not isinstance(content, str):
            raise MemOSInputError(
                f"messages[{index}].content must be a string or a list of parts; "
                f"got {shown(content)}"
            )
        for key in ("chat_time", "tool_call_id", "name"):
            if key in out and not isinstance(out[key], str):
                raise MemOSInputError(f"messages[{index}].{key} must be a string")
        if "name" in out:  # the speaker, kept as given like the ids and written into memories
            check_id(f"messages[{index}].name", out["name"])
        if role == "tool" and not str(out.get("tool_call_id", "")).strip():
            raise MemOSInputError(
                f"messages[{index}]: a tool message needs the tool_call_id of the call it answers"
            )
        check_json_value(f"messages[{index}]", out)
        try:
            json.dumps(out, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise MemOSInputError(
                f"messages[{index}] holds a value JSON cannot carry: {error}"
            ) from None
        checked.append(out)
    if max_tokens is not None:
        tokens = message_tokens(checked)
        if tokens > max_tokens:
            raise MemOSInputError(
                f"these messages hold about {tokens:,} tokens of text; one request takes at most "
                f"{max_tokens:,}: send them in several calls (MemOSChatMessageHistory does)"
            )
    return checked
