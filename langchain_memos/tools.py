"""Memory tools for agents that manage memory themselves.

The application pins whose memory the tools use; the model only chooses what to search for or
what to remember, so it cannot read or write another user's memories.

Example:
    >>> tools = create_memory_tools(client=client, user_id="memos_user_123")
    >>> agent = create_agent(model, tools=tools)
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables.config import run_in_executor
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from langchain_memos._exceptions import MemOSError, MemOSInputError
from langchain_memos._validation import check_id, check_instance, check_options
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.prompts import MemoryPromptBuilder
from langchain_memos.types import MessageInput, SearchMemoryResult

__all__ = ["create_memory_tools"]

NOTHING_FOUND = "No relevant memories."


class _SearchArgs(BaseModel):
    query: str = Field(description="What to recall, in the user's words or a short description")


class _AddArgs(BaseModel):
    content: str = Field(
        description="One self-contained fact or preference about the user to remember"
    )


def create_memory_tools(
    *,
    user_id: str,
    conversation_id: str = "memory-tool",
    client: MemOSClient | None = None,
    async_client: AsyncMemOSClient | None = None,
    builder: MemoryPromptBuilder | None = None,
    search_options: dict[str, Any] | None = None,
) -> list[BaseTool]:
    """``search_memory`` and ``add_memory`` tools, bound to one user.

    Args:
        user_id: Whose memories the tools read and write; the model cannot change it.
        conversation_id: Where ``add_memory`` files what it stores.
        client: For sync tool calls. With neither client, one is built from the environment.
        async_client: For async tool calls; without it they run the sync client in a thread.
        builder: Renders what ``search_memory`` returns to the model (default: the memory block
            with a 1,500-token budget).
        search_options: Extra ``search_memory`` arguments (``memory_limit_number``, ``filter``...).

    What the model wrote is stored as an assistant turn, so the memory carries the assistant's
    viewpoint marker and the prompt's safety protocol weighs it as an inference, not as the
    user's own words. MemOS errors come back to the model as the tool's answer.
    """
    check_id("user_id", user_id)
    check_id("conversation_id", conversation_id)
    check_instance("client", client, MemOSClient)
    check_instance("async_client", async_client, AsyncMemOSClient)
    check_instance("builder", builder, MemoryPromptBuilder)
    options = check_options("search_options", search_options)
    if client is None and async_client is None:
        client = MemOSClient()
    if {"query", "user_id"} & set(options):
        raise MemOSInputError("search_options cannot set query or user_id")
    render = builder or MemoryPromptBuilder()

    def answer(result: SearchMemoryResult, query: str) -> str:
        return render.build(result, query).instruction or NOTHING_FOUND

    def note(content: str) -> list[MessageInput]:
        if not content.strip():
            raise ToolException("Nothing to remember: content is empty.")
        return [{"role": "assistant", "content": content}]

    def search(query: str) -> str:
        try:
            result = _sync(client, async_client).search_memory(query, user_id=user_id, **options)
        except MemOSError as error:
            raise ToolException(f"Memory search failed: {error}") from error
        return answer(result, query)

    async def asearch(query: str) -> str:
        if async_client is None:
            return await run_in_executor(None, search, query)
        try:
            result = await async_client.search_memory(query, user_id=user_id, **options)
        except MemOSError as error:
            raise ToolException(f"Memory search failed: {error}") from error
        return answer(result, query)

    def add(content: str) -> str:
        try:
            _sync(client, async_client).add_message(
                note(content), user_id=user_id, conversation_id=conversation_id
            )
        except MemOSError as error:
            raise ToolException(f"Could not store the memory: {error}") from error
        return "Remembered."

    async def aadd(content: str) -> str:
        if async_client is None:
            return await run_in_executor(None, add, content)
        try:
            await async_client.add_message(
                note(content), user_id=user_id, conversation_id=conversation_id
            )
        except MemOSError as error:
            raise ToolException(f"Could not store the memory: {error}") from error
        return "Remembered."

    return [
        StructuredTool.from_function(
            func=search,
            coroutine=asearch,
            name="search_memory",
            description="Recall what you know about the user (facts, preferences) relevant to "
            "a query. Use it before answering questions that depend on the user.",
            args_schema=_SearchArgs,
            handle_tool_error=True,
        ),
        StructuredTool.from_function(
            func=add,
            coroutine=aadd,
            name="add_memory",
            description="Remember one fact or preference about the user for later conversations.",
            args_schema=_AddArgs,
            handle_tool_error=True,
        ),
    ]


def _sync(client: MemOSClient | None, async_client: AsyncMemOSClient | None) -> MemOSClient:
    if client is None:
        raise ToolException("These memory tools were built with an async client only.")
    return client
