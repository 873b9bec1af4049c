"""Checks of caller input, run before any I/O; each failure names the fix."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from langchain_memos._constants import (
    CONTENT_PART_TYPES,
    MAX_ID_LENGTH,
    MAX_MEMOS_ID_LENGTH,
    MESSAGE_ROLES,
)
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._tokens import approximate_tokens

MAX_REQUEST_TOKENS = 40_000
"""The most text one ``add/message`` request may carry, in tokens (the documented limit)."""


MAX_NESTING = 100
"""How deep a value sent to MemOS may nest; its own formats nest about six levels."""

_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
"""Control characters (C0, DEL, C1) and the Unicode line and paragraph separators."""


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_unicode(name: str, value: str) -> str:
    """``value`` is valid Unicode: no lone surrogate, which UTF-8 (and so JSON) cannot carry.

    ``json.loads('"\\udc80"')`` and ``bytes.decode(errors="surrogateescape")`` make such text.
    """
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise MemOSInputError(
                f"{name} holds a lone surrogate ({value[error.start]!r} at position "
                f"{error.start}), which is not valid Unicode and cannot be sent: repair the text "
                "first, e.g. text.encode('utf-8', 'replace').decode()"
            ) from None
    return value


def _join(where: str, key: object) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def check_json_value(where: str, value: object) -> None:
    """Every string in ``value`` (keys too) is valid Unicode, and it nests at most MAX_NESTING.

    The error names the offending field as a path, e.g. ``messages[0].content``. Iterative, so a
    value nested 10,000 deep is refused instead of exhausting the stack.
    """
    stack: list[tuple[str, object, int]] = [(where, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            check_unicode(path or "the request", item)
            continue
        if isinstance(item, Mapping):
            children: Iterable[tuple[object, object]] = item.items()
        elif isinstance(item, (list, tuple)):
            children = enumerate(item)
        else:
            continue
        if depth >= MAX_NESTING:
            shown = path if len(path) <= 80 else path[:77] + "..."
            raise MemOSInputError(
                f"{shown or 'the request'} nests more than {MAX_NESTING} levels deep; MemOS "
                "cannot store a structure that deep: flatten it or send it as text"
            )
        for key, child in children:
            if isinstance(key, str):
                check_unicode(f"a key in {path or 'the request'}", key)
            stack.append((_join(path, key), child, depth + 1))


def check_id(name: str, value: object) -> str:
    """A user, conversation, agent or app id: a non-blank string of at most 100 characters,
    without surrounding whitespace or control characters.

    MemOS documents ids as strings of at most 100 characters, and keeps any such string as
    given: ``" u "`` would be a user apart from ``"u"``, and a line break in an id would split
    log lines and filters. Both are refused here, as the mistakes they almost always are.
    """
    if not isinstance(value, str) or not value.strip():
        raise MemOSInputError(f"{name} must be a non-empty string; got {_describe(value)}")
    check_unicode(name, value)
    if len(value) > MAX_ID_LENGTH:
        raise MemOSInputError(
            f"{name} is {len(value)} characters long; MemOS accepts at most {MAX_ID_LENGTH}"
        )
    if value != value.strip():
        raise MemOSInputError(
            f"{name} {_describe(value)} has whitespace around it, and MemOS would keep it apart "
            f"from {_describe(value.strip())}: pass the id without it"
        )
    for position, character in enumerate(value):
        if unicodedata.category(character) in _CONTROL_CATEGORIES:
            raise MemOSInputError(
                f"{name} holds a control character ({character!r} at position {position}); "
                "an id cannot hold line breaks, tabs or other control characters"
            )
    return value


def check_optional_id(name: str, value: object) -> str | None:
    return None if value is None else check_id(name, value)


def check_text(name: str, value: object) -> str:
    """A required free-text field (query, feedback, memory id): a non-blank string."""
    if not isinstance(value, str) or not value.strip():
        raise MemOSInputError(f"{name} must be a non-empty string; got {_describe(value)}")
    return check_unicode(name, value)


def check_memos_id(name: str, value: object) -> str:
    """An id MemOS made (memory, task, knowledge base, file): a UUID in practice.

    The API documents no bound; this one only refuses what cannot be such an id (a pasted
    document), long before it would make the request URL too long to build.
    """
    text = check_text(name, value)
    if len(text) > MAX_MEMOS_ID_LENGTH:
        raise MemOSInputError(
            f"{name} is {len(text):,} characters long; ids MemOS makes are UUIDs (36 "
            f"characters) and this package sends at most {MAX_MEMOS_ID_LENGTH}"
        )
    return text


def check_optional_str(name: str, value: object) -> str | None:
    """An optional free-text option (a description, a time, a model name): a string."""
    if value is None or isinstance(value, str):
        return value
    raise MemOSInputError(f"{name} must be a string; got {_describe(value)}")


def check_int(name: str, value: object, *, low: int, high: int | None = None) -> int | None:
    """An optional integer within ``[low, high]``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MemOSInputError(f"{name} must be an integer; got {_describe(value)}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise MemOSInputError(f"{name} must be {bound}; got {value}")
    return value


def check_fraction(name: str, value: object, *, high: float = 1.0) -> float | None:
    """An optional number within ``[0, high]``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise MemOSInputError(f"{name} must be a number; got {_describe(value)}")
    if not 0 <= value <= high:
        raise MemOSInputError(f"{name} must be between 0 and {high:g}; got {value}")
    return float(value)


def check_bool(name: str, value: object) -> bool | None:
    """An optional flag: ``None``, ``True`` or ``False``.

    Nothing else: ``"false"`` is a true value in Python, and would mean the opposite of what it
    says (``allow_insecure_http="false"`` would allow plain http).
    """
    if value is None or isinstance(value, bool):
        return value
    raise MemOSInputError(f"{name} must be True or False; got {_describe(value)}")


def check_flag(name: str, value: object) -> bool:
    """A flag that has a default: ``True`` or ``False``, not ``None`` nor a string."""
    if isinstance(value, bool):
        return value
    raise MemOSInputError(f"{name} must be True or False; got {_describe(value)}")


def check_seconds(name: str, value: object, *, high: float, allow_zero: bool = False) -> float:
    """A duration: a finite number of seconds above zero (or zero) and at most ``high``.

    NaN and infinity are refused: a deadline of NaN seconds never passes, and never fails.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not allow_zero)
        or value > high
    ):
        kind = (
            f"a number of seconds from 0 to {high:g}"
            if allow_zero
            else f"a positive number of seconds (at most {high:g})"
        )
        raise MemOSInputError(f"{name} must be {kind}; got {_describe(value)}")
    return float(value)


