"""Caller mistakes fail before any I/O; configuration resolves the key stays hidden."""

from __future__ import annotations

import logging
import pickle
import re
from typing import Any

import httpx
import pytest

from langchain_memos import (
    AsyncMemOSClient,
    AuthenticationError,
    ConfigurationError,
    MemOSClient,
    MemOSInputError,
)
from tests.fakes import Client, FakeMemOS, build, call, envelope

USER = {"user_id": "u1"}
CONV = {"user_id": "u1", "conversation_id": "c1"}
HI = [{"role": "user", "content": "hi"}]

BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("search_memory", ("q",), {"user_id": ""}, "user_id must be a non-empty string"),
    ("search_memory", ("q",), {"user_id": "   "}, "user_id must be a non-empty string"),
    ("search_memory", ("q",), {"user_id": "x" * 101}, "at most 100"),
    ("search_memory", ("q",), {"user_id": " u "}, "user_id ' u ' has whitespace around it"),
    ("search_memory", ("q",), {"user_id": "u\nx"}, r"user_id holds a control character"),
    ("get_message", (), {"user_id": "u1", "conversation_id": "c1\t"}, "conversation_id 'c1"),
    ("add_message", (HI,), {**CONV, "agent_id": "a\x00"}, "agent_id holds a control character"),
    ("search_memory", ("q",), {"user_id": 42}, "user_id must be a non-empty string"),
    ("search_memory", ("q",), {"user_id": None}, "exactly one of user_id or agent_id; got neither"),
    ("search_memory", ("",), USER, "query must be a non-empty string"),
    ("search_memory", ("q",), {**USER, "conversation_id": "c" * 101}, "conversation_id"),
    ("search_memory", ("q",), {**USER, "memory_limit_number": 26}, "between 1 and 25"),
    ("search_memory", ("q",), {**USER, "memory_limit_number": 0}, "between 1 and 25"),
    ("search_memory", ("q",), {**USER, "preference_limit_number": True}, "must be an integer"),
    ("search_memory", ("q",), {**USER, "tool_memory_limit_number": 30}, "between 1 and 25"),
    ("search_memory", ("q",), {**USER, "skill_limit_number": 2.5}, "must be an integer"),
    ("search_memory", ("q",), {**USER, "relativity": 1.5}, "between 0 and 1"),
    ("search_memory", ("q",), {**USER, "relativity": -0.1}, "between 0 and 1"),
    ("search_memory", ("q",), {**USER, "relativity": float("nan")}, "must be a number"),
    ("search_memory", ("q",), {**USER, "filter": {}}, "filter must not be empty"),
    ("search_memory", ("q",), {**USER, "knowledgebase_ids": "kb-1"}, "list of strings"),
    ("search_memory", ("q",), {**USER, "include_preference": "yes"}, "True or False"),
    ("get_memory", (), {**USER, "size": 51}, "between 1 and 50"),
    ("get_memory", (), {**USER, "page": 0}, "at least 1"),
    ("get_message", (), {**CONV, "message_limit_number": 0}, "between 1 and 50"),
    ("get_message", (), {**CONV, "message_limit_number": 51}, "between 1 and 50"),
    ("add_message", ([],), CONV, "messages must not be empty"),
    ("add_message", ("hello",), CONV, "list of message dicts"),
    ("add_message", ([{"role": "bot", "content": "x"}],), CONV, "role must be one of"),
    ("add_message", ([{"role": "user"}],), CONV, "has no content"),
    ("add_message", ([{"role": "user", "content": 7}],), CONV, "string or a list of parts"),
    ("add_message", ([{"role": "user", "content": []}],), CONV, "must not be an empty list"),
    ("add_message", ([{"role": "user", "content": [{"type": "video"}]}],), CONV, "parts must"),
    (
        "add_message",
        ([{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}],),
        CONV,
        "image_url part needs",
    ),
    (
        "add_message",
        ([{"role": "user", "content": "x", "tool_calls": [{"id": "1"}]}],),
        CONV,
        "only assistant messages",
    ),
    (
        "add_message",
        ([{"role": "assistant", "tool_calls": [{"id": "1", "type": "function"}]}],),
        CONV,
        "tool_calls items must look like",
    ),
    ("add_message", (HI,), {"user_id": "u1", "conversation_id": ""}, "conversation_id"),
    ("add_message", (HI,), {**CONV, "info": {"nested": {"a": 1}}}, "info['nested']"),
    ("add_message", (HI,), {**CONV, "tags": "travel"}, "list of strings"),
    ("add_message", ([{"role": "user", "content": "x", "chat_time": 5}],), CONV, "chat_time"),
    ("delete_memory", (), {}, "exactly one of memory_ids, user_id, agent_id, filter; got none"),
    ("delete_memory", (), {"memory_ids": ["m"], "user_id": "u"}, "got memory_ids, user_id"),
    ("delete_memory", (), {"memory_ids": []}, "memory_ids must not be empty"),
    ("get_knowledgebase_files", (), {"file_ids": ["f"], "knowledgebase_id": "k"}, "exactly one"),
    ("get_knowledgebase_files", (), {"file_ids": ["f"], "page": 2}, "go with knowledgebase_id"),
    ("update_memory", ("m1",), {}, "at least one of content"),
    ("add_feedback", (), {**USER, "feedback_content": " "}, "feedback_content"),
    ("extract_memory", ([{"role": "tool", "content": "x"}],), {}, "role must be one of"),
    ("rerank", ("q", []), {}, "documents must not be empty"),
    ("chat", (), {**CONV, "query": "q", "temperature": 3}, "between 0 and 2"),
    ("chat", (), {**CONV, "query": "q", "model_name": "gpt-4"}, "model_name must be one of"),
    ("add_knowledgebase_files", ("kb", []), {}, "between 1 and 20 files"),
    ("add_knowledgebase_files", ("kb", [{"name": "a"}]), {}, "needs a string 'content'"),
    ("upload_knowledgebase_files", ("kb", ["/no/such/file.pdf"]), {}, "no such file"),
    ("get_status", ("",), {}, "task_id"),
    ("get_memory_by_id", ("",), {}, "memory_id"),
    ("wait_for_task", ("t",), {"timeout": -1}, "timeout must be a number of seconds from 0"),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "message"),
    BAD_CALLS,
    ids=[f"{index}-{case[0]}" for index, case in enumerate(BAD_CALLS)],
)
def test_bad_input_fails_before_any_request(
    client: Client,
    fake: FakeMemOS,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(MemOSInputError, match=message.replace("[", r"\[").replace("(", r"\(")):
        call(client, method, *args, **kwargs)
    assert fake.requests == []


def test_input_errors_are_value_errors() -> None:
    assert issubclass(MemOSInputError, ValueError)
    assert issubclass(ConfigurationError, MemOSInputError)


def test_optional_fields_are_not_sent_when_unset(client: Client, fake: FakeMemOS) -> None:
    call(client, "add_message", HI, **CONV)
    assert fake.bodies == [{"user_id": "u1", "conversation_id": "c1", "messages": HI}]


def test_tool_call_messages_pass_as_documented(client: Client, fake: FakeMemOS) -> None:
    messages = [
        {"role": "user", "content": "Weather in Beijing?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_123",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "Beijing"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_123", "content": [{"type": "text", "text": "7C"}]},
    ]
    call(client, "add_message", messages, **CONV)
    assert fake.bodies[0]["messages"] == messages


# ---- configuration -------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("MEMOS_API_KEY", "MEMOS_BASE_URL", "MEMOS_IS_GLOBAL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# The service's two documented regions (README, "Configuration").
DEFAULT_BASE_URL = "https://memos.memtensor.cn/api/openmem/v1"
GLOBAL_BASE_URL = "https://api.memt.ai/platform/api/openmem/v1"


@pytest.mark.parametrize("cls", [MemOSClient, AsyncMemOSClient])
def test_configuration_precedence(clean_env: pytest.MonkeyPatch, cls: type[Client]) -> None:
    assert cls(api_key="k").base_url == DEFAULT_BASE_URL
    assert cls(api_key="k", is_global=True).base_url == GLOBAL_BASE_URL

    clean_env.setenv("MEMOS_IS_GLOBAL", "true")
    assert cls(api_key="k").base_url == GLOBAL_BASE_URL

    clean_env.setenv("MEMOS_BASE_URL", "https://env.example.com/v1/")
    clean_env.setenv("MEMOS_API_KEY", "from-env")
    client = cls()
    assert client.base_url == "https://env.example.com/v1"
    assert client._config.headers["Authorization"] == "Token from-env"

    client = cls(api_key="Token from-arg", base_url="https://arg.example.com/v1")
    assert client.base_url == "https://arg.example.com/v1"
    assert client._config.headers["Authorization"] == "Token from-arg"


def test_a_missing_key_is_a_clear_error(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="MEMOS_API_KEY"):
        MemOSClient()
    with pytest.raises(ConfigurationError, match="MEMOS_API_KEY"):
        AsyncMemOSClient(api_key="   ")


def test_loopback_servers_need_no_key(clean_env: pytest.MonkeyPatch, fake: FakeMemOS) -> None:
    client = build("sync", fake, api_key=None, base_url="http://127.0.0.1:8765/api/openmem/v1")
    call(client, "get_status", "t")
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(
    "url", ["http://memos.example.com/api", "http://10.0.0.5:8000/api", "http://[2001:db8::1]/"]
)
def test_clear_text_urls_off_loopback_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="clear text"):
        MemOSClient(api_key="k", base_url=url)
    assert MemOSClient(api_key="k", base_url=url, allow_insecure_http=True).base_url == url.rstrip(
        "/"
    )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765/api", "http://localhost/api", "http://[::1]:9/api"]
)
def test_clear_text_is_fine_on_loopback(url: str) -> None:
    assert MemOSClient(api_key="k", base_url=url).base_url == url


