"""Two engines on one database file, as two processes (two ``serve`` workers, an app and an admin
script) share it: what one deletes and writes never makes the other show or change another
user's memories. SQLite gives a deleted newest row's number to the next row written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from langchain_memos import ConfigurationError, MemOSClient, MemOSError
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._fine import Extraction
from langchain_memos.embedded._refine import Refiner
from langchain_memos.embedded._writer import Writer
from tests.fakes import ScriptedChatModel
from tests.unit_tests.test_embedded_vectors import ConceptEmbeddings


def client(path: Path, embeddings: Embeddings | None = None) -> MemOSClient:
    return MemOSClient(embedded=EmbeddedEngine(str(path), embeddings=embeddings), max_retries=0)


def add(memos: MemOSClient, user: str, text: str) -> None:
    memos.add_message([{"role": "user", "content": text}], user_id=user, async_mode=False)


def found(memos: MemOSClient, user: str, query: str) -> list[str | None]:
    answer = memos.search_memory(query, user_id=user, relativity=0, include_preference=False)
    return [m.memory_value for m in answer.memory_detail_list]


def test_vectors_kept_in_memory_never_name_another_users_memory(tmp_path: Path) -> None:
    path = tmp_path / "memos.db"
    first = client(path, DeterministicFakeEmbedding(size=16))
    add(first, "alice", "My favourite colour is teal.")
    assert found(first, "alice", "colour") == ["[user viewpoint] My favourite colour is teal."]
    second = client(path)
    second.delete_memory(user_id="alice")
    add(second, "bob", "Bob's bank password is hunter2.")  # in the row alice's memory had

    assert found(first, "alice", "colour") == []
    assert found(first, "bob", "password") == ["[user viewpoint] Bob's bank password is hunter2."]


def by_meaning(memos: MemOSClient) -> list[str | None]:
    """alice's facts for a word no memory holds: vectors alone find them (default threshold)."""
    answer = memos.search_memory("What about the excursion?", user_id="alice")
    return [m.memory_value for m in answer.memory_detail_list]


def test_what_another_process_adds_is_found_by_its_meaning_at_once(tmp_path: Path) -> None:
    path = tmp_path / "memos.db"
    first, second = client(path, ConceptEmbeddings()), client(path, ConceptEmbeddings())
    add(first, "alice", "I ordered spicy noodles for dinner.")
    assert by_meaning(first) == []  # this engine has read the vectors now

    add(second, "alice", "We plan a vacation with the kids and grandparents.")
    add(first, "alice", "The printer on the third floor is broken.")  # a write of its own after
    assert by_meaning(first) == [
        "[user viewpoint] We plan a vacation with the kids and grandparents."
    ]
    add(second, "alice", "Our holiday starts on Friday.")
    assert len(by_meaning(first)) == 2


def test_what_another_process_rewrites_or_writes_in_a_freed_row_is_found_by_its_meaning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "memos.db"
    first, second = client(path, ConceptEmbeddings()), client(path, ConceptEmbeddings())
    add(second, "alice", "I ordered spicy noodles for dinner.")
    assert by_meaning(first) == []  # this engine has read the vectors now

    # The newest row deleted, and its number given to the next memory.
    second.delete_memory(user_id="alice")
    add(second, "alice", "We plan a vacation with the kids and grandparents.")
    assert by_meaning(first) == [
        "[user viewpoint] We plan a vacation with the kids and grandparents."
    ]

    (memory,) = second.get_memory(user_id="alice").memory_detail_list
    second.update_memory(memory.id or "", content="Spicy hotpot for dinner tonight.")
    assert by_meaning(first) == []  # its old meaning is gone here too
    second.update_memory(memory.id or "", content="A journey to the coast is planned.")
    assert by_meaning(first) == ["A journey to the coast is planned."]
    assert by_meaning(second) == by_meaning(first)


def test_an_edit_by_an_engine_without_embeddings_leaves_no_old_meaning(tmp_path: Path) -> None:
    path = tmp_path / "memos.db"
    first, lexical = client(path, ConceptEmbeddings()), client(path)
    add(first, "alice", "We plan a vacation with the kids and grandparents.")
    assert len(by_meaning(first)) == 1
    (memory,) = lexical.get_memory(user_id="alice").memory_detail_list
    lexical.update_memory(memory.id or "", content="Spicy hotpot for dinner tonight.")
    assert by_meaning(first) == []
    assert by_meaning(client(path, ConceptEmbeddings())) == []  # nor in an engine opened now


