"""The durable outbox: persisted before sending, in order per conversation, retried, never lost."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langchain_memos import (
    DeadlineExceededError,
    MemOSChatMessageHistory,
    MemOSClient,
    MemOSError,
    MemOSInputError,
    OutboxFullError,
    WriteRefusedError,
)
from langchain_memos._writer import BackgroundWriter
from langchain_memos.outbox import Outbox, default_outbox_path, target_of
from langchain_memos.types import MessageInput
from tests.fakes import envelope

BASE_URL = "http://127.0.0.1:9/api/openmem/v1"  # never reached: a mock transport answers
KEY = "outbox-test-key-4f9c2a"


class FlakyMemOS:
    """A mock MemOS whose add/message answers ``status`` while ``down``; records what it took."""

    def __init__(self, status: int = 503) -> None:
        self.down = threading.Event()
        self.status = status
        self.accepted: list[tuple[str, str, list[str]]] = []
        self.attempts = 0
        self.refused = 0  # attempts answered with ``status``: counted once the answer is decided
        self.hold = threading.Event()
        self.hold.set()

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.attempts += 1
        self.hold.wait(10)
        if self.down.is_set():
            code = 40000 if self.status == 400 else 50000
            refusal: httpx.Response = envelope(None, code=code, message="no", status=self.status)
            self.refused += 1
            return refusal
        contents = [m["content"] for m in body["messages"]]
        self.accepted.append((body["user_id"], body["conversation_id"], contents))
        accepted: httpx.Response = envelope({"success": True, "task_id": "t"})
        return accepted

    def client(self, key: str = KEY) -> MemOSClient:
        transport = httpx.MockTransport(self.handler)
        return MemOSClient(
            base_url=BASE_URL,
            api_key=key,
            max_retries=0,
            http_client=httpx.Client(transport=transport),
        )


class Clock:
    """A wall clock the test moves forward by hand, so no test sleeps through a backoff or a lease.

    ``advance`` wakes the senders of the outboxes made with :meth:`outbox`, as the next second of
    real time would: they wait by this clock, and look again whenever their outbox changes.
    """

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.outboxes: list[Outbox] = []

    def __call__(self) -> float:
        return self.now

    def outbox(self, path: Path, **options: Any) -> Outbox:
        made = Outbox(path, clock=self, **options)
        self.outboxes.append(made)
        return made

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for outbox in self.outboxes:
            with outbox.changed:
                outbox.changed.notify_all()


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def submit(writer: BackgroundWriter, conversation: str, *texts: str) -> None:
    writer.submit([HumanMessage(t) for t in texts], user_id="u", conversation_id=conversation)


def test_writes_reach_memos_in_order_once_it_recovers(tmp_path: Path) -> None:
    memos = FlakyMemOS()
    memos.down.set()
    writer = BackgroundWriter(memos.client(), outbox=Outbox(tmp_path / "o.db", max_backoff=0.05))
    for n in range(5):
        submit(writer, "c", f"turn {n}")
    wait_until(lambda: memos.attempts >= 3)
    assert writer.pending == 5  # retried, none dropped, none sent out of turn
    memos.down.clear()
    assert writer.close(timeout=10)
    assert [texts for _, _, texts in memos.accepted] == [[f"turn {n}"] for n in range(5)]


def test_a_wall_clock_stepping_back_does_not_hold_a_write_for_the_step(tmp_path: Path) -> None:
    """A retry or a lease dated by the wall clock before it stepped back an hour (an NTP step,
    a VM resumed) is due now, not an hour later: no date is set farther ahead than the longest
    backoff or lease."""
    memos, clock = FlakyMemOS(), Clock()
    client, outbox = memos.client(), clock.outbox(tmp_path / "o.db")
    writer = BackgroundWriter(client, outbox=outbox)
    memos.down.set()
    submit(writer, "c", "first")
    # Refused, and its retry dated a second ahead (by the clock before the step).
    wait_until(lambda: 0 < (outbox.next_due(client.identity) or 0) <= 1)
    memos.down.clear()
    clock.advance(-3600)
    wait_until(lambda: len(memos.accepted) == 1)
    submit(writer, "c", "second")
    assert writer.close(timeout=10)
    assert [texts for _, _, texts in memos.accepted] == [["first"], ["second"]]


def test_another_processs_longer_lease_and_backoff_are_honoured(tmp_path: Path) -> None:
    """Processes sharing an outbox file may set lease and max_backoff otherwise: a lease or a
    retry dated by one is honoured by the other however far ahead, unless the clock has gone
    back since it was dated."""
    clock = Clock()
    slow, other = clock.outbox(tmp_path / "o.db", lease=300), clock.outbox(tmp_path / "o.db")
    slow.put("svc", "u", "c", [[{"role": "user", "content": "first"}]])
    held = slow.claim("svc")
    assert held is not None
    assert other.claim("svc") is None  # slow's lease runs 300 s
    slow.reschedule(held, "down", 500)  # a retry a longer max_backoff dated
    assert other.claim("svc") is None
    assert 499 < (other.next_due("svc") or 0) <= 500
    clock.advance(-60)  # the clock steps back
    assert other.next_due("svc") == 0
    assert other.claim("svc") is not None


def test_an_outbox_file_made_before_writes_were_dated_is_used(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL, "
        "user_id TEXT NOT NULL, conversation_id TEXT NOT NULL, body TEXT NOT NULL, "
        "created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
        "next_attempt_at REAL NOT NULL DEFAULT 0, lease_owner TEXT, lease_until REAL, "
        "last_error TEXT);"
        "INSERT INTO outbox (target, user_id, conversation_id, body, created_at) "
        """VALUES ('svc', 'u', 'c', '{"messages": [{"role": "user", "content": "hi"}]}', 1);"""
    )
    old.close()
    outbox = Outbox(path)
    row = outbox.claim("svc")
    assert row is not None
    assert row.body["messages"] == [{"role": "user", "content": "hi"}]
    outbox.close(0)


def test_a_conversation_in_backoff_does_not_hold_up_another(tmp_path: Path) -> None:
    memos, clock = FlakyMemOS(), Clock()
    writer = BackgroundWriter(memos.client(), outbox=clock.outbox(tmp_path / "o.db"))
    memos.down.set()
    submit(writer, "stuck", "first")
    # Refused, not only attempted: clearing ``down`` between the two would let "first" through.
    wait_until(lambda: memos.refused >= 1)
    memos.down.clear()  # "stuck" now waits out its first backoff (1 s), by the clock
    submit(writer, "other", "second")
    wait_until(lambda: len(memos.accepted) == 1)
    assert memos.accepted[0][1] == "other"
    # "stuck", still in its backoff ("other" leaves the outbox once its answer is read).
    wait_until(lambda: writer.pending == 1)
    assert len(memos.accepted) == 1  # not sent again before its backoff is over
    clock.advance(1)
    assert writer.close(timeout=10)
    assert [c for _, c, _ in memos.accepted] == ["other", "stuck"]


def test_a_refused_write_goes_to_the_dead_letters_and_can_be_requeued(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    memos = FlakyMemOS(status=400)
    outbox = Outbox(tmp_path / "o.db")
    writer = BackgroundWriter(memos.client(), outbox=outbox)
    memos.down.set()
    submit(writer, "c", "refused")
    assert writer.flush(timeout=10)  # not retried: it can never succeed
    assert memos.attempts == 1
    assert writer.failed == 1
    (letter,) = outbox.dead_letters()
    assert letter.messages[0]["content"] == "refused"
    assert "BadRequestError" in letter.error
    assert "kept in the outbox's dead letters" in caplog.text

    memos.down.clear()
    submit(writer, "c", "accepted")  # a refusal does not block the conversation
    assert writer.flush(timeout=10)
    assert outbox.requeue() == 1
    assert writer.close(timeout=10)
    assert [texts for _, _, texts in memos.accepted] == [["accepted"], ["refused"]]
    assert outbox.dead_letters() == []


CHILD = textwrap.dedent(
    """
    import sys, threading, httpx
    from langchain_core.messages import HumanMessage
    from langchain_memos import MemOSClient
    from langchain_memos._writer import BackgroundWriter
    from langchain_memos.outbox import Outbox

    sending = threading.Event()

    def hang(request):  # MemOS never answers: the first write is in flight when we are killed
        sending.set()
        threading.Event().wait()

    client = MemOSClient(base_url=sys.argv[2], api_key=sys.argv[3], max_retries=0,
                         http_client=httpx.Client(transport=httpx.MockTransport(hang)))
    writer = BackgroundWriter(client, outbox=Outbox(sys.argv[1], lease=float(sys.argv[4])))
    for n in range(3):
        writer.submit([HumanMessage(f"turn {n}")], user_id="u", conversation_id="c")
    sending.wait()
    print("sending", flush=True)
    sys.stdin.read()  # until killed
    """
)


def killed_while_sending(path: Path, lease: float = 30) -> None:
    """A process that commits three turns to the outbox at ``path`` is killed while it sends the
    first (holding its lease of ``lease`` seconds)."""
    with subprocess.Popen(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", CHILD, str(path), BASE_URL, KEY, str(lease)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "sending"  # holding the lease of turn 0
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_writes_survive_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    killed_while_sending(path)

    memos = FlakyMemOS()  # the next run, with MemOS back
    writer = BackgroundWriter(memos.client(), outbox=Outbox(path))
    # Delivered without a new submit, and without waiting out the dead process's lease.
    assert writer.flush(timeout=10)
    assert [texts for _, _, texts in memos.accepted] == [["turn 0"], ["turn 1"], ["turn 2"]]
    writer.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_running_process_takes_a_killed_ones_writes_without_waiting_out_its_lease(
    tmp_path: Path,
) -> None:
    """Dead leases were freed only when an outbox was opened: one already open waited out the
    30 s lease, and the conversation's later writes behind it (a crash red team). A lease is
    freed once its holder is gone and it was not renewed for half of it: a live sender whose
    pid this process cannot see (another container with the host's name) renews every third."""
    path = tmp_path / "o.db"
    memos = FlakyMemOS()
    writer = BackgroundWriter(memos.client(), outbox=Outbox(path))  # open before the kill
    submit(writer, "c0", "first")
    assert writer.flush(timeout=10)
    killed_while_sending(path, lease=4)  # freed once not renewed for half of it, 2 s
    assert writer.flush(timeout=3.5)  # before the lease ran out
    assert [texts for _, _, texts in memos.accepted][1:] == [["turn 0"], ["turn 1"], ["turn 2"]]
    writer.close()


def test_writes_wait_for_a_client_of_their_own_service_and_key(tmp_path: Path) -> None:
    path, clock = tmp_path / "o.db", Clock()
    memos = FlakyMemOS()
    memos.down.set()
    writer = BackgroundWriter(memos.client(), outbox=clock.outbox(path))
    submit(writer, "c", "for project A")
    assert not writer.close(timeout=0.2)

    other = FlakyMemOS()  # a client of another project: not its write
    elsewhere = BackgroundWriter(other.client(key="another-key"), outbox=clock.outbox(path))
    assert elsewhere.close(1)
    assert other.accepted == []
    memos.down.clear()
    clock.advance(1)  # past the write's backoff
    assert BackgroundWriter(memos.client(), outbox=clock.outbox(path)).close(timeout=10)
    assert memos.accepted == [("u", "c", ["for project A"])]
    assert KEY.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


def test_two_processes_sharing_an_outbox_never_reorder_a_conversation(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    memos = FlakyMemOS()
    memos.hold.clear()  # every send blocks until released
    first = BackgroundWriter(memos.client(), outbox=Outbox(path))
    second = BackgroundWriter(memos.client(), outbox=Outbox(path))  # as if another process
    submit(first, "c", "a")
    submit(second, "c", "b")
    second.sender.start()
    time.sleep(0.3)  # both senders look for work while "a" is in flight
    assert memos.attempts == 1
    memos.hold.set()
    assert first.close(timeout=10)
    assert second.close(timeout=10)
    assert [texts for _, _, texts in memos.accepted] == [["a"], ["b"]]


def test_history_with_an_outbox_returns_at_once_and_waits_only_if_asked(tmp_path: Path) -> None:
    memos = FlakyMemOS()
    memos.down.set()
    client = memos.client()
    outbox = Outbox(tmp_path / "o.db", max_backoff=0.05)
    history = MemOSChatMessageHistory("u", "c", client=client, outbox=outbox)
    history.add_messages([HumanMessage("hi"), AIMessage("hello")])  # MemOS is down: no error
    assert not history.flush(timeout=0.1)

    waiting = MemOSChatMessageHistory(
        "u", "c", client=client, outbox=outbox, wait=True, wait_timeout=0.2
    )
    with pytest.raises(DeadlineExceededError, match="stay in the outbox"):
        waiting.add_messages([HumanMessage("still down?")])

    memos.down.clear()
    assert history.flush(timeout=10)
    assert [texts for _, _, texts in memos.accepted] == [["hi", "hello"], ["still down?"]]
    outbox.close()


def test_history_wait_reports_a_refusal(tmp_path: Path) -> None:
    memos = FlakyMemOS(status=400)
    memos.down.set()
    outbox = Outbox(tmp_path / "o.db")
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox, wait=True)
    with pytest.raises(WriteRefusedError, match="refused") as caught:
        history.add_messages([HumanMessage("bad")])
    assert isinstance(caught.value, MemOSError)
    (letter,) = outbox.dead_letters()
    assert caught.value.seqs == [letter.seq]
    assert caught.value.errors == [letter.error]
    assert "BadRequestError" in letter.error

    memos.down.clear()  # fixed on the service's side: the error says how to send them again
    assert outbox.requeue(caught.value.seqs) == 1
    assert history.flush(timeout=10)
    assert memos.accepted == [("u", "c", ["bad"])]
    outbox.close()


def test_a_full_outbox_raises_its_own_error_and_stores_nothing(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", max_pending=2)
    write: list[MessageInput] = [{"role": "user", "content": "waiting"}]
    outbox.put("t", "u", "c", [write, write])
    started = time.monotonic()
    with pytest.raises(OutboxFullError, match="holds 2 unsent writes") as caught:
        outbox.put("t", "u", "c", [write], timeout=0.05)
    assert time.monotonic() - started < 5
    assert isinstance(caught.value, MemOSError)
    assert isinstance(caught.value, TimeoutError)  # what put raised before it had a type
    assert outbox.pending() == 2
    outbox.put("another service", "u", "c", [write], timeout=0)  # its room is its own
    outbox.close()


def test_put_refuses_what_add_message_would_refuse_and_stores_nothing(tmp_path: Path) -> None:
    # Before, these were committed, then refused at send time into the dead letters.
    outbox = Outbox(tmp_path / "o.db")
    ok: list[MessageInput] = [{"role": "user", "content": "fine"}]
    too_long: list[MessageInput] = [{"role": "user", "content": "x" * 200_000}]
    with pytest.raises(MemOSInputError, match="tags must be a list of strings"):
        outbox.put("t", "u", "c", [ok], {"tags": "abc"})
    with pytest.raises(MemOSInputError, match="conversation_id is 101 characters long"):
        outbox.put("t", "u", "c" * 101, [ok])
    with pytest.raises(MemOSInputError, match="one request takes at most 40,000"):
        outbox.put("t", "u", "c", [ok, too_long])  # the good batch is not stored either
    assert outbox.pending() == 0
    assert not (tmp_path / "o.db").exists()  # refused before the database was touched


def test_the_default_outbox_is_a_file_for_a_service_and_memory_for_the_engine(
    tmp_path: Path,
) -> None:
    assert default_outbox_path() == tmp_path / "outbox.sqlite3"  # tests/conftest.py sets it
    service = BackgroundWriter(FlakyMemOS().client())
    assert service.outbox.path == str(tmp_path / "outbox.sqlite3")
    engine = BackgroundWriter(MemOSClient(embedded=":memory:"))
    assert engine.outbox.path == ":memory:"
    assert target_of(FlakyMemOS().client()) != target_of(FlakyMemOS().client(key="other-key"))
    service.close()
    engine.close()


def test_closed_writers_leave_no_thread_behind(tmp_path: Path) -> None:
    def senders() -> int:
        return sum(t.name == "memos-outbox" and t.is_alive() for t in threading.enumerate())

    before = senders()
    memos = FlakyMemOS()
    for n in range(20):
        writer = BackgroundWriter(memos.client(), outbox=tmp_path / f"o{n}.db")
        submit(writer, "c", f"turn {n}")
        assert writer.close(timeout=10)
    assert len(memos.accepted) == 20
    wait_until(lambda: senders() == before, timeout=5)


# ---- shutdown ------------------------------------------------------------------------------


@pytest.fixture
def close_bound(monkeypatch: pytest.MonkeyPatch) -> float:
    """A short default close bound, so the tests need not wait out the real one."""
    bound = 0.3
    monkeypatch.setattr("langchain_memos._outbox_sender.CLOSE_TIMEOUT", bound)
    return bound


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("where", ["file", "memory"])
def test_close_gives_up_after_its_bound_and_says_where_the_writes_are(
    where: str, tmp_path: Path, close_bound: float, caplog: pytest.LogCaptureFixture
) -> None:
    memos = FlakyMemOS()
    memos.down.set()  # MemOS never takes a write: without a bound, close() would wait forever
    path = str(tmp_path / "o.db") if where == "file" else ":memory:"
    writer = BackgroundWriter(memos.client(), outbox=path)
    submit(writer, "c", "one")
    submit(writer, "c", "two")
    started = time.monotonic()
    assert writer.close() is False
    assert time.monotonic() - started < close_bound + 5  # bounded; the slack is for slow CI
    [warning] = [w for w in warnings_of(caplog) if "writes not delivered" in w]
    assert "2 MemOS writes not delivered" in warning
    if where == "file":
        assert path in warning
        assert "next run" in warning
        assert Outbox(path).pending() == 2  # still there for that next run
    else:
        assert "lost" in warning


def test_the_exit_hook_shares_one_bound_among_the_writers_nobody_closed(
    tmp_path: Path, close_bound: float, caplog: pytest.LogCaptureFixture
) -> None:
    from langchain_memos._outbox_sender import _close_at_exit

    memos = FlakyMemOS()
    memos.down.set()
    writers = [BackgroundWriter(memos.client(), outbox=tmp_path / f"o{n}.db") for n in range(4)]
    for writer in writers:
        submit(writer, "c", "unsent")
    started = time.monotonic()
    _close_at_exit()
    assert time.monotonic() - started < close_bound + 5  # not 4 x the bound, nor 4 x 10 s
    kept = [w for w in warnings_of(caplog) if "1 MemOS writes not delivered" in w]
    assert len(kept) == 4
    with pytest.raises(MemOSInputError, match="closed"):
        submit(writers[0], "c", "after exit")


def test_history_close_delivers_within_its_bound_and_keeps_the_rest(
    tmp_path: Path, close_bound: float, caplog: pytest.LogCaptureFixture
) -> None:
    memos = FlakyMemOS()
    outbox = Outbox(tmp_path / "o.db")
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox)
    history.add_messages([HumanMessage("delivered")])
    assert history.close() is True
    assert memos.accepted == [("u", "c", ["delivered"])]

    memos.down.set()
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox)
    history.add_messages([HumanMessage("kept")])
    started = time.monotonic()
    assert history.close() is False
    assert time.monotonic() - started < close_bound + 5
    assert any("1 MemOS writes not delivered" in w for w in warnings_of(caplog))
    assert outbox.pending() == 1
    outbox.close()


