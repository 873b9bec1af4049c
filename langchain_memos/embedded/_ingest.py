"""Conversations in: ``add/message`` stores the messages and makes their memories (fast mode at
once, fine mode through the :class:`Refiner`); ``add/feedback``, ``extract/memory`` and
``get/message`` read or write the same way."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, NamedTuple

from langchain_memos import _codes as codes
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded._context import plan_context, update_context
from langchain_memos.embedded._errors import EngineError, NotWrittenError, busy
from langchain_memos.embedded._events import event_of
from langchain_memos.embedded._produce import produce, text_of, turn_of
from langchain_memos.embedded._profiles import Profiles
from langchain_memos.embedded._refine import Job, Refiner
from langchain_memos.embedded._requests import AddFeedback, AddMessage, ExtractMemory, GetMessage
from langchain_memos.embedded._scope import VIEWS, Subject
from langchain_memos.embedded._text import epoch_ms, parse_chat_time
from langchain_memos.embedded._turns import Turn, restates
from langchain_memos.embedded._writer import Writer, new_id

# A message with its time and what it makes: (kind, memory, the turn a fact holds).
_Planned = tuple[dict[str, Any], int, list[tuple[str, dict[str, Any], str]]]


class _OwnerTurns(NamedTuple):
    """One owner's share of an add/message, made and embedded before the database is locked."""

    owner: dict[str, Any]
    key: tuple[str, str]  # whose conversation the messages are kept under
    planned: list[_Planned]
    vectors: list[list[float] | None]
    rough: list[str]  # the ids of the memories fine mode refines