@pytest.mark.parametrize("url", ["memos.example.com/api", "ftp://memos.example.com", "https://"])
def test_malformed_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="base_url"):
        MemOSClient(api_key="k", base_url=url)


@pytest.mark.parametrize("cls", [MemOSClient, AsyncMemOSClient])
def test_embedded_and_a_base_url_together_are_refused(cls: type[Client]) -> None:
    with pytest.raises(ConfigurationError, match=r"embedded= and base_url= \('https://x"):
        cls(embedded=":memory:", base_url="https://x.example.com/api/openmem/v1")


def test_an_embedded_url_without_slashes_says_how_to_write_it(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("MEMOS_BASE_URL", "embedded:memos.db")
    with pytest.raises(ConfigurationError) as caught:
        MemOSClient()
    assert str(caught.value).startswith("MEMOS_BASE_URL must be an http(s) URL")
    assert str(caught.value).endswith("for the embedded engine write embedded://memos.db")
    with pytest.raises(ConfigurationError, match=r"write embedded:///data/memos\.db$"):
        MemOSClient(base_url="embedded:/data/memos.db")


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("embeded://:memory:", "embedded://:memory:"),  # a port httpx cannot read
        ("embeded://memos.db", "embedded://memos.db"),
        ("embedd:///data/memos.db", "embedded:///data/memos.db"),
        ("embeded:///", "embedded:///memos.db"),
    ],
)
@pytest.mark.parametrize("cls", [MemOSClient, AsyncMemOSClient])
def test_a_misspelt_embedded_url_is_our_error_and_says_how_to_write_it(
    cls: type[Client], url: str, written: str, clean_env: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match=f"write {re.escape(written)}$"):
        cls(base_url=url)
    clean_env.setenv("MEMOS_BASE_URL", url)
    with pytest.raises(ConfigurationError, match=f"^MEMOS_BASE_URL must be an http.*{written}$"):
        cls()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:s3cretKEY@memos.example.com:abc/v1", "https://***@memos.example.com:abc/v1"),
        # A password with a "/" unencoded, or slashes the wrong way round: malformed either way.
        ("https://user:ab/s3cretKEY@memos.example/v1", "https://***@memos.example/v1"),
        ("https:/\\user:s3cretKEY@memos.example/v1", "\\***@memos.example/v1"),
        # No scheme at all, or one with a typo in it.
        ("//user:s3cretKEY@memos.example/v1", "'***@memos.example/v1'"),
        ("http s://user:s3cretKEY@memos.example/v1", "'***@memos.example/v1'"),
    ],
)
def test_a_base_url_refused_never_shows_the_password_it_holds(url: str, shown: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        MemOSClient(api_key="k", base_url=url)
    assert "s3cretKEY" not in str(caught.value)
    assert shown in str(caught.value)


@pytest.mark.parametrize("user_id", ["alice", "user 42", "用户_1", "a.b-c@d", "x" * 100])
def test_ordinary_ids_are_accepted(user_id: str, fake: FakeMemOS) -> None:
    call(build("sync", fake), "search_memory", "q", user_id=user_id)
    assert fake.bodies[0]["user_id"] == user_id


def test_max_retries_is_validated() -> None:
    with pytest.raises(MemOSInputError, match="max_retries"):
        MemOSClient(api_key="k", max_retries=-1)


SECRET = "mpg-THIS-IS-A-SECRET-KEY-0123456789"


def test_the_key_never_shows(
    kind: str, fake: FakeMemOS, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    fake.replies = [
        httpx.ConnectError("refused"),
        envelope(None, code=40132, message="invalid key", status=401),
    ]
    client = build(kind, fake, api_key=f"Token {SECRET}")
    caplog.set_level(logging.DEBUG, logger="langchain_memos")

    with pytest.raises(AuthenticationError) as caught:
        call(client, "search_memory", "q", user_id="u")

    assert fake.requests[0].headers["authorization"] == f"Token {SECRET}"
    error = caught.value
    shown = [repr(client), str(client), str(error), repr(error), repr(client._config)]
    shown += [repr(vars(error)), str(pickle.dumps(error)), caplog.text]
    assert not [text for text in shown if SECRET in text]
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client)


def test_debug_log_has_method_path_status_latency_and_retries(
    client: Client, fake: FakeMemOS, caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    fake.replies = [httpx.Response(503), envelope({"memory_detail_list": []})]
    caplog.set_level(logging.DEBUG, logger="langchain_memos")

    call(client, "search_memory", "q", user_id="u")

    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("POST /search/memory -> 503 in ")
    assert lines[0].endswith(" ms")
    assert lines[1].startswith("retrying POST /search/memory in ")
    assert "(retry 1 of 2) after InternalServerError" in lines[1]
    assert lines[2].startswith("POST /search/memory -> 200 in ")
    assert "Token" not in caplog.text


def test_an_injected_http_client_is_used(fake: FakeMemOS) -> None:
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    mine = httpx.Client(
        transport=httpx.MockTransport(fake.handler), event_hooks={"request": [hook]}
    )
    MemOSClient(api_key="k", http_client=mine).get_status("t")
    assert seen == ["/api/openmem/v1/get/status"]
