"""MemOSStore when a write cannot be done: refused whole before any request, or undone."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from langgraph.store.base import GetOp, ListNamespacesOp, MatchCondition, Op, PutOp, SearchOp

from langchain_memos import (
    APIConnectionError,
    EmbeddedEngine,
    MemOSClient,
    MemOSInputError,
    MemOSStore,
)
from tests.unit_tests.test_store import offline_store

NS = ("memories", "u1")
IN_NS = (MatchCondition("prefix", NS),)
LONG = "word " * 50_000  # about 62,500 tokens: over one add/message request


class FailingClient(MemOSClient):
    """The embedded engine, but the named client method fails as a lost connection does (its
    next ``times`` calls; all of them when None)."""

    failing: str | None = None
    times: int | None = None

    def __getattribute__(self, name: str) -> Any:
        times = object.__getattribute__(self, "times")
        if name == object.__getattribute__(self, "failing") and times != 0:
            if times is not None:
                self.times = times - 1
            path = "/" + name.replace("_", "/")

            def fail(*args: Any, **kwargs: Any) -> Any:
                raise APIConnectionError("connection reset", method="POST", path=path)

            return fail
        return super().__getattribute__(name)


def embedded_store() -> tuple[MemOSStore, FailingClient]:
    client = FailingClient(embedded=EmbeddedEngine(":memory:"))
    return MemOSStore(client, user=1), client


def memories_of(client: MemOSClient) -> list[tuple[str | None, str | None]]:
    page = client.get_memory(user_id="u1", size=50)
    memories = [*page.memory_detail_list, *page.preference_detail_list]
    return sorted((m.id, getattr(m, "memory_value", None)) for m in memories)


# ---- a put that fails leaves the store as it was ----------------------------------------------


@pytest.mark.parametrize(("failing", "times"), [("add_message", None), ("update_memory", None)])
def test_a_put_that_fails_midway_keeps_the_old_value_and_leaves_nothing_behind(
    failing: str, times: int | None
) -> None:
    """Adding the new copy, or making it hold the record, fails."""
    store, client = embedded_store()
    old = {"content": "Prefers aisle seats", "kind": "travel"}
    store.put(NS, "seat", old)
    before = memories_of(client)
    client.failing, client.times = failing, times
    with pytest.raises(APIConnectionError):
        # A changed filterable field: the record is made again under a new MemOS id.
        store.put(NS, "seat", {"content": "Prefers window seats", "kind": "flights"})
    client.failing = client.times = None
    item = store.get(NS, "seat")
    assert item is not None
    assert item.value == old
    assert memories_of(client) == before  # the same memory, and no half-made new one
    assert [i.key for i in store.search(NS, filter={"kind": "travel"})] == ["seat"]


@pytest.mark.parametrize("answer_lost", [False, True])
def test_a_put_whose_delete_of_the_old_copy_fails_keeps_the_new_one(answer_lost: bool) -> None:
    """Deleting the old copy fails once the new record is made: the new value stays (a read
    gives it) and the next put removes the extra. Deleting the new copy instead lost the
    key whenever the delete was done and only its answer lost (a read timeout)."""
    store, client = embedded_store()
    store.put(NS, "seat", {"content": "Prefers aisle seats", "kind": "travel"})
    new = {"content": "Prefers window seats", "kind": "flights"}
    delete = client.delete_memory

    def lost(*args: Any, **kwargs: Any) -> Any:
        if answer_lost:
            delete(*args, **kwargs)
        raise APIConnectionError("connection reset", method="POST", path="/delete/memory")

    client.delete_memory = lost  # type: ignore[method-assign]
    with pytest.raises(APIConnectionError):
        store.put(NS, "seat", new)
    client.delete_memory = delete  # type: ignore[method-assign]
    item = store.get(NS, "seat")
    assert item is not None
    assert item.value == new
    store.put(NS, "seat", {"content": "Prefers the aisle again", "kind": "travel"})
    assert [m for _, m in memories_of(client) if m and "seats" in m] == []


@pytest.mark.parametrize("text", ["   ", "\n", "\t \n"])
def test_a_blank_text_is_stored_and_read_back_like_an_empty_one(text: str) -> None:
    store, client = embedded_store()
    store.put(NS, "new", {"content": text})
    store.put(NS, "seat", {"content": "Prefers aisle seats", "kind": "travel"})
    store.put(NS, "seat", {"content": text, "kind": "other"})  # made again
    store.put(NS, "seat", {"content": text, "kind": "other", "note": "x"})  # in place
    new, seat = store.get(NS, "new"), store.get(NS, "seat")
    assert new is not None
    assert new.value == {"content": text}
    assert seat is not None
    assert seat.value == {"content": text, "kind": "other", "note": "x"}
    assert len(memories_of(client)) == 2  # one memory per key: no stray "Store record" memory
    assert sorted(i.key for i in store.search(NS, query="Store record")) in ([], ["new", "seat"])


# ---- what would be refused is refused whole, before any request ------------------------------


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (PutOp(NS, "b", {"content": LONG}), "tokens of text"),
        (PutOp(NS, "b", {"notes": LONG.split()}), "tokens of text"),  # no text field
        (PutOp(NS, "b", {"content": math.nan}), "nan"),
        (PutOp(NS, "b", {"a": math.inf}), "inf"),
        (PutOp(NS, "b", {"content": {"x": [-math.inf]}}), "inf"),
        (ListNamespacesOp(IN_NS, None, 0, 0), "limit must be an integer of at least 1"),
        (ListNamespacesOp(IN_NS, None, 10, -1), "offset must be an integer of at least 0"),
        (SearchOp(NS, None, 20, 10, "tea"), "at most the 25 best"),
        # LangGraph's put refuses these; a batch reaches the store unchecked.
        (PutOp((), "b", {"content": "Lives in Lyon"}), "a put needs a namespace"),
        (PutOp(("langgraph", "u1"), "b", {"content": "x"}), "LangGraph reserves"),
    ],
)
def test_a_batch_with_an_op_that_would_be_refused_sends_nothing(op: Any, message: str) -> None:
    store, fake = offline_store()
    batch: list[Op] = [
        SearchOp(NS, None, 10, 0, "seats"),
        PutOp(NS, "a", {"content": "Plays the cello"}),
    ]
    with pytest.raises(MemOSInputError, match=message):
        store.batch([*batch, op])
    assert fake.requests == []


@pytest.mark.parametrize("fields", [{"kind": "travel"}, {"kind": "other"}])
def test_a_text_too_long_for_memos_is_refused_on_every_path(fields: dict[str, str]) -> None:
    store, client = embedded_store()
    old = {"content": "Prefers aisle seats", "kind": "travel"}
    store.put(NS, "seat", old)
    before = memories_of(client)
    with pytest.raises(MemOSInputError, match="split the text over several keys"):
        store.put(NS, "seat", {"content": LONG, **fields})
    item = store.get(NS, "seat")
    assert item is not None
    assert item.value == old
    assert memories_of(client) == before


def test_a_field_name_memos_cannot_filter_on_is_kept_but_not_filterable() -> None:
    store, _ = embedded_store()
    value = {"content": "Notes", "a\x00b": 1}
    store.put(NS, "k", value)
    item = store.get(NS, "k")
    assert item is not None
    assert item.value == value
    with pytest.raises(MemOSInputError, match="NUL"):
        store.search(NS, filter={"a\x00b": 1})


# ---- filters and keys ----------------------------------------------------------------------------


def test_a_value_without_a_text_field_is_found_by_its_fields() -> None:
    store, _ = embedded_store()
    store.put(NS, "prefs", {"theme": "dark", "lang": "en"})
    store.put(NS, "note", {"content": "Likes jazz", "theme": "dark"})
    store.put(NS, "light", {"theme": "light"})
    assert sorted(i.key for i in store.search(NS, filter={"theme": "dark"})) == ["note", "prefs"]
    assert [i.key for i in store.search(NS, filter={"theme": "dark", "lang": "en"})] == ["prefs"]
    item = store.get(NS, "prefs")
    assert item is not None
    assert item.value == {"theme": "dark", "lang": "en"}


def test_a_key_that_is_another_records_memos_id_addresses_nothing_else() -> None:
    store, client = embedded_store()
    store.put(NS, "tea", {"content": "I hate coffee"})
    (record_id,) = [memos_id for memos_id, text in memories_of(client) if text == "I hate coffee"]
    assert record_id is not None
    before = memories_of(client)
    assert store.get(NS, record_id) is None
    assert store.batch([GetOp(NS, record_id)]) == [None]
    store.delete(NS, record_id)
    assert memories_of(client) == before
    store.put(NS, record_id, {"content": "An unrelated note"})
    tea, other = store.get(NS, "tea"), store.get(NS, record_id)
    assert tea is not None
    assert tea.value == {"content": "I hate coffee"}
    assert other is not None
    assert other.value == {"content": "An unrelated note"}
    assert sorted(i.key for i in store.search(NS)) == sorted(["tea", record_id])


@pytest.mark.parametrize("race", ["delete", "put"])
def test_a_key_another_caller_deleted_meanwhile_is_no_error(race: str) -> None:
    """A delete or a put that finds the key's memory, which another caller deletes before this
    one acts on it: as in InMemoryStore, deleting it again is no error, and the put lands."""
    engine = EmbeddedEngine()
    store = MemOSStore(MemOSClient(embedded=engine), user=1)
    ns = ("memories", "u1")
    store.put(ns, "k", {"content": "The user likes green tea."})
    handle, raced = engine.handle, list[str]()

    def meanwhile(method: str, path: str, body: bytes, **kwargs: Any) -> Any:
        if path.endswith(("/delete/memory", "/update/memory")) and not raced:
            raced.append(path)  # another caller's delete of the key lands first
            store.delete(ns, "k")
        return handle(method, path, body, **kwargs)

    engine.handle = meanwhile  # type: ignore[method-assign]
    if race == "delete":
        store.delete(ns, "k")
        assert store.get(ns, "k") is None
    else:
        store.put(ns, "k", {"content": "The user likes black coffee."})
        item = store.get(ns, "k")
        assert item is not None
        assert item.value == {"content": "The user likes black coffee."}
    assert raced


@pytest.mark.parametrize(("my_n", "their_n"), [(1, 2), (1, 0), (0, 2), (0, 0)])
@pytest.mark.parametrize("at", range(8))
def test_two_puts_of_one_key_at_once_leave_one_of_them_and_nothing_else(
    at: int, my_n: int, their_n: int
) -> None:
    """Another put of the key runs whole at each point of this put's requests (threads,
    tasks or processes can interleave so): the key ends with one of the two values, and
    nothing of the other is left among the user's memories. Before puts knew their own
    memories, one put took the other's for its own, or deleted it as stale: the key was lost,
    or a raw copy of the overwritten value stayed behind (and was recalled). A filterable
    field (``n``) the same as the old one's makes a put an update in place."""
    engine = EmbeddedEngine()
    store = MemOSStore(MemOSClient(embedded=engine), user=1)
    first = {"content": "An old note about birds", "n": 0}
    store.put(NS, "k", first)
    mine = {"content": "A new note about cats", "n": my_n}
    theirs = {"content": "Another note about dogs", "n": their_n}
    handle, seen = engine.handle, [0]

    def meanwhile(method: str, path: str, body: bytes, **kwargs: Any) -> Any:
        seen[0] += 1
        if seen[0] == at + 1:
            store.put(NS, "k", theirs)
        return handle(method, path, body, **kwargs)

    engine.handle = meanwhile  # type: ignore[method-assign]
    store.put(NS, "k", mine)
    engine.handle = handle  # type: ignore[method-assign]
    item = store.get(NS, "k")
    assert item is not None
    assert item.value in (mine, theirs)
    other = "dogs" if item.value == mine else "cats"
    texts = [text or "" for _, text in memories_of(store._client)]  # type: ignore[arg-type]
    assert not [t for t in texts if other in t or "birds" in t]
    assert [i.key for i in store.search(NS)] == ["k"]


