"""How answers map to exceptions, and which failures are retried (and how often)."""

from __future__ import annotations

import ast
import pickle
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from langchain_memos import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    DeadlineExceededError,
    InternalServerError,
    MemOSError,
    NotFoundError,
    OutboxFullError,
    PermissionDeniedError,
    RateLimitError,
    WriteRefusedError,
)
from tests.fakes import Client, FakeMemOS, build, call, envelope

HTML_502 = httpx.Response(502, text="<html><body>Bad Gateway</body></html>")


def test_an_error_nested_past_what_json_reads_is_still_an_error(
    client: Client, fake: FakeMemOS
) -> None:
    fake.replies = [httpx.Response(400, content=b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")]
    with pytest.raises(BadRequestError, match="HTTP 400"):
        call(client, "get_status", "t")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 40000, BadRequestError),
        (200, 40000, BadRequestError),  # an error envelope with HTTP 200
        (200, 40013, BadRequestError),
        (200, 40305, BadRequestError),
        (200, 40100, AuthenticationError),
        (401, 40132, AuthenticationError),
        (401, None, AuthenticationError),
        (200, 40306, PermissionDeniedError),
        (403, None, PermissionDeniedError),
        (200, 40001, NotFoundError),
        (200, 40307, NotFoundError),
        (200, 50131, NotFoundError),
        (404, None, NotFoundError),
        (200, 40300, RateLimitError),
        (200, 40301, RateLimitError),
        (200, 40309, RateLimitError),
        (429, None, RateLimitError),
        (500, 50000, InternalServerError),
        (200, 50004, InternalServerError),
        (200, 50144, InternalServerError),
        (503, None, InternalServerError),
    ],
)
def test_code_and_status_map_to_one_error_class(
    kind: str, fake: FakeMemOS, status: int, code: int | None, expected: type[APIStatusError]
) -> None:
    if code is None:
        fake.replies = [httpx.Response(status, text="<html>error</html>")]
    else:
        fake.replies = [envelope(None, code=code, message="what went wrong", status=status)]
    client = build(kind, fake, max_retries=0)

    with pytest.raises(expected) as caught:
        call(client, "get_status", "t")

    error = caught.value
    assert type(error) is expected
    assert error.code == code
    assert error.http_status == status
    if code is not None:
        assert error.message == "what went wrong"
        assert error.body == {"code": code, "data": None, "message": "what went wrong"}
        assert f"code={code}" in str(error)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, text='{"code": 0, "data": {"task_id"'),  # truncated
        httpx.Response(200, json=["not", "an", "envelope"]),
        httpx.Response(200, json={"code": 0, "data": {"status": ["not", "a", "string"]}}),
        # Nested past what json can read: a RecursionError escaped before.
        httpx.Response(
            200, content=b'{"code": 0, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        ),
    ],
)
def test_answers_that_are_not_envelopes_are_reported(
    client: Client, fake: FakeMemOS, reply: httpx.Response
) -> None:
    fake.replies = [reply]
    with pytest.raises(APIResponseValidationError):
        call(client, "get_status", "t")


def test_success_envelope_with_missing_fields_still_parses(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [httpx.Response(200, json={"code": 200, "message": "ok"})]
    result = call(client, "search_memory", "q", user_id="u")
    assert result.memory_detail_list == []
    assert result.preference_note == ""


def test_success_false_is_an_error(client: Client, fake: FakeMemOS) -> None:
    fake.replies = [envelope({"success": False})]
    with pytest.raises(APIStatusError, match="success=false"):
        call(client, "delete_memory", memory_ids=["m1"])


def test_errors_survive_pickling_with_their_details() -> None:
    error = RateLimitError("slow down", code=40309, http_status=429, body={"code": 40309})
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.code, copy.http_status, copy.body) == (
        RateLimitError,
        40309,
        429,
        {"code": 40309},
    )
    timeout = pickle.loads(pickle.dumps(APITimeoutError("late", method="POST", path="/x")))
    assert (type(timeout), timeout.path) == (APITimeoutError, "/x")
    refused = pickle.loads(pickle.dumps(WriteRefusedError("no", seqs=[3], errors=["E: no"])))
    assert (type(refused), refused.seqs, refused.errors) == (WriteRefusedError, [3], ["E: no"])
    for timed_out in (DeadlineExceededError("late"), OutboxFullError("full")):
        back = pickle.loads(pickle.dumps(timed_out))
        assert (type(back), str(back)) == (type(timed_out), str(timed_out))


