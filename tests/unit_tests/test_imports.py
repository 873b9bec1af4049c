"""The public surface: one sorted ``__all__``, and everything in it importable."""

from __future__ import annotations

import langchain_memos


def test_all_is_sorted_and_complete() -> None:
    exported = langchain_memos.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(langchain_memos, name), name
    public = {name for name in vars(langchain_memos) if not name.startswith("_")}
    modules = {
        "chat_message_histories",
        "client",
        "graph",
        "middleware",
        "embedded",
        "filters",
        "messages",
        "outbox",
        "prompts",
        "retrievers",
        "tools",
        "types",
    }
    assert public - modules - set(exported) == set()
