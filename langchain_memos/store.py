"""``MemOSStore``: MemOS as LangGraph's long-term memory store (``BaseStore``).

**Namespaces.** A namespace maps onto MemOS by a rule you choose: which element is the MemOS
user (``user=1`` for langmem's ``("memories", "{user_id}")``, ``user=0`` for
``(user_id, "memories")``), and optionally which are the agent, the app and the conversation.
Without a user element, every namespace belongs to the store's ``user_id`` (or the settings', or
the run's ``configurable.user_id`` / runtime context, as :func:`~langchain_memos.resolve_scope`
finds it). Every element is also kept in the memory's ``info`` and every request filters on it,
so that no request reaches outside the namespace it was given.

**Records.** ``put(ns, key, value)`` stores the value's text (its ``content``, ``text`` or
``memory`` field; a dict there as JSON; else the whole value as JSON) as one MemOS memory:
``add/message`` in sync mode, so that ``get`` reads it at once, also against the cloud (the
store waits for MemOS, and answers nothing from what is pending); then ``update/memory`` makes
that memory hold the text verbatim, and the value's other fields as JSON in its title. A put on
an existing key updates that memory in place (``update/memory``); only a change of a filterable
field (below) makes it again (a new MemOS id; the old one is deleted once the new one holds
the record), since MemOS cannot change a memory's info; ``index_fields=()`` (or the few fields
you filter on) keeps every put an update in place. A put that fails leaves the key as it was
(unless MemOS fails the clean-up of the copy it made too: then the key holds both until its next
write), and what would be refused (a text over one request, ``NaN``) is refused before any
request.
``put(ns, key, None)`` and ``delete`` delete it and what MemOS made of it.

**Search.** With ``query``, ``search/memory`` ranks the namespace's memories (at most 25:
``offset + limit`` above that is refused); ``SearchItem.score`` is MemOS's relativity. Facts and
preferences MemOS abstracted from the records come back too, keyed by their MemOS id, with a
value ``{"kind": "fact" | "preference", "content": ..., "memos_id": ..., "source_key": ...}``;
``get``, ``put`` and ``delete`` accept those ids (a put replaces the abstraction with a record of
that key); a record is addressed only by its own key. Without ``query``, the records under the
prefix are listed newest first, page by page (``get/memory``). ``filter`` compares top-level value
fields (strings, numbers, booleans, ``None``) for equality, ``{"f": v}`` or ``{"f": {"$eq": v}}``;
anything else (``$ne``, ``$gt``, nested paths, the text field) is refused with
``MemOSInputError`` before any request.

**Namespaces listing** and searches need a prefix that reaches the user element (MemOS searches
one user at a time); a shorter one is refused. **TTL** is not supported (``supports_ttl`` is
``False``): MemOS memories do not expire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchOp,
)

from langchain_memos import _store_plans as plans
from langchain_memos import _store_puts as puts
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._flows import arun, run
from langchain_memos._store_scope import (
    NamespaceRule,
    check_key,
    check_namespace,
    split_value,
    value_filter,
)
from langchain_memos._validation import check_instance, check_optional_id
from langchain_memos._validation.keywords import checks_keywords
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.scope import resolve_scope
from langchain_memos.settings import MemorySettings

__all__ = ["MemOSStore"]


@checks_keywords
class MemOSStore(BaseStore):
    """A LangGraph ``BaseStore`` over MemOS (the cloud, ``serve``, or the embedded engine).

    Args:
        client: The sync client (default: the settings', else one from the environment).
        async_client: The async client for ``abatch``; without it, async calls run the sync
            client in a thread.
        settings: The middleware's :class:`~langchain_memos.MemorySettings`: its clients,
            ``user_id`` and ``conversation_id`` are used.
        user: The namespace element that is the MemOS user (an index, 0 or more: a search
            finds it in a prefix, which does not say where the namespace ends).
        agent: The element sent as ``agent_id``.
        app: The element sent as ``app_id``.
        conversation: The element sent as ``conversation_id`` (else the settings', else
            one of its own per record).
        user_id: The MemOS user of every namespace, when ``user`` is not given.
        index_fields: The value fields copied into MemOS for ``filter=`` (default: every
            top-level string, number, boolean and ``None``). A put that changes one of them
            makes its memory again; ``()`` keeps every put an update in place (a filter is
            then refused).

    Example:
        >>> store = MemOSStore(MemOSClient(embedded=":memory:"), user=1)
        >>> store.put(("memories", "u1"), "tea", {"content": "Likes green tea"})
        >>> store.get(("memories", "u1"), "tea").value
        {'content': 'Likes green tea'}
    """

    supports_ttl: bool = False

    def __init__(
        self,
        client: MemOSClient | None = None,
        *,
        async_client: AsyncMemOSClient | None = None,
        settings: MemorySettings | None = None,
        user: int | None = None,
        agent: int | None = None,
        app: int | None = None,
        conversation: int | None = None,
        user_id: str | None = None,
        index_fields: Sequence[str] | None = None,
    ) -> None:
        check_instance("settings", settings, MemorySettings)
        check_instance("client", client, MemOSClient)
        check_instance("async_client", async_client, AsyncMemOSClient)
        if isinstance(index_fields, str) or not all(
            isinstance(name, str) and name for name in index_fields or ()
        ):
            raise MemOSInputError(
                f"index_fields must be a sequence of field names; got {index_fields!r}"
            )
        self.index_fields = None if index_fields is None else frozenset(index_fields)
        self.rule = NamespaceRule(user=user, agent=agent, app=app, conversation=conversation)
        self.user_id = check_optional_id("user_id", user_id) or (settings and settings.user_id)
        self.conversation_id = settings.conversation_id if settings else None
        self._async_client = async_client or (settings and settings.async_client) or None
        chosen = client or (settings and settings.client) or None
        if chosen is None and self._async_client is None:
            chosen = MemOSClient()
        self._client = chosen

    def __repr__(self) -> str:
        return f"MemOSStore(rule={self.rule!r}, user_id={self.user_id!r})"

    # ---- the operations, as plans --------------------------------------------------------

    def _target(self, namespace: Sequence[str], what: str) -> plans.Target:
        user = self.rule.element("user", namespace, what) or self.user_id
        if user is None:
            user = _run_scope_user()
        return plans.Target(user_id=check_optional_id("user_id", user) or "", rule=self.rule)

    def _plan(self, op: Op) -> plans.Plan:
        if isinstance(op, GetOp):
            namespace = check_namespace(op.namespace)
            target = self._target(namespace, "namespace")
            return plans.get(target, namespace, check_key(op.key))
        if isinstance(op, PutOp):
            namespace = check_namespace(op.namespace, writing=True)
            target = self._target(namespace, "namespace")
            key = check_key(op.key)
            if op.value is None:
                return plans.delete(target, namespace, key)
            if op.ttl is not None:
                raise MemOSInputError("MemOSStore does not support TTL (supports_ttl is False)")
            conversation = self.rule.element("conversation", namespace, "namespace")
            record = split_value(key, op.value, self.index_fields)
            return puts.put(target, namespace, key, record, conversation or self.conversation_id)
        if isinstance(op, SearchOp):
            prefix = check_namespace(op.namespace_prefix, "namespace_prefix")
            conditions = value_filter(op.filter, self.index_fields)
            limit, offset = _count("limit", op.limit, 1), _count("offset", op.offset, 0)
            query = op.query if op.query and op.query.strip() else None
            target = self._target(prefix, "namespace_prefix")
            return plans.search(target, prefix, conditions, query, limit, offset)
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise MemOSInputError(f"MemOSStore cannot run {type(op).__name__}")

    def _list_namespaces(self, op: ListNamespacesOp) -> plans.Plan:
        conditions = op.match_conditions or ()
        prefix: tuple[str, ...] = ()
        path: tuple[str, ...] = ()  # the prefix with its wildcards: the user may be past one
        for condition in conditions:
            if condition.match_type == "prefix":
                path = tuple(condition.path)
                fixed = []
                for label in condition.path:
                    if label == "*":
                        break
                    fixed.append(label)
                prefix = check_namespace(fixed, "prefix")
        target = self._target(path, "prefix")
        limit, offset = _count("limit", op.limit, 1), _count("offset", op.offset, 0)
        return _namespaces_plan(target, prefix, conditions, op.max_depth, limit, offset)

    # ---- running them --------------------------------------------------------------------

    def _ordered(self, ops: Iterable[Op]) -> tuple[list[Result], list[tuple[int, plans.Plan]]]:
        """Every operation checked (before any request), in the reference's order: the reads
        as the store was before the batch, then the writes, the last one per key."""
        ops = list(ops)
        writes: dict[tuple[tuple[str, ...], str], tuple[int, PutOp]] = {}
        steps = []
        for index, op in enumerate(ops):
            if isinstance(op, PutOp):
                writes[(tuple(op.namespace), op.key)] = (index, op)
            else:
                steps.append((index, self._plan(op)))
        steps += [(index, self._plan(op)) for index, op in writes.values()]
        return [None] * len(ops), steps

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations through the sync client (reads first, as ``InMemoryStore``)."""
        results, steps = self._ordered(ops)
        for index, plan in steps:
            results[index] = self._run(plan)
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations through the async client, or the sync one in a thread when the
        store has no async client (reads first, as ``InMemoryStore``)."""
        results, steps = self._ordered(ops)
        for index, plan in steps:
            if self._async_client is None:
                results[index] = await asyncio.to_thread(self._run, plan)
            else:
                results[index] = await arun(plan, self._async_client)
        return results

    def _run(self, plan: plans.Plan) -> Any:
        client = self._client
        if client is None:
            raise MemOSInputError(
                "this MemOSStore has only an async client: use its async methods "
                "(aget, aput, asearch, ...), or give it client="
            )
        return run(plan, client)


def _namespaces_plan(
    target: plans.Target,
    prefix: tuple[str, ...],
    conditions: Sequence[MatchCondition],
    max_depth: int | None,
    limit: int,
    offset: int,
) -> plans.Plan:
    """The namespaces a listing answers (its checks done before this plan is made)."""
    found = yield from plans.namespaces(target, prefix)
    matching = [ns for ns in found if all(_matches(c, ns) for c in conditions)]
    if max_depth is not None:
        matching = sorted({ns[:max_depth] for ns in matching})
    return matching[offset : offset + limit]


def _count(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise MemOSInputError(f"{name} must be an integer of at least {low}; got {value!r}")
    return value


def _matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    pairs = (
        zip(namespace, path, strict=False)
        if condition.match_type == "prefix"
        else zip(reversed(namespace), reversed(path), strict=False)
    )
    return all(want in ("*", have) for have, want in pairs)


def _run_scope_user() -> str:
    """The user of the LangGraph run this call is part of (its config, then its context)."""
    config: Mapping[str, Any] | None = None
    context: object = None
    try:
        from langgraph.config import get_config
        from langgraph.runtime import get_runtime

        config = get_config()
        context = get_runtime().context
    except RuntimeError:
        pass
    return resolve_scope(user_id=None, conversation_id=None, config=config, context=context).user_id