ROOT = Path(__file__).resolve().parents[2]
# Another process: adds a memory of alice's (unless given none), prints how many she has, exits.
OTHER_PROCESS = """
import sys
from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
engine = EmbeddedEngine(sys.argv[1])
memos = MemOSClient(embedded=engine)
if len(sys.argv) > 2:
    memos.add_message([{"role": "user", "content": sys.argv[2]}], user_id="alice", async_mode=False)
print(len(memos.get_memory(user_id="alice").memory_detail_list))
engine.close()
"""


def in_another_process(path: Path, *text: str) -> int:
    done = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", OTHER_PROCESS, str(path), *text],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_opening_the_file_again_in_a_process_loses_none_of_its_writes(tmp_path: Path) -> None:
    """On POSIX, closing any descriptor of a file drops every lock the process holds on it. An
    engine opened on a file another engine of the process holds must not: the other process,
    seeing no one else on the file, would delete the write-ahead log the first still writes to."""
    path = tmp_path / "memos.db"
    first = client(path)
    add(first, "alice", "I ordered spicy noodles for dinner.")
    client(path)  # a second engine on the file, in this process
    assert in_another_process(path, "We plan a vacation with the kids.") == 2
    add(first, "alice", "Our holiday starts on Friday.")
    assert in_another_process(path) == 3


class Meanwhile(Embeddings):
    """A model that takes a while: ``then`` runs while it embeds a memory's new content."""

    def __init__(self) -> None:
        self.model = DeterministicFakeEmbedding(size=16)
        self.then: Callable[[], None] | None = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.then is not None:
            then, self.then = self.then, None
            then()
        return self.model.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


def test_an_edit_of_a_memory_deleted_meanwhile_changes_no_other_memory(tmp_path: Path) -> None:
    path = tmp_path / "memos.db"
    model = Meanwhile()
    first = client(path, model)
    second = client(path)
    add(first, "alice", "zebra alpha")
    (memory,) = first.get_memory(user_id="alice").memory_detail_list

    def delete_and_write() -> None:  # in the other process, while the model embeds the edit
        second.delete_memory(memory_ids=[memory.id or ""])
        add(second, "bob", "Bob's PIN is 4921.")

    model.then = delete_and_write
    with pytest.raises(MemOSError, match="not found"):
        first.update_memory(memory.id or "", content="I moved to Lisbon.")
    bobs = second.get_memory(user_id="bob").memory_detail_list
    assert [m.memory_value for m in bobs] == ["[user viewpoint] Bob's PIN is 4921."]
    assert found(second, "bob", "Lisbon") == []


def test_a_file_another_process_keeps_locked_gets_an_answer_to_retry(tmp_path: Path) -> None:
    """Past the wait for the write lock, a busy answer (503; an add/message says it was not
    written, so that the client may send it again) instead of SQLite's own error."""
    path = tmp_path / "memos.db"
    engine = EmbeddedEngine(str(path))
    engine.store.query("PRAGMA busy_timeout = 50")  # 5 s by default
    memos = MemOSClient(embedded=engine, max_retries=0)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process, in the middle of a write
    body = b'{"user_id": "alice", "messages": [{"role": "user", "content": "I like tea."}]}'
    status, answer = engine.handle("POST", "/add/message", body)
    assert (status, json.loads(answer)["code"]) == (503, 50144)
    status, answer = engine.handle("POST", "/delete/memory", b'{"user_id": "alice"}')
    assert (status, json.loads(answer)["code"]) == (503, 50004)  # its searches are not held up
    with pytest.raises(MemOSError, match="busy with another process"):
        add(memos, "alice", "I like tea.")
    holder.execute("ROLLBACK")
    add(memos, "alice", "I like tea.")
    assert found(memos, "alice", "tea") == ["[user viewpoint] I like tea."]
    holder.close()