@pytest.mark.parametrize("where", ["file", "memory"])
def test_the_exit_hook_waits_for_a_history_nobody_closed(
    tmp_path: Path, where: str, close_bound: float, caplog: pytest.LogCaptureFixture
) -> None:
    """A script that ends without ``history.close()``: its outbox's writes are waited for."""
    from langchain_memos._outbox_sender import _close_at_exit

    memos = FlakyMemOS()
    memos.hold.clear()  # MemOS answers only once the script has ended
    outbox = Outbox(tmp_path / "o.db" if where == "file" else ":memory:")
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox)
    history.add_messages([HumanMessage("said just before the end")])
    threading.Timer(0.1, memos.hold.set).start()
    started = time.monotonic()
    _close_at_exit()
    assert time.monotonic() - started < close_bound + 5
    assert memos.accepted == [("u", "c", ["said just before the end"])]
    assert outbox.pending() == 0

    memos.down.set()
    history.add_messages([HumanMessage("never delivered")])
    _close_at_exit()
    assert any("1 MemOS writes not delivered" in w for w in warnings_of(caplog))
    outbox.close()


def test_writes_left_under_a_rotated_key_are_said_and_can_be_handed_to_the_new_one(
    tmp_path: Path, close_bound: float, caplog: pytest.LogCaptureFixture
) -> None:
    memos, clock = FlakyMemOS(), Clock()
    memos.down.set()  # the old key is refused: the turns wait
    old = BackgroundWriter(memos.client("old-key"), outbox=clock.outbox(tmp_path / "o.db"))
    submit(old, "c", "under the old key", "and another")
    assert old.close() is False
    memos.down.clear()
    clock.advance(60)  # the next run, with the new key

    outbox = clock.outbox(tmp_path / "o.db")
    new = BackgroundWriter(memos.client("new-key"), outbox=outbox)
    said = [w for w in warnings_of(caplog) if "have waited for another service or API key" in w]
    assert said == [
        f"1 MemOS writes in the outbox at {tmp_path / 'o.db'} have waited for another service or "
        "API key than this client's (a rotated key, another base URL, or another database of the "
        "embedded engine); only a client of theirs sends them, or Outbox.adopt(client) hands "
        "them to this one"
    ]
    submit(new, "c", "under the new key")
    assert new.flush(timeout=10)
    assert memos.accepted == [("u", "c", ["under the new key"])]
    assert outbox.pending() == 1  # not sent under a key it was not written for

    assert outbox.adopt(new.client) == 1
    assert new.close(timeout=10)
    assert memos.accepted[1:] == [("u", "c", ["under the old key", "and another"])]
    assert outbox.pending() == 0


