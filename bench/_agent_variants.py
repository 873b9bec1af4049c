"""The agent set-ups ``agent_turn.py`` compares, what their users said and ask, and the turns.

Each :class:`Variant` is one framework with or without memory, answering with the suite's
scripted chat model (``tests/fakes.py``): ``tool_calls`` calls of ``lookup`` per user turn,
then an answer.
"""

from __future__ import annotations

import asyncio
import random
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, create_react_agent, tools_condition

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.graph import MemOSGraphMemory, create_memos_pre_model_hook
from langchain_memos.middleware import MemOSMiddleware
from tests.fakes import ScriptedChatModel

SEARCH = "/search/memory"
ADD = "/add/message"

# What every memory user said before: 36 turns, stored in six conversations (fast mode).
SEED_STATEMENTS = [
    "We always travel with the kids and my parents.",
    "I prefer cheap hotels close to a metro station.",
    "My daughter Mia is allergic to peanuts.",
    "I like spicy Sichuan food but not oily dishes.",
    "In June we went to Qingdao and the kids loved the beach.",
    "My father has a bad knee, so long walks are hard for him.",
    "I work from home on Mondays and Fridays.",
    "I run five kilometres every morning before work.",
    "My son Leo plays the violin and has a recital in November.",
    "We are saving for a hybrid SUV.",
    "I never drink coffee after three in the afternoon.",
    "Our dog Biscuit needs a sitter whenever we travel.",
    "My mother loves gardening, especially roses.",
    "I am learning Japanese for a trip to Kyoto next spring.",
    "We rent a flat in Hangzhou near the West Lake.",
    "My budget for the National Day holiday is about 8,000 yuan.",
    "I prefer trains to flights for trips under five hours.",
    "Leo gets carsick on long bus rides.",
    "Mia wants to see pandas in Chengdu.",
    "I am vegetarian on weekdays.",
    "My wife Lin is a nurse and works night shifts twice a week.",
    "We celebrate my parents' anniversary every October.",
    "I read mystery novels before bed.",
    "My favourite hotel chain is Atour because of the quiet rooms.",
    "I would like a beach holiday where my parents can rest.",
    "The kids start school at eight, so mornings are busy.",
    "I dislike crowded tourist spots during holidays.",
    "We booked swimming lessons for Mia on Saturdays.",
    "My father enjoys tea houses and Peking opera.",
    "I use a standing desk and have back pain when I sit too long.",
    "Leo wants a telescope for his birthday in December.",
    "We prefer family rooms with two beds over two separate rooms.",
    "I track expenses in a spreadsheet every Sunday.",
    "My parents cannot climb many stairs.",
    "We want a quiet holiday by a lake this autumn.",
    "I always pack snacks without peanuts for Mia.",
]
QUERIES = [
    "Where should we travel for the National Day holiday with the kids?",
    "Which hotel should I book near the metro?",
    "What snacks are safe for Mia on the train?",
    "Can you suggest a spicy dinner that is not oily?",
    "Plan a beach day my parents can enjoy.",
    "How far can my father walk on the trip?",
    "When is Leo's violin recital?",
    "Who can look after Biscuit while we travel?",
    "What gift should I buy Leo for his birthday?",
    "Is a train or a flight better to Chengdu?",
    "Find a quiet lake for our autumn holiday.",
    "What should my mother do in the garden this week?",
    "Help me budget the National Day holiday.",
    "Which family room should we book in Hangzhou?",
    "Suggest a tea house my father would like.",
    "How do I avoid crowded tourist spots?",
    "What should I read before bed tonight?",
    "Plan a Kyoto trip for next spring.",
    "What vegetarian lunch can I cook on Wednesday?",
    "How can I fix my back pain at the desk?",
]


@tool
def lookup(item: str) -> str:
    """Look an item up."""
    return f"{item}: in stock"


# ---- the variants --------------------------------------------------------------------------


@dataclass
class Variant:
    """One agent set-up: its compiled graph, its model, its memory (if any) and its figures."""

    name: str
    framework: str
    baseline: str  # the no-memory variant of the same framework
    app: Any
    model: ScriptedChatModel
    user_id: str
    memory: MemOSMiddleware | MemOSGraphMemory | None = None
    turn_s: list[float] = field(default_factory=list)
    flush_s: list[float] = field(default_factory=list)
    searches: list[int] = field(default_factory=list)
    adds: list[int] = field(default_factory=list)
    model_calls: list[int] = field(default_factory=list)
    calls_with_memory: list[int] = field(default_factory=list)
    write_pending_at_return: int = 0

    def pending_writes(self) -> int:
        writer = None if self.memory is None else self.memory.memory.writer
        return 0 if writer is None else writer.pending

    def model_counts(self) -> tuple[int, int]:
        """Model calls so far, and those whose system message carried a memory block."""
        calls = self.model.calls
        with_memory = sum(
            any(isinstance(m, SystemMessage) and "<memories>" in m.text for m in call)
            for call in calls
        )
        return len(calls), with_memory

    def config(self, mode: str) -> RunnableConfig:
        return {"configurable": {"user_id": self.user_id, "thread_id": f"{self.name}-{mode}"}}


def _graph(model: ScriptedChatModel, tools: list[BaseTool], memory: MemOSGraphMemory | None) -> Any:
    """recall -> model <-> tools -> save, or model <-> tools without memory."""

    def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [model.invoke(state["messages"])]}

    async def acall_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("model", RunnableLambda(call_model, afunc=acall_model))
    builder.add_node("tools", ToolNode(tools))
    builder.add_edge("tools", "model")
    if memory is None:
        builder.add_edge(START, "model")
        builder.add_conditional_edges("model", tools_condition, {"tools": "tools", END: END})
    else:
        builder.add_node("recall", memory.memory_node())
        builder.add_node("save", memory.save_node())
        builder.add_edge(START, "recall")
        builder.add_edge("recall", "model")
        builder.add_conditional_edges("model", tools_condition, {"tools": "tools", END: "save"})
        builder.add_edge("save", END)
    return builder.compile(checkpointer=InMemorySaver())


