"""``MemorySettings``: the options of memory in an agent loop, written and checked once."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from langchain_core.messages import BaseMessage

from langchain_memos._endpoints import search_memory as search_memory_request
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._outbox_names import checked_path
from langchain_memos._validation import (
    check_flag,
    check_instance,
    check_optional_id,
    check_options,
    check_seconds,
)
from langchain_memos._validation.keywords import check_keywords, checks_keywords
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.outbox import DEFAULT_MAX_PENDING, Outbox, check_max_pending_for
from langchain_memos.prompts import (
    DEFAULT_PROMPT_MODE,
    MemoryPromptBuilder,
    PromptMode,
    check_prompt_mode,
)
from langchain_memos.scope import message_filter

__all__ = [
    "DEFAULT_CONVERSATION_ID",
    "DEFAULT_SEARCH_TIMEOUT",
    "MemorySettings",
    "settings_for",
]

DEFAULT_SEARCH_TIMEOUT = 2.0
"""Seconds a turn's memory search may take before the turn goes on without memories."""
DEFAULT_CONVERSATION_ID = "langchain-agent"
"""Where turns are filed when neither the settings, the config nor the context names a thread."""
_SET_ELSEWHERE = ("query", "user_id", "conversation_id", "timeout")


@checks_keywords
@dataclass(frozen=True, kw_only=True)
class MemorySettings:
    """How an agent uses MemOS memory: one object for the middleware, the graph nodes and tools.

    :class:`~langchain_memos.middleware.MemOSMiddleware`,
    :class:`~langchain_memos.graph.MemOSGraphMemory` (its recall and save nodes and
    :func:`~langchain_memos.graph.create_memos_pre_model_hook`) and
    :func:`~langchain_memos.tools.create_memory_tools` all take ``settings=``; each uses the
    fields that apply to it (the tools: the clients, ``user_id``, ``conversation_id``,
    ``builder`` and ``search_options``). Every field is checked here, when the object is made,
    so a wrong option fails before any agent runs. Make a variant with
    :func:`dataclasses.replace`, which checks again.

    Attributes:
        client: Sync client: sync runs and the background writer. With neither client, the
            middleware, the nodes and the tools build one from the environment.
        async_client: Async client for ``ainvoke``/``astream``; without it, async runs use
            ``client`` in a thread.
        user_id: A fixed user for every run. Without it, each run names its user (see
            :func:`~langchain_memos.scope.resolve_scope`); the tools need it.
        conversation_id: A fixed conversation for every run. Without it, each run's thread;
            writes of a run without one are filed under :data:`DEFAULT_CONVERSATION_ID`, and
            the tools' under ``"memory-tool"``.
        builder: Renders the recalled memories (default: the documented memory block).
        search_options: Extra ``search_memory`` arguments (``memory_limit_number``,
            ``filter``, ...); not ``query``, ``user_id``, ``conversation_id`` nor ``timeout``,
            which are the fields above. The memory views to recall are
            ``include_memory_view`` (e.g. ``["detail_factual", "preference", "profile",
            "event"]``; ``memory_limit_number`` is then their shared budget): the prompt shows
            each view recalled in its own section, and the search tool names them.
        timeout: Seconds a turn's memory search may take (default 2); a later answer is not
            used. The search is one attempt, without the client's retries.
        fail_open: On a memory failure or timeout, log a warning and answer without memories
            (default); with ``False``, raise instead.
        write_back: Write each turn's new messages to MemOS (default ``True``); ``False``
            writes nothing; or a function of a message that says which to write, e.g.
            ``lambda m: m.type == "human"`` to store only what the user said (keep a tool call
            and its result together). Writing needs the sync ``client``.
        prompt_mode: What the model gets (see :meth:`~langchain_memos.prompts.MemoryPrompt.text`):
            ``"protocol"`` (default) the current time and its zone, the memories and the docs'
            four-step memory-safety protocol with its instructions, without the docs' role and
            query (the agent has its own role, the conversation has the query); ``"memories"``
            only the ``<memories>`` block and its time zone; ``"full"`` the docs' complete
            system prompt, role and query included. In the query's language (``builder``
            decides).
        outbox: An :class:`~langchain_memos.outbox.Outbox` or a database path where writes
            wait until MemOS accepted them; default: ``$MEMOS_OUTBOX_PATH`` or a file in the
            user cache, in memory for the embedded engine.
        max_pending: At most this many writes wait (default 1,000); a further turn waits for
            room instead of being dropped, as long as MemOS takes none (a warning says so).
            For the outbox made here from ``outbox``'s path; an ``Outbox`` passed in has its
            own (``Outbox(path, max_pending=...)``), and another value here is refused.

    Raises:
        MemOSInputError: a field of the wrong type or out of range (the message names it).

    Example:
        >>> settings = MemorySettings(client=MemOSClient(), timeout=1.0, prompt_mode="memories")
        >>> with_views = dataclasses.replace(
        ...     settings, search_options={"include_memory_view": ["profile", "event"]}
        ... )
        >>> middleware = MemOSMiddleware(settings=settings)
        >>> tools = create_memory_tools(
        ...     settings=dataclasses.replace(settings, user_id="memos_user_123")
        ... )
    """

    client: MemOSClient | None = None
    async_client: AsyncMemOSClient | None = None
    user_id: str | None = None
    conversation_id: str | None = None
    builder: MemoryPromptBuilder | None = None
    search_options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = DEFAULT_SEARCH_TIMEOUT
    fail_open: bool = True
    write_back: bool | Callable[[BaseMessage], bool] = True
    prompt_mode: PromptMode = DEFAULT_PROMPT_MODE
    outbox: Outbox | str | os.PathLike[str] | None = None
    max_pending: int = DEFAULT_MAX_PENDING

    def __post_init__(self) -> None:
        check_instance("client", self.client, MemOSClient)
        check_instance("async_client", self.async_client, AsyncMemOSClient)
        check_optional_id("user_id", self.user_id)
        check_optional_id("conversation_id", self.conversation_id)
        check_instance("builder", self.builder, MemoryPromptBuilder)
        options = check_options("search_options", self.search_options)
        if set(_SET_ELSEWHERE) & set(options):
            raise MemOSInputError(
                "search_options cannot set query or user_id, nor conversation_id or timeout: "
                "those are MemorySettings fields (the search's bound is timeout)"
            )
        _check_search_options(options)
        check_flag("fail_open", self.fail_open)
        message_filter(self.write_back)
        if self.outbox is not None and not isinstance(self.outbox, Outbox):
            checked_path("outbox", self.outbox)
        count = self.max_pending
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise MemOSInputError(f"max_pending must be a positive integer; got {count!r}")
        check_max_pending_for(self.outbox, count)
        # Normalised in place: a read-only copy of the options, a float, the default mode.
        object.__setattr__(self, "search_options", MappingProxyType(options))
        object.__setattr__(self, "timeout", check_seconds("timeout", self.timeout, high=86_400))
        object.__setattr__(self, "prompt_mode", check_prompt_mode(self.prompt_mode))


