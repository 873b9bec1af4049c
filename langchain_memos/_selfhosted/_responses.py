"""The self-hosted server's answers translated into the cloud's envelope and ``data`` shapes.

Pure functions: a :class:`ProductCall` and the server's HTTP status and JSON in, the HTTP status
and cloud envelope (``{"code", "message", "data"}``) out, so that the client parses both servers'
answers the one way, into the models of :mod:`langchain_memos.types`. Grouped results (one
entry per cube) are flattened; raw metadata becomes the cloud's detail fields; ISO timestamps
become epoch milliseconds, as the cloud sends them. The server's errors become the cloud's codes,
including the failures it reports with code 200.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterable
from datetime import timezone
from typing import Any

from langchain_memos import _codes as codes
from langchain_memos._selfhosted._requests import ProductCall
from langchain_memos.types import parse_timestamp

Envelope = dict[str, Any]

# Which memory types each list holds (``post_process_textual_mem`` of the server's formatters).
FACT_TYPES = frozenset(
    {"WorkingMemory", "LongTermMemory", "UserMemory", "OuterMemory", "RawFileMemory"}
)
TOOL_TYPES = frozenset({"ToolSchemaMemory", "ToolTrajectoryMemory"})
SKILL_TYPES = frozenset({"SkillMemory"})
PREFERENCE_TYPES = frozenset({"PreferenceMemory"})

# The scheduler's task states, in the cloud's three words.
TASK_STATES = {
    "waiting": "running",
    "pending": "running",
    "in_progress": "running",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "failed",
}


def epoch_ms(value: Any) -> int | None:
    """An ISO timestamp of the server as epoch milliseconds; a naive one is read as UTC."""
    if value is None or value == "":
        return None
    parsed = parse_timestamp(value, naive_tz=timezone.utc)
    return None if parsed is None else round(parsed.timestamp() * 1000)


def _sources(value: Any) -> list[Any]:
    # Listings carry each source as a JSON string, searches as an object.
    out = []
    for source in value or []:
        if isinstance(source, str):
            with contextlib.suppress(ValueError):
                source = json.loads(source)
        out.append(source)
    return out


def _common(item: dict[str, Any], meta: dict[str, Any], cube_id: Any) -> dict[str, Any]:
    return {
        "id": item.get("id") or meta.get("id"),
        "create_time": epoch_ms(meta.get("created_at")),
        "update_time": epoch_ms(meta.get("updated_at")),
        "conversation_id": meta.get("session_id"),
        "status": meta.get("status"),
        "relativity": meta.get("relativity"),
        "cube_id": cube_id,
    }


def fact(item: dict[str, Any], meta: dict[str, Any], cube_id: Any = None) -> dict[str, Any]:
    return {
        **_common(item, meta, cube_id),
        "memory_key": meta.get("key"),
        "memory_value": item.get("memory"),
        "memory_type": meta.get("memory_type"),
        "confidence": meta.get("confidence"),
        "tags": meta.get("tags") or [],
        "sources": _sources(meta.get("sources")),
        "info": meta.get("info"),
    }


def preference(item: dict[str, Any], meta: dict[str, Any], cube_id: Any = None) -> dict[str, Any]:
    return {
        **_common(item, meta, cube_id),
        "preference_type": meta.get("preference_type"),
        "preference": meta.get("preference") or item.get("memory"),
        "reasoning": meta.get("reasoning"),
        "sources": _sources(meta.get("sources")),
        "info": meta.get("info"),
    }


def tool(item: dict[str, Any], meta: dict[str, Any], cube_id: Any = None) -> dict[str, Any]:
    value: Any = item.get("memory")
    if meta.get("memory_type") == "ToolSchemaMemory" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return {
        **_common(item, meta, cube_id),
        "tool_type": meta.get("memory_type"),
        "tool_value": value,
        "tool_used_status": meta.get("tool_used_status") or [],
        "experience": meta.get("experience"),
    }


def skill(item: dict[str, Any], meta: dict[str, Any], cube_id: Any = None) -> dict[str, Any]:
    return {
        **_common(item, meta, cube_id),
        "skill_value": {
            "name": meta.get("name"),
            "description": meta.get("description"),
            "procedure": meta.get("procedure"),
            "experience": meta.get("experience") or [],
            "preference": meta.get("preference") or [],
            "examples": meta.get("examples") or [],
            "script": meta.get("scripts"),
            "others": meta.get("others"),
        },
        "skill_url": meta.get("url") or None,
        "skill_type": meta.get("skill_source"),
        "confidence": meta.get("confidence"),
        "tags": meta.get("tags") or [],
    }


Shape = Callable[[dict[str, Any], dict[str, Any], Any], dict[str, Any]]
LISTS: tuple[tuple[str, str, frozenset[str], Shape], ...] = (
    ("text_mem", "memory_detail_list", FACT_TYPES, fact),
    ("pref_mem", "preference_detail_list", PREFERENCE_TYPES, preference),
    ("tool_mem", "tool_memory_detail_list", TOOL_TYPES, tool),
    ("skill_mem", "skill_detail_list", SKILL_TYPES, skill),
)


def _flatten(groups: Any, types: frozenset[str], shape: Shape) -> tuple[list[dict[str, Any]], int]:
    """One cloud list from the server's per-cube groups, and the largest group total.

    An item whose ``memory_type`` is not one this list holds is left out: the server's handlers
    ask each list for its types, but some storage backends answer every type to every list.
    """
    items, total = [], 0
    for group in groups or []:
        kept = 0
        for item in group.get("memories") or []:
            meta = item.get("metadata") or {}
            if meta.get("memory_type") in types | {None}:
                items.append(shape(item, meta, group.get("cube_id")))
                kept += 1
        total = max(total, group.get("total_nodes") or 0) if kept else total
    return items, total


def search_data(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for source, target, types, shape in LISTS:
        out[target], _ = _flatten(data.get(source), types, shape)
    out["preference_note"] = data.get("pref_note") or ""
    return out


def memory_list_data(data: dict[str, Any], page: int, size: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    totals = [0]
    for source, target, types, shape in LISTS:
        out[target], total = _flatten(data.get(source), types, shape)
        totals.append(total)
    total = max(totals)
    return {**out, "total": total, "size": size, "current": page, "pages": math.ceil(total / size)}


def task_data(call: ProductCall, data: Any) -> dict[str, Any]:
    task_id = call.context.get("task_id")
    return {
        "success": True,
        "task_id": task_id,
        "status": "running" if task_id else "completed",
        # The server answers an add with the memories it made; the cloud never does.
        "memories": list(_as_list(data)),
    }


def _as_list(data: Any) -> Iterable[Any]:
    return data if isinstance(data, list) else ()


def status_data(call: ProductCall, data: Any) -> dict[str, Any]:
    entry = next(iter(_as_list(data)), None) or {}
    state = entry.get("status")
    if isinstance(state, str):
        state = TASK_STATES.get(state, state)
    return {"task_id": call.context.get("task_id"), "status": state}


def error(code: int, message: str, http_status: int | None = None) -> tuple[int, Envelope]:
    return http_status or codes.http_status(code), {"code": code, "message": message, "data": None}


def _server_error(call: ProductCall, status: int, message: str) -> tuple[int, Envelope]:
    if status == 404 and call.kind == "status":
        return error(codes.TASK_NOT_FOUND, message)
    if status == 404:
        return error(codes.NO_SUCH_ENDPOINT, message)
    if status == 401:
        return error(40132, message)
    if status == 403:
        return error(40306, message)
    if status == 429:
        return error(40309, message)
    if status in (400, 422):
        return error(codes.BAD_REQUEST, message)
    return error(codes.INTERNAL_ERROR, message, status if status >= 500 else 500)


def translate_response(call: ProductCall, status: int, payload: Any) -> tuple[int, Envelope]:
    """The cloud's ``(HTTP status, envelope)`` for the server's answer to ``call``."""
    body = payload if isinstance(payload, dict) else {}
    message = str(body.get("message") or body.get("detail") or f"HTTP {status}")
    code = body.get("code", 200 if status < 400 else status)  # chat/complete sends no code
    if status >= 400 or code != 200:
        return _server_error(call, status if status >= 400 else int(code), message)
    data = body.get("data")
    if call.kind == "search":
        out: Any = search_data(data or {})
    elif call.kind == "get_memory":
        out = memory_list_data(data or {}, call.context["page"], call.context["size"])
    elif call.kind == "get_by_id":
        if not data:  # the server says "not found" with code 200
            return error(codes.MEMORY_NOT_FOUND, message)
        out = fact(data, data.get("metadata") or {})
    elif call.kind == "delete":
        if (data or {}).get("status") != "success":  # failures come with code 200 too
            return error(50002, f"the self-hosted server did not delete: {message}")
        out = {"success": True}
    elif call.kind in ("add", "feedback"):
        out = task_data(call, data)
    elif call.kind == "status":
        out = status_data(call, data)
    elif call.kind in ("chat", "chat_stream"):
        out = {"response": (data or {}).get("response")}
    else:
        raise AssertionError(f"no answer translation for {call.kind}")
    return 200, {"code": 0, "message": message, "data": out}
