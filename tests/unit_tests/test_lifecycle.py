"""Closing: what close() keeps, what a closed memory, history, outbox or client refuses."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from langchain_memos import (
    ClosedError,
    MemOSChatMessageHistory,
    MemOSClient,
    MemOSGraphMemory,
    MemOSInputError,
)
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.outbox import Outbox, default_outbox_path
from tests.fakes import ScriptedChatModel

from .test_outbox import BASE_URL, KEY, Clock, FlakyMemOS, wait_until

ROOT = Path(__file__).resolve().parents[2]
CONFIG: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}


def client_of(http: httpx.Client) -> MemOSClient:
    return MemOSClient(base_url=BASE_URL, api_key=KEY, max_retries=0, http_client=http)


@pytest.fixture
def down() -> FlakyMemOS:
    memos = FlakyMemOS()
    memos.down.set()
    return memos


def errors_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def stays_pending(outbox_path: Path, clock: Clock) -> None:
    """The write waits in the file, not in the dead letters, however long the process goes on."""
    for _ in range(20):  # retries long due by the clock, and real time for a sender to act
        clock.advance(600)
        time.sleep(0.05)
    left = Outbox(outbox_path)
    assert left.dead_letters() == []
    assert left.pending() == 1
    left.close()


def next_run_delivers(outbox_path: Path) -> list[tuple[str, str, list[str]]]:
    memos = FlakyMemOS()
    outbox = Outbox(outbox_path)
    history = MemOSChatMessageHistory("alice", "t1", client=memos.client(), outbox=outbox)
    assert history.close(timeout=10) is True
    outbox.close()
    return memos.accepted


# ---- a closed client is no reason to give up on a write ------------------------------------


def test_a_turn_close_could_not_deliver_is_kept_for_the_next_run_after_the_client_closes(
    tmp_path: Path, down: FlakyMemOS, caplog: pytest.LogCaptureFixture
) -> None:
    """The README's ``with MemOSClient(...)`` block, MemOS down: close() says "kept"; it is."""
    path, clock = tmp_path / "o.db", Clock()
    with (
        httpx.Client(transport=httpx.MockTransport(down.handler)) as http,
        client_of(http) as client,
    ):
        memory = MemOSMiddleware(client, outbox=clock.outbox(path))
        agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
        agent.invoke({"messages": [HumanMessage("Where to go with kids?")]}, CONFIG)
        wait_until(lambda: down.attempts >= 1)
        assert memory.close(timeout=0.3) is False
    stays_pending(path, clock)
    assert errors_of(caplog) == []
    assert next_run_delivers(path) == [
        ("alice", "t1", ["Where to go with kids?", "Here is your answer."])
    ]


