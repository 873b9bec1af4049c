"""The embedded engine on LoCoMo for bench/locomo_recall.py: ingest through the client, pair
memories with dia_ids through the API, search every question."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from _locomo_data import (
    CLOUD_LIMIT,
    HEADROOM_LIMIT,
    PAGE_SIZE,
    Conversation,
    DataSet,
    Packed,
    Session,
    Turn,
    pack,
)
from langchain_core.embeddings import Embeddings

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.types import MemoryDetail, MessageInput

# ---- the engine, through the client ----------------------------------------------------------


def user_id_of(conversation: Conversation) -> str:
    return f"locomo-{conversation.sample_id}"


def conversation_id_of(conversation: Conversation, session: Session) -> str:
    return f"{conversation.sample_id}-session-{session.number}"


@dataclass
class EngineRun:
    api: dict[tuple[str, int], Packed] = field(default_factory=dict)
    headroom: dict[tuple[str, int], Packed] = field(default_factory=dict)
    ingest_seconds: float = 0.0
    messages: int = 0
    sessions: int = 0
    memories: int = 0
    duplicate_texts_in_a_session: int = 0
    search_ns: list[int] = field(default_factory=list)
    top25_mismatches: int = 0
    recalled_per_search: list[int] = field(default_factory=list)
    # Memories returned at the default relativity for a question asked of another conversation's
    # user (whose memories do not answer it): what the 0.45 threshold lets through.
    unrelated_returned: list[int] = field(default_factory=list)
    # Per question: the highest relativity of a recalled memory showing an evidence turn (None
    # when none of the 25 does), and what the stranger search returned.
    evidence_relativity: dict[tuple[str, int], float | None] = field(default_factory=dict)
    # The same for the event view: the highest relativity of a recalled event whose turn is an
    # evidence turn (None when none of the 25 is; only a turn that dates what it tells is one).
    evidence_event_relativity: dict[tuple[str, int], float | None] = field(default_factory=dict)
    unrelated_by_question: dict[tuple[str, int], int] = field(default_factory=dict)
    turns_without_a_fact: int = 0
    facts_carrying_their_previous_turn: int = 0


def ingest(client: MemOSClient, conversation: Conversation, run: EngineRun) -> None:
    """One ``add_message`` per session: speaker_a as the user, speaker_b as the assistant."""
    user_id = user_id_of(conversation)
    for session in conversation.sessions:
        messages = [
            cast(
                MessageInput,
                {
                    "role": "user" if turn.speaker == conversation.speaker_a else "assistant",
                    "name": turn.speaker,
                    "content": turn.text,
                    "chat_time": session.date_time,
                },
            )
            for turn in session.turns
        ]
        started = time.perf_counter()
        client.add_message(
            messages,
            user_id=user_id,
            conversation_id=conversation_id_of(conversation, session),
            async_mode=False,
        )
        run.ingest_seconds += time.perf_counter() - started
        run.messages += len(messages)
        run.sessions += 1


def _source_text(memory: MemoryDetail) -> str:
    sources = memory.sources
    if not sources or not isinstance(sources[0], Mapping):
        raise SystemExit(f"memory {memory.id} has no source turn")
    return str(sources[0].get("content", ""))


def map_memories(
    client: MemOSClient, conversation: Conversation, run: EngineRun
) -> dict[str, tuple[str, ...]]:
    """Memory id -> the dia_ids whose whole text the memory's text carries, read back through
    the API.

    ``get_memory`` lists the user's facts; each fast-mode fact holds its turn as
    ``sources[0].content``. Within a session the facts are matched with the turns in order (the
    listing is newest first, so it is reversed), each with the next turn of the same text, so
    that a turn said twice in one session is still paired with its own dia_id; turns with no
    content of their own ("Thanks!") have no fact and are skipped. A fact also carries the turn it
    answers when that turn's whole text is in its ``memory_value``. Every pair is then checked
    once more with ``get_memory_by_id`` (its ``metadata.sources``).
    """
    user_id = user_id_of(conversation)
    listed: list[MemoryDetail] = []
    page = 1
    while True:
        result = client.get_memory(
            user_id=user_id,
            page=page,
            size=PAGE_SIZE,
            include_preference=False,
            include_tool_memory=False,
        )
        listed.extend(result.memory_detail_list)
        if len(result.memory_detail_list) < PAGE_SIZE:
            break
        page += 1
    by_session: dict[str | None, list[MemoryDetail]] = {}
    for memory in reversed(listed):
        by_session.setdefault(memory.conversation_id, []).append(memory)
    mapping: dict[str, tuple[str, ...]] = {}
    own: dict[str, str] = {}
    for session in conversation.sessions:
        turns = [turn for turn in session.turns if turn.text.strip()]
        texts = Counter(turn.text for turn in turns)
        run.duplicate_texts_in_a_session += sum(n - 1 for n in texts.values() if n > 1)
        memories = by_session.pop(conversation_id_of(conversation, session), [])
        position = 0
        for memory in memories:
            text = _source_text(memory)
            while position < len(turns) and turns[position].text != text:
                run.turns_without_a_fact += 1
                position += 1
            if memory.id is None or position == len(turns):
                raise SystemExit(
                    f"{conversation.sample_id} session {session.number}: fact {memory.id} is "
                    "no turn of its session, in order"
                )
            carried = [turns[position].dia_id]
            value = memory.memory_value or ""
            if position > 0 and turns[position - 1].text in value:
                carried.append(turns[position - 1].dia_id)
                run.facts_carrying_their_previous_turn += 1
            mapping[memory.id] = tuple(carried)
            own[memory.id] = turns[position].dia_id
            position += 1
        run.turns_without_a_fact += len(turns) - position
    if by_session:
        raise SystemExit(f"{conversation.sample_id}: facts of unknown sessions {list(by_session)}")
    turn_text = {turn.dia_id: turn.text for turn in conversation.turns}
    for memory_id, dia_id in own.items():
        detail = client.get_memory_by_id(memory_id)
        metadata = (detail.model_extra or {}).get("metadata") or {}
        sources = metadata.get("sources") or [{}]
        if sources[0].get("content") != turn_text[dia_id]:
            raise SystemExit(f"get_memory_by_id({memory_id}) disagrees with the listing")
    run.memories += len(mapping)
    return mapping


def turns_around(conversation: Conversation) -> dict[str, list[Turn]]:
    """Each turn's neighbours in its session, two either side."""
    around: dict[str, list[Turn]] = {}
    for session in conversation.sessions:
        turns = session.turns
        for i, turn in enumerate(turns):
            around[turn.dia_id] = [
                turns[j] for j in (i - 2, i - 1, i + 1, i + 2) if 0 <= j < len(turns)
            ]
    return around


