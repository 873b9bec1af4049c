"""langmem's memory tools over MemOS: ``MemOSStore`` as the agent's long-term store.

langmem's ``manage_memory`` and ``search_memory`` tools keep memories in a LangGraph store under
``("memories", "{langgraph_user_id}")``. ``MemOSStore(user=1)`` makes element 1 of that namespace
the MemOS user, so each user's memories are that user's MemOS memories: ranked by MemOS's search,
and recalled by ``MemOSMiddleware`` or ``MemOSRetriever`` too.

Turn 1 tells the agent a preference (it stores it); turn 2, in a new thread, asks about it (it
searches). Without ``MEMOS_API_KEY`` the memories live in the embedded engine, in memory; the agent
is ``EXAMPLE_MODEL`` / ``OPENAI_API_KEY`` when set, else a labelled offline stand-in that calls
the tools (``_tool_stand_in.py``).

    python examples/langmem_memory.py   # needs: pip install 'langchain-memos[langmem]'
"""

from __future__ import annotations

import os
from typing import Any

from _tool_stand_in import agent_model
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langmem import create_manage_memory_tool, create_search_memory_tool

from langchain_memos import MemOSClient, MemOSStore

USER_ID = "memos_user_123"
NAMESPACE = ("memories", "{langgraph_user_id}")


def plan(text: str) -> tuple[str, dict[str, Any]]:
    """What the offline stand-in does: a question searches, anything else is stored."""
    if text.rstrip().endswith("?"):
        return "search_memory", {"query": text}
    return "manage_memory", {"content": text, "action": "create"}


def main() -> None:
    if os.environ.get("MEMOS_API_KEY"):
        client = MemOSClient()
    else:
        print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
        client = MemOSClient(embedded=":memory:")
    store = MemOSStore(client, user=1)  # ("memories", <user>): element 1 is the MemOS user
    tools = [
        create_manage_memory_tool(namespace=NAMESPACE, store=store),
        create_search_memory_tool(namespace=NAMESPACE, store=store),
    ]
    agent = create_agent(agent_model(plan), tools=tools)

    turns = [
        ("booking", "Please remember: I always book aisle seats on long-haul flights."),
        ("next-trip", "Which seats do I like on long flights?"),
    ]
    for thread, text in turns:
        config: RunnableConfig = {
            "configurable": {"langgraph_user_id": USER_ID, "thread_id": thread}
        }
        result = agent.invoke({"messages": [HumanMessage(text)]}, config)
        print(f"\nuser: {text}\nagent: {result['messages'][-1].text}")

    print(f"\nThe store holds, under ('memories', {USER_ID!r}):")
    for item in store.search(("memories", USER_ID)):
        print(f"  {item.key}: {item.value}")
    found = client.search_memory("aisle seats", user_id=USER_ID)
    print("MemOS recalls for 'aisle seats':")
    for memory in found.memory_detail_list:
        print(f"  - {memory.memory_value}")
    client.close()


if __name__ == "__main__":
    main()