def _check_search_options(options: Mapping[str, Any]) -> None:
    """The options are ``search_memory``'s, with values it takes: checked now, not mid-turn,
    where fail-open recall would turn a mistake into a warning on every turn."""
    # agent_id too: the recall is the user's (an agent's own memories are searched by the client).
    known = set(inspect.signature(search_memory_request).parameters) - {*_SET_ELSEWHERE, "agent_id"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise MemOSInputError(
            f"search_options: search_memory has no option {unknown[0]!r}; it takes "
            f"{', '.join(sorted(known))}"
        )
    search_memory_request("query", user_id="user", **options)  # checks the values


_FIELDS = frozenset(f.name for f in fields(MemorySettings))
_OPTIONS = _FIELDS | {"settings", "full_instruction"}


def settings_for(
    owner: str,
    client: MemOSClient | None,
    settings: MemorySettings | None,
    options: Mapping[str, Any],
) -> MemorySettings:
    """The settings of ``owner``: ``settings`` with ``client`` and keyword ``options`` over them.

    The keywords are the fields of :class:`MemorySettings` (how options were passed before it
    existed), plus ``full_instruction=True``, the older spelling of ``prompt_mode="full"``.

    Raises:
        MemOSInputError: a keyword that is not an option, or an option that is not valid.
    """
    check_instance("settings", settings, MemorySettings)
    check_keywords(f"{owner}()", options, _OPTIONS)
    overrides = dict(options)
    full_instruction = overrides.pop("full_instruction", False)
    check_flag("full_instruction", full_instruction)
    if full_instruction:
        mode = overrides.get("prompt_mode")
        overrides["prompt_mode"] = check_prompt_mode(mode, full_instruction=True)
    if client is not None:
        overrides["client"] = client
    if settings is None:
        return MemorySettings(**overrides)
    return replace(settings, **overrides) if overrides else settings
