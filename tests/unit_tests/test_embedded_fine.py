"""Fine mode: a chat model abstracts turns into memories and reconciles them with stored ones."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from typing import Any
from unittest.mock import ANY

import pytest

from langchain_memos import MemOSClient, MemOSStore
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._fine import ExtractedFact, ExtractedPreference, Extraction
from langchain_memos.types import MessageInput
from tests.fakes import ScriptedChatModel


def fine_client(*steps: Extraction | Exception) -> tuple[MemOSClient, ScriptedChatModel]:
    model = ScriptedChatModel(script=list(steps))
    return MemOSClient(embedded=EmbeddedEngine(chat_model=model)), model


def say(client: MemOSClient, text: str, **kwargs: Any) -> Any:
    kwargs.setdefault("async_mode", False)
    messages: list[MessageInput] = [{"role": "user", "content": text}]
    return client.add_message(messages, user_id="u1", conversation_id="c1", **kwargs)


def facts(client: MemOSClient) -> list[tuple[str | None, str | None]]:
    listing = client.get_memory(user_id="u1", size=50)
    return [(m.id, m.memory_value) for m in listing.memory_detail_list]


SHANGHAI = Extraction(
    facts=[ExtractedFact(key="Home city", value="The user lives in Shanghai.", tags=["home"])],
    preferences=[
        ExtractedPreference(
            preference="The user prefers quiet neighbourhoods.",
            preference_type="implicit_preference",
            reasoning="They complained about noise.",
        )
    ],
)


def test_the_model_replaces_the_fast_memories() -> None:
    client, model = fine_client(SHANGHAI)
    task = say(client, "I live in Shanghai, the noise downtown drives me mad.")

    assert task.status == "completed"
    ((_, value),) = facts(client)
    assert value == "The user lives in Shanghai."
    found = client.search_memory("Shanghai", user_id="u1")
    assert "mode:fine" in found.memory_detail_list[0].tags
    assert found.memory_detail_list[0].memory_type == "UserMemory"
    prefs = client.search_memory("quiet neighbourhoods", user_id="u1").preference_detail_list
    assert [(p.preference_type, p.reasoning) for p in prefs] == [
        ("implicit_preference", "They complained about noise.")
    ]
    assert "I live in Shanghai" in model.calls[0][-1].text


def test_a_changed_fact_updates_its_memory_instead_of_duplicating() -> None:
    client, model = fine_client(SHANGHAI, Extraction())
    say(client, "I live in Shanghai.")
    ((memory_id, _),) = facts(client)
    assert memory_id is not None

    moved = Extraction(
        facts=[
            ExtractedFact(key="Home city", value="The user lives in Nanjing.", replaces=memory_id)
        ]
    )
    model.script = [moved]
    say(client, "I moved to Nanjing last month.")

    assert facts(client) == [(memory_id, "The user lives in Nanjing.")]
    assert f"- {memory_id}: The user lives in Shanghai." in model.calls[-1][-1].text
    assert client.search_memory("Shanghai", user_id="u1").memory_detail_list == []


def test_feedback_retires_what_it_corrects() -> None:
    client, model = fine_client(SHANGHAI)
    say(client, "I live in Shanghai.")
    ((memory_id, _),) = facts(client)
    assert memory_id is not None
    model.script = [Extraction(obsolete=[memory_id])]

    client.add_feedback(user_id="u1", feedback_content="I never lived in Shanghai.")

    assert memory_id not in [mid for mid, _ in facts(client)]


def test_async_mode_refines_in_the_background() -> None:
    client, _ = fine_client(SHANGHAI)
    task = say(client, "I live in Shanghai.", async_mode=True)
    assert task.status == "running"
    assert task.task_id is not None
    # The fast memory is searchable at once, as the cloud's rough pass is.
    assert client.wait_for_task(task.task_id, timeout=10, interval=0.01).status == "completed"
    assert [value for _, value in facts(client)] == ["The user lives in Shanghai."]


def test_a_failing_model_keeps_the_fast_memories(caplog: pytest.LogCaptureFixture) -> None:
    client, _ = fine_client(RuntimeError("model unavailable"))
    task = say(client, "I live in Shanghai.")
    assert task.task_id is not None
    assert task.status == "failed"  # the answer says so too, not only get/status
    assert client.get_status(task.task_id).status == "failed"
    assert [value for _, value in facts(client)] == ["[user viewpoint] I live in Shanghai."]
    assert "refinement of task" in caplog.text


@pytest.mark.parametrize("async_mode", [False, True])
@pytest.mark.parametrize("failing", [0, 1])
def test_a_task_for_several_users_fails_when_one_of_their_refinements_fails(
    async_mode: bool, failing: int, caplog: pytest.LogCaptureFixture
) -> None:
    """One task, a refinement each: the last to end wrote the task's status, so a first that
    failed said completed (a red team)."""
    steps: list[Extraction | Exception] = [SHANGHAI, SHANGHAI]
    steps[failing] = RuntimeError("model unavailable")
    client, _ = fine_client(*steps)
    said: list[MessageInput] = [{"role": "user", "content": "I live in Shanghai."}]
    task = client.add_message(
        said, user_id=["u1", "u2"], conversation_id="c1", async_mode=async_mode
    )
    assert task.task_id is not None
    ended = client.wait_for_task(task.task_id, timeout=10, interval=0.01)
    assert ended.status == "failed"


def test_fine_mode_refuses_an_agents_own_memories_rather_than_leave_them_rough() -> None:
    engine = EmbeddedEngine(chat_model=ScriptedChatModel(script=[]))
    body = {"agent_id": "planner", "messages": [{"role": "user", "content": "I book trains."}]}
    status, content = engine.handle(
        "POST", "/api/openmem/v1/add/message", json.dumps(body).encode()
    )
    answer = json.loads(content)
    assert (status, answer["data"]) == (400, None)
    assert "fast mode" in answer["message"]
    history = engine.get_memory({"agent_id": "planner"})
    assert history["memory_detail_list"] == []


def test_a_fact_replacing_a_preference_is_a_fact_and_the_preference_goes() -> None:
    client, model = fine_client(SHANGHAI, Extraction())
    say(client, "I live in Shanghai, the noise downtown drives me mad.")
    (quiet,) = client.get_memory(user_id="u1", size=50).preference_detail_list
    assert quiet.id is not None

    model.script = [
        Extraction(
            facts=[
                ExtractedFact(
                    key="Home",
                    value="The user moved to a loud street and likes it.",
                    replaces=quiet.id,
                )
            ]
        )
    ]
    say(client, "I moved to a loud street and I love it now.")

    listing = client.get_memory(user_id="u1", size=50)
    assert listing.preference_detail_list == []
    values = {m.memory_value for m in listing.memory_detail_list}
    assert values == {
        "The user lives in Shanghai.",
        "The user moved to a loud street and likes it.",
    }
    (moved,) = [m for m in listing.memory_detail_list if "loud" in (m.memory_value or "")]
    found = client.search_memory("loud street", user_id="u1")
    assert [m.memory_value for m in found.memory_detail_list] == [moved.memory_value]
    assert found.preference_detail_list == []


def test_two_new_memories_naming_one_to_replace_are_both_kept() -> None:
    """The model may name one memory twice: the first new memory replaces it, the second is new."""
    client, model = fine_client(SHANGHAI, Extraction())
    say(client, "I live in Shanghai.")
    ((home, _),) = facts(client)
    assert home is not None

    model.script = [
        Extraction(
            facts=[
                ExtractedFact(key="Home city", value="The user lives in Nanjing.", replaces=home),
                ExtractedFact(key="Work", value="The user works in Suzhou.", replaces=home),
            ],
            preferences=[
                ExtractedPreference(
                    preference="The user prefers a quiet suburb.",
                    preference_type="explicit_preference",
                    reasoning="They moved to one.",
                    replaces=home,
                )
            ],
        )
    ]
    say(client, "I moved to a quiet suburb of Nanjing and I work in Suzhou now.")

    listing = client.get_memory(user_id="u1", size=50)
    assert sorted(facts(client), key=lambda f: f[0] != home) == [
        (home, "The user lives in Nanjing."),  # the replacement keeps the id
        (ANY, "The user works in Suzhou."),
    ]
    assert [p.preference for p in listing.preference_detail_list] == [
        "The user prefers a quiet suburb.",
        "The user prefers quiet neighbourhoods.",
    ]


def test_a_refinement_failing_on_a_busy_file_still_says_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The refinement meets another process's write lock, and so does the first try to say it
    failed: the task says failed, not running forever."""
    engine = EmbeddedEngine(chat_model=ScriptedChatModel(script=[SHANGHAI]))
    client = MemOSClient(embedded=engine)
    transaction, calls = engine.store.transaction, [0]

    def busy_twice() -> Any:
        calls[0] += 1
        if calls[0] in (2, 3):  # the refinement's write, then the first "failed" mark
            raise sqlite3.OperationalError("database is locked")
        return transaction()

    monkeypatch.setattr(engine.store, "transaction", busy_twice)
    task = say(client, "I live in Shanghai.")

    assert task.status == "failed"
    assert client.get_status(str(task.task_id)).status == "failed"
    assert facts(client)[0][1] == "[user viewpoint] I live in Shanghai."  # the fast memory stays


