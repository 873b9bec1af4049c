"""The MemOS quick start, through MemOSClient.

Conversation A (2025-06-10): the user plans a summer trip with the whole family; the raw turns
are handed to MemOS. Conversation B (2025-09-28): the user asks where to go for the National Day
holiday, and MemOS recalls what it learned in conversation A.

Run it against the MemOS cloud with ``MEMOS_API_KEY=mpg-... python examples/client_basics.py``,
or against any MemOS-compatible server with ``MEMOS_BASE_URL``.
"""

from __future__ import annotations

import os
import sys

from langchain_memos import MemOSClient, MemOSError
from langchain_memos.types import MessageInput

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


def main() -> int:
    if not (os.environ.get("MEMOS_API_KEY") or os.environ.get("MEMOS_BASE_URL")):
        print(
            "This example talks to a MemOS service. Set MEMOS_API_KEY to use the MemOS cloud\n"
            "(or MEMOS_BASE_URL for another MemOS-compatible server) and run it again.",
            file=sys.stderr,
        )
        return 2

    with MemOSClient() as client:
        try:
            for message in CONVERSATION_A:
                message["chat_time"] = "2025-06-10 09:30:00"
            task = client.add_message(
                CONVERSATION_A, user_id=USER_ID, conversation_id="0610", async_mode=False
            )
            print(f"Stored conversation A: task {task.task_id} is {task.status}")

            found = client.search_memory(
                "Where should we go for the National Day holiday?",
                user_id=USER_ID,
                conversation_id="0928",
            )
        except MemOSError as error:
            print(f"MemOS said no: {error}", file=sys.stderr)
            return 1

    print("\nRecalled facts:")
    for memory in found.memory_detail_list:
        when = memory.created_at or memory.updated_at
        stamp = f"{when:%Y-%m-%d %H:%M}" if when else "undated"
        print(f"  [{stamp}] {memory.memory_value}")
    print("Recalled preferences:")
    for preference in found.preference_detail_list:
        print(f"  ({preference.preference_type}) {preference.preference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
