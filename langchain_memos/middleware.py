"""``MemOSMiddleware``: MemOS memory for ``langchain.agents.create_agent``.

Needs the ``langchain`` extra: ``pip install 'langchain-memos[langchain]'``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, cast

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langgraph.runtime import Runtime
from typing_extensions import NotRequired

try:
    from langchain.agents.middleware.types import (
        AgentMiddleware,
        AgentState,
        ExtendedModelResponse,
        ModelRequest,
        ModelResponse,
        PrivateStateAttr,
    )
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "langchain_memos.middleware needs the langchain package: "
        "pip install 'langchain-memos[langchain]'"
    ) from error

from langchain_memos._agent_memory import MemoryIntegration
from langchain_memos.client import MemOSClient
from langchain_memos.scope import Scope, turn_start
from langchain_memos.settings import MemorySettings

__all__ = ["MemOSMiddleware", "MemOSState"]

_MEMORY = "memos_memory"
_TURN_START = "memos_turn_start"
_USER = "memos_user_id"
_CONVERSATION = "memos_conversation_id"


class MemOSState(AgentState[Any]):
    """The agent state plus this middleware's private keys (never in the agent's output)."""

    memos_memory: NotRequired[Annotated[str, PrivateStateAttr]]
    memos_turn_start: NotRequired[Annotated[int, PrivateStateAttr]]
    memos_user_id: NotRequired[Annotated[str, PrivateStateAttr]]
    memos_conversation_id: NotRequired[Annotated[str | None, PrivateStateAttr]]


def _config() -> Mapping[str, Any] | None:
    from langgraph.config import get_config

    try:
        return get_config()
    except RuntimeError:  # called outside a graph run
        return None


def _with_memory(request: ModelRequest[Any], memory: str) -> ModelRequest[Any]:
    """The request with ``memory`` appended to its system message (made if there is none)."""
    if request.system_message is None:
        content: list[str | dict[str, Any]] = [{"type": "text", "text": memory}]
    else:
        content = [
            *cast("list[dict[str, Any]]", request.system_message.content_blocks),
            {"type": "text", "text": f"\n\n{memory}"},
        ]
    return request.override(system_message=SystemMessage(content=content))


class MemOSMiddleware(MemoryIntegration, AgentMiddleware[MemOSState, Any, Any]):
    """Long-term memory from MemOS for an agent made with ``create_agent``.

    Per user turn: one memory search for the latest human message (``before_agent``), the
    memory block appended to the system message of every model call (``wrap_model_call``; the
    block never enters the conversation state), and the turn's new messages written back in
    the background (``after_agent``). Every hook has a sync and an async form.

    The options are a :class:`~langchain_memos.settings.MemorySettings`, which documents them
    all; the middleware uses every one. The user and the conversation of a run come from the
    settings, else the run's config, else its runtime context
    (:func:`~langchain_memos.scope.resolve_scope`); a run without a user raises
    ``MemOSInputError``.

    A search that fails or takes longer than ``timeout`` gives an answer without memories and a
    logged warning (``fail_open=False`` raises instead). Writes are committed to a durable
    outbox before they are sent, delivered in order per conversation and retried while MemOS is
    unavailable, at least once (see :mod:`langchain_memos.outbox`); :meth:`close` and
    interpreter exit wait for them, at most :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`.
    MemOS processes writes asynchronously: a fact said in one turn may not be recalled in the
    very next one.

    Args:
        client: The sync client, as ``settings.client`` (``MemOSMiddleware(client)`` for short).
        settings: The options; default ``MemorySettings()``.
        **options: Fields of :class:`~langchain_memos.settings.MemorySettings` by keyword, over
            ``settings`` (``MemOSMiddleware(client, timeout=1.0)``, the spelling from before
            the settings object); and ``full_instruction=True``, the older spelling of
            ``prompt_mode="full"``.

    Raises:
        MemOSInputError: an option that is not valid, or ``write_back`` without a sync client.
        TypeError: a keyword that is not an option.

    Example:
        >>> from langchain.agents import create_agent
        >>> memory = MemOSMiddleware(settings=MemorySettings(client=MemOSClient()))
        >>> agent = create_agent(model, tools, middleware=[memory])
        >>> agent.invoke(
        ...     {"messages": [("user", "Where should I travel?")]},
        ...     {"configurable": {"user_id": "memos_user_123", "thread_id": "t1"}},
        ... )
        >>> memory.close()
    """

    state_schema = MemOSState

    def __init__(
        self,
        client: MemOSClient | None = None,
        *,
        settings: MemorySettings | None = None,
        **options: Any,
    ) -> None:
        super().__init__()
        self._use("MemOSMiddleware", client, settings, options)
        self.tools = []

    # ---- before_agent: one search per user turn ------------------------------------------

    def _scope(self, runtime: Runtime[Any]) -> Scope:
        return self.memory.scope(_config(), getattr(runtime, "context", None))

    def _turn(self, state: MemOSState, scope: Scope, text: str) -> dict[str, Any]:
        return {
            _MEMORY: text,
            _TURN_START: turn_start(state["messages"]),
            _USER: scope.user_id,
            _CONVERSATION: scope.conversation_id,
        }

    def before_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Search once for the turn's latest human message; keep the block in private state."""
        scope = self._scope(runtime)
        prompt = self.memory.search(state["messages"], scope)
        return self._turn(state, scope, self._render(prompt))

    async def abefore_agent(
        self, state: MemOSState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async :meth:`before_agent`."""
        scope = self._scope(runtime)
        prompt = await self.memory.asearch(state["messages"], scope)
        return self._turn(state, scope, self._render(prompt))

    # ---- wrap_model_call: inject on every model call -------------------------------------

    def _request(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        state = request.state if isinstance(request.state, Mapping) else {}
        memory = state.get(_MEMORY)
        return _with_memory(request, memory) if isinstance(memory, str) and memory else request

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]:
        """Call the model with the turn's memory block appended to the system message."""
        return handler(self._request(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]:
        """Async :meth:`wrap_model_call`."""
        return await handler(self._request(request))

    # ---- after_agent: write back the turn's new messages ---------------------------------

    def _written(self, state: MemOSState) -> tuple[list[BaseMessage], Scope] | None:
        """This turn's messages to write (``write_back`` may filter them) and its scope."""
        user = state.get("memos_user_id")
        if user is None:
            return None  # before_agent did not run (e.g. the run was resumed after an interrupt)
        start = state.get("memos_turn_start", 0)
        scope = Scope(user_id=user, conversation_id=state.get("memos_conversation_id"))
        return self._to_write(state["messages"][start:]), scope

    def after_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Queue the messages this turn added for the background writer."""
        turn = self._written(state)
        if turn is not None:
            self.memory.save(*turn)
        return None

    async def aafter_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async :meth:`after_agent` (queueing never blocks the event loop)."""
        turn = self._written(state)
        if turn is not None:
            await self.memory.asave(*turn)
        return None
