"""Agent turn: memory searches per user turn, and the latency they add, for three integrations.

An agent turn is one user message answered by a tool loop: a deterministic fake chat model
calls a trivial tool ``tool_calls`` times (default 3), then answers, so one turn makes
``tool_calls + 1`` model calls. Measured in one run, on the same MemOS server:

- ``none_*``: no memory, the baseline turn of each framework: ``langchain.agents.create_agent``,
  a hand-built LangGraph ``StateGraph``, and ``langgraph.prebuilt.create_react_agent``;
- ``middleware``: ``MemOSMiddleware`` in ``create_agent`` (one search per user turn in
  ``before_agent``, the block injected into every model call, the turn written back in the
  background);
- ``graph_nodes``: ``MemOSGraphMemory`` nodes in the ``StateGraph`` (recall -> model <-> tools ->
  save);
- ``naive_per_call``: a search before every model call, the legacy
  ``create_memos_pre_model_hook`` in ``create_react_agent`` (its ``pre_model_hook`` runs before
  each model call; it does not write back).

The MemOS service is the embedded engine run by ``python -m langchain_memos serve`` in its own
process, seeded with the same few dozen remembered turns for every user, behind a delaying proxy
(``bench/_delay_proxy.py``, another process) that answers every request ``--delay-ms`` (default
50) later than the engine did. The proxy counts the HTTP requests by path: searches and adds per
turn are requests that really happened, read before and after each turn.

Every variant has its own user (so one variant's write-backs never change another's searches)
and keeps one conversation (one ``thread_id``, with an ``InMemorySaver`` checkpointer) for all of
its turns. The variants take turns in an order shuffled every round. A turn's time is the wall
time of ``invoke`` (or ``ainvoke``), which returns as soon as the background write is queued;
after it, untimed, the bench waits for the write (as a user's pause between turns would) and
reads the proxy's counters, so each turn's requests are attributed to it. The turns run in sync
mode (``invoke``) and in async mode (``ainvoke``, with ``AsyncMemOSClient`` searches).

Run it with ``.venv/bin/python bench/agent_turn.py`` (``--help`` for the knobs). The figures go
to ``bench/results/agent_turn.json`` and a table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import (
    ChildProcess,
    code_under_test,
    finish,
    machine_info,
    percentile,
    serve_command,
    versions,
)
from langchain.agents import create_agent
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.tools import BaseTool, tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, create_react_agent, tools_condition
from pydantic import PrivateAttr

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.graph import MemOSGraphMemory, create_memos_pre_model_hook
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.outbox import OUTBOX_PATH_ENV

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "agent_turn.json"
TOKEN = "bench-serve-token"  # noqa: S105 - a throwaway token for a loopback server it starts
COUNTS_PATH = "/__proxy__/counts"
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


# ---- the agent: a deterministic tool-calling model and a trivial tool ---------------------


class ToolLoopModel(BaseChatModel):
    """A stand-in chat model: per user turn, ``tool_calls`` calls of ``lookup``, then an answer.

    It decides from the messages alone (the AI messages since the latest human one), so every
    framework gets the same loop. It counts its calls, and the calls whose system messages
    carried a ``<memories>`` block.
    """

    tool_calls: int = 3
    latency: float = 0.0
    _calls: int = PrivateAttr(default=0)
    _with_memory: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "bench-tool-loop"

    @property
    def counts(self) -> tuple[int, int]:
        """Model calls so far, and those that saw a memory block."""
        return self._calls, self._with_memory

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self

    def _answer(self, messages: list[BaseMessage]) -> ChatResult:
        self._calls += 1
        if any(isinstance(m, SystemMessage) and "<memories>" in m.text for m in messages):
            self._with_memory += 1
        last_human = max(
            (i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1
        )
        done = sum(isinstance(m, AIMessage) for m in messages[last_human + 1 :])
        if done < self.tool_calls:
            call = {
                "name": "lookup",
                "args": {"item": f"item-{done}"},
                "id": f"call-{len(messages)}",
            }
            message = AIMessage(content="", tool_calls=[call])
        else:
            message = AIMessage(content=f"Done after {done} lookups.")
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            time.sleep(self.latency)
        return self._answer(messages)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._answer(messages)


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
    model: ToolLoopModel
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

    def config(self, mode: str) -> RunnableConfig:
        return {"configurable": {"user_id": self.user_id, "thread_id": f"{self.name}-{mode}"}}


def _graph(model: ToolLoopModel, tools: list[BaseTool], memory: MemOSGraphMemory | None) -> Any:
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


def _react_agent(model: ToolLoopModel, tools: list[BaseTool], hook: Any) -> Any:
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
        build: Callable[[ToolLoopModel], Any],
        memory: MemOSMiddleware | MemOSGraphMemory | None = None,
    ) -> None:
        model = ToolLoopModel(tool_calls=tool_calls, latency=model_latency)
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


# ---- the MemOS server and the delaying proxy, each in its own process ----------------------


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
            calls_before, memory_before = variant.model.counts
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
            calls_after, memory_after = variant.model.counts
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


# ---- report ---------------------------------------------------------------------------------


def summarise_ms(values_s: Sequence[float]) -> dict[str, float]:
    ordered = sorted(v * 1000 for v in values_s)
    return {
        "p50": round(percentile(ordered, 0.5), 2),
        "p95": round(percentile(ordered, 0.95), 2),
        "mean": round(statistics.fmean(ordered), 2),
        "min": round(ordered[0], 2),
        "max": round(ordered[-1], 2),
    }


def per_turn(values: Sequence[int]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 3), "min": min(values), "max": max(values)}


def mode_report(variants: list[Variant], search_ms: float) -> dict[str, Any]:
    """Each variant's figures; ``search_ms`` is one search's round trip through the proxy (p50)."""
    turn = {v.name: summarise_ms(v.turn_s) for v in variants}
    out: dict[str, Any] = {}
    for v in variants:
        own, first = turn[v.baseline], turn["none_create_agent"]
        searches = per_turn(v.searches)
        added_mean = turn[v.name]["mean"] - own["mean"]
        out[v.name] = {
            "framework": v.framework,
            "baseline": v.baseline,
            "turn_ms": turn[v.name],
            "added_ms_vs_own_baseline": {
                "p50": round(turn[v.name]["p50"] - own["p50"], 2),
                "mean": round(added_mean, 2),
            },
            "added_ms_vs_none_create_agent": {
                "p50": round(turn[v.name]["p50"] - first["p50"], 2),
                "mean": round(turn[v.name]["mean"] - first["mean"], 2),
            },
            "added_mean_ms_beyond_search_round_trips": round(
                added_mean - searches["mean"] * search_ms, 2
            ),
            "searches_per_turn": searches,
            "adds_per_turn": per_turn(v.adds),
            "model_calls_per_turn": per_turn(v.model_calls),
            "model_calls_with_memory_per_turn": per_turn(v.calls_with_memory),
            "turns_with_memory_in_the_prompt": sum(n > 0 for n in v.calls_with_memory),
            "write_back": None
            if not v.flush_s
            else {
                "turns_returned_before_write_done": v.write_pending_at_return,
                "write_done_ms_after_return": summarise_ms(v.flush_s),
            },
        }
    return out


def print_table(report: dict[str, Any]) -> None:
    config = report["config"]
    print(
        f"agent turn: {config['turns']} user turns per variant, {config['tool_calls']} tool calls "
        f"({config['tool_calls'] + 1} model calls) per turn, +{config['delay_ms']:g} ms per MemOS "
        "request"
    )
    probe = report["search_round_trip_ms"]  # measured after the turns
    print(
        f"one search: p50 {probe['through_proxy']['p50']:.1f} ms through the proxy, "
        f"{probe['direct']['p50']:.1f} ms direct to the engine"
    )
    header = (
        f"{'mode':<6}{'variant':<19}{'searches':>9}{'adds':>6}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'+p50 ms':>9}{'+mean ms':>10}"
    )
    print(header)
    for mode, variants in report["modes"].items():
        for name, row in variants.items():
            added = row["added_ms_vs_own_baseline"]
            baseline = name == row["baseline"]
            print(
                f"{mode:<6}{name:<19}{row['searches_per_turn']['mean']:>9.2f}"
                f"{row['adds_per_turn']['mean']:>6.2f}{row['turn_ms']['p50']:>9.1f}"
                f"{row['turn_ms']['p95']:>9.1f}"
                + (
                    f"{'-':>9}{'-':>10}"
                    if baseline
                    else f"{added['p50']:>+9.1f}{added['mean']:>+10.1f}"
                )
            )
    print("+p50/+mean: against the no-memory variant of the same framework (none_*)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=20, help="timed user turns per variant")
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed user turns per variant first"
    )
    parser.add_argument("--tool-calls", type=int, default=3, help="tool calls per user turn")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="added per MemOS request")
    parser.add_argument("--model-ms", type=float, default=0.0, help="latency of each model call")
    parser.add_argument(
        "--modes", default="sync,async", help="comma-separated: sync (invoke), async (ainvoke)"
    )
    parser.add_argument("--probe", type=int, default=30, help="direct searches timed at the end")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of the variants' order")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(args.modes) <= {"sync", "async"} or not args.modes:
        parser.error("--modes takes sync, async or both")
    if not (args.turns >= 1 and args.warmup >= 0 and args.tool_calls >= 0 and args.probe >= 1):
        parser.error("need turns >= 1, warmup >= 0, tool-calls >= 0 and probe >= 1")
    if args.delay_ms < 0 or args.model_ms < 0:
        parser.error("delays cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # The write-back outbox (a file, as for any service) goes to a scratch directory, not the
    # user's cache.
    scratch = tempfile.TemporaryDirectory(prefix="agent-turn-")
    os.environ[OUTBOX_PATH_ENV] = str(Path(scratch.name) / "outbox.sqlite3")
    rng = random.Random(args.seed)
    delay = args.delay_ms / 1000
    timeout = max(2.0, 4 * delay + 1.0)  # the package default, or room for a long delay
    started = time.perf_counter()
    server = ChildProcess.start(
        serve_command(),
        env={**os.environ, "MEMOS_SERVE_TOKEN": TOKEN},
    )
    proxy: ChildProcess | None = None
    loop = asyncio.new_event_loop()
    try:
        proxy = ChildProcess.start(
            [
                sys.executable,
                str(BENCH / "_delay_proxy.py"),
                "--upstream",
                server.url.removesuffix("/api/openmem/v1"),
                "--delay-ms",
                str(args.delay_ms),
            ]
        )
        counts_url = proxy.url.removesuffix("/api/openmem/v1") + COUNTS_PATH
        with (
            httpx.Client() as control,
            MemOSClient(base_url=server.url, api_key=TOKEN, max_retries=0) as direct,
            MemOSClient(base_url=proxy.url, api_key=TOKEN, max_retries=0) as client,
        ):

            def counts() -> Counter[str]:
                answer = control.get(counts_url)
                answer.raise_for_status()
                return Counter(answer.json())

            measured: dict[str, list[Variant]] = {}
            for mode in args.modes:
                async_client = (
                    AsyncMemOSClient(base_url=proxy.url, api_key=TOKEN, max_retries=0)
                    if mode == "async"
                    else None
                )
                variants = build_variants(
                    mode,
                    client,
                    async_client,
                    tool_calls=args.tool_calls,
                    model_latency=args.model_ms / 1000,
                    timeout=timeout,
                )
                for variant in variants:
                    seed(direct, variant.user_id)
                gc.collect()
                run_turns(
                    mode,
                    variants,
                    turns=args.turns,
                    warmup=args.warmup,
                    rng=rng,
                    counts=counts,
                    loop=loop,
                )
                for variant in variants:
                    if variant.memory is not None:
                        variant.memory.close(timeout=60)
                if async_client is not None:
                    loop.run_until_complete(async_client.aclose())
                measured[mode] = variants
            probe_user = f"bench-{args.modes[0]}-middleware"
            search_round_trip = {
                "through_proxy": summarise_ms(probe_search(client, probe_user, args.probe)),
                "direct": summarise_ms(probe_search(direct, probe_user, args.probe)),
            }
    finally:
        loop.close()
        if proxy is not None:
            proxy.stop()
        server.stop()
    elapsed = time.perf_counter() - started
    search_ms = search_round_trip["through_proxy"]["p50"]
    modes = {mode: mode_report(variants, search_ms) for mode, variants in measured.items()}
    report: dict[str, Any] = {
        "benchmark": "agent_turn",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(),
        "versions": versions(
            "langchain", "langchain-core", "langgraph", "httpx", "pydantic", "langchain-memos"
        ),
        "config": {
            "turns": args.turns,
            "warmup": args.warmup,
            "tool_calls": args.tool_calls,
            "model_calls_per_turn": args.tool_calls + 1,
            "delay_ms": args.delay_ms,
            "model_ms": args.model_ms,
            "modes": args.modes,
            "seed": args.seed,
            "probe": args.probe,
            "search_timeout_s": timeout,
            "server": "python -m langchain_memos serve (embedded engine, in memory, token), "
            "its own process",
            "proxy": "bench/_delay_proxy.py in its own process: counts each request by path, "
            "sleeps delay_ms, forwards it",
            "seed_memories": f"{len(SEED_STATEMENTS)} user turns per user, fast mode, sync adds",
            "users": "one per variant and mode, seeded alike",
            "conversation": "one thread_id per variant and mode for all its turns, InMemorySaver",
            "order": "every round, each variant answers the same query, in a shuffled order",
            "timed": "invoke/ainvoke only; the write-back is awaited (flush) after, untimed",
            "counted": "HTTP requests seen by the proxy, read before and after each turn",
            "clients": "MemOSClient/AsyncMemOSClient(max_retries=0); memory fail_open=False",
            "naive_per_call": "create_memos_pre_model_hook in create_react_agent (no write-back)",
            "wall_seconds": round(elapsed, 1),
        },
        "search_round_trip_ms": search_round_trip,
        "modes": modes,
    }
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
