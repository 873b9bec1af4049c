"""Messages cut into ``add/message`` calls of a bounded size (re-exported by
:mod:`langchain_memos.messages`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from langchain_memos._tokens import approximate_tokens
from langchain_memos.types import MessageInput

__all__ = ["batch_messages", "estimate_tokens"]


def estimate_tokens(message: MessageInput) -> int:
    """A cheap upper-leaning token estimate: a CJK character is a token, other text 4 chars one."""
    return approximate_tokens(json.dumps(message, ensure_ascii=False))


def batch_messages(messages: Sequence[MessageInput], max_tokens: int) -> list[list[MessageInput]]:
    """``messages`` in order, cut into batches of at most ``max_tokens`` (one ``add/message``
    call each).

    Measured with :func:`estimate_tokens`, which never counts less than the request limit's
    own measure does, so a batch under ``max_tokens`` is under it for the client too. A message
    over ``max_tokens`` by itself is a batch of its own: refusing one over the request limit is
    :func:`~langchain_memos.messages.to_memos_messages`'s job.
    """
    batches: list[list[MessageInput]] = []
    size = 0
    for message in messages:
        tokens = estimate_tokens(message)
        if not batches or size + tokens > max_tokens:
            batches.append([])
            size = 0
        batches[-1].append(message)
        size += tokens
    return batches
