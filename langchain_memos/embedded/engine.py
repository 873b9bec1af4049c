"""``EmbeddedEngine``: the MemOS cloud wire protocol, implemented locally on SQLite.

Same paths, request fields, envelopes, limits and error codes as the cloud API, so that every
part of this package (and any other MemOS client) works unchanged against it. Memories are
produced in fast mode: no LLM, one memory per conversation turn, plus the preferences users state
explicitly and the outcome of tool calls.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
import logging
import math
import re
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from langchain_memos._constants import (
    MAX_ID_LENGTH,
    MAX_MESSAGE_LIMIT,
    MAX_PAGE_SIZE,
    MAX_RECALL_LIMIT,
)
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
from langchain_memos.embedded._fields import MEMORY_TYPES, refuse_unimplemented
from langchain_memos.embedded._fine import extract
from langchain_memos.embedded._preferences import find_preferences
from langchain_memos.embedded._store import Candidate, FilterError, Store, filter_sql, scope_token
from langchain_memos.embedded._text import (
    TIME_MARKER,
    asks_when,
    date_words,
    epoch_ms,
    has_cjk,
    index_text,
    keywords,
    parse_chat_time,
    query_terms,
    speaks_of_time,
    title,
    viewpoint,
)
from langchain_memos.embedded._turns import Turn, answers, is_filler, restates, with_question
from langchain_memos.embedded._vectors import VectorIndex
from langchain_memos.filters import validate_filter
from langchain_memos.types import parse_timestamp

__all__ = ["DEFAULT_RELATIVITY", "EmbeddedEngine", "EngineError"]

logger = logging.getLogger("langchain_memos.embedded")

API_ROOT = "/api/openmem/v1"
DEFAULT_RELATIVITY = 0.45
MAX_REQUEST_TOKENS = 40_000
PREFERENCE_NOTE = {
    "en": "\n# Note:\nFactual memory is a summary of facts, while preference memory is a summary "
    "of user preferences.\nYour reply must not violate any of the user's preferences, whether "
    "explicit or implicit, and briefly explain why you answered this way to avoid conflicts.\n",
    "zh": "\n# 注意：\n事实记忆是事实的摘要，而偏好记忆是用户偏好的摘要。\n"
    "你的回复不得违反用户的任何偏好，无论是显式偏好还是隐式偏好，并简要解释你为什么这样回答以避免冲突。\n",
}
# A system tag (with a colon, like "mode:fast"): keywords() never produces one, so ordinary turns
# that mention feedback are not taken for corrections.
FEEDBACK_TAG = "mode:feedback"
_RRF_K = 60
# What a query word in a neighbouring turn is worth against one in the memory itself. It counts
# only for a memory that holds a query word itself: neighbours alone make no memory related.
_NEAR = 0.5
_VECTOR_DEPTH = 200
_RECONCILE_LATEST = 20
_TEXT_FILE_TYPES = (".txt", ".md", ".markdown", ".json", ".xml", ".csv")
# SQLite integers are 64-bit; a page this far out is empty anyway.
_MAX_OFFSET = 2**62
_CHUNK_CHARS = 600
# A list of ids as one SQL parameter (a JSON array): any number of them, one variable.
_ID_LIST = "(SELECT value FROM json_each(?))"
# No MemOS request nests deeper; a deeper one is refused before anything walks it recursively.
MAX_JSON_DEPTH = 64
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# What SQLite says when a (valid) request is too big for one statement.
_TOO_LARGE = ("too many", "too large", "too big", "stack overflow", "too complex")


class EngineError(Exception):
    """An error answer: a MemOS business code, its HTTP status and a message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        if self.code in (40100, 40130, 40132):
            return 401
        if self.code == 40306:
            return 403
        if self.code in (40001, 40307, 40308, 50120, 50123, 50131):
            return 404
        if self.code in (40300, 40301, 40302, 40304, 40309):
            return 429
        return 500 if self.code >= 50000 else 400


def _new_id() -> str:
    return str(uuid.uuid4())