def test_a_closed_history_refuses_messages_and_keeps_what_it_could_not_deliver(
    tmp_path: Path, down: FlakyMemOS, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = tmp_path / "o.db", Clock()
    with (
        httpx.Client(transport=httpx.MockTransport(down.handler)) as http,
        client_of(http) as client,
    ):
        history = MemOSChatMessageHistory("alice", "t1", client=client, outbox=clock.outbox(path))
        history.add_messages([HumanMessage("hi"), AIMessage("hello")])
        wait_until(lambda: down.attempts >= 1)
        assert history.close(timeout=0.3) is False
        with pytest.raises(ClosedError, match="closed"):
            history.add_messages([HumanMessage("after close")])
    stays_pending(path, clock)
    assert errors_of(caplog) == []
    assert next_run_delivers(path) == [("alice", "t1", ["hi", "hello"])]


def test_a_sender_whose_client_is_closed_stops_and_keeps_the_write(
    tmp_path: Path, down: FlakyMemOS, caplog: pytest.LogCaptureFixture
) -> None:
    """The client closed without closing the memory first: the write waits for the next run."""
    path, clock = tmp_path / "o.db", Clock()
    http = httpx.Client(transport=httpx.MockTransport(down.handler))
    client = client_of(http)
    history = MemOSChatMessageHistory("alice", "t1", client=client, outbox=clock.outbox(path))
    history.add_messages([HumanMessage("hi")])
    wait_until(lambda: down.attempts >= 1)
    http.close()
    stays_pending(path, clock)
    assert errors_of(caplog) == []
    with pytest.raises(ClosedError, match="client"):
        history.add_messages([HumanMessage("after the client closed")])


# ---- a closed memory takes no more turns ---------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_turn_after_close_raises_instead_of_being_dropped(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    """fail_open (the default) is for MemOS failures, not for using a memory after close()."""
    memory = MemOSMiddleware(MemOSClient(embedded=":memory:"))
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
    payload: Any = {"messages": [HumanMessage("Where to go with kids?")]}

    async def turn() -> object:
        return (
            await agent.ainvoke(payload, CONFIG)
            if mode == "async"
            else agent.invoke(payload, CONFIG)
        )

    await turn()
    assert memory.close() is True
    with pytest.raises(ClosedError, match="memory was closed"):
        await turn()


def test_the_graph_save_node_of_a_closed_memory_raises() -> None:
    memory = MemOSGraphMemory(MemOSClient(embedded=":memory:"), user_id="alice")
    save = memory.save_node()
    state = {"messages": [HumanMessage("hi"), AIMessage("hello")]}
    save.invoke(state, CONFIG)
    memory.close()
    with pytest.raises(ClosedError, match="memory was closed"):
        save.invoke(state, CONFIG)


# ---- closing twice -------------------------------------------------------------------------


def test_closing_twice_is_harmless_and_says_the_same(tmp_path: Path) -> None:
    engine_client = MemOSClient(embedded=":memory:")
    middleware = MemOSMiddleware(engine_client)
    graph = MemOSGraphMemory(engine_client, user_id="alice")
    graph.save_node().invoke({"messages": [HumanMessage("hi")]}, CONFIG)
    memos = FlakyMemOS()
    outbox = Outbox(tmp_path / "o.db")
    history = MemOSChatMessageHistory("alice", "t1", client=memos.client(), outbox=outbox)
    history.add_messages([HumanMessage("hi")])
    for closeable in (middleware, graph, history):
        assert closeable.close() is True
        assert closeable.close() is True
    outbox.close()
    outbox.close()
    engine_client.close()
    engine_client.close()


async def test_closing_a_history_twice_async() -> None:
    history = MemOSChatMessageHistory("alice", "t1", embedded=":memory:")
    assert await history.aclose() is True
    assert await history.aclose() is True


# ---- a full outbox -------------------------------------------------------------------------


def test_a_turn_waiting_for_room_in_a_full_outbox_says_so_once(
    tmp_path: Path, down: FlakyMemOS, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    outbox = clock.outbox(tmp_path / "o.db", max_pending=2)
    history = MemOSChatMessageHistory("alice", "t1", client=down.client(), outbox=outbox)
    history.add_messages([HumanMessage("one")])
    history.add_messages([HumanMessage("two")])
    third = threading.Thread(
        target=history.add_messages, args=([HumanMessage("three")],), daemon=True
    )
    third.start()

    def waiting() -> list[str]:
        return [r.getMessage() for r in caplog.records if "waits for room" in r.getMessage()]

    wait_until(lambda: bool(waiting()))
    time.sleep(1.5)  # the turn goes on waiting: quietly
    assert third.is_alive()
    [warning] = waiting()
    assert "holds 2 unsent writes" in warning
    assert str(tmp_path / "o.db") in warning
    down.down.clear()  # MemOS is back: room is made, the turn goes in
    clock.advance(600)
    third.join(timeout=10)
    assert not third.is_alive()
    assert history.close(timeout=10) is True
    assert [texts for _, _, texts in down.accepted] == [["one"], ["two"], ["three"]]


def test_max_pending_beside_an_outbox_passed_in_is_refused_not_ignored(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db")
    with pytest.raises(MemOSInputError, match=r"Outbox\(path, max_pending=2\)"):
        MemOSMiddleware(MemOSClient(embedded=":memory:"), outbox=outbox, max_pending=2)
    small = Outbox(tmp_path / "small.db", max_pending=2)
    memory = MemOSMiddleware(MemOSClient(embedded=":memory:"), outbox=small)
    assert memory.memory.writer is not None
    assert memory.memory.writer.outbox.max_pending == 2
    memory.close()


# ---- files nobody asked for ----------------------------------------------------------------


def test_an_outbox_in_a_directory_that_does_not_exist_is_refused_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no" / "such" / "ob.sqlite3"
    with pytest.raises(MemOSInputError, match=f"the directory {tmp_path / 'no' / 'such'} does"):
        Outbox(path)
    with pytest.raises(MemOSInputError, match="does not exist"):
        MemOSMiddleware(MemOSClient(embedded=":memory:"), outbox=path)
    assert list(tmp_path.iterdir()) == []


def test_only_the_default_place_in_the_user_cache_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEMOS_OUTBOX_PATH")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    memos = FlakyMemOS()
    history = MemOSChatMessageHistory(
        "alice", "t1", client=memos.client(), outbox=Outbox(default_outbox_path())
    )
    history.add_messages([HumanMessage("hi")])
    assert history.close(timeout=10) is True
    assert (tmp_path / "cache" / "langchain-memos" / "outbox.sqlite3").is_file()


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    theirs = tmp_path / "crm.sqlite3"
    with sqlite3.connect(theirs) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
        db.execute("INSERT INTO customers VALUES ('Ada')")
    db.close()
    before = theirs.read_bytes()
    with pytest.raises(MemOSInputError, match=r"tables customers\), not a MemOS outbox"):
        Outbox(theirs)
    with pytest.raises(MemOSInputError, match="not a MemOS outbox"):
        MemOSMiddleware(MemOSClient(embedded=":memory:"), outbox=theirs)
    assert theirs.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.sqlite3"]  # no -wal, no -shm


def test_an_outbox_file_made_by_an_earlier_run_is_taken(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    memos = FlakyMemOS()
    history = MemOSChatMessageHistory("alice", "t1", client=memos.client(), outbox=Outbox(path))
    history.add_messages([HumanMessage("hi")])
    assert history.close(timeout=10) is True
    assert Outbox(path).pending() == 0


def test_a_file_that_is_not_sqlite_as_the_default_outbox_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``MEMOS_OUTBOX_PATH=/etc/hostname``: refused at once, and interpreter exit stays quiet."""
    hostname = tmp_path / "hostname"
    hostname.write_text("box\n")
    script = textwrap.dedent(
        """
        from langchain_memos import MemOSClient
        from langchain_memos.middleware import MemOSMiddleware
        MemOSMiddleware(MemOSClient(base_url="http://127.0.0.1:9/api/openmem/v1"))
        """
    )
    env = {**os.environ, "MEMOS_OUTBOX_PATH": str(hostname), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stderr.count("Traceback") == 1  # the caller's error, no second one at exit
    assert "Exception ignored" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    raised = last.split(":")[0]  # the error our caller gets, wherever its class is defined
    assert raised.startswith("langchain_memos.")
    assert raised.endswith(".MemOSInputError")
    assert "is not a SQLite database" in last
    assert hostname.read_text() == "box\n"


def test_the_exit_hook_never_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from langchain_memos import _outbox_sender, _writer
    from langchain_memos.outbox import OutboxError

    writer = _writer.BackgroundWriter(FlakyMemOS().client(), outbox=tmp_path / "o.db")

    def broken(timeout: float | None = None) -> bool:
        raise OutboxError("the disk went away")

    monkeypatch.setattr(writer, "close", broken)
    _outbox_sender._close_at_exit()
    assert any("the disk went away" in message for message in errors_of(caplog))


# ---- a closed client -----------------------------------------------------------------------


async def test_a_closed_client_says_so_in_its_own_words() -> None:
    from langchain_memos import AsyncMemOSClient, MemOSRetriever

    client = MemOSClient(embedded=":memory:")
    client.close()
    with pytest.raises(ClosedError, match="this MemOSClient is closed"):
        client.search_memory("trips", user_id="alice")
    with pytest.raises(ClosedError, match="closed"):
        client.with_options(timeout=1.0).get_message(user_id="alice", conversation_id="t1")
    with pytest.raises(ClosedError, match="closed"):
        MemOSRetriever(client=client, user_id="alice").invoke("trips")
    with pytest.raises(ClosedError, match="closed"):
        MemOSChatMessageHistory("alice", "t1", client=client).add_messages([HumanMessage("hi")])

    async_client = AsyncMemOSClient(base_url=BASE_URL, api_key=KEY)
    await async_client.aclose()
    with pytest.raises(ClosedError, match="this AsyncMemOSClient is closed"):
        await async_client.search_memory("trips", user_id="alice")


def test_the_exit_hook_says_its_bound_as_a_person_would(
    tmp_path: Path,
    down: FlakyMemOS,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from langchain_memos import _outbox_sender, _writer

    monkeypatch.setattr(_outbox_sender, "CLOSE_TIMEOUT", 0.5)
    writer = _writer.BackgroundWriter(down.client(), outbox=tmp_path / "o.db")
    writer.submit([HumanMessage("unsent")], user_id="alice", conversation_id="t1")
    _outbox_sender._close_at_exit()
    said = [r.getMessage() for r in caplog.records if "not delivered within" in r.getMessage()]
    assert len(said) == 1
    assert "1 MemOS writes not delivered within 0.5 s;" in said[0]
