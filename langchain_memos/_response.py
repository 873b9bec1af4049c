"""What came back: the MemOS envelope parsed, or the error it maps to.

The envelope's ``code`` is checked here and nowhere else. An answer becomes its data or an
:class:`APIStatusError` subclass chosen by code, then HTTP status; a request without an answer
becomes an :class:`APIConnectionError` that names where it was sent; a chat stream's lines
become events.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from langchain_memos import _codes as codes
from langchain_memos import _constants as C  # noqa: N812 - a namespace of constants
from langchain_memos._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    MemOSError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from langchain_memos._masking import masked_body, masked_bytes, masked_line
from langchain_memos.types import ChatStreamEvent

if TYPE_CHECKING:
    from langchain_memos._base_client import APIRequest
    from langchain_memos._config import ClientConfig

__all__ = [
    "NOT_SENT",
    "is_event_stream",
    "make_status_error",
    "parse_response",
    "parse_sse_line",
    "stream_broken",
    "stream_event",
    "wrap_transport_error",
]

T = TypeVar("T")


class _Envelope(BaseModel, Generic[T]):
    code: int
    message: str | None = None
    data: T | None = None


@cache
def _envelope_adapter(response_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(_Envelope[response_type])


@cache
def _data_adapter(response_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(response_type)


def _error_class(code: int | None, http_status: int) -> type[APIStatusError]:
    # A MemOS error code decides, through the status it goes with; else the HTTP status does.
    if code is not None and code not in C.SUCCESS_CODES and code >= codes.BAD_REQUEST:
        http_status = codes.http_status(code)
    if http_status == 401:
        return AuthenticationError
    if http_status == 403:
        return PermissionDeniedError
    if http_status == 404:
        return NotFoundError
    if http_status == 429:
        return RateLimitError
    if http_status >= 500:
        return InternalServerError
    if http_status >= 400:
        return BadRequestError
    return APIStatusError


def make_status_error(
    *, code: int | None, http_status: int, message: str | None, body: object, path: str
) -> APIStatusError:
    cls = _error_class(code, http_status)
    text = message or f"MemOS answered HTTP {http_status}"
    return cls(text, code=code, http_status=http_status, body=body, path=path)


def _load_json(content: bytes) -> object:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested past what json reads
        return None


def _snippet(content: bytes) -> str:
    text = content[:300].decode("utf-8", "replace")
    return text + ("..." if len(content) > 300 else "")


def _not_an_envelope(content: bytes, content_type: str) -> str:
    """What came instead of an envelope: empty, truncated, not JSON, or JSON without a code."""
    if not content.strip():
        return "an empty body"
    try:
        json.loads(content)
    except RecursionError:
        return f"JSON nested too deep to read ({len(content)} bytes): {_snippet(content)}"
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError) and (
            error.pos >= len(error.doc.rstrip()) or error.msg.startswith("Unterminated")
        ):
            size = len(content)
            return f"a truncated JSON body ({size} bytes, {error.msg}): {_snippet(content)}"
        kind = content_type.split(";")[0]
        return f"a non-JSON body ({kind}): {_snippet(content)}"
    return f"JSON that is not a MemOS envelope (no integer 'code'): {_snippet(content)}"


def parse_response(request: APIRequest[T], response: httpx.Response) -> T:
    """Turn the answer into ``T`` or raise the matching :class:`APIError`.

    The envelope's ``code`` is checked here and nowhere else: 0 and 200 are success, whatever
    the HTTP status says about the rest.
    """
    status = response.status_code
    if status < 400 and request.enveloped:
        try:
            envelope = _envelope_adapter(request.response_type).validate_json(response.content)
        except ValidationError:
            pass  # not a well-formed success envelope: diagnosed below
        else:
            if envelope.code in C.SUCCESS_CODES:
                return _finish(request, envelope.data, response)
    content = masked_bytes(response)
    body = masked_body(_load_json(content), response)
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        code: int = body["code"]
        if code not in C.SUCCESS_CODES or status >= 400:
            raise make_status_error(
                code=code,
                http_status=status,
                message=body.get("message") or None,
                body=body,
                path=request.path,
            )
        data = body.get("data")
    elif not request.enveloped and isinstance(body, dict) and status < 400:
        data = body
    elif status >= 400:
        raise make_status_error(
            code=None,
            http_status=status,
            message=f"MemOS answered HTTP {status}: {_snippet(content)}",
            body=body,
            path=request.path,
        )
    else:
        raise APIResponseValidationError(
            f"MemOS answered HTTP {status} with "
            f"{_not_an_envelope(content, response.headers.get('content-type', 'no content type'))}",
            http_status=status,
            body=body,
            path=request.path,
        )
    try:
        parsed = _data_adapter(request.response_type).validate_python(data)
    except ValidationError as err:
        raise APIResponseValidationError(
            f"unexpected data in the MemOS answer: {err.errors()[0]['msg']}",
            http_status=status,
            body=body,
            path=request.path,
        ) from None
    return _finish(request, parsed, response)


def _finish(request: APIRequest[T], data: Any, response: httpx.Response) -> T:
    if data is None:
        if isinstance(request.response_type, type) and issubclass(request.response_type, BaseModel):
            data = request.response_type()
        else:
            raise APIResponseValidationError(
                "the MemOS answer has no data", http_status=response.status_code, path=request.path
            )
    if getattr(data, "success", None) is False:
        raise APIStatusError(
            "MemOS reported success=false",
            http_status=response.status_code,
            body=masked_body(_load_json(masked_bytes(response)), response),
            path=request.path,
        )
    return request.finish(data) if request.finish is not None else data


def is_event_stream(response: httpx.Response) -> bool:
    """Whether ``response`` is a server-sent event stream (else an error, or plain JSON)."""
    return "event-stream" in response.headers.get("content-type", "")


def stream_event(line: str, response: httpx.Response, path: str) -> ChatStreamEvent | None:
    """One line of a started chat stream (see :func:`parse_sse_line`), without the credential
    the request carried."""
    try:
        return parse_sse_line(masked_line(line, response), path)
    except ValidationError as err:
        raise APIResponseValidationError(
            f"unexpected event in the MemOS chat stream: {err.errors()[0]['msg']}",
            http_status=response.status_code,
            path=path,
        ) from None


def stream_broken(
    exc: httpx.TransportError | httpx.DecodingError, request: APIRequest[Any], config: ClientConfig
) -> MemOSError:
    """The package's error for a chat stream that broke off once started (no retry: its first
    events are the caller's already)."""
    if isinstance(exc, httpx.DecodingError):
        return APIResponseValidationError(
            f"the MemOS chat stream could not be decoded ({exc})", path=request.path
        )
    return wrap_transport_error(exc, request, config)


