"""A loopback stand-in for the MemOS cloud that answers with the documented example bodies.

It exists so that cassettes can be recorded where the cloud is unreachable. It is not a
MemOS implementation: it checks only what it must to route a request, and every answer is
built from the example responses in the MemOS cloud docs (the API reference, sections
1.4-1.16, and the quick-start and search pages), wrapped in the documented envelope
``{"code": 0, "data": ..., "message": "ok"}``. Two documented errors are answered too: a
missing ``Authorization`` header (40100) and an unknown task id on ``get/status`` (50131).

What it does with a request beyond routing it, each time to answer as the docs' examples do:

- ``search/memory`` answers with the documented memories that pass the request's ``filter``
  (tag, time and equality conditions, as in the search page's filter example), at most
  ``memory_limit_number`` facts and ``preference_limit_number`` preferences, and preferences
  only when ``include_preference`` is not false.
- ``get/memory`` pages through the same documented memories by ``page`` and ``size``.
- ``add/message`` remembers the messages per user and conversation, and ``get/message`` answers
  with them in the documented item shape (knowledge-base files are remembered the same way).
- a search or listing naming ``include_memory_view``, and the profile endpoints, answer as
  ``doc_views.py`` says (profiles bound, edited and deleted; the documented event).

Example:
    >>> with serve_docs() as base_url:
    ...     client = MemOSClient(api_key="test-key-not-a-secret", base_url=base_url)
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from typing_extensions import override

from .doc_views import PROFILE_ROUTES, Profiles, list_views, search_views

__all__ = ["API_PREFIX", "DOCUMENTED_TASK_ID", "serve_docs"]

API_PREFIX = "/api/openmem/v1"

# ---- documented example values ---------------------------------------------------------------

# add/message response example (API reference 1.4).
DOCUMENTED_TASK_ID = "c464e17e-f2ff-4e9a-a2c2-41cc55ab43b9"

# search/memory response example (cn search_memory page; the API reference 1.5 has the same ids).
_MEMORY: dict[str, Any] = {
    "id": "c6c63472-25d3-49ee-b360-9b0702d96781",
    "memory_key": "辣味食物偏好",
    "memory_value": (
        "用户喜欢吃辣的食物，但不太喜欢重油的菜肴，如麻辣火锅和毛血旺。用户更偏好清爽又带辣味的菜。"
    ),
    "memory_type": "UserMemory",
    "create_time": 1762674694466,
    "conversation_id": "memos_conversation_123",
    "status": "activated",
    "confidence": 0.99,
    "tags": ["饮食偏好", "辣味", "重油"],
    "update_time": 1762674694423,
    "relativity": 0.00242424,
}
# Every other memory the docs show in full. The quick start's search/memory example (cn):
_FAMILY_TRIP: list[dict[str, Any]] = [
    {
        "id": "0a89db3a-2061-4c97-a1b8-45700f8745bc",
        "memory_key": "暑假全家出游计划",
        "memory_value": "[user观点]用户计划在暑假进行一次家庭旅行,携带孩子和老人,全家一起行动。",
        "memory_type": "WorkingMemory",
        "memory_time": None,
        "conversation_id": "0610",
        "status": "activated",
        "confidence": 0.0,
        "tags": ["暑假", "家庭旅行", "计划"],
        "update_time": 1758095885922,
        "relativity": 0.007873535,
    },
    {
        "id": "c8b41a89-83b3-4512-b4f7-1dfca3570107",
        "memory_key": "家庭旅行需求",
        "memory_value": (
            "[assistant观点]助手了解到用户将和家人,包括孩子和老人一起旅行,"
            "并计划为其推荐适合家庭出游的目的地。"
        ),
        "memory_type": "WorkingMemory",
        "memory_time": None,
        "conversation_id": "0610",
        "status": "activated",
        "confidence": 0.0,
        "tags": ["家庭旅行", "推荐"],
        "update_time": 1758095885923,
        "relativity": 0.0019950867,
    },
]
# The cn search_memory page's user-profile example; its filter example returns the first one.
_PROFILE: list[dict[str, Any]] = [
    {
        "id": "00d8bb4e-aa8c-4fee-a83e-bf67ed6c3ea1",
        "memory_key": "希望AI帮助的事项",
        "memory_value": "用户希望AI帮助规划日常学习计划、推荐电影和书籍，以及提供心情陪伴。",
        "memory_type": "WorkingMemory",
        "create_time": 1762675190743,
        "conversation_id": "memos_conversation_456",
        "status": "activated",
        "confidence": 0.99,
        "tags": ["帮助", "学习计划", "推荐", "陪伴"],
        "update_time": 1762675209112,
        "relativity": 0.00013480317,
    },
    {
        "id": "17f039d5-d034-41e9-a385-765992a4ab00",
        "memory_key": "希望AI提供的帮助类型",
        "memory_value": "用户希望AI提供建议、信息查询和灵感。",
        "memory_type": "WorkingMemory",
        "create_time": 1762675153211,
        "conversation_id": "memos_conversation_456",
        "status": "activated",
        "confidence": 0.99,
        "tags": ["AI", "帮助", "类型"],
        "update_time": 1762675206651,
        "relativity": 0.00010301525,
    },
]
# Listings (get/memory) keep this order, the API reference's example first.
_MEMORIES: list[dict[str, Any]] = [_MEMORY, *_FAMILY_TRIP, *_PROFILE]
# A search ranks them, most relevant first, by their documented relativity.
_RANKED: list[dict[str, Any]] = sorted(_MEMORIES, key=lambda memory: -memory["relativity"])

_PREFERENCE: dict[str, Any] = {
    "id": "46d8372d-241a-4ffc-890b-ae13c90d5565",
    "preference_type": "explicit_preference",
    "preference": "用户喜欢辣味的食物，但不喜欢重油的辣味食物。",
    "reasoning": (
        "用户在第一次查询中明确表示喜欢辣的食物，在第二次查询中进一步说明自己不喜欢重油的辣味食物，"
        "这表明用户的偏好是喜欢辣但清爽的食物。"
    ),
    "create_time": 1762675342352,
    "conversation_id": "memos_conversation_123",
    "status": "activated",
    "update_time": 1762674923302,
}
# The second preference of the same cn search_memory example.
_PREFERENCES: list[dict[str, Any]] = [
    _PREFERENCE,
    {
        "id": "9d62c1ae-a069-478d-a2fd-cb4aadfb6868",
        "preference_type": "implicit_preference",
        "preference": "用户可能偏好较健康的饮食选择",
        "reasoning": (
            "用户表达了对辣味的明确喜好，但对重油食物表示不喜欢。"
            "这表明用户可能更关注饮食的健康性，倾向于选择不那么油腻的食物。"
            "用户对辣味的喜好与对重油食物的排斥结合在一起，可能暗示着对健康饮食的隐性偏好。"
        ),
        "create_time": 1762674923448,
        "conversation_id": "memos_conversation_123",
        "status": "activated",
        "update_time": 1762674851542,
    },
]
_PREFERENCE_NOTE = (
    "\n# 注意：\n事实记忆是事实的摘要，而偏好记忆是用户偏好的摘要。\n"
    "你的回复不得违反用户的任何偏好，无论是显式偏好还是隐式偏好，"
    "并简要解释你为什么这样回答以避免冲突。\n"
)
# search/memory defaults of the latest spec (API reference 1.5).
_DEFAULT_RECALL_LIMIT = 9

# get/message response example (cn quick start), for a conversation this server was not sent.
_MESSAGES: list[dict[str, Any]] = [
    {
        "role": role,
        "content": content,
        "create_time": "2025-06-10 09:30:00",
        "update_time": "2025-06-10 09:30:00",
    }
    for role, content in [
        ("user", "我想暑假出去玩,你能帮我推荐下吗?"),
        ("assistant", "明白了,所以你们是父母带孩子一块儿旅行,对吗?"),
        ("user", "对,带上孩子和老人,一般都是全家行动。"),
        ("assistant", "收到,那我会帮你推荐适合家庭出游的目的地。"),
    ]
]
# The message time of that example: the stand-in for "submission time", which the docs give as
# chat_time's default but which would make every recording differ.
_DEFAULT_CHAT_TIME = "2025-06-10 09:30:00"
# get/message's default message_limit_number (API reference 1.7).
_DEFAULT_MESSAGE_LIMIT = 6

# The docs show no chat answer; this one reuses the assistant turn of the quick start.
_CHAT_ANSWER_PARTS = ("收到,", "那我会帮你推荐", "适合家庭出游的目的地。")


def _without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in names}


def _ok(data: object) -> dict[str, Any]:
    return {"code": 0, "data": data, "message": "ok"}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "data": None, "message": message}


# ---- one function per endpoint ---------------------------------------------------------------


@dataclass
class _Call:
    """What a route needs to know about one request."""

    body: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)
    uploads: list[tuple[str, int]] = field(default_factory=list)  # (name, size) of multipart files
    # Knowledge-base files added through this server, by id, so that listings show them.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Messages added through this server, by (user_id, conversation_id), oldest first.
    messages: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    # Profile templates bound to users and agents, with their edited fields (doc_views.py).
    profiles: Profiles = field(default_factory=dict)


# ---- filters (API reference 1.14), as far as the documented memories need them ---------------

_SERVICE_TIMEZONE = timezone(timedelta(hours=8))  # naive times are Beijing time


def _epoch_millis(value: object) -> float | None:
    """A documented timestamp (epoch milliseconds, or a date / date-time string) in ms."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    moment = datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_SERVICE_TIMEZONE)
    return moment.timestamp() * 1000


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "lt": lambda value, bound: value < bound,
    "gt": lambda value, bound: value > bound,
    "lte": lambda value, bound: value <= bound,
    "gte": lambda value, bound: value >= bound,
}