def test_an_outbox_file_deleted_while_in_use_is_said_not_trusted(
    tmp_path: Path, close_bound: float, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite goes on writing to a deleted file (a cache cleaner took the directory): what it
    holds ends with the process, so a new write is refused and what waits is said lost."""
    import shutil

    from langchain_memos.outbox import OutboxError

    memos = FlakyMemOS()
    memos.down.set()
    folder = tmp_path / "cache"
    folder.mkdir()
    outbox = Outbox(folder / "o.db")
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox)
    history.add_messages([HumanMessage("before")])
    shutil.rmtree(folder)
    with pytest.raises(OutboxError, match="was deleted or replaced while in use"):
        history.add_messages([HumanMessage("after")])
    assert history.close() is False
    said = [w for w in warnings_of(caplog) if "not delivered" in w]
    gone = folder / "o.db"
    assert said[-1].endswith(
        f"lost with the process: the outbox file {gone} was deleted while in use"
    )


# ---- files and arguments -------------------------------------------------------------------


def test_no_file_is_created_until_a_turn_is_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="langchain_memos")
    path = default_outbox_path()  # in tmp_path: tests/conftest.py
    writer = BackgroundWriter(FlakyMemOS().client())
    assert writer.pending == 0
    assert writer.outbox.dead_letters() == []
    assert not path.exists()
    assert not path.parent.exists() or list(path.parent.iterdir()) == []

    submit(writer, "c", "first")
    submit(writer, "c", "second")
    assert path.exists()
    opened = [r.getMessage() for r in caplog.records if "outbox at" in r.getMessage()]
    assert opened == [f"MemOS writes wait in the outbox at {path} until MemOS takes them"]
    assert writer.close(timeout=10)


def test_making_and_reading_an_outbox_touches_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As langgraph's ``SqliteSaver``: the constructor stores its arguments, the first write
    creates the database, and reading one that does not exist finds nothing waiting."""
    opened: list[object] = []
    monkeypatch.setattr(sqlite3, "connect", lambda *args, **kwargs: opened.append(args))
    path = tmp_path / "not-yet.db"
    outbox = Outbox(path, clock=Clock())
    assert outbox.pending() == 0
    assert outbox.dead_letters() == []
    assert outbox.outcome([1]) == (0, {})
    assert outbox.next_due("t") is None
    assert outbox.claim("t") is None
    outbox.renew("t")
    sender = outbox.sender(FlakyMemOS().client())
    sender.resume()  # nothing waits: no thread either
    assert sender.wait(None, timeout=0)
    outbox.close()
    assert opened == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [123, None, 1.5, b"o.db", ""])
