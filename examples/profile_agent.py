"""One agent that knows the user's profile, preferences and past events: MemOS memory views.

The application binds a profile template to the user and sets two fields (the daughter's name
and age, the home city). On 2025-11-04 the user tells the agent about last Saturday's hike with
her daughter and how she likes weekend plans; a week later, in a new thread, she asks for a
weekend plan. ``MemOSMiddleware`` recalls the views its ``MemorySettings`` name (facts,
preferences, profile, events), and the model's system prompt holds each in its own section: the
profile's fields, the preference, and the hike with when it happened. The script prints that
memory block as the model got it, then the same recall as ``MemOSRetriever`` Documents.

With ``MEMOS_API_KEY`` set, this runs against the MemOS cloud, where profile templates are made
in the console: set ``MEMOS_PROFILE_TEMPLATE_ID`` to one with a ``Family`` category (field
``Daughter``) and a ``Basic Info`` category (field ``City``). Without it, it runs offline on the
embedded engine, in memory. The answer comes from ``EXAMPLE_MODEL`` or ``OPENAI_API_KEY`` when
set, else from a labelled offline stand-in that reports what it was given (``_chat_model.py``).

    python examples/profile_agent.py
"""

from __future__ import annotations

import os
import re

from _chat_model import SystemPromptCapture, chat_model, remembered
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig

from langchain_memos import MemorySettings, MemOSClient, MemOSRetriever
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.types import MemoryView

USER_ID = "memos_user_456"
TEMPLATE_ID = os.environ.get("MEMOS_PROFILE_TEMPLATE_ID", "tpl_family")
VIEWS: list[MemoryView] = ["detail_factual", "preference", "profile", "event"]
PROFILE = {
    "Family": {"Daughter": {"value": "Mia, 7 years old", "algorithm_updatable": False}},
    "Basic Info": {"City": {"value": "Lisbon"}},
}
ON_2025_11_04 = {"chat_time": "2025-11-04 20:15:00"}
EARLIER = [
    "Last Saturday I took my daughter Mia hiking in Sintra, and she loved the castle.",
    "I prefer short day trips with a packing list.",
]
QUESTION = "Mia loved hiking. Plan a short day trip for her and me, with a packing list."
_BLOCK = re.compile(r"<memories>.*?</memories>", re.DOTALL)


def open_client() -> MemOSClient:
    if os.environ.get("MEMOS_API_KEY"):
        return MemOSClient()
    print("No MEMOS_API_KEY: using the embedded MemOS engine, in memory.")
    return MemOSClient(embedded=":memory:")


def main() -> None:
    client = open_client()
    client.bind_profile_template([{"user_id": USER_ID, "profile_template_id": TEMPLATE_ID}])
    client.edit_profile(TEMPLATE_ID, user_id=USER_ID, metadata=PROFILE)

    settings = MemorySettings(
        client=client,
        search_options={"include_memory_view": VIEWS},  # the memory views to recall
        write_back=remembered,  # all but the offline stand-in's answers
    )
    memory = MemOSMiddleware(settings=settings)
    agent = create_agent(chat_model(), tools=[], middleware=[memory])
    capture = SystemPromptCapture()

    def turn(thread: str, message: HumanMessage) -> None:
        config = RunnableConfig(
            configurable={"user_id": USER_ID, "thread_id": thread}, callbacks=[capture]
        )
        result = agent.invoke({"messages": [message]}, config)
        print(f"\n[{thread}] user: {message.text}\nagent: {result['messages'][-1].text}")
        memory.flush(timeout=30)  # the demo waits, so that the next turn recalls this one

    for text in EARLIER:  # two turns on 2025-11-04
        turn("1104", HumanMessage(text, additional_kwargs=ON_2025_11_04))

    retriever = MemOSRetriever(client=client, user_id=USER_ID, include_memory_view=VIEWS, k=6)
    print("\nMemOSRetriever recalls for the question, as Documents of every view:")
    for doc in retriever.invoke(QUESTION):
        print(f"  [{doc.metadata['kind']}] {doc.page_content}")

    turn("weekend", HumanMessage(QUESTION))  # a week later, in a new thread
    recalled = _BLOCK.search(capture.prompts[-1]) if capture.prompts else None
    print("\nThe memory block the model received for the question:")
    print(recalled.group(0) if recalled else "(none: nothing was recalled)")
    memory.close()


if __name__ == "__main__":
    main()