def check_options(name: str, value: object) -> dict[str, Any]:
    """Optional keyword arguments for a call, such as ``search_options``: a mapping or ``None``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise MemOSInputError(
            f"{name} must be a dict of keyword arguments, such as {{'memory_limit_number': 5}}; "
            f"got {_describe(value)}"
        )
    return dict(value)


def check_instance(name: str, value: object, expected: type[Any]) -> None:
    """``value`` is ``None`` or an ``expected``, so a wrong object fails here, not at first use."""
    if value is not None and not isinstance(value, expected):
        article = "an" if expected.__name__[0] in "AEIOU" else "a"
        raise MemOSInputError(
            f"{name} must be {article} {expected.__name__}; got {type(value).__name__}"
        )


def check_callable(name: str, value: object) -> None:
    """``value`` is ``None`` or can be called."""
    if value is not None and not callable(value):
        raise MemOSInputError(f"{name} must be a function; got {_describe(value)}")


def check_str_list(
    name: str,
    value: object,
    *,
    allow_empty: bool = True,
    check: Callable[[str, object], str] | None = None,
) -> list[str] | None:
    """An optional list of non-empty strings (a bare string is refused: it is not a list).

    ``check(f"{name}[i]", item)`` is run on each item when given.
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise MemOSInputError(f"{name} must be a list of strings; got {_describe(value)}")
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise MemOSInputError(f"{name} must contain non-empty strings; got {_describe(item)}")
        if check is not None:
            check(f"{name}[{index}]", item)
    if not items and not allow_empty:
        raise MemOSInputError(f"{name} must not be empty")
    return items