def _meets(item: dict[str, Any], condition: dict[str, Any]) -> bool:
    ((name, test),) = condition.items()
    if name == "tags":
        return test["contains"] in (item.get("tags") or [])
    if name in ("create_time", "update_time"):
        stamp = _epoch_millis(item.get(name))
        return stamp is not None and all(
            _COMPARISONS[operator](stamp, _epoch_millis(bound) or 0.0)
            for operator, bound in test.items()
        )
    value = item.get(name, (item.get("info") or {}).get(name))
    return value is not None and str(value) == test


def _passes(item: dict[str, Any], filter_: dict[str, Any] | None) -> bool:
    """Whether a documented memory passes a filter; the source-specific form uses ``user``."""
    if not filter_:
        return True
    if set(filter_) <= {"user", "public", "knowledgebase"}:
        if "user" not in filter_:
            return False  # the documented memories are all the user's own
        filter_ = filter_["user"]
    ((operator, conditions),) = filter_.items()
    met = [_meets(item, condition) for condition in conditions]
    return all(met) if operator == "and" else any(met)


def _limit(call: _Call, name: str) -> int:
    value = call.body.get(name)
    return value if isinstance(value, int) and value > 0 else _DEFAULT_RECALL_LIMIT


# ---- one function per endpoint ---------------------------------------------------------------


