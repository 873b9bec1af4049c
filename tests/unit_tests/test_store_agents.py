"""MemOSStore under what uses a LangGraph store: langmem, create_agent, StateGraph, Deep Agents.

The chat models are scripted (no LLM here); the store is MemOS on the embedded engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool, tool
from langgraph.graph import START, StateGraph
from langgraph.prebuilt import ToolRuntime
from langgraph.store.base import BaseStore
from typing_extensions import TypedDict

from langchain_memos import MemOSClient, MemOSStore
from tests.fakes import ScriptedChatModel

langmem = pytest.importorskip("langmem")
USER: RunnableConfig = {"configurable": {"langgraph_user_id": "alice", "thread_id": "t1"}}
NS = ("memories", "alice")


class ToolScript(ScriptedChatModel):
    """``ScriptedChatModel`` whose ``bind_tools`` gives a ``RunnableBinding``, as trustcall (behind
    langmem's managers) expects of a chat model."""

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind()


def call(name: str, args: dict[str, Any], number: int = 1) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"call_{number}"}])


def memos_store() -> MemOSStore:
    return MemOSStore(MemOSClient(embedded=":memory:"), user=1)


async def run_agent(agent: Any, text: str, config: RunnableConfig, use_async: bool) -> Any:
    state = {"messages": [HumanMessage(text)]}
    return await agent.ainvoke(state, config) if use_async else agent.invoke(state, config)


def tool_results(result: dict[str, Any]) -> list[str]:
    return [str(m.content) for m in result["messages"] if isinstance(m, ToolMessage)]


# ---- langmem --------------------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_langmem_tools_create_update_find_and_delete_per_user(use_async: bool) -> None:
    store = memos_store()
    namespace = ("memories", "{langgraph_user_id}")
    tools = [
        langmem.create_manage_memory_tool(namespace=namespace, store=store),
        langmem.create_search_memory_tool(namespace=namespace, store=store),
    ]

    async def turn(model: ToolScript, text: str, user: str = "alice") -> list[str]:
        agent = create_agent(model, tools=tools)
        config: RunnableConfig = {"configurable": {"langgraph_user_id": user}}
        return tool_results(await run_agent(agent, text, config, use_async))

    content = "The user prefers aisle seats on long flights"
    (created,) = await turn(
        ToolScript(script=[call("manage_memory", {"content": content}), AIMessage("Noted.")]),
        "I like aisle seats",
    )
    key = created.removeprefix("created memory ")
    item = store.get(NS, key)
    assert item is not None
    assert item.value == {"content": content}

    updated = "The user prefers window seats now"
    script = [call("manage_memory", {"content": updated, "action": "update", "id": key})]
    await turn(ToolScript(script=[*script, AIMessage("Updated.")]), "Window seats now")
    assert [(i.key, i.value) for i in store.search(NS)] == [(key, {"content": updated})]

    script = [call("search_memory", {"query": "window seats"})]
    (found,) = await turn(ToolScript(script=[*script, AIMessage("Found.")]), "Seats?")
    assert key in found
    assert updated in found
    # Another user's namespace holds nothing of alice's.
    (nothing,) = await turn(ToolScript(script=[*script, AIMessage("None.")]), "Seats?", "bob")
    assert key not in nothing

    script = [call("manage_memory", {"action": "delete", "id": key})]
    await turn(ToolScript(script=[*script, AIMessage("Forgotten.")]), "Forget my seats")
    assert store.get(NS, key) is None
    assert store.search(NS) == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_langmem_store_manager_searches_then_creates_updates_and_deletes(
    use_async: bool,
) -> None:
    store = memos_store()
    namespace = ("memories", "{langgraph_user_id}")

    async def run(model: ToolScript, text: str) -> list[dict[str, Any]]:
        manager = langmem.create_memory_store_manager(
            model, namespace=namespace, store=store, enable_deletes=True
        )
        conversation = {"messages": [{"role": "user", "content": text}]}
        if use_async:
            return await manager.ainvoke(conversation, USER)  # type: ignore[no-any-return]
        return manager.invoke(conversation, USER)  # type: ignore[no-any-return]

    fact = "Alice drinks green tea every morning"
    await run(ToolScript(script=[call("Memory", {"content": fact})]), "I drink green tea daily")
    (item,) = store.search(NS)
    assert item.value == {"kind": "Memory", "content": {"content": fact}}

    # The manager finds the memory by searching, and patches it by the id it was given.
    (found,) = store.search(NS, query="I switched from green tea to coffee")
    assert found.key == item.key
    doc_id = langmem.knowledge.extraction.MemoryStoreManager._stable_id(found)
    patch = {
        "json_doc_id": doc_id,
        "planned_edits": "tea became coffee",
        "patches": [{"op": "replace", "path": "/content", "value": "Alice drinks coffee now"}],
    }
    await run(ToolScript(script=[call("PatchDoc", patch)]), "I switched from green tea to coffee")
    (updated,) = store.search(NS)
    assert updated.key == item.key
    assert updated.value == {"kind": "Memory", "content": {"content": "Alice drinks coffee now"}}

    remove = call("RemoveDoc", {"json_doc_id": doc_id})
    await run(ToolScript(script=[remove]), "Forget what I drink, the coffee")
    assert store.search(NS) == []