def test_a_filtered_query_search_returns_only_items_that_match_the_filter() -> None:
    """What MemOS abstracts from a record carries the record's filter fields in MemOS, but its
    own value holds none of them: a filtered search leaves it out (it came back, failing the
    filter, with the value {"kind": "preference", ...})."""
    store, _ = embedded_store()
    value = {"content": "I like green tea and I work night shifts", "kind": "pref", "owner": "a"}
    store.put(NS, "p", value)
    wanted = {"kind": "pref", "owner": "a"}
    found = store.search(NS, query="green tea", filter=wanted)
    assert [(i.key, i.value) for i in found] == [("p", value)]
    assert len(store.search(NS, query="green tea")) > 1  # the abstractions, unfiltered


def test_a_user_counted_from_the_end_is_refused_when_the_store_is_made() -> None:
    """A search finds the user in a prefix, which does not say where the namespace ends: with
    user=-1, puts worked and every search and listing was refused."""
    with pytest.raises(MemOSInputError, match="user=-1"):
        MemOSStore(MemOSClient(embedded=EmbeddedEngine()), user=-1)


def test_a_listing_whose_prefix_has_a_wildcard_before_the_user_finds_the_users_namespaces() -> None:
    store, _ = embedded_store()
    for namespace in (NS, ("notes", "u1"), ("notes", "u2")):
        store.put(namespace, "k", {"content": "Prefers aisle seats"})
    assert store.list_namespaces(prefix=("*", "u1")) == [("memories", "u1"), ("notes", "u1")]
    with pytest.raises(MemOSInputError, match="one user at a time"):
        store.list_namespaces(prefix=("notes", "*"))