def _react_agent(model: ScriptedChatModel, tools: list[BaseTool], hook: Any) -> Any:
    with warnings.catch_warnings():  # deprecated in LangGraph 1.0; still the legacy hook's home
        warnings.simplefilter("ignore", DeprecationWarning)
        return create_react_agent(model, tools, pre_model_hook=hook, checkpointer=InMemorySaver())


def build_variants(
    mode: str,
    client: MemOSClient,
    async_client: AsyncMemOSClient | None,
    *,
    tool_calls: int,
    model_latency: float,
    timeout: float,
) -> list[Variant]:
    """The six variants of one mode, each with its own model, user and checkpointer."""
    tools: list[BaseTool] = [lookup]
    options: dict[str, Any] = {"async_client": async_client, "fail_open": False, "timeout": timeout}
    variants: list[Variant] = []

    def add(
        name: str,
        framework: str,
        baseline: str,
        build: Callable[[ScriptedChatModel], Any],
        memory: MemOSMiddleware | MemOSGraphMemory | None = None,
    ) -> None:
        model = ScriptedChatModel(tool_calls=tool_calls, latency=model_latency)
        user = f"bench-{mode}-{name}"
        variants.append(Variant(name, framework, baseline, build(model), model, user, memory))

    middleware = MemOSMiddleware(client, **options)
    nodes = MemOSGraphMemory(client, **options)
    hook = create_memos_pre_model_hook(client, **options)
    add(
        "none_create_agent",
        "create_agent",
        "none_create_agent",
        lambda model: create_agent(model, tools, checkpointer=InMemorySaver()),
    )
    add(
        "middleware",
        "create_agent",
        "none_create_agent",
        lambda model: create_agent(
            model, tools, middleware=[middleware], checkpointer=InMemorySaver()
        ),
        middleware,
    )
    add("none_graph", "StateGraph", "none_graph", lambda model: _graph(model, tools, None))
    add("graph_nodes", "StateGraph", "none_graph", lambda model: _graph(model, tools, nodes), nodes)
    add(
        "none_react",
        "create_react_agent",
        "none_react",
        lambda model: _react_agent(model, tools, None),
    )
    add(
        "naive_per_call",
        "create_react_agent",
        "none_react",
        lambda model: _react_agent(model, tools, hook),
    )
    return variants


def seed(client: MemOSClient, user_id: str) -> None:
    """Store the seed statements for ``user_id``, processed before this returns."""
    for start in range(0, len(SEED_STATEMENTS), 6):
        messages: list[Any] = []
        for statement in SEED_STATEMENTS[start : start + 6]:
            messages.append({"role": "user", "content": statement})
            messages.append({"role": "assistant", "content": "Noted."})
        client.add_message(
            messages, user_id=user_id, conversation_id=f"seed-{start // 6}", async_mode=False
        )


# ---- the turns -----------------------------------------------------------------------------


def run_turns(
    mode: str,
    variants: list[Variant],
    *,
    turns: int,
    warmup: int,
    rng: random.Random,
    counts: Callable[[], Counter[str]],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Every variant answers ``warmup + turns`` user turns; the variants' order is shuffled per
    round. Only the turn itself is timed; then its write is awaited and the requests counted."""
    expected_calls = variants[0].model.tool_calls + 1
    for round_ in range(warmup + turns):
        query = QUERIES[round_ % len(QUERIES)]
        order = list(variants)
        rng.shuffle(order)
        for variant in order:
            inputs = {"messages": [HumanMessage(query)]}
            config = variant.config(mode)
            requests_before = counts()
            calls_before, memory_before = variant.model_counts()
            started = time.perf_counter()
            if mode == "sync":
                variant.app.invoke(inputs, config)
            else:
                loop.run_until_complete(variant.app.ainvoke(inputs, config))
            elapsed = time.perf_counter() - started
            pending = variant.pending_writes()
            flush_started = time.perf_counter()
            if variant.memory is not None and not variant.memory.flush(timeout=60):
                raise SystemExit(f"{variant.name}: the write-back did not finish within 60 s")
            flushed = time.perf_counter() - flush_started
            requests = counts() - requests_before
            calls_after, memory_after = variant.model_counts()
            if calls_after - calls_before != expected_calls:
                raise SystemExit(
                    f"{variant.name}: {calls_after - calls_before} model calls in a turn, "
                    f"expected {expected_calls}"
                )
            if round_ < warmup:
                continue
            variant.turn_s.append(elapsed)
            variant.searches.append(requests[SEARCH])
            variant.adds.append(requests[ADD])
            variant.model_calls.append(calls_after - calls_before)
            variant.calls_with_memory.append(memory_after - memory_before)
            if variant.memory is not None and variant.memory.memory.writer is not None:
                variant.flush_s.append(flushed)
                variant.write_pending_at_return += pending > 0


def probe_search(client: MemOSClient, user_id: str, n: int) -> list[float]:
    """Round-trip times of ``n`` searches made with ``client`` alone (the turns' queries)."""
    out = []
    for i in range(n):
        started = time.perf_counter()
        client.search_memory(QUERIES[i % len(QUERIES)], user_id=user_id)
        out.append(time.perf_counter() - started)
    return out