def test_every_error_type_is_under_memos_error_and_drawn_in_the_tree() -> None:
    from langchain_memos import _exceptions

    tree = _exceptions.__doc__ or ""
    for name in _exceptions.__all__:
        error_type = getattr(_exceptions, name)
        assert issubclass(error_type, MemOSError), name
        assert f" {name}" in tree, f"{name} is not drawn in _exceptions.py's docstring"
    # The types that replaced a built-in TimeoutError are still one, for code catching that.
    assert issubclass(DeadlineExceededError, TimeoutError)
    assert issubclass(OutboxFullError, TimeoutError)
    assert not issubclass(DeadlineExceededError, APITimeoutError)


PACKAGE = Path(__file__).parents[2] / "langchain_memos"


def _raised_names(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, name)`` of every ``raise Name(...)``, ``raise name`` and ``raise mod.Name(...)``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name):
                found.append((node.lineno, target.id))
            elif isinstance(target, ast.Attribute):
                found.append((node.lineno, target.attr))
    return found


def test_the_package_raises_no_builtin_timeout_error_and_no_bare_memos_error() -> None:
    """A bare ``MemOSError`` says nothing a caller can act on; the built-in ``TimeoutError``
    escapes ``except MemOSError``. Each case has its own type (see ``_exceptions.py``)."""
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20  # the scan found the package
    offenders = [
        f"{source.relative_to(PACKAGE.parent)}:{line}: raise {name}"
        for source in sources
        for line, name in _raised_names(ast.parse(source.read_text(), str(source)))
        if name in ("MemOSError", "TimeoutError")
    ]
    assert offenders == []


def test_the_source_scan_sees_what_it_looks_for() -> None:
    raised = _raised_names(
        ast.parse("raise MemOSError('x')\nraise asyncio.TimeoutError\nraise error\nraise")
    )
    assert raised == [(1, "MemOSError"), (2, "TimeoutError"), (3, "error")]


# ---- retries -------------------------------------------------------------------------------

READ = ("search_memory", ("q",), {"user_id": "u"})
WRITE = (
    "add_message",
    ([{"role": "user", "content": "hi"}],),
    {"user_id": "u", "conversation_id": "c"},
)
OK_SEARCH = envelope({"memory_detail_list": []})
OK_WRITE = envelope({"success": True, "task_id": "t", "status": "running"})


@pytest.mark.parametrize(
    ("failure", "endpoint", "attempts"),
    [
        # Reads are retried on anything transient.
        (httpx.ReadTimeout("slow"), READ, 3),
        (httpx.ConnectError("refused"), READ, 3),
        (httpx.RemoteProtocolError("reset"), READ, 3),
        (HTML_502, READ, 3),
        (envelope(None, code=50005, status=200), READ, 3),
        (httpx.Response(429), READ, 3),
        (envelope(None, code=40000, status=400), READ, 1),
        (envelope(None, code=40132, status=401), READ, 1),
        # Writes only when the service provably did not process them.
        (httpx.ConnectError("refused"), WRITE, 3),
        (httpx.ConnectTimeout("no route"), WRITE, 3),
        (envelope(None, code=40309, status=429), WRITE, 3),
        (envelope(None, code=50144, status=200), WRITE, 3),
        (httpx.ReadTimeout("slow"), WRITE, 1),
        (httpx.RemoteProtocolError("reset"), WRITE, 1),
        (HTML_502, WRITE, 1),
        (envelope(None, code=50000, status=500), WRITE, 1),
    ],
)
def test_retry_policy(
    kind: str,
    fake: FakeMemOS,
    sleeps: list[float],
    failure: httpx.Response | Exception,
    endpoint: tuple[str, tuple[object, ...], dict[str, object]],
    attempts: int,
) -> None:
    fake.replies = [failure]
    client = build(kind, fake)
    method, args, kwargs = endpoint

    with pytest.raises(MemOSError):
        call(client, method, *args, **kwargs)

    assert len(fake.requests) == attempts
    assert len(sleeps) == attempts - 1
    assert all(0 < delay <= 8 for delay in sleeps)


