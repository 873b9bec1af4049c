"""Listing, reading, updating and deleting memories, and the status of the tasks that made them."""

from __future__ import annotations

import json
import math
from typing import Any

from langchain_memos import _codes as codes
from langchain_memos._exceptions import MemOSInputError
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._fields import MEMORY_TYPES
from langchain_memos.embedded._profiles import Profiles
from langchain_memos.embedded._request_base import page_offset
from langchain_memos.embedded._requests import (
    DeleteMemory,
    GetMemory,
    GetStatus,
    UpdateMemory,
)
from langchain_memos.embedded._store import ID_LIST, MEMORY_ID_LIST, NEIGHBOURS
from langchain_memos.embedded._tasks import fail_orphaned, runner_gone
from langchain_memos.embedded._turns import without_beside
from langchain_memos.embedded._writer import Writer


class Records:
    """The memories as records: what ``get/memory``, ``delete/memory``, ``update/memory`` and
    ``get/status`` do."""

    def __init__(self, writer: Writer, profiles: Profiles) -> None:
        self._writer = writer
        self._store = writer.store
        self._profiles = profiles

    def get_memory(self, request: GetMemory) -> dict[str, Any]:
        page, size, where = request.page, request.size, request.filter.where
        result: dict[str, Any] = {}
        total = 0
        owned, owner_params = request.subject.sql()
        for kind, key in request.kinds:
            if kind == "profile":
                result[key] = self._profiles.fields(request.subject)
                continue
            sql = f"FROM memories m WHERE {owned} AND m.kind = ? AND {where}"
            kind_params = [*owner_params, kind, *request.filter.params]
            count = self._store.query(f"SELECT count(*) {sql}", kind_params)[0][0]
            rows = self._store.query(
                f"SELECT {bodies.columns('m')}, m.info {sql} ORDER BY m.seq DESC LIMIT ? OFFSET ?",
                [*kind_params, size, page_offset(page, size)],
            )
            result[key] = [{**bodies.read(r), "info": json.loads(r["info"])} for r in rows]
            total = max(total, count)
        return {
            **result,
            "total": total,
            "size": size,
            "current": page,
            "pages": max(1, math.ceil(total / size)),
        }

    def get_memory_by_id(self, memory_id: str) -> dict[str, Any]:
        rows = self._store.query(
            f"SELECT {bodies.columns()}, info FROM memories WHERE id = ?",
            (bodies.stored_id(memory_id),),
        )
        if not rows:
            raise EngineError(codes.MEMORY_NOT_FOUND, f"memory {memory_id} not found")
        memory = bodies.read(rows[0])
        return {
            **memory,
            "info": json.loads(rows[0]["info"]),
            "metadata": {"sources": memory.get("sources", [])},
        }

    def delete_memory(self, request: DeleteMemory) -> dict[str, Any]:
        """Delete by ids, every memory of a user or an agent, or every memory a ``filter``
        selects (in all users, agents and knowledge bases); ``memory_type`` narrows each.

        A user or agent without (such) memories is deleted idempotently; ids of which none exists
        are a 40307, as in the cloud.
        """
        of_type, params = _memory_type_sql(request.memory_type)
        with self._store.transaction() as db:
            if request.memory_ids is not None:
                listed = json.dumps(request.memory_ids)
                exists = db.execute(
                    f"SELECT 1 FROM memories WHERE id IN {MEMORY_ID_LIST}", [listed]
                )
                if exists.fetchone() is None:
                    raise EngineError(codes.MEMORY_NOT_FOUND, "none of these memories exists")
                where, params = f"m.id IN {MEMORY_ID_LIST} AND {of_type}", [listed, *params]
            elif request.filter is not None:
                where = f"{request.filter.where} AND {of_type}"
                params = [*request.filter.params, *params]
            else:
                mode = "user_id" if request.user_id is not None else "agent_id"
                owner = request.user_id or request.agent_id
                where, params = f"m.{mode} = ? AND {of_type}", [owner, *params]
            self._store.delete_memories(db, where, params)
        return {"success": True}

    def update_memory(self, request: UpdateMemory) -> dict[str, Any]:
        memory_id = bodies.stored_id(request.memory_id)
        read = f"SELECT seq, {bodies.columns()} FROM memories WHERE id = ?"
        rows = self._store.query(read, (memory_id,))
        if not rows:
            raise EngineError(codes.MEMORY_NOT_FOUND, f"memory {request.memory_id} not found")
        memory = self._edited(rows[0], request)
        (vector,) = self._writer.embed([memory])  # before the lock: a model may be slow
        with self._store.transaction() as db:
            # Read again in the write: another process may have deleted it since (and its row
            # number gone to another owner's memory), or changed it (then this edit is made
            # again on what it is now, not written over that change).
            now = db.execute(
                f"SELECT seq, {bodies.columns()}, user_id, agent_id, knowledgebase_id "
                "FROM memories WHERE seq = ? AND id = ?",
                (rows[0]["seq"], memory_id),
            ).fetchall()
            if not now:
                raise EngineError(codes.MEMORY_NOT_FOUND, f"memory {request.memory_id} not found")
            if tuple(now[0])[: len(rows[0])] != tuple(rows[0]):
                memory = self._edited(now[0], request)
                (vector,) = self._writer.embed([memory])
            owner = {key: now[0][key] for key in ("user_id", "agent_id", "knowledgebase_id")}
            # With new content it holds the caller's words, not a turn said in its conversation:
            # it neither carries the turns around it in a search nor rides along with them.
            leaves = request.content is not None
            kind = now[0]["kind"]
            self._writer.rewrite(db, now[0]["seq"], memory, vector, owner, kind, leaves=leaves)
        return {"success": True}

    def _edited(self, row: Any, request: UpdateMemory) -> dict[str, Any]:
        """The memory ``row`` holds, with the request's edits made."""
        memory = bodies.read(row)
        kind = row["kind"]
        if kind not in _CONTENT and (request.content is not None or request.title is not None):
            raise MemOSInputError(
                f"update/memory changes the content and title of facts, preferences, tool "
                f"memories and events; a {kind} changes by uploading its file again"
            )
        if request.content is not None:
            content = request.content
            if kind == "fact":
                # A search may show a memory with the turns said around it riding along; an
                # edit copied from it keeps the memory's own text (they stay memories of their own).
                content = without_beside(content, self._neighbours(row["seq"]))
            memory[_CONTENT[kind]] = content
        if request.title is not None:
            memory["event_key" if kind == "event" else "memory_key"] = request.title
        if request.status is not None:
            memory["status"] = request.status
        memory["update_time"] = self._writer.now_ms()
        return memory

    def _neighbours(self, seq: int) -> list[str]:
        """The texts of the memories that can ride along with this one in a search (none for a
        memory that is no turn of its conversation)."""
        seqs = [
            near
            for row in self._store.query(NEIGHBOURS, [json.dumps([seq])])
            for near in (row["before"], row["after"])
            if near
        ]
        found = self._store.query(
            f"SELECT {bodies.columns()} FROM memories WHERE seq IN {ID_LIST}", [json.dumps(seqs)]
        )
        return [bodies.memory_text(bodies.read(row)) for row in found]

    def get_status(self, request: GetStatus) -> dict[str, Any]:
        task_id = request.task_id
        rows = self._store.query("SELECT status FROM tasks WHERE task_id = ?", (task_id,))
        if not rows:
            raise EngineError(codes.TASK_NOT_FOUND, f"task {task_id} not found")
        status = rows[0]["status"]
        with self._store.snapshot() as db:
            gone = status == "running" and runner_gone(db, task_id)
        if gone:  # the write lock only then: a running task's status is polled
            with self._store.transaction() as db:
                status = fail_orphaned(db, task_id)
        return {"task_id": task_id, "status": status, "memory_views": None}


# The field that holds each kind of memory's content.
_CONTENT = {
    "fact": "memory_value",
    "preference": "preference",
    "tool": "tool_value",
    "event": "event_value",
}


def _memory_type_sql(value: str | None) -> tuple[str, list[Any]]:
    """SQL selecting the memories of one MemOS ``memory_type`` (``TRUE`` for none)."""
    if value is None:
        return "1", []
    kind, name = MEMORY_TYPES[value]
    if name is None:
        return "m.kind = ?", [kind]
    field = "tool_type" if kind == "tool" else "memory_type"
    return f"m.kind = ? AND {bodies.of_type(kind, field, name)}", [kind, name]
