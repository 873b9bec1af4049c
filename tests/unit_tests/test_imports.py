"""The public surface: one sorted ``__all__``, everything in it importable, and a light import."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import langchain_memos

EXPORTED = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncMemOSClient",
    "AuthenticationError",
    "BadRequestError",
    "ClosedError",
    "ConfigurationError",
    "DeadlineExceededError",
    "E5Embeddings",
    "EmbeddedEngine",
    "InternalServerError",
    "MemOSChatMessageHistory",
    "MemOSClient",
    "MemOSError",
    "MemOSGraphMemory",
    "MemOSInputError",
    "MemOSMiddleware",
    "MemOSRetriever",
    "MemOSStore",
    "MemoryPromptBuilder",
    "MemorySettings",
    "NotFoundError",
    "Outbox",
    "OutboxError",
    "OutboxFullError",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchMemoryResult",
    "SelfHostedOptions",
    "SelfHostedTransport",
    "WriteRefusedError",
    "__version__",
    "build_memory_prompt",
    "create_memory_tools",
    "create_memos_pre_model_hook",
    "parse_timestamp",
    "resolve_scope",
    "unsaved_messages",
    "validate_filter",
]


def _run(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this one has imported everything already)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def test_the_exported_names() -> None:
    assert langchain_memos.__all__ == EXPORTED
    assert sorted(set(EXPORTED)) == EXPORTED
    assert set(EXPORTED) <= set(dir(langchain_memos))


def test_every_exported_name_is_the_object_of_its_module() -> None:
    from langchain_memos.graph import MemOSGraphMemory
    from langchain_memos.middleware import MemOSMiddleware
    from langchain_memos.retrievers import MemOSRetriever

    for name in EXPORTED:
        assert getattr(langchain_memos, name) is not None, name
    assert langchain_memos.MemOSMiddleware is MemOSMiddleware
    assert langchain_memos.MemOSGraphMemory is MemOSGraphMemory
    assert langchain_memos.MemOSRetriever is MemOSRetriever


def test_nothing_public_is_left_out_of_all() -> None:
    # What the package namespace holds besides __all__: the submodules loaded so far.
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
        "scope",
        "settings",
        "store",
        "tools",
        "types",
    }
    assert public - modules - set(EXPORTED) == set()


def test_a_name_that_is_not_there_is_an_import_error() -> None:
    with pytest.raises(AttributeError, match="MemOSRetreiver"):
        getattr(langchain_memos, "MemOSRetreiver")  # noqa: B009
    with pytest.raises(ImportError, match="MemOSRetreiver"):
        exec("from langchain_memos import MemOSRetreiver")  # noqa: S102


def test_importing_the_package_loads_no_langchain_or_langgraph() -> None:
    loaded = json.loads(
        _run(
            """
            import json, sys
            import langchain_memos
            print(json.dumps(sorted(sys.modules)))
            """
        )
    )
    heavy = ("langchain", "langchain_core", "langgraph", "httpx", "pydantic")
    assert [m for m in loaded if m.split(".")[0] in heavy] == []
    assert [m for m in loaded if m.startswith("langchain_memos.")] == [
        "langchain_memos._exceptions"
    ]


def test_the_engine_and_serve_load_no_langchain_until_given_a_model() -> None:
    # `serve` and an engine used through the client start in a third of the time without it.
    loaded = json.loads(
        _run(
            """
            import json, sys
            from langchain_memos import MemOSClient
            from langchain_memos.embedded import EmbeddedEngine
            from langchain_memos.embedded.server import serve

            with MemOSClient(embedded=EmbeddedEngine(":memory:")) as client:
                client.add_message(
                    user_id="u", conversation_id="c",
                    messages=[{"role": "user", "content": "I love green tea."}],
                )
                found = client.search_memory(query="What do I like to drink?", user_id="u")
            assert found.memory_detail_list, found
            print(json.dumps(sorted(sys.modules)))
            """
        )
    )
    assert [m for m in loaded if m.split(".")[0] in ("langchain", "langchain_core")] == []


def test_the_package_works_without_the_langchain_extra() -> None:
    # A stand-in for an environment without `langchain` (langchain-core and langgraph stay).
    out = _run(
        """
        import importlib.abc, sys

        class NoLangchain(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "langchain" or name.startswith("langchain."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, NoLangchain())
        from langchain_memos import (
            MemOSClient, MemOSGraphMemory, MemOSRetriever, create_memory_tools,
        )
        print("ok")
        try:
            from langchain_memos import MemOSMiddleware
        except ImportError as error:
            print(error)
        """
    )
    ok, error = out.splitlines()
    assert ok == "ok"
    assert "pip install 'langchain-memos[langchain]'" in error
