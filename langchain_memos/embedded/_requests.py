"""Reading request bodies: the checks of the fields every endpoint shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_memos import _codes as codes
from langchain_memos._constants import MAX_ID_LENGTH
from langchain_memos._validation import check_int
from langchain_memos.embedded._errors import EngineError

# SQLite integers are 64-bit; a page this far out is empty anyway.
_MAX_OFFSET = 2**62
_TOO_LONG = {"user_id": codes.USER_ID_TOO_LONG, "conversation_id": codes.CONVERSATION_ID_TOO_LONG}


def user_id_of(value: object, name: str = "user_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise EngineError(
            codes.FIELD_REQUIRED, f"{name} is required and must be a non-empty string"
        )
    if len(value) > MAX_ID_LENGTH:
        code = _TOO_LONG.get(name, codes.BAD_REQUEST)
        raise EngineError(code, f"{name} must be at most {MAX_ID_LENGTH} characters")
    return value


def optional_id_of(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else user_id_of(value, name)


def limit_of(body: Mapping[str, Any], name: str, default: int, high: int) -> int:
    value = check_int(name, body.get(name), low=1, high=high)
    return default if value is None else value


def page_offset(page: int, size: int) -> int:
    return min((page - 1) * size, _MAX_OFFSET)