def test_an_outbox_path_that_is_not_a_path_is_refused_and_creates_nothing(
    bad: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MemOSInputError, match="path"):
        Outbox(bad)  # type: ignore[arg-type]
    if bad is not None:  # outbox=None is the default outbox
        with pytest.raises(MemOSInputError, match="outbox"):
            BackgroundWriter(FlakyMemOS().client(), outbox=bad)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["lease", "max_backoff"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0])
def test_lease_and_backoff_must_be_finite_positive_seconds(option: str, value: float) -> None:
    options: dict[str, Any] = {option: value}
    with pytest.raises(MemOSInputError, match=option):
        Outbox(**options)


@pytest.mark.parametrize("where", ["/dev/null/outbox.db", "{file}/outbox.db", "{dir}"])
def test_an_outbox_where_no_file_can_be_made_is_refused_naming_the_path(
    where: str, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a directory")
    path = where.format(file=tmp_path / "file", dir=tmp_path)
    with pytest.raises(MemOSInputError, match=path.split("/")[-2]):
        Outbox(path)


# ---- the sender never gives up on its conversations ----------------------------------------


def errors_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


def test_a_write_that_cannot_be_sent_is_dead_lettered_and_the_conversation_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    memos = FlakyMemOS()
    client = memos.client()
    outbox = Outbox(tmp_path / "o.db")
    # As if an older version had committed a text no request can carry (a lone surrogate):
    # put refuses it now, so it is written behind the outbox's back.
    unsendable: list[MessageInput] = [{"role": "user", "content": "bad \ud800 text"}]
    (seq,) = outbox.put(target_of(client), "u", "c", [[{"role": "user", "content": "ok"}]])
    with contextlib.closing(sqlite3.connect(tmp_path / "o.db")) as db, db:
        body = json.dumps({"messages": unsendable})
        db.execute("UPDATE outbox SET body = ? WHERE seq = ?", (body, seq))
    writer = BackgroundWriter(client, outbox=outbox)
    submit(writer, "c", "after it")
    assert writer.flush(timeout=10)  # not retried forever, not blocking "after it"
    assert memos.accepted == [("u", "c", ["after it"])]
    (letter,) = outbox.dead_letters()
    assert letter.messages == unsendable
    assert writer.failed == 1
    assert any("kept in the outbox's dead letters" in e for e in errors_of(caplog))
    writer.close()


def test_a_write_retried_a_thousand_times_is_still_retried(tmp_path: Path) -> None:
    memos = FlakyMemOS()
    memos.down.set()
    path = tmp_path / "o.db"
    outbox = Outbox(path, max_backoff=0.05)
    outbox.put(target_of(memos.client()), "u", "c", [[{"role": "user", "content": "old"}]])
    with sqlite3.connect(path) as db:  # a very long outage: 2.0**1024 would overflow
        db.execute("UPDATE outbox SET attempts = 1024")
    writer = BackgroundWriter(memos.client(), outbox=outbox)
    wait_until(lambda: memos.attempts >= 2)  # the sender survived its backoff computation
    memos.down.clear()
    assert writer.close(timeout=10)
    assert memos.accepted == [("u", "c", ["old"])]


def test_the_sender_survives_a_failure_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    memos = FlakyMemOS()
    outbox = Outbox(tmp_path / "o.db")
    claim = outbox.claim
    failures = iter([RuntimeError("a bug in the sender")])

    def flaky_claim(target: str) -> Any:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return claim(target)

    monkeypatch.setattr(outbox, "claim", flaky_claim)
    monkeypatch.setattr("langchain_memos._outbox_sender.IDLE_POLL", 0.05)
    writer = BackgroundWriter(memos.client(), outbox=outbox)
    submit(writer, "c", "delivered anyway")
    assert writer.close(timeout=10)
    assert memos.accepted == [("u", "c", ["delivered anyway"])]
    assert any("a bug in the sender" in e for e in errors_of(caplog))


@pytest.mark.parametrize("how", ["flush", "construction"])
def test_a_restarted_history_delivers_what_the_last_run_left(how: str, tmp_path: Path) -> None:
    memos = FlakyMemOS()
    path = tmp_path / "o.db"
    left = Outbox(path)  # the last run committed a write, then ended before sending it
    left.put(target_of(memos.client()), "u", "c", [[{"role": "user", "content": "left"}]])
    left.close()

    outbox = Outbox(path)
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox)
    if how == "flush":
        assert history.flush(timeout=10)
    else:
        wait_until(lambda: len(memos.accepted) == 1)
    assert memos.accepted == [("u", "c", ["left"])]
    outbox.close()


