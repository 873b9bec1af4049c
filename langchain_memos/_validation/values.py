"""Checks of single values a caller passes: ids, texts, numbers, flags, lists, metadata."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langchain_memos._constants import MAX_ID_LENGTH, MAX_MEMOS_ID_LENGTH, MAX_REQUEST_TOKENS
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._tokens import approximate_tokens

MAX_NESTING = 100
"""How deep a value sent to MemOS may nest; its own formats nest about six levels."""

_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
"""Control characters (C0, DEL, C1) and the Unicode line and paragraph separators."""


def shown(value: object) -> str:
    """``repr(value)``, cut to 60 characters: enough to recognise it in an error message."""
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
    """Every string in ``value`` (keys too) is valid Unicode, every number finite (NaN is not
    JSON), and it nests at most MAX_NESTING.

    The error names the offending field as a path, e.g. ``messages[0].content``. Iterative, so a
    value nested 10,000 deep is refused instead of exhausting the stack.
    """
    stack: list[tuple[str, object, int]] = [(where, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            check_unicode(path or "the request", item)
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise MemOSInputError(f"{path or 'the request'} is {item!r}, which JSON cannot carry")
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
        raise MemOSInputError(f"{name} must be a non-empty string; got {shown(value)}")
    check_unicode(name, value)
    if len(value) > MAX_ID_LENGTH:
        raise MemOSInputError(
            f"{name} is {len(value)} characters long; MemOS accepts at most {MAX_ID_LENGTH}"
        )
    if value != value.strip():
        raise MemOSInputError(
            f"{name} {shown(value)} has whitespace around it, and MemOS would keep it apart "
            f"from {shown(value.strip())}: pass the id without it"
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
    """A required free-text field (query, feedback, memory id): a non-blank string, within
    one request's text (:data:`MAX_REQUEST_TOKENS`)."""
    if not isinstance(value, str) or not value.strip():
        raise MemOSInputError(f"{name} must be a non-empty string; got {shown(value)}")
    # A token is at least a character: only a long text needs counting.
    if len(value) > MAX_REQUEST_TOKENS and approximate_tokens(value) > MAX_REQUEST_TOKENS:
        raise MemOSInputError(
            f"{name} is about {approximate_tokens(value):,} tokens; one request carries at most "
            f"{MAX_REQUEST_TOKENS:,}"
        )
    return check_unicode(name, value)


def check_optional_text(name: str, value: object) -> str | None:
    """An optional free-text option that, when given, says something: a non-blank string."""
    return None if value is None else check_text(name, value)


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
    raise MemOSInputError(f"{name} must be a string; got {shown(value)}")


def check_int(name: str, value: object, *, low: int, high: int | None = None) -> int | None:
    """An optional integer within ``[low, high]``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MemOSInputError(f"{name} must be an integer; got {shown(value)}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise MemOSInputError(f"{name} must be {bound}; got {value}")
    return value


def check_fraction(name: str, value: object, *, high: float = 1.0) -> float | None:
    """An optional number within ``[0, high]``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise MemOSInputError(f"{name} must be a number; got {shown(value)}")
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
    raise MemOSInputError(f"{name} must be True or False; got {shown(value)}")


def check_flag(name: str, value: object) -> bool:
    """A flag that has a default: ``True`` or ``False``, not ``None`` nor a string."""
    if isinstance(value, bool):
        return value
    raise MemOSInputError(f"{name} must be True or False; got {shown(value)}")


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
        raise MemOSInputError(f"{name} must be {kind}; got {shown(value)}")
    return float(value)


def check_options(name: str, value: object) -> dict[str, Any]:
    """Optional keyword arguments for a call, such as ``search_options``: a mapping or ``None``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise MemOSInputError(
            f"{name} must be a dict of keyword arguments, such as {{'memory_limit_number': 5}}; "
            f"got {shown(value)}"
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
        raise MemOSInputError(f"{name} must be a function; got {shown(value)}")


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
        raise MemOSInputError(f"{name} must be a list of strings; got {shown(value)}")
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise MemOSInputError(f"{name} must contain non-empty strings; got {shown(item)}")
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
        raise MemOSInputError(f"info must be a mapping; got {shown(value)}")
    for key, item in value.items():
        if not isinstance(key, str) or not key or "\x00" in key:
            raise MemOSInputError(
                f"info keys must be non-empty strings without NUL; got {shown(key)}"
            )
        ok = isinstance(item, (str, int, float)) and not isinstance(item, bool)
        if isinstance(item, float) and not math.isfinite(item):
            ok = False  # NaN and infinities are not JSON
        if not ok and not (isinstance(item, list) and all(isinstance(part, str) for part in item)):
            raise MemOSInputError(
                f"info[{key!r}] must be a string, a number or a list of strings; got {shown(item)}"
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
