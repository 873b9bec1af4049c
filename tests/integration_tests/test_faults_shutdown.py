"""The outbox's sender under faults: bounded shutdown, and a slow MemOS shared by conversations.

Each run is a real interpreter (a subprocess running one agent turn against a loopback port
where nothing listens), because what is checked is what a user of a script sees: how long it
takes to end, what it prints, and that the turn waits in the outbox file until the next run,
against a live MemOS on that port, delivers it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from langchain_memos import MemOSClient
from langchain_memos._writer import BackgroundWriter
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.outbox import CLOSE_TIMEOUT, Outbox

from .fault_server import API_PREFIX, Fault, FaultServer, free_port

# Each waits out real shutdown bounds in real interpreters: about a minute of the suite's time.
pytestmark = [pytest.mark.loopback, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Where should I travel with my kids this summer?"
ANSWER = "Here is your answer."  # what ScriptedChatModel(tool_calls=0) says
# Beyond a bound, for the work after its deadline on a loaded machine: not a hang, and not a
# second wait of CLOSE_TIMEOUT (which an unreachable MemOS would make last all of it).
SLACK = CLOSE_TIMEOUT / 2

RUN = textwrap.dedent(
    """
    import atexit, signal, sys, time

    mode = sys.argv[3]
    # When the exit's wait for MemOS begins: after close() returned, after the answer (no
    # close()), or at Ctrl-C.
    since = {}
    START = {"close": "closed", "exit": "answered", "interrupt": "interrupted"}

    def report_exit():
        # Registered before langchain_memos is imported, so it runs after the package's exit
        # hook: it prints the seconds the exit spent on MemOS writes, timed here, where neither
        # the interpreter's start and teardown nor the test's reading of the pipe count.
        if mode in START:
            print(time.monotonic() - since.get(START[mode], float("nan")), flush=True)

    def interrupted(signum, frame):
        since["interrupted"] = time.monotonic()
        signal.default_int_handler(signum, frame)  # the KeyboardInterrupt Ctrl-C raises

    atexit.register(report_exit)
    signal.signal(signal.SIGINT, interrupted)
    from langchain.agents import create_agent
    from langchain_core.messages import HumanMessage
    from langchain_memos import MemOSClient
    from langchain_memos.middleware import MemOSMiddleware
    from tests.fakes import ScriptedChatModel

    base_url, outbox = sys.argv[1:3]
    bound = float(sys.argv[5]) if len(sys.argv) > 5 else None  # close(timeout=bound)
    # With a bound, a client that waits longer than it for an answer: a hung MemOS.
    client = MemOSClient(base_url=base_url, max_retries=1, timeout=2.0 if bound is None else 60.0)
    memory = MemOSMiddleware(client, outbox=outbox, timeout=0.5)
    if mode == "deliver":  # the next run: what the last one left is sent without a new turn
        print(memory.close(timeout=10.0), flush=True)
        sys.exit()
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
    config = {"configurable": {"user_id": "alice", "thread_id": "t1"}}
    result = agent.invoke({"messages": [HumanMessage(sys.argv[4])]}, config)
    print(result["messages"][-1].text, flush=True)
    since["answered"] = time.monotonic()
    if mode == "close":
        closed = memory.close()
        since["closed"] = time.monotonic()
        print(closed, since["closed"] - since["answered"], flush=True)
    elif mode == "interrupt":
        print("closing", flush=True)
        memory.close(timeout=bound)
    """
)


def start(base_url: str, outbox: Path, mode: str, *more: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", RUN, base_url, str(outbox), mode, QUESTION, *more],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def line(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    return child.stdout.readline().strip()


def finish(child: subprocess.Popen[str]) -> tuple[str, str]:
    """What ``child`` wrote to stdout (from now) and stderr, once it ended; a minute at most.

    How long its exit took is timed in the child (see ``RUN``): timed here it would count the
    interpreter's teardown and this process's turn on a loaded machine as well.
    """
    return child.communicate(timeout=60)


@pytest.fixture
def engine() -> Iterator[EmbeddedEngine]:
    engine = EmbeddedEngine(":memory:")
    yield engine
    engine.close()


def stored(engine: EmbeddedEngine) -> list[object]:
    with MemOSClient(embedded=engine) as local:
        found = local.get_message(user_id="alice", conversation_id="t1")
    return [message.content for message in found.message_detail_list]


def deliver_next_run(port: int, outbox: Path, engine: EmbeddedEngine) -> None:
    """A next run, with MemOS up on the port the last one pointed at, delivers the turn."""
    with FaultServer(engine, port=port) as server:
        child = start(server.base_url, outbox, "deliver")
        assert line(child) == "True"
        finish(child)
    assert stored(engine) == [QUESTION, ANSWER]
    assert Outbox(outbox).pending() == 0


@pytest.mark.parametrize("mode", ["close", "exit"])
def test_an_unreachable_memos_never_holds_up_close_or_exit(
    mode: str, tmp_path: Path, engine: EmbeddedEngine
) -> None:
    """``close()`` without a timeout, or a script that never calls it: over within the bound."""
    port, outbox = free_port(), tmp_path / "outbox.sqlite3"
    child = start(f"http://127.0.0.1:{port}{API_PREFIX}", outbox, mode)
    assert line(child) == ANSWER  # the turn is answered while MemOS is unreachable
    if mode == "close":
        closed, took = line(child).split()
        assert closed == "False"  # not delivered: said, not hidden
        assert float(took) < CLOSE_TIMEOUT + SLACK
        assert float(line(child)) < SLACK  # the exit does not wait again after close()
    else:
        assert float(line(child)) < CLOSE_TIMEOUT + SLACK  # the exit waits, but not for long
    _, stderr = finish(child)  # a hang fails here, at finish()'s own timeout
    assert child.returncode == 0
    assert "1 MemOS writes not delivered" in stderr
    assert f"kept in {outbox}" in stderr
    assert Outbox(outbox).pending() == 1

    deliver_next_run(port, outbox, engine)


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_during_close_ends_the_script_at_once(tmp_path: Path) -> None:
    port, outbox = free_port(), tmp_path / "outbox.sqlite3"
    child = start(f"http://127.0.0.1:{port}{API_PREFIX}", outbox, "interrupt")
    assert line(child) == ANSWER
    assert line(child) == "closing"
    time.sleep(0.5)  # inside close(), waiting for MemOS
    child.send_signal(signal.SIGINT)
    assert float(line(child)) < SLACK  # exit does not wait for the writes a second time
    _, stderr = finish(child)

    assert stderr.count("Traceback") == 1  # the main thread's KeyboardInterrupt, nothing more
    assert stderr.rstrip().endswith("KeyboardInterrupt")
    assert "1 MemOS writes not delivered when interrupted" in stderr
    assert Outbox(outbox).pending() == 1  # kept for the next run, as after close()


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs SIGINT")
def test_ctrl_c_during_a_long_close_against_a_hung_memos_ends_the_script_at_once(
    tmp_path: Path, engine: EmbeddedEngine
) -> None:
    """``close(timeout=20)``, MemOS took the write and never answers: Ctrl-C need not wait 20 s."""
    outbox = tmp_path / "outbox.sqlite3"
    with FaultServer(engine) as server:
        server.always("/add/message", Fault.slow(120))  # accepts, never answers
        child = start(server.base_url, outbox, "interrupt", "20")
        assert line(child) == ANSWER
        assert line(child) == "closing"
        assert server.wait_for("/add/message", 1, timeout=10)  # the write is in flight
        time.sleep(0.5)  # inside close(), waiting for MemOS
        child.send_signal(signal.SIGINT)
        # At once: not the rest of close()'s 20 s, nor the exit's own wait of CLOSE_TIMEOUT.
        assert float(line(child)) < SLACK
        _, stderr = finish(child)

    assert stderr.count("Traceback") == 1
    assert stderr.rstrip().endswith("KeyboardInterrupt")
    assert "1 MemOS writes not delivered when interrupted" in stderr
    left = Outbox(outbox)
    assert left.pending() == 1  # the write in flight is handed back, for the next run
    assert left.dead_letters() == []


# ---- many conversations, a slow MemOS ------------------------------------------------------


def test_conversations_are_sent_side_by_side_each_in_order(
    tmp_path: Path, engine: EmbeddedEngine
) -> None:
    """8 conversations of 3 turns against a MemOS that takes 0.3 s per write."""
    conversations, turns, answer_time = 8, 3, 0.3
    with FaultServer(engine) as server:
        server.always("/add/message", Fault.slow(answer_time))
        with MemOSClient(base_url=server.base_url, timeout=5.0) as client:
            writer = BackgroundWriter(client, outbox=Outbox(tmp_path / "o.db"))
            for turn in range(turns):
                for n in range(conversations):
                    writer.submit(
                        [HumanMessage(f"c{n} turn {turn}")],
                        user_id="alice",
                        conversation_id=f"c{n}",
                    )
            started = time.monotonic()
            assert writer.close(timeout=60)
            took = time.monotonic() - started
        arrivals = sorted(hit.at for hit in server.hits("/add/message"))

    serial = conversations * turns * answer_time  # 7.2 s, one write at a time
    assert took < serial
    # Sent side by side: writes arrived while another was still being answered.
    assert any(later - earlier < answer_time / 2 for earlier, later in pairwise(arrivals))
    for n in range(conversations):
        with MemOSClient(embedded=engine) as local:
            found = local.get_message(user_id="alice", conversation_id=f"c{n}")
        assert [m.content for m in found.message_detail_list] == [
            f"c{n} turn {turn}" for turn in range(turns)
        ]