@pytest.mark.parametrize("status", [400, 404, 413])
def test_a_proxy_error_page_is_an_outage_not_a_refusal(status: int, tmp_path: Path) -> None:
    """Only MemOS's own envelope may refuse a write for good; a gateway's page is retried."""
    pages = iter([status, status])

    def gateway_then_memos(request: httpx.Request) -> httpx.Response:
        page = next(pages, None)
        if page is not None:
            return httpx.Response(page, html=f"<html><h1>{page}</h1>nginx</html>")
        ok: httpx.Response = envelope({"success": True, "task_id": "t"})
        return ok

    client = MemOSClient(
        base_url=BASE_URL,
        api_key=KEY,
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(gateway_then_memos)),
    )
    outbox = Outbox(tmp_path / "o.db", max_backoff=0.05)
    writer = BackgroundWriter(client, outbox=outbox)
    submit(writer, "c", "kept")
    assert writer.flush(timeout=10)
    assert outbox.dead_letters() == []
    assert writer.failed == 0
    writer.close()


# ---- a full disk ---------------------------------------------------------------------------


def fill_the_disk(outbox: Outbox) -> None:
    """Let ``outbox``'s database grow no more, as a full disk would (SQLITE_FULL)."""
    outbox.put("another service", "u", "c", [[{"role": "user", "content": "seed"}]])
    db = outbox._connect(create=True)
    assert db is not None
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")


