"""The test doubles the suite and the benchmarks share: one of each kind, none of them copied.

- :class:`FakeMemOS`: MemOS behind an ``httpx.MockTransport``, answering with scripted replies
  and recording every request; :class:`StatefulMemOS` is the same fake answering as a small
  MemOS that keeps messages and memories (its default reply).
- :class:`CountingEngine`: the real embedded engine, recording every request and able to make
  one route slow, broken or held at a gate.
- :class:`ScriptedChatModel`: a chat model that answers from a script (or runs a tool loop) and
  records every list of messages it is sent.

The loopback HTTP servers are other things (real sockets): ``integration_tests/fault_server.py``
injects faults in front of the engine, ``integration_tests/doc_server.py`` answers with the
documented bodies for cassette recording. ``bench/`` imports this module (the repository root is
on ``sys.path`` there), so it needs nothing from pytest.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from pydantic import Field, PrivateAttr

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.embedded import EmbeddedEngine

API_PREFIX = "/api/openmem/v1"
Client = MemOSClient | AsyncMemOSClient
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


# ---- MemOS behind a mock transport -------------------------------------------------------------


def envelope(data: object = None, code: int = 0, message: str = "ok", status: int = 200) -> Any:
    return httpx.Response(status, json={"code": code, "data": data, "message": message})


@dataclass
class FakeMemOS:
    """A scripted MemOS: answers with ``replies`` in order (the last one repeats) and records
    every request it was sent. A reply is a response, an exception to raise, or a function of
    the request."""

    replies: list[Reply] = field(default_factory=lambda: [envelope({"success": True})])
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # A fresh copy: httpx consumes a response's stream, and replies are reused.
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    @property
    def paths(self) -> list[str]:
        return [r.url.path.removeprefix(API_PREFIX) for r in self.requests]

    def calls(self, path: str) -> list[Any]:
        """The JSON bodies of the requests sent to ``path`` (``"/add/message"``), in order."""
        return [body for seen, body in zip(self.paths, self.bodies, strict=True) if seen == path]


@dataclass
class StatefulMemOS(FakeMemOS):
    """A :class:`FakeMemOS` that answers as a small MemOS: it stores messages and derives one
    memory per user turn; ``get/status`` answers ``task_status``."""

    messages: dict[tuple[str, str], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    memories: list[dict[str, Any]] = field(default_factory=list)
    task_status: str = "completed"

    def __post_init__(self) -> None:
        self.replies = [self.answer]

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(API_PREFIX)
        body = json.loads(request.content) if request.content else {}
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
        if "detail_factual" not in body.get("include_memory_view", ["detail_factual"]):
            mine = []  # this fake holds facts alone
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


def build(kind: str, fake: FakeMemOS, **options: Any) -> Client:
    """A ``sync`` or ``async`` client whose every request goes to ``fake``."""
    transport = httpx.MockTransport(fake.handler)
    options.setdefault("api_key", "test-key")
    if kind == "sync":
        return MemOSClient(http_client=httpx.Client(transport=transport), **options)
    return AsyncMemOSClient(http_client=httpx.AsyncClient(transport=transport), **options)


def call(client: Client, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``method`` on either client and return its result, awaiting it when needed."""
    result = getattr(client, method)(*args, **kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_awaited(result))
    if inspect.isasyncgen(result):
        return asyncio.run(_collected(result))
    if isinstance(result, Iterator):
        return list(result)
    return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


async def _collected(generator: Any) -> list[Any]:
    return [item async for item in generator]


# ---- the real engine, recording ----------------------------------------------------------------


class CountingEngine(EmbeddedEngine):
    """An embedded engine that records the path of every request, and can be made slow or
    broken for one route."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []
        self.bodies: list[bytes] = []
        self.delay: Mapping[str, float] = {}
        self.broken: set[str] = set()
        self.gated: set[str] = set()
        self.gate = threading.Event()
        self._paths_lock = threading.Lock()

    def handle(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        route = path.split("/openmem/v1", 1)[-1]
        with self._paths_lock:
            self.paths.append(route)
            self.bodies.append(body)
        time.sleep(self.delay.get(route, 0.0))
        if route in self.gated:
            self.gate.wait(timeout=30)
        if route in self.broken:
            return 500, b'{"code": 50000, "data": null, "message": "broken on purpose"}'
        return super().handle(method, path, body, params=params, content_type=content_type)

    def count(self, route: str) -> int:
        return self.paths.count(route)


def remembering_engine() -> CountingEngine:
    """A counting engine where alice already said who she travels with; counts start at zero."""
    engine = CountingEngine()
    MemOSClient(embedded=engine).add_message(
        [{"role": "user", "content": "I always travel with my kids and my parents."}],
        user_id="alice",
        conversation_id="earlier",
    )
    engine.paths.clear()
    engine.bodies.clear()
    return engine


# ---- a scripted chat model ---------------------------------------------------------------------


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script and records every list of messages it is sent
    (system message included). It takes any tools: it decides its own answers.

    - ``script``: it answers with these in turn, from the start again after the last; an
      exception in the script is raised instead. Structured output
      (``with_structured_output``, as the embedded engine's fine mode asks) answers with the
      script's objects as they are.
    - ``reply``: it answers with ``reply(messages)``.
    - neither: a tool loop, per user turn ``tool_calls`` calls of a ``lookup`` tool, then
      ``answer``; decided from the messages alone (the AI messages since the latest human one),
      so every agent framework gets the same loop.

    Each call first waits ``latency`` seconds (``asyncio.sleep`` on the async path).
    """

    script: list[Any] = Field(default_factory=list)
    reply: Callable[[list[BaseMessage]], AIMessage] | None = None
    tool_calls: int = 3
    answer: str = "Here is your answer."
    latency: float = 0.0
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._calls

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Runnable[Any, Any]:
        return RunnableLambda(self._scripted)

    def _scripted(self, messages: list[BaseMessage]) -> Any:
        self._calls.append(list(messages))
        step = self.script[(len(self._calls) - 1) % len(self.script)]
        if isinstance(step, Exception):
            raise step
        return step

    def _next(self, messages: list[BaseMessage]) -> ChatResult:
        if self.script and self.reply is None:
            message = self._scripted(messages).model_copy()
        else:
            self._calls.append(list(messages))
            message = self.reply(messages) if self.reply else self._loop_step(messages)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _loop_step(self, messages: list[BaseMessage]) -> AIMessage:
        last_human = max(
            (i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1
        )
        done = sum(isinstance(m, AIMessage) for m in messages[last_human + 1 :])
        if done < self.tool_calls:
            call = {"name": "lookup", "args": {"item": f"x{done}"}, "id": f"call_{done}"}
            return AIMessage(content="", tool_calls=[call])
        return AIMessage(content=self.answer)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            time.sleep(self.latency)
        return self._next(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._next(messages)