def _held(model: ScriptedChatModel, gate: threading.Event) -> None:
    """Make ``model`` wait for ``gate`` before it answers, as a slow model would."""
    answer = model._scripted

    def held(messages: list[Any]) -> Any:
        assert gate.wait(10)
        return answer(messages)

    object.__setattr__(model, "_scripted", held)


@pytest.mark.parametrize("change", ["delete the user", "delete the memory", "edit the memory"])
def test_what_the_caller_changes_while_the_model_runs_stands(change: str) -> None:
    """A refinement finishing after the caller deleted or edited the turn's memories does not
    bring back what they deleted nor replace what they wrote."""
    client, model = fine_client(SHANGHAI)
    gate = threading.Event()
    _held(model, gate)
    task = say(client, "I live in Shanghai.", async_mode=True)
    ((memory_id, _),) = facts(client)
    assert memory_id is not None
    if change == "delete the user":
        client.delete_memory(user_id="u1")
    elif change == "delete the memory":
        client.delete_memory(memory_ids=[memory_id])
    else:
        client.update_memory(memory_id, content="The user lives in Suzhou now.")
    gate.set()

    assert client.wait_for_task(str(task.task_id), timeout=10, interval=0.01).status == "completed"
    expected = [(memory_id, "The user lives in Suzhou now.")] if change.startswith("edit") else []
    assert facts(client) == expected
    assert client.search_memory("quiet neighbourhoods", user_id="u1").preference_detail_list == []