@pytest.mark.parametrize("fail_open", [True, False])
def test_a_full_disk_costs_a_turn_its_memory_not_its_answer(
    fail_open: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from langchain.agents import create_agent

    from langchain_memos.middleware import MemOSMiddleware
    from langchain_memos.outbox import OutboxError
    from tests.fakes import ScriptedChatModel

    outbox = Outbox(tmp_path / "o.db")
    fill_the_disk(outbox)
    memory = MemOSMiddleware(MemOSClient(embedded=":memory:"), outbox=outbox, fail_open=fail_open)
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
    turn: Any = {"messages": [HumanMessage("a long question " * 1_000)]}
    config: Any = {"configurable": {"user_id": "u", "thread_id": "c"}}
    if not fail_open:
        with pytest.raises(OutboxError, match="database or disk is full"):
            agent.invoke(turn, config)
        return
    result = agent.invoke(turn, config)
    assert result["messages"][-1].text == "Here is your answer."
    assert memory.memory.writer is not None
    assert memory.memory.writer.not_stored == 2
    [error] = [e for e in errors_of(caplog) if "not stored" in e]
    assert "2 messages of user u not stored" in error
    assert "database or disk is full" in error
    assert str(tmp_path / "o.db") in error
    memory.close(timeout=1)


class FullOnRelease:
    """An outbox's connection on a disk that filled after its writes were leased: releasing
    the leases (an UPDATE) fails with SQLITE_FULL, as it does on a full tmpfs."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("UPDATE outbox SET lease_owner = NULL"):
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_closing_on_a_full_disk_warns_and_keeps_the_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Shutdown is bounded and raises nothing raw: a close that cannot release its leases
    (a full disk) leaves them to expire, says so, and the writes wait in the file (before,
    history.close() and Outbox.close() raised sqlite3.OperationalError)."""
    memos = FlakyMemOS()
    memos.down.set()
    outbox = Outbox(tmp_path / "o.db", clock=Clock())
    history = MemOSChatMessageHistory("u", "c", client=memos.client(), outbox=outbox)
    history.add_messages([HumanMessage("I like tea.")])
    wait_until(lambda: memos.refused >= 1)
    assert outbox._db is not None
    outbox._db = FullOnRelease(outbox._db)  # type: ignore[assignment]
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    assert history.close(timeout=1) is False
    outbox.close(timeout=1)
    assert "could not release this process's leases (database or disk is full)" in caplog.text
    assert Outbox(tmp_path / "o.db").pending() == 1


# ---- leases --------------------------------------------------------------------------------


def left_in_flight(path: Path, client: MemOSClient, owner: str, clock: Clock) -> None:
    """A write another process claimed (its send in flight) when it died."""
    gone = Outbox(path, clock=clock)
    gone.put(target_of(client), "u", "c", [[{"role": "user", "content": "in flight"}]])
    gone.owner = owner
    assert gone.claim(target_of(client)) is not None


def test_a_restarted_container_takes_over_its_own_old_leases_at_once(tmp_path: Path) -> None:
    """Same host, same pid (pid 1 in a container), but an earlier process: certainly gone."""
    memos, clock, path = FlakyMemOS(), Clock(), tmp_path / "o.db"
    earlier = f"{socket.gethostname()}:{os.getpid()}:0123456789ab:cafe"
    left_in_flight(path, memos.client(), earlier, clock)
    writer = BackgroundWriter(memos.client(), outbox=Outbox(path, clock=clock))
    assert writer.close(timeout=10)  # no lease to wait out
    assert memos.accepted == [("u", "c", ["in flight"])]


def test_a_lease_of_a_process_on_another_host_expires_within_a_minute(tmp_path: Path) -> None:
    memos, clock, path = FlakyMemOS(), Clock(), tmp_path / "o.db"
    left_in_flight(path, memos.client(), "another-host:4242:0123456789ab:cafe", clock)
    writer = BackgroundWriter(memos.client(), outbox=clock.outbox(path))
    assert not writer.flush(timeout=0.2)  # it may still be sending: its lease is respected
    clock.advance(60)
    assert writer.close(timeout=10)
    assert memos.accepted == [("u", "c", ["in flight"])]


def test_a_send_longer_than_the_lease_keeps_it(tmp_path: Path) -> None:
    memos, path, clock = FlakyMemOS(), tmp_path / "o.db", Clock()
    memos.hold.clear()  # the send hangs for longer than three leases (30 s each)
    first = BackgroundWriter(memos.client(), outbox=clock.outbox(path))
    submit(first, "c", "slow")
    wait_until(lambda: memos.attempts == 1)
    second = BackgroundWriter(memos.client(), outbox=clock.outbox(path))  # another sender
    second.sender.start()

    def lease_left() -> float:
        with contextlib.closing(sqlite3.connect(path)) as db:
            row = db.execute("SELECT lease_until FROM outbox").fetchone()
        assert row is not None, "the lease lapsed: the other sender took the write and sent it"
        return float(row[0]) - clock.now

    for _ in range(10):  # 100 s: the lease is renewed every 10 s of the clock
        clock.advance(10)
        wait_until(lambda: lease_left() > 25)
    assert memos.attempts == 1  # renewed while it ran: not taken over, not sent twice
    memos.hold.set()
    assert first.close(timeout=10)
    assert second.close(timeout=10)
    assert memos.accepted == [("u", "c", ["slow"])]


def test_a_write_for_one_embedded_database_waits_for_it_in_a_shared_outbox(
    tmp_path: Path,
) -> None:
    """Every embedded client had one identity, whatever its file: a write left waiting for
    a.db was delivered into b.db by the next application sharing the outbox (a red team)."""
    from langchain_memos.chat_message_histories import MemOSChatMessageHistory

    a, b = (
        MemOSClient(embedded=str(tmp_path / "a.db")),
        MemOSClient(embedded=str(tmp_path / "b.db")),
    )
    assert a.identity != b.identity
    assert a.identity == MemOSClient(embedded=str(tmp_path / "a.db")).identity  # the same file
    outbox = Outbox(tmp_path / "outbox.db")
    said: list[MessageInput] = [{"role": "user", "content": "for database A only"}]
    outbox.put(target_of(a), "alice", "c1", [said])  # left by a process that died

    other = MemOSChatMessageHistory("bob", "c9", client=b, outbox=outbox)
    assert other.close(timeout=10)
    assert outbox.pending() == 1
    assert b.get_message(user_id="alice", conversation_id="c1").message_detail_list == []

    assert outbox.adopt(b) == 0  # not even when asked: only a client of a.db sends it
    own = MemOSChatMessageHistory("alice", "c1", client=a, outbox=outbox)
    own.outbox.sender(a).resume()  # type: ignore[union-attr]
    assert own.close(timeout=10)
    stored = a.get_message(user_id="alice", conversation_id="c1").message_detail_list
    assert [m.content for m in stored] == ["for database A only"]


def test_a_lease_renewed_lately_is_kept_though_its_pid_is_not_seen(tmp_path: Path) -> None:
    """A process of another pid namespace (a container sharing the host's name) looks gone to
    this one; while it renews its lease, its write is not taken from it (sent twice)."""
    outbox = Outbox(tmp_path / "o.db")
    outbox.put("svc", "u", "c", [[{"role": "user", "content": "in flight elsewhere"}]])
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    owner = f"{socket.gethostname()}:{gone.stdout.strip()}:other:holder"
    db = sqlite3.connect(tmp_path / "o.db")
    now = time.time()
    db.execute(
        "UPDATE outbox SET lease_owner = ?, lease_until = ?, dated_at = ?", (owner, now + 30, now)
    )
    db.commit()
    outbox.release_dead_leases()
    assert db.execute("SELECT lease_owner FROM outbox").fetchone()[0] == owner
    db.execute("UPDATE outbox SET dated_at = ?, lease_until = ?", (now - 20, now + 10))
    db.commit()
    outbox.release_dead_leases()  # not renewed for over half its lease: its holder is gone
    assert db.execute("SELECT lease_owner FROM outbox").fetchone()[0] is None
    db.close()
    outbox.close()


def test_an_outbox_opened_by_a_relative_path_takes_writes_after_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its file was looked for at the relative path from the new directory and taken for
    deleted: every later write refused (the engine's twin, found by a review)."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    outbox = Outbox("o.db")
    said: list[MessageInput] = [{"role": "user", "content": "first"}]
    outbox.put("svc", "u", "c", [said])
    monkeypatch.chdir(tmp_path / "elsewhere")
    outbox.put("svc", "u", "c", [said])
    assert outbox.pending() == 2
    outbox.close()