def _add_message(call: _Call) -> object:
    # Remembered in get/message's documented item shape: role, content, create/update time.
    stored = call.messages.setdefault(
        (str(call.body.get("user_id")), str(call.body.get("conversation_id"))), []
    )
    for message in call.body.get("messages", []):
        moment = message.get("chat_time") or _DEFAULT_CHAT_TIME
        stored.append(
            {
                "role": message.get("role"),
                "content": message.get("content", ""),
                "create_time": moment,
                "update_time": moment,
            }
        )
    status = "running" if call.body.get("async_mode", True) else "completed"
    return _ok({"success": True, "task_id": DOCUMENTED_TASK_ID, "status": status})


def _search_memory(call: _Call) -> object:
    filter_ = call.body.get("filter")
    if call.body.get("include_memory_view"):
        documented = {
            "memory_detail_list": [item for item in _RANKED if _passes(item, filter_)],
            "preference_detail_list": [item for item in _PREFERENCES if _passes(item, filter_)],
        }
        found = search_views(
            call.body, documented, call.profiles, _limit(call, "memory_limit_number")
        )
        note = _PREFERENCE_NOTE if found["preference_detail_list"] else ""
        return _ok({**found, "preference_note": note})
    memories = [memory for memory in _RANKED if _passes(memory, filter_)]
    preferences: list[dict[str, Any]] = []
    if call.body.get("include_preference", True) is not False:
        preferences = [item for item in _PREFERENCES if _passes(item, filter_)]
        preferences = preferences[: _limit(call, "preference_limit_number")]
    return _ok(
        {
            "memory_detail_list": memories[: _limit(call, "memory_limit_number")],
            "preference_detail_list": preferences,
            "tool_memory_detail_list": [],
            "skill_detail_list": [],
            # Empty when no preference was recalled, as in the search page's examples.
            "preference_note": _PREFERENCE_NOTE if preferences else "",
        }
    )