def test_fine_mode_leaves_a_langgraph_store_record_alone() -> None:
    """A store record is what the application put at its key: a later turn's refinement may
    not rewrite it into a fact nor retire it."""
    client, model = fine_client(Extraction(facts=[ExtractedFact(key="Note", value="Put.")]))
    store = MemOSStore(client, user=1)
    store.put(("memories", "u1"), "home", {"content": "The user lives in Shanghai.", "n": 1})
    (record,) = client.get_memory(user_id="u1").memory_detail_list
    assert record.id is not None
    model.script = [
        Extraction(
            facts=[
                ExtractedFact(key="Home", value="The user lives in Nanjing.", replaces=record.id)
            ],
            obsolete=[record.id],
        )
    ]
    say(client, "I moved to Nanjing last month.")

    assert f"- {record.id}:" not in model.calls[-1][-1].text  # not offered to the model
    item = store.get(("memories", "u1"), "home")
    assert item is not None
    assert item.value == {"content": "The user lives in Shanghai.", "n": 1}


def test_a_task_whose_process_is_gone_says_failed_not_running_forever() -> None:
    """A refinement dies with its process (killed, crashed): the task it left running says
    failed to whoever asks next, and the fast memories stay; one still refined says running."""
    model, gate = ScriptedChatModel(script=[SHANGHAI]), threading.Event()
    _held(model, gate)
    engine = EmbeddedEngine(chat_model=model)
    client = MemOSClient(embedded=engine)
    task = say(client, "I live in Shanghai.", async_mode=True)
    task_id = str(task.task_id)
    assert client.get_status(task_id).status == "running"  # its process is this one
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}:x:y"
    with engine.store.transaction() as db:
        db.execute("UPDATE task_runners SET runner = ? WHERE task_id = ?", (dead, task_id))
    assert client.get_status(task_id).status == "failed"
    assert facts(client)[0][1] == "[user viewpoint] I live in Shanghai."
    gate.set()
