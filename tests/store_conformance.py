"""A behavioural conformance suite for LangGraph ``BaseStore`` implementations.

LangGraph ships none, so this is ours: each case is an ``async`` function of a :class:`Ops`,
which calls either the sync methods (``put``, ``get``, ...) or their ``a*`` twins, so that one
case checks both paths. ``tests/unit_tests/test_store_conformance.py`` runs every case against
langgraph's ``InMemoryStore`` (the reference) and ``MemOSStore`` on the embedded engine;
``tests/integration_tests/test_store_serve.py`` through ``serve``. The cases keep to what the
reference and MemOS share; where ``MemOSStore`` differs (documented in its module), the case
compares what both promise (sets rather than orders, a query's match rather than its rank).

Namespaces are ``("memories", user, ...)``: a store under test maps element 1 to its user.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp

U1 = ("memories", "u1")
U2 = ("memories", "u2")
U1_NOTES = ("memories", "u1", "notes")
U1_DEEP = ("memories", "u1", "todo", "work")


@dataclass
class Ops:
    """One store, used through its sync methods or through its async ones."""

    store: BaseStore
    use_async: bool

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.use_async:
            result = getattr(self.store, "a" + name)(*args, **kwargs)
            assert inspect.isawaitable(result)
            return await result
        return getattr(self.store, name)(*args, **kwargs)

    async def put(self, namespace: tuple[str, ...], key: str, value: dict[str, Any]) -> None:
        await self._call("put", namespace, key, value)

    async def get(self, namespace: tuple[str, ...], key: str) -> Item | None:
        return await self._call("get", namespace, key)  # type: ignore[no-any-return]

    async def delete(self, namespace: tuple[str, ...], key: str) -> None:
        await self._call("delete", namespace, key)

    async def search(self, prefix: tuple[str, ...], **kwargs: Any) -> list[Any]:
        return await self._call("search", prefix, **kwargs)  # type: ignore[no-any-return]

    async def list_namespaces(self, **kwargs: Any) -> list[tuple[str, ...]]:
        return await self._call("list_namespaces", **kwargs)  # type: ignore[no-any-return]

    async def batch(self, ops: list[Any]) -> list[Any]:
        if self.use_async:
            return await self.store.abatch(ops)
        return self.store.batch(ops)


Case = Callable[[Ops], Awaitable[None]]
CASES: dict[str, Case] = {}


def case(function: Case) -> Case:
    CASES[function.__name__] = function
    return function


def keys(items: list[Any]) -> set[tuple[tuple[str, ...], str]]:
    return {(tuple(item.namespace), item.key) for item in items}


@case
async def a_missing_key_reads_as_none(s: Ops) -> None:
    assert await s.get(U1, "nothing-here") is None


@case
async def a_put_reads_back_verbatim(s: Ops) -> None:
    value = {
        "content": "Prefers window seats on long flights ✈ 靠窗",
        "kind": "travel",
        "rating": 4.5,
        "tags": ["flights", "seats"],
        "extra": {"nested": [1, {"deep": None}]},
    }
    await s.put(U1, "seat", value)
    item = await s.get(U1, "seat")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (U1, "seat", value)
    assert item.created_at <= item.updated_at


@case
async def a_value_without_text_reads_back_whole(s: Ops) -> None:
    value = {"count": 3, "flags": [True, False], "label": "três"}
    await s.put(U1, "counter", value)
    item = await s.get(U1, "counter")
    assert item is not None
    assert item.value == value


@case
async def a_structured_content_reads_back(s: Ops) -> None:
    value = {"kind": "Memory", "content": {"content": "Drinks oolong", "confidence": 0.8}}
    await s.put(U1, "structured", value)
    item = await s.get(U1, "structured")
    assert item is not None
    assert item.value == value


@case
async def a_put_on_an_existing_key_replaces_it_without_a_copy(s: Ops) -> None:
    await s.put(U1, "city", {"content": "Lives in Shanghai", "kind": "home"})
    first = await s.get(U1, "city")
    await s.put(U1, "city", {"content": "Moved to Nanjing in May", "kind": "home"})
    second = await s.get(U1, "city")
    assert first is not None
    assert second is not None
    assert second.value == {"content": "Moved to Nanjing in May", "kind": "home"}
    # The reference makes a new item (a new created_at); MemOSStore updates in place (keeps it).
    assert second.updated_at >= first.updated_at
    listed = await s.search(U1)
    assert [item.key for item in listed] == ["city"]
    assert listed[0].value == second.value


@case
async def a_put_that_changes_other_fields_replaces_them_too(s: Ops) -> None:
    await s.put(U1, "pet", {"content": "Has a cat named Miso", "kind": "pets"})
    await s.put(U1, "pet", {"content": "Has a cat named Miso", "kind": "family"})
    item = await s.get(U1, "pet")
    assert item is not None
    assert item.value == {"content": "Has a cat named Miso", "kind": "family"}
    assert [i.key for i in await s.search(U1)] == ["pet"]
    assert await s.search(U1, filter={"kind": "pets"}) == []


@case
async def delete_and_put_none_remove_an_item(s: Ops) -> None:
    await s.put(U1, "a", {"content": "Allergic to peanuts"})
    await s.put(U1, "b", {"content": "Plays the cello"})
    await s.delete(U1, "a")
    await s.batch([PutOp(U1, "b", None)])
    assert await s.get(U1, "a") is None
    assert await s.get(U1, "b") is None
    assert await s.search(U1) == []
    await s.delete(U1, "never-stored")  # deleting what is not there is no error


@case
async def namespaces_are_isolated(s: Ops) -> None:
    await s.put(U1, "k", {"content": "User one likes jazz"})
    await s.put(U2, "k", {"content": "User two likes opera"})
    await s.put(U1_NOTES, "k", {"content": "A note of user one about jazz"})
    one, two, note = await s.get(U1, "k"), await s.get(U2, "k"), await s.get(U1_NOTES, "k")
    assert one is not None
    assert one.value["content"] == "User one likes jazz"
    assert two is not None
    assert two.value["content"] == "User two likes opera"
    assert note is not None
    assert note.value["content"] == "A note of user one about jazz"
    await s.delete(U1, "k")
    assert await s.get(U1, "k") is None
    assert await s.get(U2, "k") is not None
    assert await s.get(U1_NOTES, "k") is not None


@case
async def listing_a_prefix_covers_its_subnamespaces_only(s: Ops) -> None:
    await s.put(U1, "a", {"content": "Runs on Sundays"})
    await s.put(U1_NOTES, "b", {"content": "Bought new running shoes"})
    await s.put(U1_DEEP, "c", {"content": "Finish the quarterly report"})
    await s.put(U2, "d", {"content": "Someone else entirely"})
    assert keys(await s.search(U1)) == {(U1, "a"), (U1_NOTES, "b"), (U1_DEEP, "c")}
    assert keys(await s.search(U1_NOTES)) == {(U1_NOTES, "b")}
    assert keys(await s.search(("memories", "u1", "todo"))) == {(U1_DEEP, "c")}
    assert keys(await s.search(U2)) == {(U2, "d")}


@case
async def listing_pages_through_everything_once(s: Ops) -> None:
    for number in range(7):
        await s.put(U1, f"item-{number}", {"content": f"Fact number {number} about the user"})
    pages = [await s.search(U1, limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [len(page) for page in pages] == [3, 3, 1, 0]
    seen = [item.key for page in pages for item in page]
    assert sorted(seen) == sorted(f"item-{n}" for n in range(7))


@case
async def filters_compare_value_fields(s: Ops) -> None:
    await s.put(U1, "a", {"content": "Likes hiking", "kind": "hobby", "level": 2, "active": True})
    await s.put(U1, "b", {"content": "Likes chess", "kind": "hobby", "level": 5, "active": False})
    await s.put(U1, "c", {"content": "Works at a bank", "kind": "job", "level": 2})
    assert {i.key for i in await s.search(U1, filter={"kind": "hobby"})} == {"a", "b"}
    assert {i.key for i in await s.search(U1, filter={"kind": {"$eq": "job"}})} == {"c"}
    assert {i.key for i in await s.search(U1, filter={"level": 2})} == {"a", "c"}
    assert {i.key for i in await s.search(U1, filter={"kind": "hobby", "active": True})} == {"a"}
    assert await s.search(U1, filter={"kind": "nothing"}) == []


@case
async def a_query_finds_the_item_that_answers_it(s: Ops) -> None:
    await s.put(U1, "drink", {"content": "The user drinks green tea every morning"})
    await s.put(U1, "sport", {"content": "The user swims twice a week"})
    await s.put(U2, "drink2", {"content": "Another user drinks green tea"})
    found = await s.search(U1, query="green tea")
    assert "drink" in [item.key for item in found]
    assert all(tuple(item.namespace) == U1 for item in found)
    drink = next(item for item in found if item.key == "drink")
    assert drink.value == {"content": "The user drinks green tea every morning"}


@case
async def list_namespaces_lists_what_holds_items(s: Ops) -> None:
    await s.put(U1, "a", {"content": "Speaks French"})
    await s.put(U1_NOTES, "b", {"content": "Reads science fiction"})
    await s.put(U1_DEEP, "c", {"content": "Book the dentist"})
    assert await s.list_namespaces(prefix=U1) == sorted([U1, U1_DEEP, U1_NOTES])
    assert await s.list_namespaces(prefix=U1, max_depth=3) == sorted(
        [U1, ("memories", "u1", "notes"), ("memories", "u1", "todo")]
    )
    assert await s.list_namespaces(prefix=U1, suffix=("notes",)) == [U1_NOTES]
    assert await s.list_namespaces(prefix=("memories", "u1", "*", "work")) == [U1_DEEP]
    assert await s.list_namespaces(prefix=U1, limit=1, offset=1) == [U1_NOTES]
    # The reference keeps listing a namespace whose last item was deleted; MemOSStore does not.


@case
async def batch_answers_each_operation_in_order(s: Ops) -> None:
    # As the reference does, a batch's reads see the store as it was before the batch, and of
    # several writes to one key the last one wins.
    await s.put(U1, "x", {"content": "Owns a blue bicycle"})
    results = await s.batch(
        [
            PutOp(U1, "x", {"content": "Owns a red bicycle"}),
            GetOp(U1, "x"),
            SearchOp(U1, None, 10, 0, None),
            PutOp(U1, "y", {"content": "Owns a green scooter"}),
            PutOp(U1, "x", None),
            GetOp(U1, "missing"),
        ]
    )
    assert results[0] is None
    assert results[1] is not None
    assert results[1].value == {"content": "Owns a blue bicycle"}
    assert [item.key for item in results[2]] == ["x"]
    assert results[3:] == [None, None, None]
    assert await s.get(U1, "x") is None
    y = await s.get(U1, "y")
    assert y is not None
    assert y.value == {"content": "Owns a green scooter"}
