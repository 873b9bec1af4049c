"""The MemOS quick start, the LangChain way: store a conversation, recall it in the next one.

Conversation A (2025-06-10): the user plans a summer trip to Guangzhou with the kids and their
elderly parents and picks a hotel (the seed conversations of the MemOS quick start); it is stored
through ``MemOSChatMessageHistory``. Conversation B (2025-09-28): the user asks an agent, in the
quick start's words, for a National Day trip to a city and a hotel brand they have not tried.
``MemOSRetriever`` shows what MemOS recalls from conversation A, and a ``create_agent`` agent
with ``MemOSMiddleware`` answers with those memories in its system prompt; the script prints that
prompt exactly as the model got it.

With ``MEMOS_API_KEY`` set, this runs against the MemOS cloud. Without it, it runs offline on the
embedded engine, in memory: nothing is written to disk and nothing leaves this process. The
answer comes from ``EXAMPLE_MODEL`` or an OpenAI-compatible ``OPENAI_API_KEY`` when one is set,
else from a labelled offline stand-in that reports what it was given (see ``_chat_model.py``).

    make demo                      # or: python examples/quickstart.py
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from _chat_model import SystemPromptCapture, chat_model, remembered
from langchain.agents import create_agent
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from langchain_memos import MemOSChatMessageHistory, MemOSClient, MemOSError, MemOSRetriever
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.prompts import MemoryPromptBuilder
from langchain_memos.types import SERVICE_TIMEZONE

USER_ID = "memos_user_123"
ON_2025_06_10 = {"chat_time": "2025-06-10 09:30:00"}

CONVERSATION_A: list[BaseMessage] = [
    HumanMessage(
        "I want to travel during summer vacation, can you recommend something?",
        additional_kwargs=ON_2025_06_10,
    ),
    AIMessage(
        "Sure! Are you traveling alone or with family/friends?", additional_kwargs=ON_2025_06_10
    ),
    HumanMessage(
        "Of course I'm bringing my kid, our family always travels together.",
        additional_kwargs=ON_2025_06_10,
    ),
    AIMessage(
        "Got it, so you're traveling with your children as a family, right?",
        additional_kwargs=ON_2025_06_10,
    ),
    HumanMessage(
        "Yes, with both kids and elderly, we usually travel as a whole family.",
        additional_kwargs=ON_2025_06_10,
    ),
    AIMessage(
        "Understood, I'll recommend destinations suitable for family trips.",
        additional_kwargs=ON_2025_06_10,
    ),
    HumanMessage(
        "I've planned to travel to Guangzhou this summer. "
        "What chain hotels are available for accommodation?",
        additional_kwargs=ON_2025_06_10,
    ),
    AIMessage(
        "You can consider options like 7 Days Inn, All Seasons, Hilton, etc.",
        additional_kwargs=ON_2025_06_10,
    ),
    HumanMessage("I'll choose 7 Days Inn.", additional_kwargs=ON_2025_06_10),
    AIMessage(
        "Okay, feel free to ask me if you have any other questions.",
        additional_kwargs=ON_2025_06_10,
    ),
]
QUESTION_B = (
    "I want to travel during the National Day holiday. Please recommend a city I haven't been "
    "to and a hotel brand I haven't stayed at."
)
SCOPE_B = RunnableConfig(configurable={"user_id": USER_ID, "thread_id": "0928"})


def open_client() -> MemOSClient:
    if os.environ.get("MEMOS_API_KEY") or os.environ.get("MEMOS_BASE_URL"):
        client = MemOSClient()
        print(f"Using the MemOS service at {client.base_url}\n")
        return client
    print(
        "No MEMOS_API_KEY: using the embedded MemOS engine, in memory "
        "(offline, fast mode, no LLM).\n"
        "Set MEMOS_API_KEY to run the same script against the MemOS cloud.\n"
    )
    return MemOSClient(embedded=":memory:")


def print_recalled(docs: list[Document]) -> None:
    print(
        f"MemOS recalled {len(docs)} memories, best first (times in UTC+08:00, the service's "
        "zone; relevance: how much of the question a memory covers, which the 0.45 threshold "
        "reads, not its rank):"
    )
    for doc in docs:
        created = doc.metadata.get("created_at")
        when = datetime.fromisoformat(created).astimezone(SERVICE_TIMEZONE) if created else None
        when_text = f"{when:%Y-%m-%d %H:%M}" if when else "undated"
        relevance = doc.metadata.get("relativity")
        print(f"  [{doc.metadata['kind']}, {when_text}, relevance {relevance}] {doc.page_content}")
    if not docs:
        print("  (none)")


def ask_agent(client: MemOSClient) -> None:
    """Conversation B: one agent turn, with MemOS memory in the system prompt."""
    # The prompt's "current time" is conversation B's date, as if the question were asked then.
    builder = MemoryPromptBuilder(now=lambda: datetime(2025, 9, 28, 20, 0, tzinfo=SERVICE_TIMEZONE))
    # This agent has no system prompt of its own, so it gets the MemOS docs' whole one: role,
    # memories, memory-safety protocol and query. (The default, "protocol", leaves out the role
    # and the query, for agents that have their own prompt.)
    # write_back=remembered: conversation B is stored, but not the offline stand-in's answer.
    memory = MemOSMiddleware(client, builder=builder, prompt_mode="full", write_back=remembered)
    agent = create_agent(chat_model(), tools=[], middleware=[memory])
    capture = SystemPromptCapture()
    result = agent.invoke(
        {"messages": [HumanMessage(QUESTION_B)]}, RunnableConfig(**SCOPE_B, callbacks=[capture])
    )
    memory.close(timeout=30)  # writes conversation B back before the client closes

    print("The system prompt the model received:")
    print("-" * 72)
    print(capture.prompts[-1] if capture.prompts else "(none: nothing was recalled)")
    print("-" * 72)
    print(f"agent: {result['messages'][-1].text}")


def main() -> int:
    with open_client() as client:
        try:
            history = MemOSChatMessageHistory(USER_ID, "0610", client=client, wait=True)
            history.add_messages(CONVERSATION_A)
            print("Conversation A (2025-06-10), as stored by MemOS:")
            for message in history.messages:
                print(f"  {message.type:>5}: {message.content}")

            print(f"\nConversation B (2025-09-28) asks: {QUESTION_B}")
            retriever = MemOSRetriever(client=client, k=7)
            print_recalled(retriever.invoke(QUESTION_B, config=SCOPE_B))
            print()
            ask_agent(client)
        except MemOSError as error:
            print(f"MemOS said no: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
