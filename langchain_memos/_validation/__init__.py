"""Checks of caller input, run before any I/O; each failure names the fix.

Single values (ids, texts, numbers, flags, lists, metadata, JSON values) in :mod:`.values`;
chat messages (roles, content parts, tool calls, file data, their size) in :mod:`.messages`.
"""

from __future__ import annotations

from langchain_memos._constants import MAX_REQUEST_TOKENS
from langchain_memos._validation.messages import (
    URL,
    check_file_data,
    check_messages,
    file_bytes,
    message_tokens,
)
from langchain_memos._validation.values import (
    MAX_NESTING,
    check_bool,
    check_callable,
    check_flag,
    check_fraction,
    check_id,
    check_info,
    check_instance,
    check_int,
    check_json_value,
    check_memos_id,
    check_optional_id,
    check_optional_str,
    check_optional_text,
    check_options,
    check_seconds,
    check_str_list,
    check_text,
    check_unicode,
    exactly_one,
)

__all__ = [
    "MAX_NESTING",
    "MAX_REQUEST_TOKENS",
    "URL",
    "check_bool",
    "check_callable",
    "check_file_data",
    "check_flag",
    "check_fraction",
    "check_id",
    "check_info",
    "check_instance",
    "check_int",
    "check_json_value",
    "check_memos_id",
    "check_messages",
    "check_optional_id",
    "check_optional_str",
    "check_optional_text",
    "check_options",
    "check_seconds",
    "check_str_list",
    "check_text",
    "check_unicode",
    "exactly_one",
    "file_bytes",
    "message_tokens",
]
