"""One phase of ``load.py`` run and timed, with what watched it, and its figures."""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _common import latency_ms
from _load_work import Add, Phases, Search
from _proc import Meters, Peaks, cpu_seconds, open_fds, tcp_table

from langchain_memos import AsyncMemOSClient

# ---- one phase ---------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    round: int
    calls: int
    wall_s: float
    latencies_ns: dict[str, list[int]]
    errors: Counter[str]
    error_samples: list[str]
    peaks: Peaks
    connections_opened: int
    connections_closed: int
    retries: int
    time_wait_after: int
    fds_after: int
    client_cpu_s: float
    server_cpu_s: float
    add_statuses: Counter[str] = field(default_factory=Counter)
    task_ids: list[str] = field(default_factory=list)
    searches_with_facts: int = 0
    searches: int = 0


async def run_phase(
    client: AsyncMemOSClient,
    name: str,
    round_index: int,
    work: Sequence[Search | Add],
    meters: Meters,
    *,
    serial: bool = False,
) -> PhaseResult:
    latencies: dict[str, list[int]] = {"search": [], "add": []}
    errors: Counter[str] = Counter()
    error_samples: list[str] = []
    statuses: Counter[str] = Counter()
    task_ids: list[str] = []
    with_facts = 0
    clock = time.perf_counter_ns

    async def one(item: Search | Add) -> None:
        nonlocal with_facts
        kind = "search" if isinstance(item, Search) else "add"
        started = clock()
        try:
            if isinstance(item, Search):
                found = await client.search_memory(
                    item.query, user_id=item.user_id, conversation_id=item.conversation_id
                )
                with_facts += bool(found.memory_detail_list)
            else:
                task = await client.add_message(
                    item.messages, user_id=item.user_id, conversation_id=item.conversation_id
                )
                statuses[str(task.status)] += 1
                if task.task_id:
                    task_ids.append(task.task_id)
        except Exception as error:  # counted by type: the figure this benchmark is about
            errors[type(error).__name__] += 1
            if len(error_samples) < 5:
                error_samples.append(f"{type(error).__name__}: {error}")
        finally:
            latencies[kind].append(clock() - started)

    sampler, connections, retries = meters.sampler, meters.connections, meters.retries
    sampler.take()
    connections.take()
    retries.take()
    gc.collect()
    server_cpu = cpu_seconds(meters.server_pid)
    client_cpu = time.process_time()
    started = time.perf_counter()
    if serial:
        for item in work:
            await one(item)
    else:
        await asyncio.gather(*(one(item) for item in work))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    server_cpu = cpu_seconds(meters.server_pid) - server_cpu
    events = connections.take()
    return PhaseResult(
        name=name,
        round=round_index,
        calls=len(work),
        wall_s=wall,
        latencies_ns={kind: values for kind, values in latencies.items() if values},
        errors=errors,
        error_samples=error_samples,
        peaks=sampler.take(),
        connections_opened=events["connect_tcp.complete"],
        connections_closed=events["close.started"],
        retries=sum(retries.take().values()),
        time_wait_after=meters.sockets.time_wait(tcp_table()),
        fds_after=open_fds()[0],
        client_cpu_s=client_cpu,
        server_cpu_s=server_cpu,
        add_statuses=statuses,
        task_ids=task_ids,
        searches_with_facts=with_facts,
        searches=sum(isinstance(item, Search) for item in work),
    )


async def run_round(
    client: AsyncMemOSClient, round_index: int, phases: Phases, meters: Meters
) -> list[PhaseResult]:
    """Each phase of one round in turn, a line of progress after each."""
    results = []
    for name, work in phases:
        if not work:
            continue
        result = await run_phase(client, name, round_index, work, meters, serial=name == "serial")
        results.append(result)
        print(
            f"round {round_index} {name:<6} {result.calls / result.wall_s:>7.0f} calls/s, "
            f"{sum(result.errors.values())} errors, peak {result.peaks.client_sockets} "
            f"connections, {result.connections_opened} opened",
            flush=True,
        )
    return results


# ---- figures -------------------------------------------------------------------------------------


def phase_record(result: PhaseResult) -> dict[str, Any]:
    return {
        "phase": result.name,
        "round": result.round,
        "calls": result.calls,
        "wall_s": round(result.wall_s, 3),
        "calls_per_s": round(result.calls / result.wall_s, 1),
        "latency": {
            kind: latency_ms(values, digits=1) for kind, values in result.latencies_ns.items()
        },
        "errors": dict(result.errors),
        "error_samples": result.error_samples,
        "retries": result.retries,
        "peak_client_sockets": result.peaks.client_sockets,
        "peak_established_client_to_server": result.peaks.established,
        "connections_opened": result.connections_opened,
        "connections_closed": result.connections_closed,
        "time_wait_to_server_port_after": result.time_wait_after,
        "peak_fds": result.peaks.fds,
        "fds_after": result.fds_after,
        "client_cpu_s": round(result.client_cpu_s, 2),
        "server_cpu_s": round(result.server_cpu_s, 2),
        "server_peak_threads": result.peaks.server_threads,
        "server_peak_rss_mb": round(result.peaks.server_rss_kb / 1024, 1),
        "samples": result.peaks.samples,
        "tcp_samples": result.peaks.tcp_samples,
        "add_statuses": dict(result.add_statuses),
        "searches_with_facts": result.searches_with_facts,
        "searches": result.searches,
    }


def summarise(results: Sequence[PhaseResult]) -> dict[str, Any]:
    """Per phase, over its rounds: latencies pooled, throughput per round, worst socket figures."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(r.name for r in results):
        rounds = [r for r in results if r.name == name]
        pooled: dict[str, list[int]] = {}
        for r in rounds:
            for kind, values in r.latencies_ns.items():
                pooled.setdefault(kind, []).extend(values)
        errors: Counter[str] = Counter()
        for r in rounds:
            errors.update(r.errors)
        rates = [r.calls / r.wall_s for r in rounds]
        out[name] = {
            "rounds": len(rounds),
            "calls_per_round": rounds[0].calls,
            "calls_per_s_median": round(statistics.median(rates), 1),
            "calls_per_s_range": [round(min(rates), 1), round(max(rates), 1)],
            "latency": {kind: latency_ms(values, digits=1) for kind, values in pooled.items()},
            "errors": dict(errors),
            "retries": sum(r.retries for r in rounds),
            "peak_client_sockets": max(r.peaks.client_sockets for r in rounds),
            "peak_established_client_to_server": max(r.peaks.established for r in rounds),
            "connections_opened_per_round": [r.connections_opened for r in rounds],
            "client_cpu_s_per_call": round(
                sum(r.client_cpu_s for r in rounds) / sum(r.calls for r in rounds), 5
            ),
            "server_cpu_s_per_call": round(
                sum(r.server_cpu_s for r in rounds) / sum(r.calls for r in rounds), 5
            ),
            "server_peak_threads": max(r.peaks.server_threads for r in rounds),
        }
    return out
