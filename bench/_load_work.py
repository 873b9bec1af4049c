"""The work of ``load.py``: the seed conversations and the calls of each round's phases."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from _conversations import Vocabulary, conversation, question

from langchain_memos import AsyncMemOSClient
from langchain_memos.types import MessageInput

T = TypeVar("T")
ADDS_PER_CONVERSATION = 4
TURNS_PER_ADD = 2


def user_of(k: int, users: int) -> str:
    return f"load-user-{k % users:02d}"


@dataclass(frozen=True)
class Add:
    user_id: str
    conversation_id: str
    messages: list[MessageInput]


@dataclass(frozen=True)
class Search:
    user_id: str
    query: str
    conversation_id: str | None


def seed_conversation_id(k: int) -> str:
    return f"seed-{k:04d}"


def make_searches(
    vocabulary: Vocabulary, seed: int, count: int, seeded: int, users: int, rng: random.Random
) -> list[Search]:
    searches = []
    for index in range(count):
        k = rng.randrange(seeded)
        searches.append(
            Search(
                user_id=user_of(k, users),
                query=question(vocabulary, seed, k, index),
                conversation_id=seed_conversation_id(k) if index % 2 else None,
            )
        )
    return searches


def make_adds(
    vocabulary: Vocabulary, seed: int, calls: int, first_k: int, users: int, label: str
) -> list[Add]:
    """``calls`` adds: each new conversation gets ``ADDS_PER_CONVERSATION`` calls of
    ``TURNS_PER_ADD`` turns, made from the turns of synthetic conversation ``k``."""
    adds: list[Add] = []
    conversations = -(-calls // ADDS_PER_CONVERSATION)
    for j in range(conversations):
        k = first_k + j
        _, turns = conversation(vocabulary, seed, k)
        for part in range(ADDS_PER_CONVERSATION):
            if len(adds) == calls:
                break
            chunk = turns[part * TURNS_PER_ADD : (part + 1) * TURNS_PER_ADD]
            adds.append(Add(user_of(k, users), f"{label}-{j:04d}", chunk))
    return adds


Phases = list[tuple[str, Sequence["Search | Add"]]]


def round_phases(
    vocabulary: Vocabulary,
    seed: int,
    rng: random.Random,
    round_index: int,
    *,
    calls: int,
    serial: int,
    seeded: int,
    users: int,
    next_k: int,
    mixed: bool,
) -> tuple[Phases, list[Add], int]:
    """One round: its phases (serial, search, add and, with ``mixed``, mixed), the adds they
    make, and the next unused conversation number."""
    searches = make_searches(vocabulary, seed, calls, seeded, users, rng)
    adds = make_adds(vocabulary, seed, calls, next_k, users, f"r{round_index}-add")
    next_k += -(-calls // ADDS_PER_CONVERSATION)
    half = calls // 2
    mixed_adds = make_adds(vocabulary, seed, half, next_k, users, f"r{round_index}-mixed")
    next_k += -(-half // ADDS_PER_CONVERSATION)
    mixed_work: list[Search | Add] = [*searches[: calls - half], *mixed_adds]
    rng.shuffle(mixed_work)
    rng.shuffle(adds)  # a conversation's four adds are not sent next to each other
    phases: Phases = [
        ("serial", searches[-serial:] if serial else []),
        ("search", searches),
        ("add", adds),
    ]
    if not mixed:
        return phases, adds, next_k
    return [*phases, ("mixed", mixed_work)], [*mixed_adds, *adds], next_k


async def bounded(calls: Iterable[Awaitable[T]], limit: int) -> list[T | BaseException]:
    """Await ``calls`` (coroutines not yet started) at most ``limit`` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return await asyncio.gather(*(one(call) for call in calls), return_exceptions=True)


async def seed_conversations(
    client: AsyncMemOSClient, vocabulary: Vocabulary, seed: int, count: int, users: int, limit: int
) -> int:
    """Store ``count`` conversations (conversation k belongs to user k % users, one add each),
    ``limit`` at a time; the number of messages stored."""
    seeds = [
        Add(user_of(k, users), seed_conversation_id(k), conversation(vocabulary, seed, k)[1])
        for k in range(count)
    ]
    seeded = await bounded(
        (
            client.add_message(
                add.messages, user_id=add.user_id, conversation_id=add.conversation_id
            )
            for add in seeds
        ),
        limit,
    )
    failed = [answer for answer in seeded if isinstance(answer, BaseException)]
    if failed:
        raise SystemExit(f"seeding failed: {failed[0]!r}")
    return sum(len(add.messages) for add in seeds)
