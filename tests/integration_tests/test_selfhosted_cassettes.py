"""The self-hosted mode against recordings of the real open-source MemOS server.

The cassettes ``cassettes/selfhosted*.yaml`` hold the ``/product`` exchanges with MemoryOS
2.0.33's own server app, run here on local components (``selfhosted/stack.py``: Postgres +
pgvector, Redis, and an OpenAI-compatible stand-in for its LLM and embedder, which is NOT a
model). Replay needs nothing; ``--record-mode=all`` with ``MEMOS_SDK_PYTHON`` (an interpreter
with MemoryOS and the stack's packages, see ``cassettes/README.md``) records them anew.

Both clients replay the same cassette; the middleware and the retriever run end to end over it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage

from langchain_memos import (
    AsyncMemOSClient,
    MemOSClient,
    MemOSInputError,
    MemOSMiddleware,
    MemOSRetriever,
    NotFoundError,
    SelfHostedOptions,
)
from langchain_memos.types import MessageInput
from tests.fakes import Client, ScriptedChatModel, call

from .selfhosted.cassette import Recorder, Replayer
from .selfhosted.stack import serve_selfhosted

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
REPLAY_BASE_URL = "http://127.0.0.1:9"  # discard: a replaying client never gets that far
USER = "langchain-memos-selfhosted"
CONVERSATION: list[MessageInput] = [
    {"role": "user", "content": "We always travel with the kids and my parents.",
     "chat_time": "2025-06-10 10:00:00"},
    {"role": "assistant", "content": "Got it: family trips with children and elderly.",
     "chat_time": "2025-06-10 10:00:05"},
    {"role": "user", "content": "We stayed at a 7 Days Inn in Guangzhou last summer.",
     "chat_time": "2025-06-10 10:01:00"},
]  # fmt: skip


@pytest.fixture(scope="module")
def server_url(record_mode: str) -> Iterator[str | None]:
    """The real server's URL when recording, else ``None`` (replay)."""
    if record_mode == "none":
        yield None
        return
    sdk_python = os.environ.get("MEMOS_SDK_PYTHON", "").strip()
    if not sdk_python:
        pytest.skip("recording the self-hosted cassettes needs MEMOS_SDK_PYTHON")
    with serve_selfhosted(sdk_python) as url:
        yield url


class Wire:
    """The self-hosted mode's connection to the server: a recorder or a replayer.

    The clients choose the mode as a user does (``selfhosted=``); only what sends to the
    server is substituted.
    """

    def __init__(
        self, name: str, server_url: str | None, kind: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.path = CASSETTES / f"{name}.yaml"
        self.recorder = Recorder() if server_url and kind == "sync" else None
        self.replayer = None if self.recorder else Replayer(self.path)
        self.base_url = server_url or REPLAY_BASE_URL
        sender: Any = self.recorder or self.replayer
        for factory in ("HTTP_TRANSPORT", "ASYNC_HTTP_TRANSPORT"):
            monkeypatch.setattr(f"langchain_memos._selfhosted.transport.{factory}", lambda: sender)

    def _options(self) -> dict[str, Any]:
        selfhosted = SelfHostedOptions.of(add_mode="fine")
        return {
            "base_url": self.base_url,
            "selfhosted": selfhosted,
            "max_retries": 0,
            "timeout": 60,
        }

    def sync_client(self) -> MemOSClient:
        return MemOSClient(**self._options())

    def async_client(self) -> AsyncMemOSClient:
        return AsyncMemOSClient(**self._options())

    def client(self, kind: str) -> Client:
        return self.sync_client() if kind == "sync" else self.async_client()

    def finish(self) -> None:
        if self.recorder is not None:
            self.recorder.inner.close()  # the only connections to a server
            self.recorder.save(self.path)
        else:
            assert self.replayer is not None
            assert self.replayer.finished, "the recording holds requests that were not sent"


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])  # sync first: it records


