"""Long-term memory for a ``create_agent`` agent, with ``MemOSMiddleware``.

Turn 1 tells the agent about the family; turn 2, in a new thread, asks for a recommendation and
the model sees what MemOS recalled in its system message.

With ``MEMOS_API_KEY`` set, memories go to the MemOS cloud; without it, to the embedded engine
in memory. The answer comes from ``EXAMPLE_MODEL`` (e.g. ``openai:gpt-4o-mini``, with its provider
package installed) or ``OPENAI_API_KEY`` when set, else from a labelled offline stand-in that
reports what it was given (see ``_chat_model.py``), so the script runs anywhere.

    python examples/create_agent.py
"""

from __future__ import annotations

import os

from _chat_model import chat_model, remembered
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from langchain_memos import MemOSClient
from langchain_memos.middleware import MemOSMiddleware

USER_ID = "memos_user_123"


def main() -> None:
    if os.environ.get("MEMOS_API_KEY"):
        client = MemOSClient()
    else:
        print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
        client = MemOSClient(embedded=":memory:")
    # write_back=remembered: every message of a turn, except the offline stand-in's answers.
    memory = MemOSMiddleware(client, write_back=remembered)
    agent = create_agent(chat_model(), tools=[], middleware=[memory])

    turns = [
        ("trip-planning", "We always travel as a family: my two kids and my parents."),
        ("national-day", "Where should we go for the National Day holiday with the kids?"),
    ]
    for thread, text in turns:
        result = agent.invoke(
            {"messages": [HumanMessage(text)]},
            {"configurable": {"user_id": USER_ID, "thread_id": thread}},
        )
        print(f"\nuser: {text}\nagent: {result['messages'][-1].text}")
        memory.flush(timeout=30)  # the demo waits, so that turn 2 can recall turn 1

    found = client.search_memory("travel with kids", user_id=USER_ID)
    print("\nMemOS recalled:")
    for item in found.memory_detail_list:
        print(f"  - {item.memory_value}")
    memory.close()


if __name__ == "__main__":
    main()
