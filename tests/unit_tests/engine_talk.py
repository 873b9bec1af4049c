"""What the engine's ranking tests (bm25, plan, counted) share: a client on an in-memory engine,
one way to say user turns, and a small conversation of hiking, tea, a sister and Lisbon."""

from __future__ import annotations

from typing import Any

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine

TALK = (
    "We went hiking near the lake on Sunday and I loved the quiet trail.",
    "I prefer green tea to coffee in the morning.",
    "My sister Ana visited us last weekend with her kids.",
    "The lake trail was muddy but the hiking was worth it.",
    "I like hiking with Ana more than running alone.",
    "Coffee keeps me up at night, so I stopped drinking it after lunch.",
)


def engine_client(engine: EmbeddedEngine | None = None) -> MemOSClient:
    """A client of ``engine`` (a new in-memory one by default) that does not retry."""
    return MemOSClient(embedded=engine or EmbeddedEngine(":memory:"), max_retries=0)


def say(client: MemOSClient, user: str, conversation: str, *texts: str) -> None:
    """``texts`` as the user's turns of ``conversation``, stored before this returns."""
    messages: Any = [{"role": "user", "content": text} for text in texts]
    client.add_message(messages, user_id=user, conversation_id=conversation, async_mode=False)
