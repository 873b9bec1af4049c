"""Deep Agents' ``/memories/`` in MemOS: files that outlive the thread, searchable by meaning.

A ``CompositeBackend`` routes ``/memories/`` to a ``StoreBackend`` over ``MemOSStore``; the rest of
the agent's files stay in the thread's state. Thread 1 writes ``/memories/preferences.md``;
thread 2, a new conversation, reads it back. Each file is one MemOS memory of the user
(``namespace=("filesystem", <user>)``, element 1 the MemOS user), so MemOS search finds it too.
``index_fields=()`` keeps every edit an update of the same memory (the store then filters on no
value field, which Deep Agents never asks for).

Without ``MEMOS_API_KEY`` the files live in the embedded engine, in memory; the agent is
``EXAMPLE_MODEL`` / ``OPENAI_API_KEY`` when set, else a labelled offline stand-in that calls the
file tools (``_tool_stand_in.py``).

    python examples/deep_agent_memories.py   # needs: pip install 'langchain-memos[deepagents]'
"""

from __future__ import annotations

import os
from typing import Any

from _tool_stand_in import agent_model
from deepagents import create_deep_agent
from deepagents.backends import CompositeBackend, StateBackend, StoreBackend
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig

from langchain_memos import MemOSClient, MemOSStore

USER_ID = "memos_user_123"
FILE = "/memories/preferences.md"
INSTRUCTIONS = f"Keep what you learn about the user in {FILE}; read it before answering."


def plan(text: str) -> tuple[str, dict[str, Any]]:
    """What the offline stand-in does: a question reads the file, anything else is written."""
    if text.rstrip().endswith("?"):
        return "read_file", {"file_path": FILE}
    return "write_file", {"file_path": FILE, "content": f"# About the user\n- {text}\n"}


def main() -> None:
    if os.environ.get("MEMOS_API_KEY"):
        client = MemOSClient()
    else:
        print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
        client = MemOSClient(embedded=":memory:")
    store = MemOSStore(client, user=1, index_fields=())
    memories = StoreBackend(store=store, namespace=lambda _runtime: ("filesystem", USER_ID))
    backend = CompositeBackend(default=StateBackend(), routes={"/memories/": memories})
    agent = create_deep_agent(model=agent_model(plan), backend=backend, system_prompt=INSTRUCTIONS)

    turns = [
        ("thread-1", "I drink oolong tea and travel with my two kids."),
        ("thread-2", "What do you know about my family?"),
    ]
    for thread, text in turns:
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        result = agent.invoke({"messages": [HumanMessage(text)]}, config)
        print(f"\n[{thread}] user: {text}\nagent: {result['messages'][-1].text}")

    item = store.get(("filesystem", USER_ID), FILE.removeprefix("/memories"))
    print(f"\nIn MemOS, {FILE}:\n{item.value['content'] if item else '(not written)'}")
    found = store.search(("filesystem", USER_ID), query="tea")
    print("MemOSStore search for 'tea':", [hit.key for hit in found])
    client.close()


if __name__ == "__main__":
    main()