class Ingest:
    """Stores conversations and makes their memories."""

    def __init__(
        self, writer: Writer, refiner: Refiner | None, profiles: Profiles | None = None
    ) -> None:
        self._writer = writer
        self._store = writer.store
        self._refiner = refiner
        self._profiles = profiles

    def add_message(self, request: AddMessage) -> dict[str, Any]:
        """Store the messages, and make their memories, for each (user, agent) the request names;
        one task covers them all."""
        views = set(request.allow_memory_view)
        if self._refiner is not None and (
            any(user is None for user, _ in request.owners)
            or not {"detail_factual", "preference"} <= views
        ):
            raise EngineError(
                codes.BAD_REQUEST,
                "Invalid request parameters: fine mode refines a user's facts and preferences; "
                "an agent's own memories, and allow_memory_view without detail_factual or "
                "preference, are made by the engine in fast mode (without a chat model) only",
            )
        task_id = new_id()
        now = self._writer.now_ms()
        # The task is recorded with the first owner's memories, in one transaction.
        task = (task_id, "completed" if self._refiner is None else "running", now)
        # Every owner's memories in one transaction: written for all of them, or for none (a
        # request answered with an error, sent again, makes no owner's memories twice).
        prepared = [self._prepare(request, user, agent, now) for user, agent in request.owners]
        try:
            with self._store.transaction() as db:
                for i, owner_turns in enumerate(prepared):
                    self._write(db, request, owner_turns, now, task if i == 0 else None)
        except sqlite3.OperationalError as error:
            if busy(error):  # rolled back: the request may be sent again as it is
                raise NotWrittenError from error
            raise
        jobs = [(owner_turns.owner, owner_turns.rough) for owner_turns in prepared]
        wait = not request.async_mode
        status = "completed" if wait else "running"
        if self._refiner is not None:
            for number, (owner, rough) in enumerate(jobs, 1):
                job = Job(
                    task_id,
                    owner,
                    request.conversation_id,
                    request.messages,
                    rough,
                    request.tags,
                    last=number == len(jobs),
                )
                if not wait:
                    self._refiner.submit(job)
                elif not self._refiner.run(job):
                    status = "failed"  # as get/status says; the fast memories stay
        # Fast mode finishes before answering; async callers are told "running" as by the cloud,
        # and get/status already says "completed".
        return {"success": True, "task_id": task_id, "status": status}

    def _prepare(
        self, request: AddMessage, user_id: str | None, agent_id: str | None, now: int
    ) -> _OwnerTurns:
        """The messages and their fast memories for one owner, embedded, ready to write."""
        conversation_id = request.conversation_id
        messages = request.messages
        views = set(request.allow_memory_view)
        kinds = {VIEWS[view][0] for view in views}
        owner = {
            "user_id": user_id,
            "agent_id": agent_id,
            "app_id": request.app_id,
            "info": request.info,
            "public": request.allow_public,
        }
        # An agent's own conversation is kept under no user (no user id is empty), by agent.
        agents_key = json.dumps([agent_id, conversation_id])
        key = (user_id, conversation_id) if user_id else ("", agents_key)
        extra_tags = request.tags
        rough: list[str] = []
        calls: dict[str, dict[str, Any]] = {}
        planned: list[_Planned] = []
        before, last = self._last_turns(*key)
        for message in messages:
            moment = parse_chat_time(message.get("chat_time"))
            stamp = epoch_ms(moment) if moment else now
            produced = []
            echoed = before if last is not None and restates(last, before) else None
            made = produce(message, conversation_id, stamp, calls, last, echoed)
            if "event" in views:
                made += event_of(message, conversation_id, stamp, moment)
            spoken = turn_of(message)
            before, last = (last, spoken) if spoken else (before, last)
            for kind, memory in made:
                if kind not in kinds:
                    continue
                memory["tags"] = list(dict.fromkeys([*memory.get("tags", []), *extra_tags]))
                if kind in ("fact", "preference"):
                    rough.append(memory["id"])
                turn = text_of(message.get("content")) if kind == "fact" else ""
                produced.append((kind, memory, turn))
            planned.append((message, stamp, produced))
        # The embedding model is called before the database is locked.
        vectors = self._writer.embed([memory for *_, made in planned for _, memory, _ in made])
        return _OwnerTurns(owner, key, planned, vectors, rough)

    def _write(
        self,
        db: sqlite3.Connection,
        request: AddMessage,
        prepared: _OwnerTurns,
        now: int,
        task: tuple[str, str, int] | None,
    ) -> None:
        """Store one owner's messages and memories (and the request's task, given one)."""
        owner, planned = prepared.owner, prepared.planned
        user_id, agent_id = owner["user_id"], owner["agent_id"]
        vectors = iter(prepared.vectors)
        turns = [turn for *_, made in planned for kind, _, turn in made if turn]
        contexts, previous = plan_context(db, user_id, agent_id, request.conversation_id, turns)
        around = iter(contexts)
        for message, stamp, produced in planned:
            db.execute(
                "INSERT INTO messages (user_id, conversation_id, body, create_time) "
                "VALUES (?, ?, ?, ?)",
                (*prepared.key, bodies.pack_message(message, stamp), stamp),
            )
            for kind, memory, turn in produced:
                self._writer.insert(
                    db,
                    kind,
                    memory,
                    owner,
                    next(vectors),
                    speaker=message.get("name") or message["role"],
                    text=turn,
                    context=next(around) if turn else ("", ""),
                )
        update_context(db, previous)
        if task is not None:
            db.execute("INSERT INTO tasks (task_id, status, create_time) VALUES (?, ?, ?)", task)
            if self._refiner is not None:
                db.execute(
                    "INSERT INTO task_runners (task_id, runner) VALUES (?, ?)",
                    (task[0], self._refiner.runner),
                )
        if "profile" in request.allow_memory_view and self._profiles is not None:
            subject = Subject(user_id=user_id, agent_id=None if user_id else agent_id)
            self._profiles.learn(db, subject, request.messages, now)

    def _last_turns(self, user_id: str, conversation_id: str) -> tuple[Turn | None, Turn | None]:
        """The conversation's two latest turns: the next one may answer the last, which may
        echo the one before."""
        rows = self._store.query(
            "SELECT body FROM messages WHERE user_id = ? AND conversation_id = ? "
            "ORDER BY seq DESC LIMIT 2",
            (user_id, conversation_id),
        )
        turns = [None, None, *(turn_of(json.loads(row["body"])) for row in rows[::-1])]
        return turns[-2], turns[-1]

    def get_message(self, request: GetMessage) -> dict[str, Any]:
        """The conversation's latest messages; without one, those of the user's latest
        ``conversation_limit_number`` conversations, each message naming its conversation."""
        conversations = [request.conversation_id]
        if request.conversation_id is None:
            rows = self._store.query(
                "SELECT conversation_id FROM messages WHERE user_id = ? "
                "GROUP BY conversation_id ORDER BY max(seq) DESC LIMIT ?",
                (request.user_id, request.conversation_limit_number),
            )
            conversations = [row["conversation_id"] for row in rows][::-1]
        found = []
        for conversation in conversations:
            rows = self._store.query(
                "SELECT body, create_time FROM (SELECT seq, body, create_time FROM messages "
                "WHERE user_id = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (request.user_id, conversation, request.message_limit_number),
            )
            messages = [bodies.unpack_message(row["body"], row["create_time"]) for row in rows]
            if request.conversation_id is None:
                messages = [{**message, "conversation_id": conversation} for message in messages]
            found += messages
        return {"message_detail_list": found}

    def add_feedback(self, request: AddFeedback) -> dict[str, Any]:
        """A correction. Fast mode keeps it as the user's newest statement, ranked above what it
        corrects; fine mode has the model update or retire the memories it corrects."""
        added = self.add_message(request.message)
        return {**added, "status": "completed"}

    def extract_memory(self, request: ExtractMemory) -> dict[str, Any]:
        types = request.extraction_types
        facts: list[dict[str, Any]] = []
        preferences: list[dict[str, Any]] = []
        previous: Turn | None = None
        for message in request.messages:
            made = produce(message, "extract", self._writer.now_ms(), {}, previous)
            previous = turn_of(message) or previous
            for kind, memory in made:
                if kind == "fact" and "memory" in types:
                    facts.append(
                        {
                            k: memory[k]
                            for k in ("memory_key", "memory_value", "memory_type", "tags")
                        }
                    )
                if kind == "preference" and "preference" in types:
                    preferences.append(
                        {k: memory[k] for k in ("preference", "reasoning", "preference_type")}
                    )
        return {"success": True, "memory_detail_list": facts, "preference_detail_list": preferences}