def _get_memory(call: _Call) -> object:
    # get/memory items carry sources and info, and no relativity (API reference 1.6).
    filter_ = call.body.get("filter")
    page, size = call.body.get("page", 1), call.body.get("size", 10)
    memories = [memory for memory in _MEMORIES if _passes(memory, filter_)]
    preferences: list[dict[str, Any]] = []
    if call.body.get("include_preference", True) is not False:
        preferences = [item for item in _PREFERENCES if _passes(item, filter_)]
    views: dict[str, list[dict[str, Any]]] = {}
    if call.body.get("include_memory_view"):  # the named views only
        documented = {
            "memory_detail_list": memories,
            "preference_detail_list": [item for item in _PREFERENCES if _passes(item, filter_)],
        }
        views = list_views(call.body, documented, call.profiles)
        memories = views.pop("memory_detail_list")
        preferences = views.pop("preference_detail_list")
    total = max(len(memories), len(preferences), *map(len, views.values()))
    window = slice((page - 1) * size, page * size)
    return _ok(
        {
            **{name: items[window] for name, items in views.items()},
            "memory_detail_list": [
                {**_without(memory, "relativity"), "sources": [], "info": {}}
                for memory in memories[window]
            ],
            "preference_detail_list": [
                {**item, "sources": [], "info": {}} for item in preferences[window]
            ],
            "tool_memory_detail_list": views.get("tool_memory_detail_list", []),
            "total": total,
            "size": size,
            "current": page,
            "pages": max(1, -(-total // size)),
        }
    )


def _get_memory_by_id(memory_id: str) -> object:
    # A documented memory by its id; any other id gets the API reference's example under that id.
    known = next((memory for memory in _MEMORIES if memory["id"] == memory_id), _MEMORY)
    return _ok({**_without(known, "relativity"), "id": memory_id, "metadata": {"sources": []}})


def _get_message(call: _Call) -> object:
    key = (str(call.body.get("user_id")), str(call.body.get("conversation_id")))
    limit = call.body.get("message_limit_number") or _DEFAULT_MESSAGE_LIMIT
    stored = call.messages.get(key)
    return _ok({"message_detail_list": stored[-limit:] if stored else _MESSAGES})


def _success(call: _Call) -> object:
    return _ok({"success": True})


def _add_feedback(call: _Call) -> object:
    return _ok({"success": True, "status": "running", "task_id": DOCUMENTED_TASK_ID})


def _get_status(call: _Call) -> object:
    task_id = call.body.get("task_id")
    if task_id != DOCUMENTED_TASK_ID:
        return _error(50131, "task not found")
    return _ok({"task_id": task_id, "status": "completed", "memory_views": None})


def _extract_memory(call: _Call) -> object:
    kinds = call.body.get("extraction_types") or ["memory", "preference"]
    memory_fields = ("memory_key", "memory_value", "memory_type", "tags")
    preference_fields = ("preference", "reasoning", "preference_type")
    memories = [{key: _MEMORY[key] for key in memory_fields}]
    preferences = [{key: _PREFERENCE[key] for key in preference_fields}]
    return _ok(
        {
            "success": True,
            "memory_detail_list": memories if "memory" in kinds else [],
            "preference_detail_list": preferences if "preference" in kinds else [],
        }
    )


def _rerank(call: _Call) -> object:
    # Not enveloped: the API reference (1.13) shows these fields at the top level. The score is
    # the share of the query's characters found in the document: crude, but deterministic.
    query = set(str(call.body.get("query", "")))
    documents = [str(document) for document in call.body.get("documents", [])]
    scores = [len(query & set(document)) / max(len(query), 1) for document in documents]
    order = sorted(range(len(documents)), key=lambda index: (-scores[index], index))
    order = order[: call.body.get("top_n") or len(order)]
    tokens = sum(len(document) for document in documents) + len(query)
    return {
        "id": "rerank-" + _stable_id(json.dumps(call.body)),
        "model": call.body.get("model", "memos-reranker-0.6b"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        "results": [
            {"index": i, "document": {"text": documents[i]}, "relevance_score": scores[i]}
            for i in order
        ],
    }


def _chat(call: _Call) -> object:
    return _ok({"response": "".join(_CHAT_ANSWER_PARTS)})


def _stable_id(*parts: object) -> str:
    # The docs show ids but say nothing of how they are made; ids derived from the request keep
    # re-recorded cassettes identical.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def _create_knowledgebase(call: _Call) -> object:
    return _ok({"id": _stable_id("knowledgebase", call.body.get("knowledgebase_name"))})


def _file_record(knowledgebase_id: str, name: str, kind: str, size: int) -> dict[str, Any]:
    file_id = _stable_id(knowledgebase_id, name)
    return {
        "id": file_id,
        "type": kind,
        "name": name,
        "sizeMB": round(size / 1048576, 6),
        "status": "running",
    }


def _add_knowledgebase_file(call: _Call) -> object:
    if call.uploads:  # multipart: the knowledge base and type come in the query string
        knowledgebase_id = call.query.get("knowledgebase_id", "")
        kind = call.query.get("type", "document")
        added = [_file_record(knowledgebase_id, name, kind, size) for name, size in call.uploads]
    else:
        knowledgebase_id = str(call.body.get("knowledgebase_id", ""))
        added = [
            _file_record(
                knowledgebase_id,
                str(item.get("name", f"file-{index}")),
                str(item.get("type", "document")),
                len(str(item.get("content", ""))),
            )
            for index, item in enumerate(call.body.get("file", []))
        ]
    call.files.update({record["id"]: record for record in added})
    return _ok(added)  # an array, as in the latest spec


def _get_knowledgebase_file(call: _Call) -> object:
    if call.body.get("file_ids") is not None:  # the SDK sends null for the other mode
        listed = [call.files[id_] for id_ in call.body["file_ids"] if id_ in call.files]
    else:
        listed = list(call.files.values())
    # Listings carry "size" as a string where uploads carry "sizeMB" (API reference 1.12).
    details = [{**_without(record, "sizeMB"), "size": str(record["sizeMB"])} for record in listed]
    return _ok(
        {
            "total": len(details),
            "page": call.body.get("page", 1),
            "page_size": call.body.get("page_size", 20),
            "file_detail_list": details,
        }
    )


def _delete_knowledgebase_file(call: _Call) -> object:
    for file_id in call.body.get("file_ids", []):
        call.files.pop(file_id, None)
    return _success(call)


def _profile_route(path: str) -> Callable[[_Call], object]:
    def route(call: _Call) -> object:
        PROFILE_ROUTES[path](call.profiles, call.body)
        return _success(call)

    return route


_ROUTES: dict[str, Callable[[_Call], object]] = {
    **{path: _profile_route(path) for path in PROFILE_ROUTES},
    "add/message": _add_message,
    "search/memory": _search_memory,
    "get/memory": _get_memory,
    "get/message": _get_message,
    "delete/memory": _success,
    "add/feedback": _add_feedback,
    "get/status": _get_status,
    "chat": _chat,
    "extract/memory": _extract_memory,
    "rerank": _rerank,
    "update/memory": _success,
    "create/knowledgebase": _create_knowledgebase,
    "delete/knowledgebase": _success,
    "add/knowledgebase-file": _add_knowledgebase_file,
    "get/knowledgebase-file": _get_knowledgebase_file,
    "delete/knowledgebase-file": _delete_knowledgebase_file,
}

# ---- HTTP ------------------------------------------------------------------------------------


def _multipart_files(content_type: str, payload: bytes) -> list[tuple[str, int]]:
    """The (file name, size in bytes) of every part of a multipart body."""
    header = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + payload)
    files = []
    for part in message.iter_parts():
        content = part.get_payload(decode=True)
        files.append((part.get_filename() or "", len(content) if isinstance(content, bytes) else 0))
    return files


class _DocServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _DocHandler)
        self.files: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.profiles: Profiles = {}
        self.log: list[tuple[str, Any]] | None = None


class _DocHandler(BaseHTTPRequestHandler):
    # A fixed name instead of the Python version keeps re-recorded cassettes identical.
    server_version = "memos-doc-server"

    @override
    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: pytest shows failures, not access logs."""

    @override
    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        endpoint = self._endpoint()
        if not self._authorized():
            return
        if endpoint is not None and endpoint.startswith("get/memory/"):
            self._send_json(_get_memory_by_id(unquote(endpoint.removeprefix("get/memory/"))))
        else:
            self._send_json(_error(40001, "requested data not found"), HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        endpoint = self._endpoint()
        if not self._authorized():
            return
        route = _ROUTES.get(endpoint or "")
        if route is None:
            self._send_json(_error(40001, "requested data not found"), HTTPStatus.NOT_FOUND)
            return
        assert isinstance(self.server, _DocServer)
        call = _Call(body={}, query=dict(parse_qsl(urlsplit(self.path).query)))
        call.files = self.server.files
        call.messages = self.server.messages
        call.profiles = self.server.profiles
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            call.uploads = _multipart_files(content_type, payload)
        else:
            try:
                body = json.loads(payload or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                self._send_json(_error(40000, "invalid request parameters"))
                return
            call.body = body
            if self.server.log is not None:
                self.server.log.append((endpoint or "", body))
        if endpoint == "chat" and call.body.get("stream") is True:
            self._send_events()
            return
        try:
            answer = route(call)
        except (AttributeError, KeyError, TypeError, ValueError):  # e.g. a filter it cannot read
            answer = _error(40000, "invalid request parameters")
        self._send_json(answer)

    def _endpoint(self) -> str | None:
        path = urlsplit(self.path).path
        return path.removeprefix(API_PREFIX + "/") if path.startswith(API_PREFIX + "/") else None

    def _authorized(self) -> bool:
        # The documented error code is what signals the failure; the HTTP status stays 200.
        scheme, _, key = self.headers.get("Authorization", "").partition(" ")
        if scheme == "Token" and key.strip():
            return True
        self._send_json(_error(40100, "API key required"))
        return False

    def _send_json(self, payload: object, status: HTTPStatus = HTTPStatus.OK) -> None:
        content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _send_events(self) -> None:
        # Server-sent events named "message", as in the spec's ChatStreamResponse. The handler
        # speaks HTTP/1.0, so closing the connection ends the stream.
        events = [{"type": "text", "data": part} for part in _CHAT_ANSWER_PARTS]
        events.append({"type": "end", "data": ""})
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for event in events:
            data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            self.wfile.write(f"event: message\ndata: {data}\n\n".encode())
            self.wfile.flush()


@contextmanager
def serve_docs(log: list[tuple[str, Any]] | None = None) -> Iterator[str]:
    """Serve the documented examples on 127.0.0.1 (a free port) until the block ends.

    Args:
        log: When given, every JSON request is appended to it as ``(endpoint, body)``.

    Yields:
        The API root to use as ``base_url``, ``http://127.0.0.1:<port>/api/openmem/v1``.
    """
    server = _DocServer()
    server.log = log
    thread = threading.Thread(target=server.serve_forever, name="memos-doc-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{API_PREFIX}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