def shown(
    own: tuple[str, ...], near: Mapping[str, list[Turn]], value: str | None
) -> tuple[str, ...]:
    """The turns a recalled memory shows: those its listing carries, and the neighbouring turns
    whose whole text its returned text holds (the context search adds)."""
    extra = [
        t.dia_id for t in near[own[0]] if t.text and t.text in (value or "") and t.dia_id not in own
    ]
    return (*own, *extra)


def run_engine(
    data: DataSet,
    db_path: str,
    budget: int,
    embeddings: Embeddings | None = None,
) -> EngineRun:
    """Fast mode (no LLM); lexical, or with ``embeddings`` fused with vector similarity. Each
    question is also asked of the next conversation's user, at the default relativity, and what
    comes back is counted (what 0.45 lets through that cannot answer it)."""
    run = EngineRun()
    engine = EmbeddedEngine(db_path, chat_model=None, embeddings=embeddings)
    try:
        with MemOSClient(embedded=engine) as client:
            mappings: dict[str, dict[str, tuple[str, ...]]] = {}
            for conversation in data.conversations:
                ingest(client, conversation, run)
            for conversation in data.conversations:
                mappings[conversation.sample_id] = map_memories(client, conversation, run)
            neighbours = {c.sample_id: turns_around(c) for c in data.conversations}
            # An event's value is its turn's text, stripped.
            text_of = {
                (c.sample_id, t.dia_id): t.text.strip() for c in data.conversations for t in c.turns
            }
            values: dict[str, str] = {}
            clock = time.perf_counter_ns
            for question in data.questions:
                conversation = next(
                    c for c in data.conversations if c.sample_id == question.sample_id
                )
                user_id = user_id_of(conversation)
                mapping = mappings[question.sample_id]
                near = neighbours[question.sample_id]
                started = clock()
                result = client.search_memory(
                    question.text,
                    user_id=user_id,
                    memory_limit_number=CLOUD_LIMIT,
                    include_preference=False,
                    relativity=0,
                )
                run.search_ns.append(clock() - started)
                recalled = result.memory_detail_list
                run.recalled_per_search.append(len(recalled))
                other = data.conversations[
                    (data.conversations.index(conversation) + 1) % len(data.conversations)
                ]
                stranger = client.search_memory(
                    question.text, user_id=user_id_of(other), include_preference=False
                )
                key = (question.sample_id, question.index)
                run.unrelated_returned.append(len(stranger.memory_detail_list))
                run.unrelated_by_question[key] = len(stranger.memory_detail_list)
                for memory in recalled:
                    if memory.id not in mapping:
                        raise SystemExit(f"search returned an unknown memory {memory.id}")
                run.evidence_relativity[key] = max(
                    (
                        m.relativity or 0.0
                        for m in recalled
                        if question.evidence & set(shown(mapping[str(m.id)], near, m.memory_value))
                    ),
                    default=None,
                )
                events = client.search_memory(
                    question.text,
                    user_id=user_id,
                    memory_limit_number=CLOUD_LIMIT,
                    include_memory_view=["event"],
                    relativity=0,
                ).event_detail_list
                evidence_texts = {
                    text_of[(question.sample_id, d)]
                    for d in question.evidence
                    if (question.sample_id, d) in text_of
                }
                run.evidence_event_relativity[key] = max(
                    (e.relativity or 0.0 for e in events if e.event_value in evidence_texts),
                    default=None,
                )
                run.api[key] = pack(
                    (
                        (m.memory_value or "", shown(mapping[str(m.id)], near, m.memory_value))
                        for m in recalled
                    ),
                    budget,
                    CLOUD_LIMIT,
                )
                ranked = engine.rank(
                    question.text,
                    user_id=user_id,
                    limit=HEADROOM_LIMIT,
                    candidates=HEADROOM_LIMIT,
                )
                ids = [str(memory["id"]) for memory in ranked]
                if ids[:CLOUD_LIMIT] != [m.id for m in recalled]:
                    run.top25_mismatches += 1
                missing = [i for i in ids if i not in values]
                if missing:
                    # Each memory's stored text, read through the API (a search's text may
                    # carry the neighbours riding along with it).
                    for memory_id in missing:
                        values[memory_id] = client.get_memory_by_id(memory_id).memory_value or ""
                run.headroom[key] = pack(
                    ((values[i], shown(mapping[i], near, values[i])) for i in ids),
                    budget,
                    HEADROOM_LIMIT,
                )
    finally:
        engine.close()
    return run
