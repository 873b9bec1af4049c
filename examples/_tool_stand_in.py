"""An offline stand-in for a tool-calling model, for the store examples: labelled, not an LLM.

With ``EXAMPLE_MODEL`` or ``OPENAI_API_KEY`` set, the examples use that model (see
``_chat_model.py``). Without one, :class:`ToolStandIn` plays the agent: for each user message it
makes the one tool call its ``plan`` says, then answers with the tool's result, labelled
``[offline model, not an LLM]`` as the other examples' stand-in is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from _chat_model import OFFLINE_LABEL, chat_model
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

Plan = Callable[[str], tuple[str, dict[str, Any]]]


class ToolStandIn(BaseChatModel):
    """Calls ``plan(user text)`` -> (tool name, arguments) once per user message, then answers
    with what the tool returned."""

    plan: Plan

    @property
    def _llm_type(self) -> str:
        return "offline-tool-stand-in"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, HumanMessage):
            name, args = self.plan(last.text)
            call = {"name": name, "args": args, "id": f"call_{len(messages)}"}
            answer = AIMessage("", tool_calls=[call])
        else:
            result = last.text if isinstance(last, ToolMessage) else ""
            answer = AIMessage(f"{OFFLINE_LABEL} The tool said: {result}")
        return ChatResult(generations=[ChatGeneration(message=answer)])


def agent_model(plan: Plan) -> BaseChatModel:
    """The configured chat model, else the stand-in that follows ``plan``."""
    if os.environ.get("EXAMPLE_MODEL") or os.environ.get("OPENAI_API_KEY"):
        return chat_model()
    print(f"No EXAMPLE_MODEL or OPENAI_API_KEY: the {OFFLINE_LABEL} stand-in calls the tools.")
    return ToolStandIn(plan=plan)