def parse_sse_line(line: str, path: str) -> ChatStreamEvent | None:
    """One line of a chat stream: an event for ``data:`` lines, ``None`` for the rest."""
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if not payload:
        return None
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return ChatStreamEvent(type="text", data=payload)
    if isinstance(value, dict) and "type" in value:
        return ChatStreamEvent.model_validate(value)
    if (
        isinstance(value, dict)
        and isinstance(value.get("code"), int)
        and value["code"] not in C.SUCCESS_CODES
    ):
        raise make_status_error(
            code=value["code"],
            http_status=200,
            message=value.get("message"),
            body=value,
            path=path,
        )
    return ChatStreamEvent(type="text", data=value)


# ---- no answer -----------------------------------------------------------------------------

# These fail before a single byte of the request reaches the service.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _root_cause(exc: BaseException) -> str:
    """``exc`` and, when it says less, the OS error beneath it (async connects hide "refused")."""
    text = f"{type(exc).__name__}: {exc}"
    below = exc.__cause__ or exc.__context__
    for _ in range(10):  # the first OS-level error down the chain is the one that happened
        if below is None or (isinstance(below, OSError) and below.errno is not None):
            break
        below = below.__cause__ or below.__context__
    if isinstance(below, OSError) and below.errno is not None and str(below) not in text:
        text += f"; {type(below).__name__}: {below}"
    return text


def wrap_transport_error(
    exc: httpx.TransportError, request: APIRequest[Any], config: ClientConfig
) -> APIConnectionError:
    """The package's error for a request without an answer, naming the URL it was sent to."""
    kind = type(exc).__name__
    # The URL tells a wrong base_url or host apart from an outage; credentials in it are dropped.
    where = str(httpx.URL(config.base_url + request.path).copy_with(userinfo=b""))
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"MemOS did not answer in time at {where} ({kind})",
            method=request.method,
            path=request.path,
        )
    if isinstance(exc, NOT_SENT):
        return APIConnectionError(
            f"could not reach MemOS at {where} ({_root_cause(exc)}); check base_url and the "
            "network",
            method=request.method,
            path=request.path,
        )
    # The request may have been sent, and processed: say so, a caller may be about to resend.
    return APIConnectionError(
        f"lost the connection to MemOS at {where} before a complete answer "
        f"({_root_cause(exc)}); the request may have been processed",
        method=request.method,
        path=request.path,
    )