def test_what_a_put_cut_short_leaves_goes_with_the_keys_next_put() -> None:
    """A put whose update and clean-up both fail (MemOS unreachable a moment) leaves a raw
    copy of its value; the key's next put deletes it, as a cancelled aput's or a killed
    process's leftovers (it stayed recallable for good while puts deleted only memories of
    puts that had made a record)."""
    store, client = embedded_store()
    store.put(NS, "k", {"content": "I like tea", "f": "a"})
    client.failing, client.times = "update_memory", 1
    get_memory, down = client.get_memory, [True]

    def unreachable_after_the_update(*args: Any, **kwargs: Any) -> Any:
        if client.times == 0 and down.pop():  # the clean-up's read, once
            raise APIConnectionError("connection reset", method="POST", path="/get/memory")
        return get_memory(*args, **kwargs)

    client.get_memory = unreachable_after_the_update  # type: ignore[method-assign]
    with pytest.raises(APIConnectionError):
        store.put(NS, "k", {"content": "I like durian", "f": "b"})
    client.get_memory = get_memory  # type: ignore[method-assign]
    assert [m for _, m in memories_of(client) if m and "durian" in m]  # left behind
    store.put(NS, "k", {"content": "I like coffee", "f": "a"})
    assert [m for _, m in memories_of(client) if m and "durian" in m] == []


def test_a_put_whose_memory_memos_retires_meanwhile_makes_it_again() -> None:
    """MemOS itself may retire a memory (fine mode's reconciliation of another turn marks it
    obsolete) between the put's add and its update: that is no later put or delete of the
    key, so the put makes its memory again and lands (it returned as done, value lost)."""
    engine = EmbeddedEngine()
    client = MemOSClient(embedded=engine)
    store = MemOSStore(client, user=1)
    store.put(NS, "k", {"content": "The desk is by the north window.", "room": "north"})
    handle, retired = engine.handle, list[str]()

    def meanwhile(method: str, path: str, body: bytes, **kwargs: Any) -> Any:
        if path.endswith("/update/memory") and not retired:
            retired.append(json.loads(body)["memory_id"])
            client.delete_memory(memory_ids=retired)  # not a put or delete of the key
        return handle(method, path, body, **kwargs)

    engine.handle = meanwhile  # type: ignore[method-assign]
    south = {"content": "The desk moved to the south window.", "room": "south"}
    store.put(NS, "k", south)
    engine.handle = handle  # type: ignore[method-assign]
    item = store.get(NS, "k")
    assert retired
    assert item is not None
    assert item.value == south
