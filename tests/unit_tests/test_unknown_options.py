"""A misspelled option is a caller mistake: ``MemOSInputError`` naming it and the option meant.

It was silently accepted by the retriever (a pydantic model ignores unknown fields) and a
``TypeError`` everywhere else, while the README promises a ``MemOSInputError`` for every caller
mistake.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

import langchain_memos
from langchain_memos import (
    AsyncMemOSClient,
    E5Embeddings,
    EmbeddedEngine,
    MemoryPromptBuilder,
    MemorySettings,
    MemOSChatMessageHistory,
    MemOSClient,
    MemOSGraphMemory,
    MemOSInputError,
    MemOSMiddleware,
    MemOSRetriever,
    MemOSStore,
    Outbox,
    SearchMemoryResult,
    SelfHostedOptions,
    SelfHostedTransport,
    build_memory_prompt,
    create_memory_tools,
    create_memos_pre_model_hook,
)

CLIENT = MemOSClient(embedded=":memory:")
SETTINGS = MemorySettings(client=CLIENT, user_id="u1")

# name -> (what is called, its arguments, the misspelled option, the option meant); called through
# Callable[..., object], as a caller without a type checker would.
MISTAKES: dict[str, tuple[Callable[..., object], tuple[object, ...], str, str]] = {
    "MemOSClient": (MemOSClient, (), "timout", "timeout"),
    "AsyncMemOSClient": (AsyncMemOSClient, (), "max_retry", "max_retries"),
    "EmbeddedEngine": (EmbeddedEngine, (":memory:",), "embedding", "embeddings"),
    "E5Embeddings": (E5Embeddings, (), "thread", "threads"),
    "MemOSChatMessageHistory": (MemOSChatMessageHistory, ("u1", "c1"), "wiat", "wait"),
    "MemOSGraphMemory": (MemOSGraphMemory, (CLIENT,), "usr_id", "user_id"),
    "MemOSMiddleware": (MemOSMiddleware, (CLIENT,), "timout", "timeout"),
    "MemOSRetriever": (MemOSRetriever, (), "relativty", "relativity"),
    "MemOSStore": (MemOSStore, (CLIENT,), "usr", "user"),
    "MemoryPromptBuilder": (MemoryPromptBuilder, (), "max_token", "max_tokens"),
    "MemorySettings": (MemorySettings, (), "timout", "timeout"),
    "Outbox": (Outbox, (), "max_pendng", "max_pending"),
    "SelfHostedOptions": (SelfHostedOptions, (), "add_mod", "add_mode"),
    "SelfHostedTransport": (SelfHostedTransport, (), "transprt", "transport"),
    "build_memory_prompt": (
        build_memory_prompt,
        (SearchMemoryResult(),),
        "max_token",
        "max_tokens",
    ),
    "create_memory_tools": (create_memory_tools, (SETTINGS,), "timout", "timeout"),
    "create_memos_pre_model_hook": (create_memos_pre_model_hook, (CLIENT,), "timout", "timeout"),
}
# Public names that take no options from a caller, or keep what they are given on purpose.
NOT_CONSTRUCTORS = {
    "SearchMemoryResult": "a response model: it keeps the fields MemOS adds, by design",
    "parse_timestamp": "a function, not a constructor",
    "resolve_scope": "a function, not a constructor",
    "unsaved_messages": "a function, not a constructor",
    "validate_filter": "a function, not a constructor",
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_misspelled_option_names_the_option_meant(name: str) -> None:
    call, args, misspelled, meant = MISTAKES[name]
    with pytest.raises(MemOSInputError) as raised:
        call(*args, **{misspelled: 1})
    message = str(raised.value)
    assert f"{misspelled!r} (did you mean {meant!r}?)" in message
    assert raised.value.__cause__ is None  # no TypeError or pydantic error underneath


def test_every_public_constructor_is_checked() -> None:
    """A new public class or factory must join MISTAKES (or say why it takes no options)."""
    public = {
        name
        for name in langchain_memos.__all__
        if not name.startswith("_")
        and callable(obj := getattr(langchain_memos, name))
        and not (inspect.isclass(obj) and issubclass(obj, BaseException))
    }
    assert public == set(MISTAKES) | set(NOT_CONSTRUCTORS)


def test_every_unknown_option_is_named() -> None:
    with pytest.raises(MemOSInputError) as raised:
        MemOSRetriever(client=CLIENT, relativty=0.3, kk=3)
    message = str(raised.value)
    assert "'relativty' (did you mean 'relativity'?)" in message
    assert "'kk' (did you mean 'k'?)" in message


def test_an_option_like_none_is_named_without_a_guess() -> None:
    with pytest.raises(MemOSInputError, match=r"unknown option 'zzzzz'; its options are "):
        MemorySettings(zzzzz=1)  # type: ignore[call-arg]


def test_the_retriever_keeps_langchains_ways() -> None:
    retriever = MemOSRetriever(client=CLIENT, user_id="u1", k=3, tags=["memos"], name="recall")
    copy = retriever.model_copy(update={"k": 4})
    assert (copy.k, copy.user_id, copy.tags) == (4, "u1", ["memos"])
    assert retriever.model_dump(include={"k", "user_id"}) == {"k": 3, "user_id": "u1"}
    assert MemOSRetriever.model_validate({"user_id": "u2"}).user_id == "u2"


def test_settings_copies_still_work() -> None:
    from dataclasses import replace

    assert replace(SETTINGS, timeout=5.0).timeout == 5.0
    with pytest.raises(MemOSInputError, match="did you mean 'timeout'"):
        replace(SETTINGS, timout=5.0)  # type: ignore[call-arg]


def test_with_options_names_the_option_meant() -> None:
    with pytest.raises(MemOSInputError, match=r"'timout' \(did you mean 'timeout'\?\)"):
        CLIENT.with_options(timout=2.0)  # type: ignore[call-arg]