def test_an_add_for_several_users_is_written_for_all_or_for_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One user's write failing (the lock, the disk) fails the request for every user it names:
    sent again, it writes each user's memories once."""
    memos = client(tmp_path / "memos.db")
    said = [{"role": "user", "content": "We booked the lake cabin."}]
    original = Writer.insert

    def busy_for_bob(
        self: Writer,
        db: sqlite3.Connection,
        kind: str,
        memory: Any,
        owner: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if owner["user_id"] == "bob":  # alice's memories are written by then
            raise sqlite3.OperationalError("database is locked")
        original(self, db, kind, memory, owner, *args, **kwargs)

    monkeypatch.setattr(Writer, "insert", busy_for_bob)
    with pytest.raises(MemOSError, match="busy"):
        memos.add_message(said, user_id=["alice", "bob"], async_mode=False)  # type: ignore[arg-type]
    assert found(memos, "alice", "lake cabin") == []
    monkeypatch.setattr(Writer, "insert", original)
    memos.add_message(said, user_id=["alice", "bob"], async_mode=False)  # type: ignore[arg-type]
    for user in ("alice", "bob"):
        assert found(memos, user, "lake cabin") == ["[user viewpoint] We booked the lake cabin."]


def test_a_lock_met_after_the_fast_memories_were_written_is_not_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In fine mode the fast memories are written before the model refines them: a lock then is
    no "not written" answer, which would have the client write the turn a second time."""
    model = ScriptedChatModel(script=[Extraction()])
    memos = MemOSClient(embedded=EmbeddedEngine(chat_model=model))  # retries as by default

    def locked(self: Refiner, job: Any) -> bool:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(Refiner, "run", locked)
    with pytest.raises(MemOSError, match="busy"):
        add(memos, "alice", "We booked the lake cabin.")
    listed = memos.get_memory(user_id="alice").memory_detail_list
    assert [m.memory_value for m in listed] == ["[user viewpoint] We booked the lake cabin."]


def test_an_agents_own_memory_is_edited_with_embeddings_too(tmp_path: Path) -> None:
    memos = client(tmp_path / "memos.db", DeterministicFakeEmbedding(size=16))
    said: Any = [{"role": "user", "content": "Remember the deploy runs at noon."}]
    memos.add_message(said, agent_id="planner", async_mode=False)
    (memory,) = memos.get_memory(agent_id="planner").memory_detail_list
    memos.update_memory(memory.id or "", content="The deploy runs at nine.")
    found_by_agent = memos.search_memory("deploy", agent_id="planner", relativity=0)
    assert [m.memory_value for m in found_by_agent.memory_detail_list] == [
        "The deploy runs at nine."
    ]


@pytest.mark.slow
def test_an_upgrade_longer_than_the_usual_wait_holds_up_another_opener_without_failing_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "memos.db"
    memos = client(path)
    add(memos, "alice", "We booked the lake cabin.")
    memos.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 9")
    db.close()
    upgrading = sqlite3.connect(path, isolation_level=None)
    upgrading.execute("BEGIN IMMEDIATE")  # another process's upgrade, longer than 5 s
    opened: list[MemOSClient] = []
    opener = threading.Thread(target=lambda: opened.append(client(path)))
    opener.start()
    time.sleep(5.5)
    upgrading.execute("COMMIT")
    opener.join()
    upgrading.close()
    assert found(opened[0], "alice", "lake cabin") == ["[user viewpoint] We booked the lake cabin."]


def test_a_full_disk_is_a_moment_of_unavailability_not_a_crash(tmp_path: Path) -> None:
    """As the cloud's storage failing would be: a 503 the outbox keeps the write through, not
    SQLite's own error, which it would take for a bug and give up on."""
    path = tmp_path / "memos.db"
    engine = EmbeddedEngine(str(path))
    memos = MemOSClient(embedded=engine, max_retries=0)
    add(memos, "alice", "I like tea.")
    pages = engine.store.query("PRAGMA page_count")[0][0]
    engine.store.query(f"PRAGMA max_page_count = {pages}")  # the disk is full
    long_turn = [{"role": "user", "content": "We hiked to the lake. " * 200}]
    body = json.dumps({"user_id": "alice", "messages": long_turn}).encode()
    status, answer = engine.handle("POST", "/add/message", body)
    assert (status, json.loads(answer)["code"]) == (503, 50004)
    with pytest.raises(MemOSError, match="cannot write its database file"):
        add(memos, "alice", "We hiked to the lake. " * 200)
    engine.store.query(f"PRAGMA max_page_count = {pages * 100}")  # room again
    add(memos, "alice", "We hiked to the lake.")
    assert found(memos, "alice", "lake") == ["[user viewpoint] We hiked to the lake."]


def test_a_file_a_newer_engine_took_over_during_the_wait_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "memos.db"
    client(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 9")
    db.close()
    newer = sqlite3.connect(path, isolation_level=None)
    newer.execute("BEGIN IMMEDIATE")
    newer.execute("PRAGMA user_version = 11")  # a newer engine's upgrade, under way
    refused: list[BaseException] = []

    def open_it() -> None:
        try:
            EmbeddedEngine(str(path))
        except ConfigurationError as error:
            refused.append(error)

    opener = threading.Thread(target=open_it)
    opener.start()
    time.sleep(0.3)  # the opener read format 9 and waits for the lock
    newer.execute("COMMIT")
    opener.join()
    newer.close()
    assert [str(error).split(" was ")[1][:26] for error in refused] == [
        "made by another version of"
    ]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (11,)
    db.close()
