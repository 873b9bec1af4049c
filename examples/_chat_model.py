"""The chat model the examples answer with: a real one when configured, else a labelled stand-in;
and a callback that keeps the system prompts a model received.

* ``EXAMPLE_MODEL=provider:model`` (e.g. ``openai:gpt-4o-mini``, ``anthropic:claude-sonnet-4-5``)
  uses that model through ``langchain.chat_models.init_chat_model``; its provider package
  (``langchain-openai``, ...) must be installed.
* Otherwise ``OPENAI_API_KEY`` uses ``openai:gpt-4o-mini`` (``OPENAI_BASE_URL`` points it at any
  OpenAI-compatible server; ``OPENAI_MODEL`` picks another model).
* With neither, :class:`OfflineModel` answers. It is not a language model: it says so in every
  answer, and reports what it was given, so the examples run anywhere and still show what a
  real model would receive. Its answers say nothing about the user, so the examples do not
  store them in MemOS (:func:`remembered`); the next turn would otherwise recall
  "[assistant viewpoint] [offline model, not an LLM] I was given 0 remembered fact(s)".
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

OFFLINE_LABEL = "[offline model, not an LLM]"
_SECTION = re.compile(r"<(facts|preferences|profile|events)>(.*?)</\1>", re.DOTALL)


class OfflineModel(BaseChatModel):
    """Answers with what it received: how many remembered facts and preferences its prompt holds
    (and profile fields and events, when it holds some)."""

    @property
    def _llm_type(self) -> str:
        return "offline-example-model"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self  # it never calls tools

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        prompt = "\n".join(m.text for m in messages if isinstance(m, SystemMessage))
        lines: dict[str, list[str]] = {
            kind: [] for kind in ("facts", "preferences", "profile", "events")
        }
        for kind, body in _SECTION.findall(prompt):
            lines[kind] += [line.strip() for line in body.splitlines() if line.strip()]
        answer = (
            f"{OFFLINE_LABEL} I was given {len(lines['facts'])} remembered fact(s) and "
            f"{len(lines['preferences'])} preference(s)"
        )
        if lines["profile"] or lines["events"]:
            answer += (
                f", plus {len(lines['profile'])} profile field(s) and "
                f"{len(lines['events'])} event(s)"
            )
        answer += "."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(answer))])


class SystemPromptCapture(BaseCallbackHandler):
    """Keeps the system messages of every chat model call: what the model really received."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        for call in messages:
            self.prompts += [m.text for m in call if isinstance(m, SystemMessage)]


def remembered(message: BaseMessage) -> bool:
    """Whether the examples store ``message`` in MemOS: all but the offline stand-in's answers,
    which carry its label. Pass it as ``write_back=`` (a real model's answers are all kept)."""
    return not (isinstance(message, AIMessage) and message.text.startswith(OFFLINE_LABEL))


def chat_model() -> BaseChatModel:
    """The configured chat model, else :class:`OfflineModel` (and a line saying so)."""
    name = os.environ.get("EXAMPLE_MODEL")
    if not name and os.environ.get("OPENAI_API_KEY"):
        name = "openai:" + os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    if not name:
        print(
            f"No EXAMPLE_MODEL or OPENAI_API_KEY: answering with the {OFFLINE_LABEL}. "
            "Its answers only report what it was given, so they are not stored in MemOS."
        )
        return OfflineModel()
    from langchain.chat_models import init_chat_model

    print(f"Answering with {name}.")
    return init_chat_model(name)