def _user_id(value: object, name: str = "user_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise EngineError(40002, f"{name} is required and must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        code = {"user_id": 40010, "conversation_id": 40011}.get(name, 40000)
        raise EngineError(code, f"{name} must be at most {MAX_ID_LENGTH} characters")
    return value


def _optional_id(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else _user_id(value, name)


def _offset(page: int, size: int) -> int:
    return min((page - 1) * size, _MAX_OFFSET)


def _limit(body: Mapping[str, Any], name: str, default: int, high: int) -> int:
    value = check_int(name, body.get(name), low=1, high=high)
    return default if value is None else value


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return ""


class EmbeddedEngine:
    """A MemOS-compatible memory service in one SQLite database.

    Args:
        path: A database file (created if missing, WAL mode) or ``":memory:"``.
        chat_model: Any LangChain chat model with structured output: turns on fine mode, in
            which the model abstracts turns into facts and preferences and reconciles them with
            the stored ones (a changed fact updates its memory). Fast-mode memories are made at
            once and replaced when the model is done: in the background in async mode (the task
            stays ``running`` until then), before answering in sync mode.
        embeddings: Any LangChain ``Embeddings``: adds vector similarity to the lexical search
            (reciprocal-rank fusion of both rankings); needs ``langchain-memos[vectors]``.
        clock: Returns the current time; for tests.

    Example:
        >>> engine = EmbeddedEngine(":memory:")
        >>> client = MemOSClient(embedded=engine)
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        chat_model: BaseChatModel | None = None,
        embeddings: Embeddings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = Store(path)
        self.chat_model = chat_model
        self.embeddings = embeddings
        self._vectors = VectorIndex() if embeddings is not None else None
        if self._vectors is not None:
            self.store.on_delete = self._vectors.forget
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        # One worker: refinements of a user's turns run in the order they were added.
        self._refiner = ThreadPoolExecutor(1, "memos-refine") if chat_model is not None else None
        self._routes: dict[str, Callable[[dict[str, Any]], Any]] = {
            "/add/message": self.add_message,
            "/search/memory": self.search_memory,
            "/get/message": self.get_message,
            "/get/memory": self.get_memory,
            "/delete/memory": self.delete_memory,
            "/update/memory": self.update_memory,
            "/add/feedback": self.add_feedback,
            "/get/status": self.get_status,
            "/extract/memory": self.extract_memory,
            "/create/knowledgebase": self.create_knowledgebase,
            "/delete/knowledgebase": self.delete_knowledgebase,
            "/add/knowledgebase-file": self.add_knowledgebase_file,
            "/get/knowledgebase-file": self.get_knowledgebase_file,
            "/delete/knowledgebase-file": self.delete_knowledgebase_file,
        }

    def close(self) -> None:
        """Finish pending refinements, then close the database."""
        if self._refiner is not None:
            self._refiner.shutdown(wait=True)
        self.store.close()

    def _now_ms(self) -> int:
        return epoch_ms(self._clock())

    # ---- the wire ------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """Answer one HTTP request with ``(status, JSON envelope)``; never raises."""
        route = path.split("/openmem/v1", 1)[-1] if "/openmem/v1" in path else path
        try:
            data = self._dispatch(method, route.rstrip("/"), body, params or {}, content_type)
        except EngineError as error:
            return error.http_status, _envelope(error.code, None, error.message)
        except (MemOSInputError, FilterError) as error:
            code = 40012 if str(error).startswith("relativity") else 40000
            return 400, _envelope(code, None, f"Invalid request parameters: {error}")
        except sqlite3.OperationalError as error:
            if not any(words in str(error).lower() for words in _TOO_LARGE):
                raise
            message = f"the request is too large for the embedded engine ({error})"
            return 400, _envelope(40000, None, f"Invalid request parameters: {message}")
        return 200, _envelope(0, data, "ok")

    def _dispatch(
        self, method: str, route: str, body: bytes, params: Mapping[str, str], content_type: str
    ) -> Any:
        if method == "GET" and route == "":
            return self.describe()
        if method == "GET" and route.startswith("/get/memory/"):
            return self.get_memory_by_id(route.removeprefix("/get/memory/"))
        handler = self._routes.get(route)
        if route in ("/chat", "/rerank"):
            raise EngineError(
                40000,
                f"{route[1:]} needs a MemOS-hosted model, which the embedded engine does not have",
            )
        if handler is None or method != "POST":
            raise EngineError(40001, f"no such endpoint: {method} {route}")
        if route == "/add/knowledgebase-file" and content_type.startswith("multipart/"):
            refuse_unimplemented(route, params)
            return self._add_knowledgebase_form(body, params, content_type)
        try:
            request = json.loads(body or b"{}")
        except RecursionError:
            raise EngineError(40000, "the request body nests too deeply") from None
        except ValueError:
            raise EngineError(40000, "the request body is not JSON") from None
        if not isinstance(request, dict):
            raise EngineError(40000, "the request body must be a JSON object")
        _check_json(request)
        # The official SDK sends null for every unset optional field.
        request = {key: value for key, value in request.items() if value is not None}
        refuse_unimplemented(route, request)
        return handler(request)

    def describe(self) -> dict[str, Any]:
        """What ``GET /`` answers: what this server is, and where its API lives."""
        return {
            "service": "langchain-memos embedded MemOS engine",
            "api_root": API_ROOT,
            "endpoints": [
                "GET /get/memory/{id}",
                *(f"POST {route}" for route in self._routes),
            ],
            "docs": "https://memos-docs.openmem.net (the MemOS cloud API, which this server "
            "implements locally); langchain-memos README, 'Serving the engine over HTTP'",
        }

    # ---- messages and memory production --------------------------------------------------

    def add_message(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = _user_id(body.get("user_id"))
        conversation_id = _user_id(body.get("conversation_id"), "conversation_id")
        messages = check_messages(body.get("messages"), max_tokens=None)
        if message_tokens(messages) > MAX_REQUEST_TOKENS:
            raise EngineError(40013, f"messages exceed {MAX_REQUEST_TOKENS} tokens")
        owner = {
            "user_id": user_id,
            "agent_id": _optional_id(body, "agent_id"),
            "app_id": _optional_id(body, "app_id"),
            "info": check_info(body.get("info")),
            "public": check_bool("allow_public", body.get("allow_public")),
        }
        extra_tags = check_str_list("tags", body.get("tags")) or []
        now = self._now_ms()
        task_id = _new_id()
        rough: list[str] = []
        calls: dict[str, dict[str, Any]] = {}
        planned: list[tuple[dict[str, Any], int, list[tuple[str, dict[str, Any], str]]]] = []
        last = self._last_turn(user_id, conversation_id)
        for message in messages:
            moment = parse_chat_time(message.get("chat_time"))
            stamp = epoch_ms(moment) if moment else now
            produced = []
            made = self._produce(message, conversation_id, stamp, calls, last)
            last = _turn(message) or last
            for kind, memory in made:
                memory["tags"] = list(dict.fromkeys([*memory.get("tags", []), *extra_tags]))
                if kind in ("fact", "preference"):
                    rough.append(memory["id"])
                turn = _text_of(message.get("content")) if kind == "fact" else ""
                produced.append((kind, memory, turn))
            planned.append((message, stamp, produced))
        # The embedding model is called before the database is locked.
        vectors = iter(self._embed([memory for *_, made in planned for _, memory, _ in made]))
        with self.store.transaction() as db:
            turns = [turn for *_, made in planned for kind, _, turn in made if turn]
            contexts, previous = self.store.plan_context(db, user_id, conversation_id, turns)
            around = iter(contexts)
            for message, stamp, produced in planned:
                stored = {**message, "create_time": stamp, "update_time": stamp}
                db.execute(
                    "INSERT INTO messages (user_id, conversation_id, body, create_time) "
                    "VALUES (?, ?, ?, ?)",
                    (user_id, conversation_id, json.dumps(stored, ensure_ascii=False), stamp),
                )
                for kind, memory, turn in produced:
                    self._insert(
                        db,
                        kind,
                        memory,
                        owner,
                        next(vectors),
                        speaker=message.get("name") or message["role"],
                        text=turn,
                        context=next(around) if turn else ("", ""),
                    )
            self.store.update_context(db, previous)
            status = "completed" if self.chat_model is None else "running"
            db.execute(
                "INSERT INTO tasks (task_id, status, create_time) VALUES (?, ?, ?)",
                (task_id, status, now),
            )
        wait = body.get("async_mode") is False
        if self._refiner is not None:
            job = (task_id, owner, conversation_id, messages, rough, extra_tags)
            if wait:
                self._refine(*job)
            else:
                self._refiner.submit(self._refine, *job)
        # Fast mode finishes before answering; async callers are told "running" as by the cloud,
        # and get/status already says "completed".
        return {"success": True, "task_id": task_id, "status": "completed" if wait else "running"}

    def _refine(
        self,
        task_id: str,
        owner: dict[str, Any],
        conversation_id: str,
        messages: list[dict[str, Any]],
        rough: list[str],
        tags: list[str],
    ) -> None:
        """Fine mode: replace this task's fast memories with the model's, reconciled."""
        assert self.chat_model is not None
        try:
            said = " ".join(_text_of(m.get("content")) for m in messages if m["role"] == "user")
            related = self.search_memory(
                {"user_id": owner["user_id"], "query": said[:2000] or "user", "relativity": 0}
            )
            # A change often shares no words with what it changes ("I moved to Nanjing" vs "lives
            # in Shanghai"), so the model also sees the user's latest memories.
            latest = self.store.query(
                "SELECT body FROM memories WHERE user_id = ? AND kind IN ('fact', 'preference') "
                "ORDER BY seq DESC LIMIT ?",
                (owner["user_id"], _RECONCILE_LATEST + len(rough)),
            )
            items = [
                *related["memory_detail_list"],
                *related["preference_detail_list"],
                *(json.loads(row["body"]) for row in latest),
            ]
            existing = {
                item["id"]: item.get("memory_value") or item.get("preference") or ""
                for item in items
                if item["id"] not in rough
            }
            extraction = extract(self.chat_model, messages, list(existing.items()))
            new = [{"memory_value": f.value} for f in extraction.facts] + [
                {"preference": p.preference} for p in extraction.preferences
            ]
            vectors = iter(self._embed(new))
            with self.store.transaction() as db:
                self.store.delete_memories(db, f"m.id IN ({','.join('?' * len(rough))})", rough)
                obsolete = [i for i in extraction.obsolete if i in existing]
                self.store.delete_memories(
                    db, f"m.id IN ({','.join('?' * len(obsolete))})", obsolete
                )
                now = self._now_ms()
                base = {"conversation_id": conversation_id, "status": "activated"}
                for fact in extraction.facts:
                    memory = {
                        **base,
                        "memory_key": fact.key,
                        "memory_value": fact.value,
                        "memory_type": fact.type,
                        "confidence": 0.9,
                        "tags": list(dict.fromkeys([*fact.tags, *tags, "mode:fine"])),
                    }
                    self._upsert(
                        db, "fact", memory, owner, fact.replaces, existing, now, next(vectors)
                    )
                for preference in extraction.preferences:
                    memory = {
                        **base,
                        "preference": preference.preference,
                        "preference_type": preference.preference_type,
                        "reasoning": preference.reasoning,
                    }
                    self._upsert(
                        db,
                        "preference",
                        memory,
                        owner,
                        preference.replaces,
                        existing,
                        now,
                        next(vectors),
                    )
                db.execute("UPDATE tasks SET status = 'completed' WHERE task_id = ?", (task_id,))
        except Exception:
            # The fast memories stay; the task says it failed.
            logger.warning("fine-mode refinement of task %s failed", task_id, exc_info=True)
            with self.store.transaction() as db:
                db.execute("UPDATE tasks SET status = 'failed' WHERE task_id = ?", (task_id,))

    def _upsert(
        self,
        db: sqlite3.Connection,
        kind: str,
        memory: dict[str, Any],
        owner: dict[str, Any],
        replaces: str | None,
        existing: Mapping[str, str],
        now: int,
        vector: list[float] | None,
    ) -> None:
        """Update the memory a new one replaces (keeping its id), or insert the new one."""
        if replaces in existing:
            rows = db.execute("SELECT seq, body FROM memories WHERE id = ?", (replaces,)).fetchall()
            if rows:
                updated = {**json.loads(rows[0]["body"]), **memory, "update_time": now}
                self._rewrite(db, rows[0]["seq"], updated, vector, owner, kind)
                return
        memory = {**memory, "id": _new_id(), "create_time": now, "update_time": now}
        self._insert(db, kind, memory, owner, vector)

    def _rewrite(
        self,
        db: sqlite3.Connection,
        seq: int,
        memory: dict[str, Any],
        vector: list[float] | None = None,
        owner: Mapping[str, Any] | None = None,
        kind: str = "fact",
    ) -> None:
        db.execute(
            "UPDATE memories SET body = ?, update_time = ? WHERE seq = ?",
            (json.dumps(memory, ensure_ascii=False), memory["update_time"], seq),
        )
        db.execute(
            "UPDATE memories_fts SET body = ? WHERE rowid = ?", (_columns(memory)["body"], seq)
        )
        if self._vectors is not None:
            db.execute("DELETE FROM vectors WHERE seq = ?", (seq,))
            self._vectors.forget()
            if vector is not None and owner is not None:
                self._vectors.add(db, seq, _owner_token(owner), kind, vector)

    def _embed(self, memories: list[dict[str, Any]]) -> list[list[float] | None]:
        if self.embeddings is None or not memories:
            return [None] * len(memories)
        return list(self.embeddings.embed_documents([_memory_text(m) for m in memories]))

    def _insert(
        self,
        db: sqlite3.Connection,
        kind: str,
        memory: dict[str, Any],
        owner: Mapping[str, Any],
        vector: list[float] | None,
        *,
        speaker: str = "",
        text: str = "",
        context: tuple[str, str] = ("", ""),
    ) -> None:
        seq = self.store.insert_memory(
            db,
            memory=memory,
            kind=kind,
            owner=owner,
            columns=_columns(memory, speaker=speaker),
            text=text,
            context=context,
        )
        if self._vectors is not None and vector is not None:
            self._vectors.add(db, seq, _owner_token(owner), kind, vector)

    def _last_turn(self, user_id: str, conversation_id: str) -> Turn | None:
        """The conversation's latest turn, which the next one may answer."""
        rows = self.store.query(
            "SELECT body FROM messages WHERE user_id = ? AND conversation_id = ? "
            "ORDER BY seq DESC LIMIT 1",
            (user_id, conversation_id),
        )
        return _turn(json.loads(rows[0]["body"])) if rows else None

    def _produce(
        self,
        message: dict[str, Any],
        conversation_id: str,
        stamp: int,
        calls: dict[str, dict[str, Any]],
        previous: Turn | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Fast-mode memories of one message: a fact per turn that says something (a short
        answer carries the turn it answers), stated preferences, tool use."""
        role = message["role"]
        base = {"conversation_id": conversation_id, "create_time": stamp, "update_time": stamp}
        base["status"] = "activated"
        produced: list[tuple[str, dict[str, Any]]] = []
        for call in message.get("tool_calls") or []:
            calls[call["id"]] = call["function"]
        text = _text_of(message.get("content"))
        if role == "tool":
            function = calls.get(str(message.get("tool_call_id")), {})
            name = function.get("name") or "tool"
            failed = any(w in text.lower() for w in ("error", "exception", "failed", "traceback"))
            produced.append(
                (
                    "tool",
                    {
                        **base,
                        "id": _new_id(),
                        "tool_type": "ToolTrajectoryMemory",
                        "tool_value": f"{name}({function.get('arguments', '')}) -> {text[:500]}",
                        "tool_used_status": [
                            {
                                "used_tool": name,
                                "error_type": "tool_error" if failed else "",
                                "success_rate": 0.0 if failed else 1.0,
                                "tool_experience": text[:200],
                            }
                        ],
                        "experience": f"{name} {'failed' if failed else 'succeeded'}: {text[:200]}",
                    },
                )
            )
            return produced
        turn = _turn(message)
        if turn is None:
            return produced
        replies = answers(turn, previous)
        if is_filler(text) and not replies:
            return produced  # thanks, greetings, reactions: nothing to remember
        marker = viewpoint(role, message.get("name"), text)
        value = f"{marker} {text.strip()}"
        sources: list[dict[str, Any]] = [{"role": role, "content": text, "chat_time": stamp}]
        relation = "answers" if replies else ""
        relation = relation or ("restates" if restates(turn, previous) else "")
        if previous is not None and relation:
            if relation == "answers":
                value = with_question(marker, text, previous)
            # Read by _rank: an answer outranks what it answers, an echo what it echoes.
            sources.append({"role": previous.role, "content": previous.text, "relation": relation})
        produced.append(
            (
                "fact",
                {
                    **base,
                    "id": _new_id(),
                    "memory_key": title(text),
                    "memory_value": value,
                    "memory_type": "WorkingMemory",
                    "confidence": 0.0,
                    "tags": [*keywords(text), "mode:fast"],
                    "sources": sources,
                },
            )
        )
        if role == "user":
            for preference in find_preferences(text):
                produced.append(
                    (
                        "preference",
                        {
                            **base,
                            "id": _new_id(),
                            "preference_type": "explicit_preference",
                            "preference": preference.text,
                            "reasoning": f"The user said: “{preference.sentence}”",
                        },
                    )
                )
        return produced

    def get_message(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = _user_id(body.get("user_id"))
        conversation_id = _user_id(body.get("conversation_id"), "conversation_id")
        limit = _limit(body, "message_limit_number", 6, MAX_MESSAGE_LIMIT)
        rows = self.store.query(
            "SELECT body FROM (SELECT seq, body FROM messages WHERE user_id = ? AND "
            "conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (user_id, conversation_id, limit),
        )
        return {"message_detail_list": [json.loads(row["body"]) for row in rows]}

    # ---- search --------------------------------------------------------------------------

    def search_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = _user_id(body.get("user_id"))
        query = check_text("query", body.get("query"))
        conversation_id = body.get("conversation_id")
        threshold = check_fraction("relativity", body.get("relativity"))
        threshold = DEFAULT_RELATIVITY if threshold is None else threshold
        raw_filter = body.get("filter")
        params: list[Any] = []
        where = filter_sql(None if raw_filter is None else validate_filter(raw_filter), params)
        owners = [scope_token("u", user_id)]
        for kb in self._knowledgebases(body.get("knowledgebase_ids")):
            owners.append(scope_token("k", kb))
        words = query_terms(query)
        scorer = _Scorer(words, *self.store.frequencies(owners, words))
        words, optional = scorer.split(words, threshold)
        if asks_when(query):
            optional.append(TIME_MARKER)
        plan = [("fact", "memory_detail_list", _limit(body, "memory_limit_number", 9, 25))]
        if check_bool("include_preference", body.get("include_preference")) is not False:
            limit = _limit(body, "preference_limit_number", 9, MAX_RECALL_LIMIT)
            plan.append(("preference", "preference_detail_list", limit))
        if check_bool("include_tool_memory", body.get("include_tool_memory")):
            limit = _limit(body, "tool_memory_limit_number", 6, MAX_RECALL_LIMIT)
            plan.append(("tool", "tool_memory_detail_list", limit))
        if body.get("include_skill"):
            _limit(body, "skill_limit_number", 6, MAX_RECALL_LIMIT)
        result: dict[str, Any] = {
            "memory_detail_list": [],
            "preference_detail_list": [],
            "tool_memory_detail_list": [],
            "skill_detail_list": [],
        }
        query_vector = self.embeddings.embed_query(query) if self.embeddings else None
        for kind, key, limit in plan:
            found = self.store.candidates(
                words=words,
                kind=kind,
                owners=owners,
                where=where,
                params=params,
                limit=max(50, limit * 5),
                optional=optional,
            )
            similar: dict[int, float] = {}
            if self._vectors is not None and query_vector is not None:
                near = self._vectors.nearest(self.store, owners, kind, query_vector, _VECTOR_DEPTH)
                similar = dict(near)
                seen = {candidate.seq for candidate in found}
                found += self.store.by_seq([q for q, _ in near if q not in seen], where, params)
            result[key] = _rank(found, scorer, conversation_id, threshold, limit, similar)
        language = "zh" if has_cjk(query) else "en"
        result["preference_note"] = (
            PREFERENCE_NOTE[language] if result["preference_detail_list"] else ""
        )
        return result

    def _knowledgebases(self, value: object) -> list[str]:
        ids = check_str_list("knowledgebase_ids", value) or []
        if ids == ["all"]:
            return [row["id"] for row in self.store.query("SELECT id FROM knowledgebases")]
        return ids

    # ---- listing, reading, deleting ------------------------------------------------------

    def get_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = _user_id(body.get("user_id"))
        page = check_int("page", body.get("page"), low=1) or 1
        size = _limit(body, "size", 10, MAX_PAGE_SIZE)
        raw_filter = body.get("filter")
        params: list[Any] = [user_id]
        where = filter_sql(None if raw_filter is None else validate_filter(raw_filter), params)
        kinds = [("fact", "memory_detail_list")]
        if check_bool("include_preference", body.get("include_preference")) is not False:
            kinds.append(("preference", "preference_detail_list"))
        if check_bool("include_tool_memory", body.get("include_tool_memory")) is not False:
            kinds.append(("tool", "tool_memory_detail_list"))
        result: dict[str, Any] = {}
        total = 0
        for kind, key in kinds:
            sql = f"FROM memories m WHERE m.user_id = ? AND m.kind = ? AND {where}"
            kind_params = [params[0], kind, *params[1:]]
            count = self.store.query(f"SELECT count(*) {sql}", kind_params)[0][0]
            rows = self.store.query(
                f"SELECT m.body, m.info {sql} ORDER BY m.seq DESC LIMIT ? OFFSET ?",
                [*kind_params, size, _offset(page, size)],
            )
            result[key] = [{**json.loads(r["body"]), "info": json.loads(r["info"])} for r in rows]
            total = max(total, count)
        return {
            **result,
            "total": total,
            "size": size,
            "current": page,
            "pages": max(1, math.ceil(total / size)),
        }

    def get_memory_by_id(self, memory_id: str) -> dict[str, Any]:
        from urllib.parse import unquote

        rows = self.store.query(
            "SELECT body, info FROM memories WHERE id = ?", (unquote(memory_id),)
        )
        if not rows:
            raise EngineError(40307, f"memory {unquote(memory_id)} not found")
        memory = json.loads(rows[0]["body"])
        return {
            **memory,
            "info": json.loads(rows[0]["info"]),
            "metadata": {"sources": memory.get("sources", [])},
        }

    def delete_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        """Delete by ids, or every memory of a user or an agent; ``memory_type`` narrows each.

        A user or agent without (such) memories is deleted idempotently; ids of which none exists
        are a 40307, as in the cloud.
        """
        mode = exactly_one(
            memory_ids=body.get("memory_ids"),
            user_id=body.get("user_id"),
            agent_id=body.get("agent_id"),
        )
        of_type, params = _memory_type_sql(body.get("memory_type"))
        with self.store.transaction() as db:
            if mode == "memory_ids":
                ids = check_str_list("memory_ids", body["memory_ids"], allow_empty=False) or []
                listed = json.dumps(ids)
                exists = db.execute(f"SELECT 1 FROM memories WHERE id IN {_ID_LIST}", [listed])
                if exists.fetchone() is None:
                    raise EngineError(40307, "none of these memories exists")
                where, params = f"m.id IN {_ID_LIST} AND {of_type}", [listed, *params]
            else:
                owner = _user_id(body[mode], mode)
                where, params = f"m.{mode} = ? AND {of_type}", [owner, *params]
            self.store.delete_memories(db, where, params)
        return {"success": True}

    def update_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        memory_id = check_text("memory_id", body.get("memory_id"))
        rows = self.store.query("SELECT seq, kind, body FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise EngineError(40307, f"memory {memory_id} not found")
        memory = json.loads(rows[0]["body"])
        field = "memory_value" if rows[0]["kind"] == "fact" else "preference"
        if body.get("content") is not None:
            memory[field] = check_text("content", body["content"])
        if body.get("title") is not None:
            memory["memory_key"] = check_text("title", body["title"])
        if body.get("status") is not None:
            memory["status"] = check_text("status", body["status"])
        memory["update_time"] = self._now_ms()
        (vector,) = self._embed([memory])
        owner_row = self.store.query(
            "SELECT user_id, knowledgebase_id FROM memories WHERE seq = ?", (rows[0]["seq"],)
        )[0]
        with self.store.transaction() as db:
            self._rewrite(db, rows[0]["seq"], memory, vector, dict(owner_row), rows[0]["kind"])
        return {"success": True}

    def add_feedback(self, body: dict[str, Any]) -> dict[str, Any]:
        """A correction. Fast mode keeps it as the user's newest statement, ranked above what it
        corrects; fine mode has the model update or retire the memories it corrects."""
        content = check_text("feedback_content", body.get("feedback_content"))
        message: dict[str, Any] = {"role": "user", "content": content}
        if body.get("feedback_time"):
            message["chat_time"] = body["feedback_time"]
        scope: dict[str, Any] = {
            k: body[k] for k in ("user_id", "agent_id", "app_id", "allow_public") if k in body
        }
        added = self.add_message(
            {
                **scope,
                "conversation_id": body.get("conversation_id") or "feedback",
                "messages": [message],
                "tags": [FEEDBACK_TAG],
                "async_mode": False,
            }
        )
        return {**added, "status": "completed"}

    def get_status(self, body: dict[str, Any]) -> dict[str, Any]:
        task_id = check_text("task_id", body.get("task_id"))
        rows = self.store.query("SELECT status FROM tasks WHERE task_id = ?", (task_id,))
        if not rows:
            raise EngineError(50131, f"task {task_id} not found")
        return {"task_id": task_id, "status": rows[0]["status"], "memory_views": None}

    def extract_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = check_messages(body.get("messages"))
        types = check_str_list("extraction_types", body.get("extraction_types")) or [
            "memory",
            "preference",
        ]
        facts: list[dict[str, Any]] = []
        preferences: list[dict[str, Any]] = []
        previous: Turn | None = None
        for message in messages:
            made = self._produce(message, "extract", self._now_ms(), {}, previous)
            previous = _turn(message) or previous
            for kind, memory in made:
                if kind == "fact" and "memory" in types:
                    facts.append(
                        {
                            k: memory[k]
                            for k in ("memory_key", "memory_value", "memory_type", "tags")
                        }
                    )
                if kind == "preference" and "preference" in types:
                    preferences.append(
                        {k: memory[k] for k in ("preference", "reasoning", "preference_type")}
                    )
        return {"success": True, "memory_detail_list": facts, "preference_detail_list": preferences}

    # ---- knowledge bases -----------------------------------------------------------------

    def create_knowledgebase(self, body: dict[str, Any]) -> dict[str, Any]:
        name = check_text("knowledgebase_name", body.get("knowledgebase_name"))
        description = check_optional_str(
            "knowledgebase_description", body.get("knowledgebase_description")
        )
        kb_id = _new_id()
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO knowledgebases (id, name, description, create_time) VALUES (?,?,?,?)",
                (kb_id, name, description, self._now_ms()),
            )
        return {"id": kb_id}

    def _require_knowledgebase(self, kb_id: object) -> str:
        kb = check_text("knowledgebase_id", kb_id)
        if not self.store.query("SELECT 1 FROM knowledgebases WHERE id = ?", (kb,)):
            raise EngineError(50120, f"knowledge base {kb} not found")
        return kb

    def delete_knowledgebase(self, body: dict[str, Any]) -> dict[str, Any]:
        kb = self._require_knowledgebase(body.get("knowledgebase_id"))
        with self.store.transaction() as db:
            self.store.delete_memories(db, "m.knowledgebase_id = ?", [kb])
            db.execute("DELETE FROM knowledgebase_files WHERE knowledgebase_id = ?", (kb,))
            db.execute("DELETE FROM knowledgebases WHERE id = ?", (kb,))
        return {"success": True}

    def add_knowledgebase_file(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        kb = self._require_knowledgebase(body.get("knowledgebase_id"))
        files = body.get("file")
        if not isinstance(files, list) or not files:
            raise EngineError(40003, "file must be a non-empty list")
        if len(files) > 20:
            raise EngineError(50103, "at most 20 files per request")
        decoded = []
        for item in files:
            if not isinstance(item, dict) or not isinstance(item.get("content"), str):
                raise EngineError(40000, "each file needs a string content")
            decoded.append(
                (item.get("name") or "file.txt", item.get("type"), _decode(item["content"]))
            )
        return [self._store_file(kb, name, kind, data) for name, kind, data in decoded]

    def _add_knowledgebase_form(
        self, body: bytes, params: Mapping[str, str], content_type: str
    ) -> list[dict[str, Any]]:
        kb = self._require_knowledgebase(params.get("knowledgebase_id"))
        form = email.message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
        )
        parts = [p for p in form.iter_parts() if p.get_filename()]
        if not parts:
            raise EngineError(40003, "no file in the form")
        if len(parts) > 20:
            raise EngineError(50103, "at most 20 files per request")
        files = []
        for part in parts:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            files.append(self._store_file(kb, str(part.get_filename()), params.get("type"), data))
        return files

    def _store_file(self, kb: str, name: str, kind: object, data: bytes) -> dict[str, Any]:
        kind = kind or "document"
        if kind not in ("document", "skill"):
            raise EngineError(40006, f"unsupported file type {kind!r}")
        if not name.lower().endswith(_TEXT_FILE_TYPES) or kind == "skill":
            raise EngineError(
                40007,
                f"the embedded engine reads text files ({', '.join(_TEXT_FILE_TYPES)}); "
                f"{name} needs the MemOS cloud",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EngineError(40007, f"{name} is not UTF-8 text") from None
        file_id = _new_id()
        now = self._now_ms()
        owner = {"knowledgebase_id": kb}
        memories = [
            {
                "id": _new_id(),
                "memory_key": f"{name}: {title(chunk)}",
                "memory_value": chunk,
                "memory_type": "LongTermMemory",
                "conversation_id": "default_session",
                "status": "activated",
                "confidence": 1.0,
                "tags": ["knowledgebase", name],
                "create_time": now,
                "update_time": now,
                "sources": [{"file_id": file_id, "name": name}],
            }
            for chunk in _chunks(text)
        ]
        vectors = self._embed(memories)
        with self.store.transaction() as db:
            for memory, vector in zip(memories, vectors, strict=True):
                self._insert(db, "fact", memory, owner, vector)
            db.execute(
                "INSERT INTO knowledgebase_files (id, knowledgebase_id, name, type, size, status, "
                "create_time) VALUES (?, ?, ?, ?, ?, 'completed', ?)",
                (file_id, kb, name, kind, len(data), now),
            )
        size_mb = round(len(data) / 1_048_576, 4)
        return {"id": file_id, "type": kind, "name": name, "sizeMB": size_mb, "status": "completed"}

    def get_knowledgebase_file(self, body: dict[str, Any]) -> dict[str, Any]:
        mode = exactly_one(
            file_ids=body.get("file_ids"), knowledgebase_id=body.get("knowledgebase_id")
        )
        columns = "id, type, name, size, status"
        if mode == "file_ids":
            ids = check_str_list("file_ids", body["file_ids"], allow_empty=False) or []
            rows = self.store.query(
                f"SELECT {columns} FROM knowledgebase_files WHERE id IN {_ID_LIST}",
                [json.dumps(ids)],
            )
            page, size, total = 1, len(rows), len(rows)
        else:
            kb = self._require_knowledgebase(body["knowledgebase_id"])
            page = check_int("page", body.get("page"), low=1) or 1
            size = _limit(body, "page_size", 20, MAX_PAGE_SIZE)
            where, params = "knowledgebase_id = ?", [kb]
            if body.get("type"):
                where, params = where + " AND type = ?", [kb, body["type"]]
            total = self.store.query(
                f"SELECT count(*) FROM knowledgebase_files WHERE {where}",
                params,
            )[0][0]
            rows = self.store.query(
                f"SELECT {columns} FROM knowledgebase_files WHERE {where} "
                "ORDER BY create_time LIMIT ? OFFSET ?",
                [*params, size, _offset(page, size)],
            )
        files = [{**dict(row), "size": str(row["size"])} for row in rows]
        return {"total": total, "page": page, "page_size": size, "file_detail_list": files}

    def delete_knowledgebase_file(self, body: dict[str, Any]) -> dict[str, Any]:
        ids = check_str_list("file_ids", body.get("file_ids"), allow_empty=False) or []
        with self.store.transaction() as db:
            for file_id in ids:
                self.store.delete_memories(
                    db,
                    "EXISTS (SELECT 1 FROM json_each(json_extract(m.body, '$.sources')) "
                    "WHERE json_extract(value, '$.file_id') = ?)",
                    [file_id],
                )
                db.execute("DELETE FROM knowledgebase_files WHERE id = ?", (file_id,))
        return {"success": True}


# ---- helpers -------------------------------------------------------------------------------


def _check_json(value: object) -> None:
    """Refuse what JSON can carry but a MemOS request cannot: deep nesting, and lone UTF-16
    surrogates (``"\\ud83d"``), which no UTF-8 text (nor SQLite) can hold."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise EngineError(
                    40000, "the request holds a lone UTF-16 surrogate (\\ud800-\\udfff)"
                )
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise EngineError(40000, f"the request nests deeper than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _envelope(code: int, data: Any, message: str) -> bytes:
    return json.dumps({"code": code, "data": data, "message": message}, ensure_ascii=False).encode()


def _columns(memory: Mapping[str, Any], speaker: str = "") -> dict[str, str]:
    """What a memory contributes to the full-text index, column by column."""
    own = [
        str(memory.get(key) or "")
        for key in ("memory_value", "preference", "tool_value", "experience")
    ]
    moment = parse_timestamp(memory.get("create_time"))
    return {
        # Tags are not indexed: they are filterable metadata and, in fast mode, the text's own
        # words, which must not outlive an edit of the text.
        "body": index_text(*own),
        "spk": index_text(speaker),
        "date": date_words(moment) if moment else "",
        "tmp": TIME_MARKER if speaks_of_time(" ".join(own)) else "",
    }


def _idf(total: int, frequency: int) -> float:
    # Smoothed, so that a word in most of a small store still counts for something.
    return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))


class _Scorer:
    """How well a candidate answers a query, from the query words it contains.

    Its relativity (for the threshold) is the share of the query a memory answers: the idf mass of
    the query words in its own text, plus half of those only its neighbouring turns hold, as a
    share of the idf mass of every query word the user's memories contain at all. 1 means the
    memory holds every query word any memory holds; a memory that holds none itself and matches
    only through its neighbours scores 0, and one holding only the least informative of several
    query words stays under the 0.45 default. Query words no memory contains (a new topic) do
    not count against the ones that match: they cannot tell memories apart. Ranking is bm25 over
    the weighted columns.
    """

    def __init__(self, words: list[str], total: int, counts: Mapping[str, int]) -> None:
        self.idf = {word: _idf(total, counts[word]) for word in words if counts.get(word)}
        self.stems = {_stem(word): word for word in self.idf}
        self.known = sum(self.idf.values())

    def split(self, words: list[str], threshold: float) -> tuple[list[str], list[str]]:
        """The words a memory must hold one of, and the optional rest.

        The least informative words whose idf mass together stays under the threshold cannot
        lift a memory over it on their own, so the index need not score memories holding only
        those (at 100k memories this halves search time). With no threshold every word counts.
        Words no memory holds are dropped: they match nothing.
        """
        known = [word for word in words if word in self.idf]
        if threshold <= 0 or not self.known:
            return known, []
        optional: list[str] = []
        mass = 0.0
        for word in sorted(known, key=self.idf.__getitem__):
            if mass + self.idf[word] >= threshold * self.known:
                break
            mass += self.idf[word]
            optional.append(word)
        return [word for word in known if word not in optional], optional

    def _present(self, text: str) -> set[str]:
        return {self.stems[stem] for term in text.split() if (stem := _stem(term)) in self.stems}

    def coverage(self, candidate: Candidate) -> float:
        """Query words in the memory itself count fully; in its neighbouring turns, half."""
        own = self._present(candidate.own)
        if not own:
            return 0.0
        near = self._present(candidate.context) - own
        mass = sum(self.idf[w] for w in own) + _NEAR * sum(self.idf[w] for w in near)
        return round(min(mass / self.known, 1.0), 4) if self.known else 0.0


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light stem, enough to pair a memory's words with the query words FTS5 matched."""
    for suffix in ("ing", "ies", "ied", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _rank(
    found: list[Candidate],
    scorer: _Scorer,
    conversation_id: object,
    threshold: float,
    limit: int,
    similar: Mapping[int, float] | None = None,
) -> list[dict[str, Any]]:
    """Order candidates: by bm25, or with vectors by reciprocal-rank fusion of bm25's order and
    the similarity order. Relativity is the query coverage, or the cosine when higher."""
    similar = similar or {}
    lexical = {c.seq: rank for rank, c in enumerate(c for c in found if c.bm25 > 0)}
    by_vector = {seq: rank for rank, seq in enumerate(similar)}
    scored: dict[int, list[Any]] = {}
    for candidate in found:
        relativity = max(scorer.coverage(candidate), round(similar.get(candidate.seq, 0.0), 4))
        if similar:
            score = sum(
                1 / (_RRF_K + ranks[candidate.seq])
                for ranks in (lexical, by_vector)
                if candidate.seq in ranks
            )
        else:
            score = candidate.bm25
        if conversation_id is not None and candidate.conversation_id == conversation_id:
            score *= 1.2  # the cloud's soft boost for the current conversation
        if FEEDBACK_TAG in candidate.body.get("tags", ()):
            score *= 2.0  # a correction outranks what it corrects
        scored[candidate.seq] = [score, candidate.create_time, candidate.seq, candidate, relativity]
    carried = _relate(scored)
    # Among equal scores the newest wins.
    ranked = sorted(scored.values(), key=lambda item: item[:3], reverse=True)
    items: list[dict[str, Any]] = []
    shown: set[int] = set()
    for *_, candidate, relativity in ranked:
        if len(items) == limit:
            break
        if relativity < threshold or carried.get(candidate.seq) in shown:
            continue  # unrelated, or its whole text is in an answer already shown
        shown.add(candidate.seq)
        item = {k: v for k, v in candidate.body.items() if k != "sources"}
        items.append({**item, "relativity": relativity})
    return items


def _relate(scored: dict[int, list[Any]]) -> dict[int, int]:
    """Order related turns found together: a short answer (whose text carries the turn it
    answers) above that turn, and the user's statement above the assistant's echo of it.

    Returns which found memory's text carries which other found memory whole.
    """
    by_turn: dict[tuple[Any, str], list[Any]] = {}
    for entry in scored.values():
        sources = entry[3].body.get("sources") or [{}]
        by_turn.setdefault((entry[3].conversation_id, str(sources[0].get("content"))), entry)
    carried: dict[int, int] = {}
    for entry in scored.values():
        candidate = entry[3]
        sources = candidate.body.get("sources") or []
        if len(sources) < 2 or not isinstance(sources[1], dict):
            continue
        other = by_turn.get((candidate.conversation_id, str(sources[1].get("content"))))
        if other is None or other is entry:
            continue
        if sources[1].get("relation") == "answers":
            entry[0] = max(entry[0], other[0] * 1.01)
            entry[4] = max(entry[4], other[4])
            if str(sources[1].get("content")) in _memory_text(candidate.body):
                carried[other[2]] = candidate.seq
        elif sources[1].get("relation") == "restates":
            entry[0] = min(entry[0], other[0] * 0.99)
            entry[4] = min(entry[4], other[4])
    return carried


def _turn(message: Mapping[str, Any]) -> Turn | None:
    """A user's or assistant's message with text, as a turn of the conversation."""
    text = _text_of(message.get("content"))
    if message.get("role") not in ("user", "assistant") or not text.strip():
        return None
    return Turn(message["role"], message.get("name") or message["role"], text)


def _memory_text(memory: Mapping[str, Any]) -> str:
    return str(
        memory.get("memory_value") or memory.get("preference") or memory.get("tool_value") or ""
    )


def _memory_type_sql(value: object) -> tuple[str, list[Any]]:
    """SQL selecting the memories of one MemOS ``memory_type`` (``TRUE`` for none)."""
    if value is None:
        return "1", []
    if not isinstance(value, str) or value not in MEMORY_TYPES:
        raise MemOSInputError(
            f"memory_type must be one of {', '.join(MEMORY_TYPES)}; got {value!r}"
        )
    kind, name = MEMORY_TYPES[value]
    if name is None:
        return "m.kind = ?", [kind]
    field = "tool_type" if kind == "tool" else "memory_type"
    return f"m.kind = ? AND json_extract(m.body, '$.{field}') = ?", [kind, name]


def _owner_token(owner: Mapping[str, Any]) -> str:
    if owner.get("knowledgebase_id") is not None:
        return scope_token("k", owner["knowledgebase_id"])
    return scope_token("u", owner["user_id"])


def _decode(content: str) -> bytes:
    if content.startswith(("http://", "https://")):
        raise EngineError(40007, "the embedded engine cannot fetch URLs; send the file as base64")
    if content.startswith("data:"):
        content = content.split(",", 1)[-1]
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise EngineError(40008, "file content is not valid base64") from None


def _chunks(text: str) -> list[str]:
    """Paragraphs, packed into chunks of about 600 characters."""
    chunks: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > _CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        chunks.append(current)
    return chunks or [text.strip() or "(empty file)"]
