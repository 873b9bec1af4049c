"""MemOSStore beyond the conformance suite: how records live in MemOS, what it refuses, scope."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from langgraph.store.base import GetOp, ListNamespacesOp, PutOp, SearchOp

from langchain_memos import (
    AsyncMemOSClient,
    EmbeddedEngine,
    MemorySettings,
    MemOSClient,
    MemOSInputError,
    MemOSStore,
    WriteRefusedError,
)
from langchain_memos.embedded._fine import ExtractedFact, ExtractedPreference, Extraction
from tests.fakes import FakeMemOS, ScriptedChatModel, envelope

NS = ("memories", "u1")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def embedded_store(**options: Any) -> tuple[MemOSStore, MemOSClient]:
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"))
    return MemOSStore(client, **options), client


def memories_of(client: MemOSClient, user_id: str) -> list[Any]:
    page = client.get_memory(user_id=user_id, size=50)
    return [*page.memory_detail_list, *page.preference_detail_list]


# ---- bad input: our error, before any request -------------------------------------------------


def offline_store() -> tuple[MemOSStore, FakeMemOS]:
    fake = FakeMemOS()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    client = MemOSClient(
        api_key="k", base_url="https://memos.example/api/openmem/v1", http_client=http
    )
    return MemOSStore(client, user=1), fake


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (PutOp(("memories", ""), "k", {"content": "x"}), r"namespace\[1\] must be a non-empty"),
        (PutOp(("memories", "u" * 101), "k", {"content": "x"}), "at most 100"),
        (PutOp(("memories", "u1 "), "k", {"content": "x"}), "whitespace around it"),
        (PutOp(("memories", "u\n1"), "k", {"content": "x"}), "control character"),
        (SearchOp(("memories", "u.1"), None, 10, 0, None), "must not contain '.'"),
        (PutOp(NS, "k", ["not", "a", "dict"]), "must be a dict"),  # type: ignore[arg-type]
        (PutOp(NS, "k" * 257, {"content": "x"}), "key is 257 characters"),
        (PutOp(NS, "k", {"content": object()}), "JSON-serializable"),
        (PutOp(("memories",), "k", {"content": "x"}), "no such element"),
        (GetOp(NS, " "), "key must be a non-blank"),
        (SearchOp(NS, {"score": {"$gt": 3}}, 10, 0, None), r"uses \$gt"),
        (SearchOp(NS, {"a.b": "x"}, 10, 0, None), "nested field"),
        (SearchOp(NS, {"a": {"b": 1}}, 10, 0, None), "nested path"),
        (SearchOp(NS, {"tags": ["a"]}, 10, 0, None), "compares with list"),
        (SearchOp(NS, {"content": "x"}, 10, 0, None), "use query= instead|search it with query"),
        (SearchOp(("memories",), None, 10, 0, None), "MemOS searches one user at a time"),
        (SearchOp(NS, None, 20, 10, "tea"), "at most the 25 best"),
        (ListNamespacesOp(None, None, 10, 0), "no such element"),
    ],
)
def test_bad_input_is_refused_before_any_request(op: Any, message: str) -> None:
    store, fake = offline_store()
    with pytest.raises(MemOSInputError, match=message):
        store.batch([PutOp(NS, "fine", {"content": "fine"}), op])
    assert fake.requests == []


def test_ttl_is_not_supported() -> None:
    store, fake = offline_store()
    assert store.supports_ttl is False
    with pytest.raises(NotImplementedError, match="TTL is not supported"):
        store.put(NS, "k", {"content": "x"}, ttl=5)
    with pytest.raises(MemOSInputError, match="TTL"):
        store.batch([PutOp(NS, "k", {"content": "x"}, ttl=5)])
    assert fake.requests == []


# ---- records in MemOS ---------------------------------------------------------------------------


def test_a_put_is_one_memory_updated_in_place() -> None:
    store, client = embedded_store(user=1)
    store.put(NS, "city", {"content": "Lives in Shanghai"})
    (before,) = memories_of(client, "u1")
    first = store.get(NS, "city")
    store.put(NS, "city", {"content": "Moved to Nanjing"})
    (after,) = memories_of(client, "u1")
    assert after.id == before.id  # the same MemOS memory, edited by update/memory
    assert after.memory_value == "Moved to Nanjing"
    second = store.get(NS, "city")
    assert first is not None
    assert second is not None
    assert second.created_at == first.created_at


def test_changing_a_filterable_field_makes_the_memory_again_without_a_copy() -> None:
    store, client = embedded_store(user=1)
    store.put(NS, "pet", {"content": "Has a cat", "kind": "pets"})
    store.put(NS, "pet", {"content": "Has a cat", "kind": "family"})
    (memory,) = memories_of(client, "u1")
    assert memory.info["lgv.kind"] == '"family"'
    assert [i.key for i in store.search(NS, filter={"kind": "family"})] == ["pet"]


def test_what_memos_abstracts_comes_back_with_its_id_and_kind() -> None:
    store, client = embedded_store(user=1)
    store.put(NS, "drinks", {"content": "I like green tea and I work night shifts"})
    found = store.search(NS, query="green tea")
    record = next(item for item in found if item.key == "drinks")
    assert record.value == {"content": "I like green tea and I work night shifts"}
    assert record.score == 1.0
    (preference,) = [item for item in found if item.key != "drinks"]
    assert UUID.match(preference.key)
    assert preference.value["kind"] == "preference"
    assert preference.value["content"] == "The user likes green tea."
    assert preference.value["source_key"] == "drinks"
    assert preference.value["memos_id"] == preference.key
    # Its id works as a key: read, and delete, in its namespace only.
    got = store.get(NS, preference.key)
    assert got is not None
    assert got.value["kind"] == "preference"
    assert store.get(("memories", "u1", "elsewhere"), preference.key) is None
    store.delete(NS, preference.key)
    assert store.get(NS, preference.key) is None
    assert store.get(NS, "drinks") is not None
    # Deleting the record deletes what MemOS made of it.
    store.put(NS, "drinks", {"content": "I love jasmine tea"})
    store.delete(NS, "drinks")
    assert memories_of(client, "u1") == []


def test_listing_returns_records_only_newest_first() -> None:
    store, _ = embedded_store(user=1)
    store.put(NS, "a", {"content": "I like green tea"})  # also makes a preference
    store.put(NS, "b", {"content": "I play the violin"})
    assert [item.key for item in store.search(NS)] == ["b", "a"]
    assert all(item.score is None for item in store.search(NS))


def test_search_ranks_by_relativity() -> None:
    store, _ = embedded_store(user=1)
    store.put(NS, "both", {"content": "Hiking in the mountains with the dog"})
    store.put(NS, "one", {"content": "The dog sleeps a lot"})
    found = store.search(NS, query="mountain hiking dog")
    assert [item.key for item in found] == ["both", "one"]
    assert found[0].score is not None
    assert found[1].score is not None
    assert 1.0 >= found[0].score > found[1].score > 0


def test_records_of_one_conversation_come_back_as_they_were_put() -> None:
    # Past its limit a search lets related turns ride along with the fact said next to them; a
    # record is not a turn, and its value must never carry another record.
    store, _ = embedded_store(user=1, conversation=2)
    ns = ("notes", "alice", "trip")
    put = {f"k{i}": f"Alice plans the Kyoto trip, day {i}: temples and food." for i in range(12)}
    for key, text in put.items():
        store.put(ns, key, {"content": text})
    found = store.search(ns, query="Kyoto trip temples food", limit=3)
    assert len(found) == 3
    assert all(item.value == {"content": put[item.key]} for item in found)


# ---- scope: the rule, the settings, the run -----------------------------------------------------


class Recorder:
    """A client stand-in that records every call the store makes, and passes it on."""

    def __init__(self, client: MemOSClient) -> None:
        self.client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return method(**kwargs)

        return call


def test_no_request_reaches_outside_its_namespace() -> None:
    store, client = embedded_store(user=1, agent=2)
    recorder = Recorder(client)
    store._client = recorder  # type: ignore[assignment]
    other = ("memories", "u2", "bot")
    store.put(other, "k", {"content": "Someone else's secret"})
    mine = ("memories", "u1", "bot")
    recorder.calls.clear()
    store.put(mine, "k", {"content": "I like green tea"})
    store.get(mine, "k")
    store.search(mine, query="secret tea")
    store.search(mine)
    store.list_namespaces(prefix=("memories", "u1"))
    store.delete(mine, "k")
    ids: set[str] = set()
    for name, kwargs in recorder.calls:
        if name in ("get_memory", "search_memory"):
            assert kwargs["user_id"] == "u1"
            conditions = kwargs["filter"]["and"]
            prefixes = [{"lgs_ns2": "memories.u1"}, {"lgs_ns3": "memories.u1.bot"}]
            items = [json.loads(c["lgs_item"])[:-1] for c in conditions if "lgs_item" in c]
            assert any(p in conditions for p in prefixes) or items == [list(mine)]
        elif name == "add_message":
            assert kwargs["user_id"] == "u1"
            assert kwargs["agent_id"] == "bot"
            assert kwargs["info"]["lgs_ns3"] == "memories.u1.bot"
        else:  # by id: only ids the store was given by reads of this namespace
            assert name in ("update_memory", "delete_memory")
            ids.update([kwargs["memory_id"]] if "memory_id" in kwargs else kwargs["memory_ids"])
    secret = store.get(other, "k")
    assert secret is not None
    assert store.search(mine, query="secret") == []
    assert all(m.info["lgs_ns3"] == "memories.u1.bot" for m in memories_of(client, "u1"))
    assert ids


def test_settings_give_the_user_and_the_clients() -> None:
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"))
    store = MemOSStore(settings=MemorySettings(client=client, user_id="u9"))
    store.put(("notes",), "k", {"content": "Remember the milk"})
    (memory,) = memories_of(client, "u9")
    assert memory.memory_value == "Remember the milk"


def test_without_a_user_the_store_uses_the_runs() -> None:
    store, client = embedded_store()
    with pytest.raises(MemOSInputError, match="needs a user_id"):
        store.put(("notes",), "k", {"content": "Remember the milk"})

    from langgraph.graph import START, StateGraph
    from typing_extensions import TypedDict

    class State(TypedDict):
        text: str

    def write(state: State) -> State:
        store.put(("notes",), "k", {"content": state["text"]})
        return state

    graph = StateGraph(State).add_node(write).add_edge(START, "write").compile()
    graph.invoke({"text": "Buy bread"}, {"configurable": {"user_id": "carol"}})
    (memory,) = memories_of(client, "carol")
    assert memory.memory_value == "Buy bread"


def test_a_store_with_only_an_async_client_says_so_when_used_synchronously() -> None:
    store = MemOSStore(async_client=AsyncMemOSClient(embedded=":memory:"), user=1)
    with pytest.raises(MemOSInputError, match="only an async client"):
        store.get(NS, "k")


def test_index_fields_keep_other_fields_out_of_filters_and_edits_in_place() -> None:
    store, client = embedded_store(user=1, index_fields=["kind"])
    store.put(NS, "f", {"content": "Notes", "kind": "file", "modified_at": "10:00"})
    (before,) = memories_of(client, "u1")
    store.put(NS, "f", {"content": "Notes v2", "kind": "file", "modified_at": "10:05"})
    (after,) = memories_of(client, "u1")
    assert after.id == before.id
    item = store.get(NS, "f")
    assert item is not None
    assert item.value == {"content": "Notes v2", "kind": "file", "modified_at": "10:05"}
    assert [i.key for i in store.search(NS, filter={"kind": "file"})] == ["f"]
    with pytest.raises(MemOSInputError, match="index_fields"):
        store.search(NS, filter={"modified_at": "10:05"})


# A fine-mode model that abstracts every turn as the cloud does: into two facts and a preference,
# none of them the text that was put.
ABSTRACTION = Extraction(
    facts=[
        ExtractedFact(key="Home", value="The user lives in Shanghai.", tags=["home"]),
        ExtractedFact(key="Noise", value="Downtown noise bothers the user.", tags=[]),
    ],
    preferences=[
        ExtractedPreference(
            preference="The user prefers quiet neighbourhoods.",
            preference_type="implicit_preference",
            reasoning="They complained about noise.",
        )
    ],
)


def test_a_memos_that_abstracts_the_text_still_holds_the_record_verbatim() -> None:
    client = MemOSClient(
        embedded=EmbeddedEngine(chat_model=ScriptedChatModel(script=[ABSTRACTION]))
    )
    store = MemOSStore(client, user=1)
    text = "I live in Shanghai; the noise downtown drives me mad."
    store.put(NS, "home", {"content": text})
    item = store.get(NS, "home")
    assert item is not None
    assert item.value == {"content": text}
    assert [i.key for i in store.search(NS)] == ["home"]  # a listing holds the records only
    found = store.search(NS, query="Shanghai noise quiet neighbourhoods")
    kinds = sorted(i.value.get("kind", "record") for i in found)
    assert kinds == ["fact", "preference", "record"]
    assert all(i.value.get("source_key", "home") == "home" for i in found)
    store.delete(NS, "home")
    assert memories_of(client, "u1") == []


def test_a_value_memos_keeps_no_memory_of_is_refused_to_the_callers_face() -> None:
    empty = envelope({"memory_detail_list": [], "preference_detail_list": []})
    task = envelope({"success": True, "task_id": "t1", "status": "completed"})
    store, fake = offline_store()
    fake.replies = [empty, task, empty, task, empty]
    with pytest.raises(WriteRefusedError, match="MemOS made no memory of the value"):
        store.put(NS, "k", {"content": "Thanks!"})
    # It was offered twice: as it is, then with its key (which gives a bare reply substance).
    sent = [body["messages"][0]["content"] for body in fake.bodies if body and "messages" in body]
    assert sent == ["Thanks!", "Store record k: Thanks!"]


def test_an_id_of_another_users_memory_reads_as_nothing() -> None:
    # The user comes from the run, so both users' records sit at the same namespace ("notes",).
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"))
    alice, bob = MemOSStore(client, user_id="alice"), MemOSStore(client, user_id="bob")
    bob.put(("notes",), "tea", {"content": "I like green tea"})
    (preference,) = [i for i in bob.search(("notes",), query="green tea") if i.key != "tea"]
    assert bob.get(("notes",), preference.key) is not None
    assert alice.get(("notes",), preference.key) is None
    alice.delete(("notes",), preference.key)
    alice.put(("notes",), preference.key, {"content": "Alice's own note"})
    assert bob.get(("notes",), preference.key) is not None
    assert bob.get(("notes",), preference.key).value["kind"] == "preference"  # type: ignore[union-attr]


def test_a_put_on_an_abstractions_id_replaces_it_with_a_record() -> None:
    store, client = embedded_store(user=1)
    store.put(NS, "drinks", {"content": "I like green tea"})
    (preference,) = [i for i in store.search(NS, query="green tea") if i.key != "drinks"]
    value = {"content": "Prefers oolong"}  # no other field: nothing forces a new memory
    store.put(NS, preference.key, value)
    item = store.get(NS, preference.key)
    assert item is not None
    assert item.value == value
    assert sorted(i.key for i in store.search(NS)) == sorted(["drinks", preference.key])
    assert len(memories_of(client, "u1")) == 2  # the record "drinks" and the new one


@pytest.mark.parametrize(
    "value",
    [
        {"content": "Prefers aisle seats", "kind": "travel"},
        {"kind": "travel", "content": "Prefers aisle seats", "score": 3},
        {"a": 1, "text": {"nested": True}, "b": None},
    ],
)
def test_a_value_reads_back_with_its_keys_in_the_order_it_was_put(value: dict[str, Any]) -> None:
    store, _ = embedded_store(user=1)
    store.put(NS, "seat", value)
    item = store.get(NS, "seat")
    assert item is not None
    assert list(item.value.items()) == list(value.items())  # printed as it was put
