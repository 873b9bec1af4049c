"""Memory tools for agents that manage memory themselves.

The application pins whose memory the tools use; the model only chooses what to search for or
what to remember, so it cannot read or write another user's memories.

Example:
    >>> tools = create_memory_tools(MemorySettings(client=client, user_id="memos_user_123"))
    >>> agent = create_agent(model, tools=tools)
"""

from __future__ import annotations

from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from langchain_memos._exceptions import MemOSError, MemOSInputError
from langchain_memos._flows import Flow, arun, call, run
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.prompts import MemoryPromptBuilder
from langchain_memos.scope import ADD_MEMORY_TOOL, SEARCH_MEMORY_TOOL
from langchain_memos.settings import MemorySettings, settings_for
from langchain_memos.types import MessageInput

__all__ = ["create_memory_tools"]

NOTHING_FOUND = "No relevant memories."


class _SearchArgs(BaseModel):
    query: str = Field(description="What to recall, in the user's words or a short description")


class _AddArgs(BaseModel):
    content: str = Field(
        description="One self-contained fact or preference about the user to remember"
    )


# How the search tool's description names what each memory view holds.
_VIEW_WORDS = {
    "detail_factual": "facts",
    "preference": "preferences",
    "profile": "profile",
    "event": "events",
    "skill": "skills",
    "tool_memory": "tool experience",
}


def _recalled(search_options: dict[str, Any]) -> str:
    """What the search tool recalls, for its description: the views named, else the defaults."""
    views = search_options.get("include_memory_view") or ["detail_factual", "preference"]
    return ", ".join(_VIEW_WORDS[view] for view in views)


TOOL_CONVERSATION_ID = "memory-tool"
"""Where ``add_memory`` files what it stores when the settings name no conversation."""


def create_memory_tools(settings: MemorySettings | None = None, **options: Any) -> list[BaseTool]:
    """``search_memory`` and ``add_memory`` tools, bound to one user.

    Args:
        settings: A :class:`~langchain_memos.settings.MemorySettings`; the tools use its
            ``client`` (sync tool calls; with neither client, one is built from the
            environment), ``async_client`` (async tool calls; without it they run the sync
            client in a thread), ``user_id`` (whose memories the tools read and write, which
            the model cannot change; required), ``conversation_id`` (where ``add_memory`` files
            what it stores; default ``"memory-tool"``), ``builder`` (renders what
            ``search_memory`` returns to the model; default: the memory block with a
            1,500-token budget) and ``search_options`` (``include_memory_view`` names the
            views ``search_memory`` recalls, and its description names them to the model).
        **options: Fields of :class:`~langchain_memos.settings.MemorySettings` by keyword, over
            ``settings`` (``create_memory_tools(client=client, user_id="u1")``).

    What the model wrote is stored as an assistant turn, so the memory carries the assistant's
    viewpoint marker and the prompt's safety protocol weighs it as an inference, not as the
    user's own words. MemOS errors come back to the model as the tool's answer.

    Next to :class:`~langchain_memos.middleware.MemOSMiddleware` (or the graph's save node),
    the calls of these two tools and their results are not written back
    (:func:`~langchain_memos.scope.messages_to_store`): recalled memories are not stored again
    as new ones. The tool names are :data:`~langchain_memos.scope.MEMORY_TOOL_NAMES`.

    Raises:
        MemOSInputError: no ``user_id``, or an option that is not valid.
        TypeError: a keyword that is not an option.
    """
    settings = settings_for("create_memory_tools", None, settings, options)
    user_id = settings.user_id
    if user_id is None:
        raise MemOSInputError(
            "create_memory_tools needs a user_id (the application pins whose memories the "
            "tools use): pass user_id=... or MemorySettings(user_id=...)"
        )
    conversation_id = settings.conversation_id or TOOL_CONVERSATION_ID
    client, async_client = settings.client, settings.async_client
    if client is None and async_client is None:
        client = MemOSClient()
    search_options = dict(settings.search_options)
    render = settings.builder or MemoryPromptBuilder()

    def sync_client() -> MemOSClient:
        if client is None:
            raise ToolException("These memory tools were built with an async client only.")
        return client

    def async_driver() -> AsyncMemOSClient | MemOSClient:
        """The async client, else the sync one (the tool call then runs in a thread)."""
        return async_client if async_client is not None else sync_client()

    def search_flow(query: str) -> Flow[str]:
        try:
            result = yield call(MemOSClient.search_memory, query, user_id=user_id, **search_options)
        except MemOSError as error:
            raise ToolException(f"Memory search failed: {error}") from error
        return render.build(result, query).instruction or NOTHING_FOUND

    def add_flow(content: str) -> Flow[str]:
        if not content.strip():
            raise ToolException("Nothing to remember: content is empty.")
        note: list[MessageInput] = [{"role": "assistant", "content": content}]
        try:
            yield call(
                MemOSClient.add_message, note, user_id=user_id, conversation_id=conversation_id
            )
        except MemOSError as error:
            raise ToolException(f"Could not store the memory: {error}") from error
        return "Remembered."

    def search(query: str) -> str:
        return run(search_flow(query), sync_client())

    async def asearch(query: str) -> str:
        return await arun(search_flow(query), async_driver())

    def add(content: str) -> str:
        return run(add_flow(content), sync_client())

    async def aadd(content: str) -> str:
        return await arun(add_flow(content), async_driver())

    return [
        StructuredTool.from_function(
            func=search,
            coroutine=asearch,
            name=SEARCH_MEMORY_TOOL,
            description=f"Recall what you know about the user ({_recalled(search_options)}) "
            "relevant to a query. Use it before answering questions that depend on the user.",
            args_schema=_SearchArgs,
            handle_tool_error=True,
        ),
        StructuredTool.from_function(
            func=add,
            coroutine=aadd,
            name=ADD_MEMORY_TOOL,
            description="Remember one fact or preference about the user for later conversations.",
            args_schema=_AddArgs,
            handle_tool_error=True,
        ),
    ]