# ---- create_agent and StateGraph --------------------------------------------------------------


@tool
def remember(fact: str, runtime: ToolRuntime) -> str:
    """Remember a fact about the user."""
    assert runtime.store is not None
    user = runtime.config["configurable"]["langgraph_user_id"]
    runtime.store.put(("memories", user), "fact", {"content": fact})
    return "saved"


@tool
def recall(query: str, runtime: ToolRuntime) -> str:
    """Recall what is known about the user."""
    assert runtime.store is not None
    user = runtime.config["configurable"]["langgraph_user_id"]
    found = runtime.store.search(("memories", user), query=query)
    return "; ".join(item.value["content"] for item in found) or "nothing"


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_create_agent_tools_read_and_write_runtime_store(use_async: bool) -> None:
    store = memos_store()
    script = [
        call("remember", {"fact": "Alice is allergic to peanuts"}, 1),
        call("recall", {"query": "peanuts allergy"}, 2),
        AIMessage("Noted: no peanuts."),
    ]
    agent = create_agent(ToolScript(script=script), tools=[remember, recall], store=store)
    result = await run_agent(agent, "I am allergic to peanuts", USER, use_async)
    assert tool_results(result) == ["saved", "Alice is allergic to peanuts"]
    item = store.get(NS, "fact")
    assert item is not None
    assert item.value == {"content": "Alice is allergic to peanuts"}


class Note(TypedDict):
    text: str
    recalled: str


def write_note(state: Note, *, store: BaseStore) -> dict[str, Any]:
    store.put(NS, "note", {"content": state["text"]})
    return {}


def read_note(state: Note, *, store: BaseStore) -> dict[str, Any]:
    item = store.get(NS, "note")
    return {"recalled": "" if item is None else item.value["content"]}


async def awrite_note(state: Note, *, store: BaseStore) -> dict[str, Any]:
    await store.aput(NS, "note", {"content": state["text"]})
    return {}


async def aread_note(state: Note, *, store: BaseStore) -> dict[str, Any]:
    item = await store.aget(NS, "note")
    return {"recalled": "" if item is None else item.value["content"]}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_state_graph_compiled_with_the_store(use_async: bool) -> None:
    store = memos_store()
    write, read = (awrite_note, aread_note) if use_async else (write_note, read_note)
    graph = (
        StateGraph(Note)
        .add_node("write", write)
        .add_node("read", read)
        .add_edge(START, "write")
        .add_edge("write", "read")
        .compile(store=store)
    )
    state: Note = {"text": "Parking spot B12", "recalled": ""}
    result = await graph.ainvoke(state) if use_async else graph.invoke(state)
    assert result["recalled"] == "Parking spot B12"


# ---- Deep Agents' /memories/ ------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_deep_agent_memories_persist_across_threads_and_are_searchable(
    use_async: bool,
) -> None:
    deepagents = pytest.importorskip("deepagents")
    from deepagents.backends import CompositeBackend, StateBackend, StoreBackend

    store = MemOSStore(MemOSClient(embedded=":memory:"), user=1, index_fields=())
    files = StoreBackend(store=store, namespace=lambda _runtime: ("filesystem", "alice"))

    async def run(script: list[AIMessage], thread: str) -> list[str]:
        backend = CompositeBackend(default=StateBackend(), routes={"/memories/": files})
        agent = deepagents.create_deep_agent(model=ToolScript(script=script), backend=backend)
        config: RunnableConfig = {"configurable": {"thread_id": thread}}
        text = "Keep my preferences in /memories/"
        return tool_results(await run_agent(agent, text, config, use_async))

    prefs = "# Preferences\n- green tea\n- aisle seats\n"
    edit = {"file_path": "/memories/prefs.md", "old_string": "green", "new_string": "oolong"}
    await run(
        [
            call("write_file", {"file_path": "/memories/prefs.md", "content": prefs}, 1),
            call("write_file", {"file_path": "/memories/trips/2025.md", "content": "Guangzhou"}, 2),
            call("edit_file", edit, 3),
            AIMessage("Saved."),
        ],
        "thread-1",
    )
    # A new thread sees the files: they live in MemOS, not in the thread's state.
    results = await run(
        [
            call("ls", {"path": "/memories/"}, 1),
            call("read_file", {"file_path": "/memories/prefs.md"}, 2),
            call("grep", {"pattern": "oolong", "path": "/memories/"}, 3),
            call("glob", {"pattern": "**/*.md", "path": "/memories/"}, 4),
            AIMessage("Done."),
        ],
        "thread-2",
    )
    listing, read, grep, glob = results
    assert "/memories/prefs.md" in listing
    assert "/memories/trips/" in listing
    assert "- oolong tea" in read
    assert "- green tea" not in read
    assert "/memories/prefs.md" in grep
    assert "/memories/trips/2025.md" in glob
    item = store.get(("filesystem", "alice"), "/prefs.md")
    assert item is not None
    assert item.value["content"] == "# Preferences\n- oolong tea\n- aisle seats\n"
    # ... and MemOS finds them by meaning too.
    found = store.search(("filesystem", "alice"), query="oolong tea")
    assert [i.key for i in found][:1] == ["/prefs.md"]
