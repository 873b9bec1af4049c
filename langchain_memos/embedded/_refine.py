"""Fine mode: a chat model abstracts a task's turns into facts and preferences, reconciled with
the user's stored memories (a changed fact updates its memory), replacing the fast ones."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_memos._constants import STORE_TITLE_MARK
from langchain_memos._owners import new_owner
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded._errors import busy
from langchain_memos.embedded._fine import extract
from langchain_memos.embedded._produce import text_of
from langchain_memos.embedded._request_base import parse
from langchain_memos.embedded._requests import SearchMemory
from langchain_memos.embedded._search import Search
from langchain_memos.embedded._store import MEMORY_ID_LIST
from langchain_memos.embedded._tasks import ended
from langchain_memos.embedded._writer import Writer, new_id

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger("langchain_memos.embedded")

_RECONCILE_LATEST = 20
_MARK_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    """What one ``add/message`` leaves to refine: its messages, and the fast memories they made."""

    task_id: str
    owner: dict[str, Any]
    conversation_id: str
    messages: list[dict[str, Any]]
    rough: list[str]
    tags: list[str]
    # A request for several users is one task with a job each: the last ends it, failed if any
    # of its jobs failed (the others leave it running).
    last: bool = True


class Refiner:
    """Runs refinements, at once or in the background, one at a time in the order submitted."""

    def __init__(self, writer: Writer, search: Search, chat_model: BaseChatModel) -> None:
        self._writer = writer
        self._store = writer.store
        self._search = search
        self._chat_model = chat_model
        # One worker: refinements of a user's turns run in the order they were added.
        self._worker = ThreadPoolExecutor(1, "memos-refine")
        self.runner = new_owner()
        """Who runs this engine's refinements, recorded with each task (see :func:`ended`)."""
        self._failing: set[str] = set()  # tasks a job of which failed, before their last ended
        self._outcomes = threading.Lock()

    def submit(self, job: Job) -> None:
        self._worker.submit(self.run, job)

    def close(self) -> None:
        """Finish the pending refinements."""
        self._worker.shutdown(wait=True)

    def run(self, job: Job) -> bool:
        """Replace the job's fast memories with the model's, reconciled; whether it worked."""
        owner, rough = job.owner, job.rough
        try:
            said = " ".join(text_of(m.get("content")) for m in job.messages if m["role"] == "user")
            asked = {"user_id": owner["user_id"], "query": said[:2000] or "user", "relativity": 0}
            related = self._search.search_memory(parse(SearchMemory, asked), riders=False)
            # A change often shares no words with what it changes ("I moved to Nanjing" vs "lives
            # in Shanghai"), so the model also sees the user's latest memories.
            latest = self._store.query(
                f"SELECT {bodies.columns()} FROM memories WHERE user_id = ? "
                "AND kind IN ('fact', 'preference') "
                "ORDER BY seq DESC LIMIT ?",
                (owner["user_id"], _RECONCILE_LATEST + len(rough)),
            )
            items = [
                *related["memory_detail_list"],
                *related["preference_detail_list"],
                *(bodies.read(row) for row in latest),
            ]
            # A LangGraph store record is what the application put at its key: not the model's
            # to rewrite or drop (its text may be JSON, its title the record's key).
            existing = {
                item["id"]: item.get("memory_value") or item.get("preference") or ""
                for item in items
                if item["id"] not in rough
                and not str(item.get("memory_key", "")).startswith(STORE_TITLE_MARK)
            }
            extraction = extract(self._chat_model, job.messages, list(existing.items()))
            new = [{"memory_value": f.value} for f in extraction.facts] + [
                {"preference": p.preference} for p in extraction.preferences
            ]
            vectors = iter(self._writer.embed(new))
            with self._store.transaction() as db:
                if self._touched(db, rough):
                    # Deleted or edited while the model ran: what the caller left stands (the
                    # refinement would bring back what they deleted, or undo their edit).
                    logger.info("task %s: its memories changed; not refined", job.task_id)
                    self._end(db, job, failed=False)
                    return True
                obsolete = [i for i in extraction.obsolete if i in existing]
                for ids in (rough, obsolete):
                    listed = json.dumps(ids)
                    self._store.delete_memories(db, f"m.id IN {MEMORY_ID_LIST}", [listed])
                now = self._writer.now_ms()
                base = {"conversation_id": job.conversation_id, "status": "activated"}
                # Each stored memory is replaced once: a second new memory naming it is new.
                replaceable = dict(existing)
                for fact in extraction.facts:
                    memory = {
                        **base,
                        "memory_key": fact.key,
                        "memory_value": fact.value,
                        "memory_type": fact.type,
                        "confidence": 0.9,
                        "tags": list(dict.fromkeys([*fact.tags, *job.tags, "mode:fine"])),
                    }
                    self._upsert(
                        db, "fact", memory, owner, fact.replaces, replaceable, now, next(vectors)
                    )
                for preference in extraction.preferences:
                    memory = {
                        **base,
                        "preference": preference.preference,
                        "preference_type": preference.preference_type,
                        "reasoning": preference.reasoning,
                    }
                    self._upsert(
                        db,
                        "preference",
                        memory,
                        owner,
                        preference.replaces,
                        replaceable,
                        now,
                        next(vectors),
                    )
                self._end(db, job, failed=False)
        except Exception:
            # The fast memories stay; the task says it failed.
            logger.warning("fine-mode refinement of task %s failed", job.task_id, exc_info=True)
            if self._outcome(job, failed=True) is not None:
                self._mark_failed(job.task_id)
            return False
        return True

    def _outcome(self, job: Job, *, failed: bool) -> str | None:
        """The task's status once ``job`` is done; None while jobs of it remain."""
        with self._outcomes:
            if failed:
                self._failing.add(job.task_id)
            if not job.last:
                return None
            if job.task_id in self._failing:
                self._failing.discard(job.task_id)
                return "failed"
            return "completed"

    def _end(self, db: sqlite3.Connection, job: Job, *, failed: bool) -> None:
        status = self._outcome(job, failed=failed)
        if status is not None:
            ended(db, job.task_id, status)

    @staticmethod
    def _touched(db: sqlite3.Connection, rough: list[str]) -> bool:
        """Whether any of the fast memories ``rough`` is gone or was edited (a fast memory is
        written with its update_time its create_time; an edit moves it)."""
        untouched = db.execute(
            f"SELECT count(*) FROM memories WHERE id IN {MEMORY_ID_LIST} "
            "AND update_time = create_time",
            [json.dumps(rough)],
        ).fetchone()[0]
        return bool(untouched != len(rough))

    def _mark_failed(self, task_id: str) -> None:
        """Say the task failed, waiting out another process's write lock up to a few times (each
        wait the store's busy timeout): a task left ``running`` is waited for in vain."""
        for attempt in range(_MARK_ATTEMPTS):
            try:
                with self._store.transaction() as db:
                    ended(db, task_id, "failed")
                return
            except sqlite3.OperationalError as error:
                if not busy(error) or attempt == _MARK_ATTEMPTS - 1:
                    raise

    def _upsert(
        self,
        db: sqlite3.Connection,
        kind: str,
        memory: dict[str, Any],
        owner: dict[str, Any],
        replaces: str | None,
        replaceable: dict[str, str],
        now: int,
        vector: list[float] | None,
    ) -> None:
        """Update the memory a new one replaces (keeping its id), or insert the new one. A
        memory of another kind (a fact replacing a preference) is not turned into this one: it
        goes, and the new one is inserted. Either way it leaves ``replaceable``, so that another
        new memory naming it (the model may name one twice) is inserted, not written over it."""
        if replaces is not None and replaceable.pop(replaces, None) is not None:
            rows = db.execute(
                f"SELECT seq, {bodies.columns()} FROM memories WHERE id = ?",
                (bodies.stored_id(replaces),),
            ).fetchall()
            if rows and rows[0]["kind"] == kind:
                updated = {**bodies.read(rows[0]), **memory, "update_time": now}
                self._writer.rewrite(db, rows[0]["seq"], updated, vector, owner, kind)
                return
            if rows:
                self._store.delete_memories(db, "m.seq = ?", [rows[0]["seq"]])
        memory = {**memory, "id": new_id(), "create_time": now, "update_time": now}
        self._writer.insert(db, kind, memory, owner, vector)
