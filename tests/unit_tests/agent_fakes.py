"""Fakes the middleware and graph tests share: a tool-calling chat model and a counting engine."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import PrivateAttr

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine


class _RecordingModel(BaseChatModel):
    """A chat model that records every list of messages it was called with, system message
    included, and takes any tools (it decides its own answers)."""

    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

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

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._calls.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=self._answer())])

    def _answer(self) -> AIMessage:
        raise NotImplementedError


class ScriptedToolModel(_RecordingModel):
    """Per user turn: ``tool_calls`` calls of ``lookup``, then a final answer."""

    tool_calls: int = 3
    _step: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-model"

    def _answer(self) -> AIMessage:
        step = self._step
        self._step = (step + 1) % (self.tool_calls + 1)
        if step < self.tool_calls:
            return AIMessage(
                content="",
                tool_calls=[{"name": "lookup", "args": {"item": f"x{step}"}, "id": f"call_{step}"}],
            )
        return AIMessage(content="Here is your answer.")


class ReplayModel(_RecordingModel):
    """Answers with the messages of ``script`` in turn, from the start again after the last."""

    script: list[AIMessage]

    @property
    def _llm_type(self) -> str:
        return "replay-model"

    def _answer(self) -> AIMessage:
        return self.script[(len(self._calls) - 1) % len(self.script)].model_copy()


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
