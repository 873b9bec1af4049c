"""The MemOS quick start, the LangChain way: store a conversation, recall it in the next one.

Conversation A (2025-06-10): the user plans a summer trip with the kids and their elderly
parents; it is stored through ``MemOSChatMessageHistory``. Conversation B (2025-09-28): the user
asks where to travel for the National Day holiday, and ``MemOSRetriever`` recalls what MemOS kept
from conversation A.

With ``MEMOS_API_KEY`` set, this runs against the MemOS cloud. Without it, it runs offline on the
embedded engine, in memory: nothing is written to disk and nothing leaves this process.

    make demo                      # or: python examples/quickstart.py
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_memos import MemOSChatMessageHistory, MemOSClient, MemOSError, MemOSRetriever
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
]
QUESTION_B = "Where should we travel for the National Day holiday?"


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


def main() -> int:
    with open_client() as client:
        try:
            history = MemOSChatMessageHistory(USER_ID, "0610", client=client, wait=True)
            history.add_messages(CONVERSATION_A)
            print("Conversation A (2025-06-10), as stored by MemOS:")
            for message in history.messages:
                print(f"  {message.type:>5}: {message.content}")

            retriever = MemOSRetriever(client=client, user_id=USER_ID, k=6)
            docs = retriever.invoke(QUESTION_B, config={"configurable": {"thread_id": "0928"}})
        except MemOSError as error:
            print(f"MemOS said no: {error}", file=sys.stderr)
            return 1

    print(f"\nConversation B (2025-09-28) asks: {QUESTION_B}")
    print(f"MemOS recalled {len(docs)} memories:")
    for doc in docs:
        created = doc.metadata.get("created_at")
        when = datetime.fromisoformat(created).astimezone(SERVICE_TIMEZONE) if created else None
        when_text = f"{when:%Y-%m-%d %H:%M}" if when else "undated"
        relevance = doc.metadata.get("relativity")
        print(f"  [{doc.metadata['kind']}, {when_text}, relevance {relevance}] {doc.page_content}")
    if not docs:
        print("  (none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