@pytest.mark.loopback
@KINDS
def test_every_served_call_round_trips(
    server_url: str | None, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = Wire("selfhosted", server_url, kind, monkeypatch)
    client = wire.client(kind)
    user = f"{USER}-calls"
    added = call(
        client, "add_message", CONVERSATION, user_id=user, conversation_id="0610",
        tags=["travel"], info={"scene": "trip"}, agent_id="planner", async_mode=False,
    )  # fmt: skip
    assert (added.status, added.task_id) == ("completed", None)
    more = [{"role": "user", "content": "My mother cannot climb stairs.",
             "chat_time": "2025-06-11 09:00:00"}]  # fmt: skip
    task = call(client, "add_message", more, user_id=user, conversation_id="0611")
    assert task.status == "running"
    done = call(client, "wait_for_task", str(task.task_id), timeout=60, interval=1)
    assert done.status == "completed"

    found = call(client, "search_memory", "family trip with the kids", user_id=user,
                 conversation_id="0610", memory_limit_number=5, relativity=0.0)  # fmt: skip
    assert found.memory_detail_list, "the server recalled nothing"
    fact = found.memory_detail_list[0]
    assert fact.id
    assert fact.memory_value
    assert fact.memory_type
    assert isinstance(fact.created_at, datetime)
    assert fact.relativity is not None
    assert {m.conversation_id for m in found.memory_detail_list} <= {"0610", "0611"}

    page = call(client, "get_memory", user_id=user, page=1, size=2)
    assert page.total is not None
    assert page.total >= len(page.memory_detail_list) > 0
    assert page.current == 1
    assert page.size == 2
    # MemoryOS 2.0.33 with its Postgres backend answers "not found" for any id (code 200).
    with pytest.raises(NotFoundError, match="not found"):
        call(client, "get_memory_by_id", str(fact.id))

    feedback = call(client, "add_feedback", user_id=user, conversation_id="0610",
                    feedback_content="We now stay at Hanting hotels instead.")  # fmt: skip
    assert feedback.status == "running"
    assert feedback.task_id
    answer = call(
        client, "chat", user_id=user, conversation_id="0928",
        query="Where should we go for National Day?", add_message_on_answer=False,
    )  # fmt: skip
    assert "National Day" in str(answer.response)
    events = call(client, "chat_stream", user_id=user, conversation_id="0928",
                  query="Which hotel brand?", add_message_on_answer=False)  # fmt: skip
    assert "hotel brand" in "".join(str(e.data) for e in events if e.type == "text")

    assert call(client, "delete_memory", memory_ids=[str(fact.id)]).success
    after = call(client, "get_memory", user_id=user, page=1, size=50)
    assert str(fact.id) not in {m.id for m in after.memory_detail_list}
    with pytest.raises(MemOSInputError, match="get/message"):
        call(client, "get_message", user_id=user, conversation_id="0610")
    wire.finish()


def _history(user: str, client: MemOSClient) -> None:
    client.add_message(CONVERSATION, user_id=user, conversation_id="0610", async_mode=False)


@pytest.mark.loopback
@KINDS
async def test_the_retriever_and_the_middleware_run_over_a_selfhosted_server(
    server_url: str | None, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = Wire("selfhosted_agent", server_url, kind, monkeypatch)
    user = f"{USER}-agent"
    sync_client, async_client = wire.sync_client(), wire.async_client()
    _history(user, sync_client)
    cfg: Any = {"configurable": {"user_id": user, "thread_id": "0928"}}

    retriever = MemOSRetriever(client=sync_client, async_client=async_client, k=3, relativity=0.0)
    query = "Which hotel did the family stay at in Guangzhou?"
    docs = retriever.invoke(query, cfg) if kind == "sync" else await retriever.ainvoke(query, cfg)
    assert docs, "the retriever found nothing"
    assert all(doc.id and doc.metadata["kind"] == "fact" for doc in docs)
    assert any("7 Days Inn" in doc.page_content for doc in docs)

    memory = MemOSMiddleware(
        sync_client, async_client=async_client, search_options={"relativity": 0.0}
    )
    model = ScriptedChatModel(tool_calls=0, answer="Try Xiamen.")
    agent = create_agent(model, [], middleware=[memory])
    turn: Any = {"messages": [HumanMessage("Where should the family go for National Day?")]}
    if kind == "sync":
        agent.invoke(turn, cfg)
    else:
        await agent.ainvoke(turn, cfg)
    assert memory.close(timeout=30)
    system = model.calls[0][0].text
    assert "<memories>" in system
    assert "7 Days Inn" in system
    wire.finish()
