"""A small stateful MemOS for unit tests: stores messages, derives a memory per user turn."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class StatefulMemOS:
    messages: dict[tuple[str, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    memories: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    task_status: str = "completed"

    def calls(self, path: str) -> list[dict[str, Any]]:
        return [body for seen, body in self.requests if seen == path]

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/openmem/v1")
        body = json.loads(request.content) if request.content else {}
        self.requests.append((path, body))
        data = getattr(self, "_" + path.strip("/").replace("/", "_"))(body)
        return httpx.Response(200, json={"code": 0, "data": data, "message": "ok"})

    def _add_message(self, body: dict[str, Any]) -> dict[str, Any]:
        user, conversation = body["user_id"], body["conversation_id"]
        self.messages[(user, conversation)].extend(body["messages"])
        for message in body["messages"]:
            if message["role"] == "user" and isinstance(message.get("content"), str):
                self.memories.append(
                    {
                        "id": f"m{len(self.memories) + 1}",
                        "user_id": user,
                        "conversation_id": conversation,
                        "memory_value": message["content"],
                        "create_time": 1762674694466,
                    }
                )
        status = "completed" if body.get("async_mode") is False else "running"
        return {"success": True, "task_id": f"t{len(self.requests)}", "status": status}

    def _get_status(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"task_id": body["task_id"], "status": self.task_status}

    def _get_message(self, body: dict[str, Any]) -> dict[str, Any]:
        stored = self.messages[(body["user_id"], body["conversation_id"])]
        limit = body.get("message_limit_number", 6)
        return {"message_detail_list": stored[-limit:]}

    def _user_memories(self, user: str) -> list[dict[str, Any]]:
        return [memory for memory in self.memories if memory["user_id"] == user]

    def _get_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        mine = self._user_memories(body["user_id"])
        size, page = body.get("size", 10), body.get("page", 1)
        return {
            "memory_detail_list": mine[(page - 1) * size : page * size],
            "total": len(mine),
            "size": size,
            "current": page,
            "pages": max(1, -(-len(mine) // size)),
        }

    def _delete_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        if "user_id" in body:
            self.memories = [m for m in self.memories if m["user_id"] != body["user_id"]]
        else:
            self.memories = [m for m in self.memories if m["id"] not in body["memory_ids"]]
        return {"success": True}

    def _search_memory(self, body: dict[str, Any]) -> dict[str, Any]:
        words = set(body["query"].lower().split())
        found = [
            m
            for m in self._user_memories(body["user_id"])
            if words & set(m["memory_value"].lower().split())
        ]
        return {
            "memory_detail_list": found[: body.get("memory_limit_number", 9)],
            "preference_detail_list": [],
            "preference_note": "",
        }
