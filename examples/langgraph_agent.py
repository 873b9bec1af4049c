"""Long-term memory in a hand-built LangGraph agent, with ``MemOSGraphMemory`` nodes.

The graph is ``recall -> model <-> tools -> save``: the recall node searches MemOS once per user
turn and keeps one memory ``SystemMessage`` at the front of the conversation (replaced, never
piled up); the save node queues the turn's new messages for a background writer. Turn 1 tells the
agent about the family in one thread; turn 2, in another thread, asks for a recommendation.

With ``MEMOS_API_KEY`` set, memories go to the MemOS cloud; without it, to the embedded engine in
memory. The answer comes from ``EXAMPLE_MODEL`` or ``OPENAI_API_KEY`` when set, else from a
labelled offline stand-in (see ``_chat_model.py``).

    python examples/langgraph_agent.py
"""

from __future__ import annotations

import os
from typing import Any

from _chat_model import chat_model, remembered
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from langchain_memos import MemOSClient
from langchain_memos.graph import MEMORY_MESSAGE_ID, MemOSGraphMemory

USER_ID = "memos_user_123"


@tool
def travel_time(destination: str) -> str:
    """Hours of travel from home to ``destination``."""
    return f"{destination}: about {len(destination) % 5 + 2} hours by train"


def build_agent(memory: MemOSGraphMemory) -> Any:
    tools = [travel_time]
    model = chat_model().bind_tools(tools)

    def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("recall", memory.memory_node())
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode(tools))
    builder.add_node("save", memory.save_node())
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "model")
    builder.add_conditional_edges("model", tools_condition, {"tools": "tools", "__end__": "save"})
    builder.add_edge("tools", "model")
    return builder.compile(checkpointer=InMemorySaver())


def main() -> None:
    if os.environ.get("MEMOS_API_KEY"):
        client = MemOSClient()
    else:
        print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
        client = MemOSClient(embedded=":memory:")
    # write_back=remembered: every message of a turn, except the offline stand-in's answers.
    memory = MemOSGraphMemory(client, write_back=remembered)
    agent = build_agent(memory)

    turns = [
        ("trip-planning", "We always travel as a family: my two kids and my parents."),
        ("national-day", "Where should we go for the National Day holiday with the kids?"),
    ]
    for thread, text in turns:
        config = RunnableConfig(configurable={"user_id": USER_ID, "thread_id": thread})
        state = agent.invoke({"messages": [HumanMessage(text)]}, config)
        recalled = [m for m in state["messages"] if m.id == MEMORY_MESSAGE_ID]
        print(f"\n[{thread}] user: {text}")
        print(f"memory message in the state: {'yes' if recalled else 'none (nothing recalled)'}")
        if recalled:
            print(recalled[0].text)
        print(f"agent: {state['messages'][-1].text}")
        memory.flush(timeout=30)  # the demo waits, so that turn 2 can recall turn 1

    memory.close()
    client.close()


if __name__ == "__main__":
    main()
