"""Interleaved timing: series of calls run in blocks whose order is shuffled every round, so
drift hits every series alike; and a bootstrap interval for the ratio of two medians."""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

from _common import percentile


def _block_schedule(names: Sequence[str], n: int, block: int, rng: random.Random) -> list[str]:
    """Blocks of ``block`` calls per series, the series shuffled anew every round."""
    schedule: list[str] = []
    rounds = -(-n // block)
    for _ in range(rounds):
        order = list(names)
        rng.shuffle(order)
        schedule.extend(order)
    return schedule


def run_sync(
    calls: dict[str, Callable[[], object]], *, n: int, warmup: int, block: int, rng: random.Random
) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for _ in range(warmup):
        for call in calls.values():
            call()
    gc.collect()
    clock = time.perf_counter_ns
    for name in _block_schedule(list(calls), n, block, rng):
        call, out = calls[name], samples[name]
        for _ in range(min(block, n - len(out))):
            started = clock()
            call()
            out.append(clock() - started)
    return samples


async def run_async(
    calls: dict[str, Callable[[], Awaitable[object]]],
    *,
    n: int,
    warmup: int,
    block: int,
    rng: random.Random,
) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for _ in range(warmup):
        for call in calls.values():
            await call()
    gc.collect()
    clock = time.perf_counter_ns
    for name in _block_schedule(list(calls), n, block, rng):
        call, out = calls[name], samples[name]
        for _ in range(min(block, n - len(out))):
            started = clock()
            await call()
            out.append(clock() - started)
    return samples


def bootstrap_ratio_ci(
    numerator: Sequence[int], denominator: Sequence[int], *, rounds: int, rng: random.Random
) -> tuple[float, float] | None:
    """95% bootstrap interval of median(numerator) / median(denominator)."""
    if rounds <= 0:
        return None
    ratios = sorted(
        statistics.median(rng.choices(numerator, k=len(numerator)))
        / statistics.median(rng.choices(denominator, k=len(denominator)))
        for _ in range(rounds)
    )
    return round(percentile(ratios, 0.025), 4), round(percentile(ratios, 0.975), 4)