def check_info(value: object) -> dict[str, Any] | None:
    """``info``: flat keys mapped to a string, a number or a list of strings."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MemOSInputError(f"info must be a mapping; got {_describe(value)}")
    for key, item in value.items():
        if not isinstance(key, str) or not key or "\x00" in key:
            raise MemOSInputError(
                f"info keys must be non-empty strings without NUL; got {_describe(key)}"
            )
        ok = isinstance(item, (str, int, float)) and not isinstance(item, bool)
        if isinstance(item, float) and not math.isfinite(item):
            ok = False  # NaN and infinities are not JSON
        if not ok and not (isinstance(item, list) and all(isinstance(part, str) for part in item)):
            raise MemOSInputError(
                f"info[{key!r}] must be a string, a number or a list of strings; "
                f"got {_describe(item)}"
            )
    return dict(value)


def exactly_one(**options: object) -> str:
    """Return the name of the one option given; fail if none or several are."""
    given = [name for name, value in options.items() if value is not None]
    if len(given) != 1:
        names = ", ".join(options)
        found = ", ".join(given) if given else "none"
        raise MemOSInputError(f"pass exactly one of {names}; got {found}")
    return given[0]


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WHITESPACE = re.compile(r"\s+")


def check_base64(where: str, data: str) -> None:
    """``data`` is standard base64 (line breaks allowed), as MemOS decodes file content."""
    try:
        base64.b64decode(_WHITESPACE.sub("", data), validate=True)
    except (binascii.Error, ValueError):
        raise MemOSInputError(f"{where} is not valid base64: {_describe(data)}") from None


def check_file_data(where: str, value: str, *, raw_base64: bool = True) -> None:
    """A URL, a ``data:`` URI whose base64 payload decodes, or (``raw_base64``) bare base64."""
    if _URL.match(value):
        return
    if value.startswith("data:"):
        header, comma, payload = value.partition(",")
        if not comma:
            raise MemOSInputError(f"{where}: a data URI needs a ',' before its data")
        if header.endswith(";base64"):
            check_base64(where, payload)
        return
    if not raw_base64:
        raise MemOSInputError(
            f"{where} must be an http(s) URL or a data: URI; got {_describe(value)}"
        )
    if not value.strip():
        raise MemOSInputError(f"{where} must not be empty")
    check_base64(where, value)


def _check_part(index: int, part: object) -> dict[str, Any]:
    where = f"messages[{index}].content"
    if not isinstance(part, Mapping) or part.get("type") not in CONTENT_PART_TYPES:
        raise MemOSInputError(
            f"{where} parts must be dicts whose type is one of "
            f"{sorted(CONTENT_PART_TYPES)}; got {_describe(part)}"
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
                f"'function': {{'name': str, 'arguments': JSON string}}}}; got {_describe(call)}"
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
        raise MemOSInputError(
            f"messages must be a list of message dicts; got {_describe(messages)}"
        )
    if not messages:
        raise MemOSInputError("messages must not be empty")
    checked: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise MemOSInputError(f"messages[{index}] must be a dict; got {_describe(message)}")
        role = message.get("role")
        if role not in roles:
            raise MemOSInputError(
                f"messages[{index}].role must be one of {sorted(roles)}; got {_describe(role)}"
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
                f"got {_describe(content)}"
            )
        for key in ("chat_time", "tool_call_id", "name"):
            if key in out and not isinstance(out[key], str):
                raise MemOSInputError(f"messages[{index}].{key} must be a string")
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
