"""Long-term memory for a ``create_agent`` agent, with ``MemOSMiddleware``.

Turn 1 tells the agent about the family; turn 2, in a new thread, asks for a recommendation and
the model sees what MemOS recalled in its system message.

With ``MEMOS_API_KEY`` set, memories go to the MemOS cloud; without it, to the embedded engine
in memory. With ``EXAMPLE_MODEL`` set (e.g. ``openai:gpt-4o-mini``, with its provider package
installed), that model answers; without it, an OFFLINE FAKE MODEL answers with canned text, so
the script runs anywhere.

    python examples/create_agent.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from langchain.agents import create_agent
from langchain.chat_models import init_chat_model
from langchain_core.language_models import BaseChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from langchain_memos import MemOSClient
from langchain_memos.middleware import MemOSMiddleware

USER_ID = "memos_user_123"


def canned_answers() -> Iterator[AIMessage]:
    yield AIMessage("[offline fake model] Got it: you travel with your kids and parents.")
    while True:
        yield AIMessage("[offline fake model] A family-friendly resort with easy day trips.")


def chat_model() -> BaseChatModel:
    name = os.environ.get("EXAMPLE_MODEL")
    if name:
        return init_chat_model(name)
    print("No EXAMPLE_MODEL set: using an OFFLINE FAKE MODEL (canned answers).")
    return GenericFakeChatModel(messages=canned_answers())


def main() -> None:
    if os.environ.get("MEMOS_API_KEY"):
        client = MemOSClient()
    else:
        print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
        client = MemOSClient(embedded=":memory:")
    memory = MemOSMiddleware(client)
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
