"""The MemOS quick start, through MemOSClient.

Conversation A (2025-06-10): the user plans a summer trip with the whole family; the raw turns
are handed to MemOS. Conversation B (2025-09-28): the user asks where to go for the National Day
holiday, and MemOS recalls what it learned in conversation A.

Run it against the MemOS cloud with ``MEMOS_API_KEY=mpg-... python examples/client_basics.py``,
against any MemOS-compatible server with ``MEMOS_BASE_URL``, or offline with neither: then it
uses the embedded engine, in memory.
"""

from __future__ import annotations

import os
import sys

from langchain_memos import MemOSClient, MemOSError
from langchain_memos.types import SERVICE_TIMEZONE, MessageInput

USER_ID = "memos_user_123"

CONVERSATION_A: list[MessageInput] = [
    {
        "role": "user",
        "content": "I want to travel during summer vacation, can you recommend something?",
    },
    {"role": "assistant", "content": "Sure! Are you traveling alone or with family/friends?"},
    {
        "role": "user",
        "content": "Of course I'm bringing my kid, our family always travels together.",
    },
    {"role": "assistant", "content": "Got it, so you're traveling with your children as a family?"},
    {
        "role": "user",
        "content": "Yes, with both kids and elderly, we usually travel as a whole family.",
    },
    {"role": "assistant", "content": "Understood, I'll recommend destinations for family trips."},
]


def open_client() -> MemOSClient:
    if os.environ.get("MEMOS_API_KEY") or os.environ.get("MEMOS_BASE_URL"):
        return MemOSClient()
    print(
        "No MEMOS_API_KEY: using the embedded MemOS engine, in memory (offline, fast mode).\n"
        "Set MEMOS_API_KEY to run the same calls against the MemOS cloud.\n"
    )
    return MemOSClient(embedded=":memory:")


def main() -> int:
    with open_client() as client:
        try:
            for message in CONVERSATION_A:
                message["chat_time"] = "2025-06-10 09:30:00"
            task = client.add_message(
                CONVERSATION_A, user_id=USER_ID, conversation_id="0610", async_mode=False
            )
            print(f"Stored conversation A: task {task.task_id} is {task.status}")

            found = client.search_memory(
                "Where should we travel for the National Day holiday?",
                user_id=USER_ID,
                conversation_id="0928",
            )
        except MemOSError as error:
            print(f"MemOS said no: {error}", file=sys.stderr)
            return 1

    print("\nRecalled facts:")
    for memory in found.memory_detail_list:
        when = memory.created_at or memory.updated_at
        stamp = f"{when.astimezone(SERVICE_TIMEZONE):%Y-%m-%d %H:%M}" if when else "undated"
        print(f"  [{stamp}] {memory.memory_value}")
    print("Recalled preferences:")
    for preference in found.preference_detail_list:
        print(f"  ({preference.preference_type}) {preference.preference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