def test_a_retried_read_returns_the_later_answer(
    kind: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [httpx.ConnectError("refused"), HTML_502, OK_SEARCH]
    result = call(build(kind, fake), "search_memory", "q", user_id="u")
    assert result.memory_detail_list == []
    assert len(fake.requests) == 3
    # Exponential backoff from 0.5 s, with up to 25% jitter.
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


def test_retry_after_is_honoured(kind: str, fake: FakeMemOS, sleeps: list[float]) -> None:
    fake.replies = [httpx.Response(429, headers={"retry-after": "3"}), OK_WRITE]
    call(build(kind, fake), WRITE[0], *WRITE[1], **WRITE[2])
    assert sleeps == [3.0]


def test_an_unreasonable_retry_after_is_not_waited_for(
    kind: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [httpx.Response(429, headers={"retry-after": "3600"})]
    with pytest.raises(RateLimitError):
        call(build(kind, fake), "search_memory", "q", user_id="u")
    assert sleeps == []
    assert len(fake.requests) == 1


def test_writes_retry_on_timeouts_only_when_the_caller_opts_in(
    kind: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    fake.replies = [httpx.ReadTimeout("slow"), OK_WRITE]
    client = build(kind, fake, retry_unsafe_writes=True)
    result = call(client, WRITE[0], *WRITE[1], **WRITE[2])
    assert result.task_id == "t"
    assert len(fake.requests) == 2


def test_max_retries_bounds_the_attempts(kind: str, fake: FakeMemOS, sleeps: list[float]) -> None:
    fake.replies = [httpx.ConnectError("refused")]
    with pytest.raises(APIConnectionError, match="could not reach MemOS"):
        call(build(kind, fake, max_retries=5), "search_memory", "q", user_id="u")
    assert len(fake.requests) == 6

    fake.requests.clear()
    fake.replies = [httpx.ReadTimeout("slow")]
    with pytest.raises(APITimeoutError):
        call(build(kind, fake, max_retries=0), "search_memory", "q", user_id="u")
    assert len(fake.requests) == 1


class _BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A chat stream that sends ``events`` and then fails with ``error``."""

    def __init__(self, events: bytes, error: Exception) -> None:
        self.events, self.error = events, error

    def __iter__(self) -> Iterator[bytes]:
        yield self.events
        raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.events
        raise self.error


@pytest.mark.parametrize(
    ("events", "error", "expected"),
    [
        (b'data: {"type": "text", "data": "a"}\n\n', httpx.ReadError("reset"), APIConnectionError),
        (b"data: {}\n\n", httpx.RemoteProtocolError("incomplete chunked read"), APIConnectionError),
        (b"data: {}\n\n", httpx.ReadTimeout("stalled"), APITimeoutError),
        (b'data: {"type": 123}\n\n', httpx.ReadError("unreached"), APIResponseValidationError),
    ],
)
def test_a_chat_stream_that_breaks_off_raises_the_packages_error(
    kind: str, fake: FakeMemOS, events: bytes, error: Exception, expected: type[MemOSError]
) -> None:
    """Raw httpx and pydantic errors escaped a started stream before."""

    def broken(request: httpx.Request) -> httpx.Response:
        stream = _BrokenStream(events, error)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    fake.replies = [broken]
    with pytest.raises(expected):
        call(
            build(kind, fake, max_retries=0),
            "chat_stream",
            user_id="u",
            conversation_id="c",
            query="q",
        )


def test_the_chat_stream_is_retried_before_it_starts(
    kind: str, fake: FakeMemOS, sleeps: list[float]
) -> None:
    stream = httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        text='data: {"type": "text", "data": "ok"}\n\ndata: {"type": "end"}\n\n',
    )
    fake.replies = [httpx.ConnectError("refused"), stream]
    events = call(build(kind, fake), "chat_stream", user_id="u", conversation_id="c", query="q")
    assert [event.data for event in events] == ["ok"]
    assert len(fake.requests) == 2
