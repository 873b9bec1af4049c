"""Everything the sync and async clients share that does no I/O.

Configuration, the description of one request, parsing of the MemOS envelope, the mapping of
error codes to exceptions, and the retry policy all live here, once. The clients in
``client.py`` only send requests and sleep.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from functools import cache, lru_cache
from time import time
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from langchain_memos import _codes as codes
from langchain_memos import _constants as C  # noqa: N812 - a namespace of constants
from langchain_memos._codes import RETRYABLE_CODES, WRITE_REJECTED_CODES
from langchain_memos._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    MemOSError,
    MemOSInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from langchain_memos._validation import (
    check_bool,
    check_flag,
    check_int,
    check_json_value,
    check_seconds,
    check_unicode,
)
from langchain_memos.types import ChatStreamEvent

logger = logging.getLogger("langchain_memos")

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class APIRequest(Generic[T]):
    """One call to the MemOS API, fully validated and ready to send.

    ``response_type`` is what the envelope's ``data`` is parsed into. ``write`` marks calls that
    are not idempotent, which are retried only when the service provably did not process them.
    """

    method: str
    path: str
    response_type: Any
    body: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes]]] | None = None
    write: bool = False
    enveloped: bool = True
    finish: Callable[[Any], T] | None = None
    timeout: httpx.Timeout | None = None  # this call's own, else the client's

    def __post_init__(self) -> None:
        # Every request is built here, before any I/O: the one place all of what is sent passes.
        check_json_value("", self.body)
        check_json_value("", self.params)
        for _, (name, _content) in self.files or ():
            check_unicode("a file name", name)

    def encode(self) -> bytes | None:
        if self.body is None:
            return None
        return _JSON_ENCODER.encode(self.body).encode()


_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def drop_none(**fields: Any) -> dict[str, Any]:
    """A request body without its unset fields, so the service's own defaults apply."""
    return {key: value for key, value in fields.items() if value is not None}


# ---- configuration -------------------------------------------------------------------------


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def is_loopback(url: httpx.URL) -> bool:
    host = url.host
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ClientConfig:
    """Resolved client settings. Precedence: argument > environment > default."""

    base_url: str
    api_key: str | None = field(repr=False)
    timeout: httpx.Timeout
    max_retries: int
    retry_unsafe_writes: bool
    headers: dict[str, str] = field(repr=False)
    embedded_path: str | None = None

    def __reduce__(self) -> Any:
        raise TypeError("ClientConfig holds the API key and cannot be pickled")

    @property
    def identity(self) -> str:
        """``base_url#digest``: the service, and a hash of the key these settings send.

        The key is the one the ``Authorization`` header carries (``default_headers`` may
        replace ``api_key``'s); none hashes as the empty string. The digest is the first 16 hex
        digits of a SHA-256 under a fixed prefix, the very string durable outbox files have
        recorded with each write from the start: changing it would strand their writes.
        """
        sent = [value for name, value in self.headers.items() if name.lower() == "authorization"]
        key = sent[-1] if sent else ""
        if key[:6].lower() == "token ":
            key = key[6:].strip()
        digest = hashlib.sha256(f"langchain-memos outbox:{key}".encode()).hexdigest()[:16]
        return f"{self.base_url}#{digest}"

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        base_url: str | httpx.URL | None,
        is_global: bool | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        retry_unsafe_writes: bool,
        allow_insecure_http: bool,
        default_headers: dict[str, str] | None,
        embedded: bool = False,
    ) -> ClientConfig:
        try:
            check_int("max_retries", max_retries, low=0, high=10)
            check_flag("retry_unsafe_writes", retry_unsafe_writes)
            check_flag("allow_insecure_http", allow_insecure_http)
            check_bool("is_global", is_global)
            resolved_timeout = _timeout(timeout)
        except MemOSInputError as error:
            raise ConfigurationError(str(error)) from None
        if is_global is None:
            is_global = _env_flag(C.IS_GLOBAL_ENV)
        if embedded and base_url is not None:
            # One of the two would be ignored: memories kept somewhere the caller did not expect.
            raise ConfigurationError(
                f"embedded= and base_url= ({str(base_url)!r}) name two places to keep "
                "memories: pass embedded= for the offline engine, or base_url= for a MemOS "
                "service, not both"
            )
        url_text = str(base_url or os.environ.get(C.BASE_URL_ENV) or "").strip()
        embedded_path = None
        if url_text[: len(C.EMBEDDED_SCHEME)].lower() == C.EMBEDDED_SCHEME:
            embedded_path = _embedded_path(url_text)
        if embedded or embedded_path is not None:
            url_text = C.EMBEDDED_BASE_URL
        if not url_text:
            url_text = C.GLOBAL_BASE_URL if is_global else C.DEFAULT_BASE_URL
        url = httpx.URL(url_text.rstrip("/"))
        local = is_loopback(url) or url_text == C.EMBEDDED_BASE_URL
        if url.scheme not in ("http", "https") or not url.host:
            source = "base_url" if base_url else C.BASE_URL_ENV
            raise ConfigurationError(
                f"{source} must be an http(s) URL such as {C.DEFAULT_BASE_URL}; got {url_text!r}"
                + _embedded_hint(url_text)
            )
        if url.scheme == "http" and not local and not allow_insecure_http:
            raise ConfigurationError(
                f"refusing to send the API key in clear text to {url.host}: use https, or pass "
                "allow_insecure_http=True if this network is trusted"
            )

        key = api_key if api_key is not None else os.environ.get(C.API_KEY_ENV)
        if key is not None and not isinstance(key, str):
            # The type only: the value may be the key.
            raise ConfigurationError(f"api_key must be a string; got {type(key).__name__}")
        key = (key or "").strip()
        for scheme in ("token ", "bearer "):  # a key pasted with its scheme
            if key[: len(scheme)].lower() == scheme:
                key = key[len(scheme) :].strip()
        if not all(33 <= ord(character) <= 126 for character in key):
            # Never the key itself: it would end up in logs, tracebacks and dead letters.
            raise ConfigurationError(
                "api_key holds a space, a control character or a non-ASCII character, which "
                "cannot travel in an HTTP header: copy the key again"
            )
        if not key and not local:
            raise ConfigurationError(
                f"no MemOS API key. Either pass api_key=... or set {C.API_KEY_ENV} to use the "
                "MemOS cloud, or use the offline embedded engine: embedded='memos.db' (or "
                f"{C.BASE_URL_ENV}=embedded:///path/to/memos.db). A server on loopback "
                "(base_url='http://127.0.0.1:<port>/...') needs no key either."
            )

        _check_headers("default_headers", default_headers)
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Token {key}"
        headers.update(default_headers or {})
        return cls(
            base_url=str(url),
            api_key=key or None,
            timeout=resolved_timeout,
            max_retries=max_retries,
            retry_unsafe_writes=retry_unsafe_writes,
            headers=headers,
            embedded_path=embedded_path,
        )

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None,
        max_retries: int | None,
        extra_headers: dict[str, str] | None,
    ) -> ClientConfig:
        """These settings with some changed, checked as :meth:`resolve` checks them."""
        try:
            check_int("max_retries", max_retries, low=0, high=10)
            resolved_timeout = check_timeout(timeout)
        except MemOSInputError as error:
            raise ConfigurationError(str(error)) from None
        _check_headers("extra_headers", extra_headers)
        return replace(
            self,
            timeout=self.timeout if resolved_timeout is None else resolved_timeout,
            max_retries=self.max_retries if max_retries is None else max_retries,
            headers={**self.headers, **(extra_headers or {})},
        )


def _check_headers(name: str, headers: object) -> None:
    if headers is not None and not (
        isinstance(headers, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise ConfigurationError(f"{name} must map header names to string values")


def _timeout(timeout: object) -> httpx.Timeout:
    checked = check_timeout(timeout)
    return C.DEFAULT_TIMEOUT if checked is None else checked


def check_timeout(timeout: object) -> httpx.Timeout | None:
    """A ``timeout`` option: finite positive seconds, or an ``httpx.Timeout`` of such phases."""
    if timeout is None:
        return None
    if isinstance(timeout, httpx.Timeout):
        for name, seconds in timeout.as_dict().items():
            if seconds is not None:
                check_seconds(f"timeout.{name}", seconds, high=_MAX_TIMEOUT)
        return timeout
    return httpx.Timeout(check_seconds("timeout", timeout, high=_MAX_TIMEOUT))


_MAX_TIMEOUT = 1e6


def _embedded_hint(url: str) -> str:
    """For ``embedded:memos.db`` and the like: how to spell the embedded engine's URL."""
    scheme, colon, rest = url.partition(":")
    if not colon or scheme.strip().lower() != "embedded":
        return ""
    path = rest.lstrip("/") or "memos.db"
    if rest.startswith("/"):
        path = "/" + path  # an absolute path: embedded:///path/to/memos.db
    return f"; for the embedded engine write {C.EMBEDDED_SCHEME}{path}"


def _embedded_path(url: str) -> str:
    """``embedded:///abs/path.db``, ``embedded://relative.db`` or ``embedded://:memory:``."""
    rest = url[len(C.EMBEDDED_SCHEME) :]
    if rest in (":memory:", "/:memory:"):
        return ":memory:"
    if not rest.strip("/"):
        raise ConfigurationError(
            "an embedded:// base URL names its database: embedded:///path/to/memos.db, "
            "embedded://memos.db (relative) or embedded://:memory:"
        )
    return rest


# ---- responses -----------------------------------------------------------------------------


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


def _load_json(response: httpx.Response) -> object:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _snippet(response: httpx.Response) -> str:
    text = response.content[:300].decode("utf-8", "replace")
    return text + ("..." if len(response.content) > 300 else "")


def _not_an_envelope(response: httpx.Response) -> str:
    """What came instead of an envelope: empty, truncated, not JSON, or JSON without a code."""
    if not response.content.strip():
        return "an empty body"
    try:
        json.loads(response.content)
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError) and (
            error.pos >= len(error.doc.rstrip()) or error.msg.startswith("Unterminated")
        ):
            size = len(response.content)
            return f"a truncated JSON body ({size} bytes, {error.msg}): {_snippet(response)}"
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return f"a non-JSON body ({kind}): {_snippet(response)}"
    return f"JSON that is not a MemOS envelope (no integer 'code'): {_snippet(response)}"


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
    body = _load_json(response)
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
            message=f"MemOS answered HTTP {status}: {_snippet(response)}",
            body=body,
            path=request.path,
        )
    else:
        raise APIResponseValidationError(
            f"MemOS answered HTTP {status} with {_not_an_envelope(response)}",
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
            body=_load_json(response),
            path=request.path,
        )
    return request.finish(data) if request.finish is not None else data


def parse_sse_line(line: str, path: str) -> ChatStreamEvent | None:
    """One line of a chat stream: an event for ``data:`` lines, ``None`` for the rest."""
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if not payload:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
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


# ---- transport errors and retries ----------------------------------------------------------

# These fail before a single byte of the request reaches the service.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
    if isinstance(exc, _NOT_SENT):
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


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time()
    except (TypeError, ValueError):
        return None


def should_retry(
    request: APIRequest[Any],
    error: MemOSError,
    *,
    cause: BaseException | None,
    retry_unsafe_writes: bool,
) -> bool:
    """Whether sending the same request again is both useful and safe."""
    careful = request.write and not retry_unsafe_writes
    if isinstance(error, APIConnectionError):
        return not careful or isinstance(cause, _NOT_SENT)
    if not isinstance(error, APIError):
        return False
    if careful:
        return error.code in WRITE_REJECTED_CODES or (
            error.http_status == 429 and error.code in (None, *WRITE_REJECTED_CODES)
        )
    if error.code is not None and error.code not in C.SUCCESS_CODES:
        return error.code in RETRYABLE_CODES
    return error.http_status in RETRYABLE_STATUSES


def retry_delay(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``; ``None`` gives up.

    A ``Retry-After`` from the service wins when it is reasonable; otherwise exponential backoff
    from 0.5 s, capped at 8 s, with up to 25% jitter so that clients do not retry in lockstep.
    """
    if retry_after is not None and retry_after >= 0:
        return retry_after if retry_after <= C.MAX_RETRY_AFTER else None
    backoff: float = min(C.INITIAL_RETRY_DELAY * 2**attempt, C.MAX_RETRY_DELAY)
    return backoff * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not cryptography


class RetryState:
    """Decides, request by request, whether to try again and how long to wait first."""

    __slots__ = ("attempt", "config", "request")

    def __init__(self, config: ClientConfig, request: APIRequest[Any]) -> None:
        self.config = config
        self.request = request
        self.attempt = 0

    def next_delay(
        self,
        error: MemOSError,
        *,
        cause: BaseException | None = None,
        headers: httpx.Headers | None = None,
    ) -> float | None:
        if self.attempt >= self.config.max_retries or not should_retry(
            self.request,
            error,
            cause=cause,
            retry_unsafe_writes=self.config.retry_unsafe_writes,
        ):
            return None
        delay = retry_delay(self.attempt, retry_after_seconds(headers) if headers else None)
        if delay is None:
            return None
        self.attempt += 1
        logger.debug(
            "retrying %s %s in %.2f s (retry %d of %d) after %s",
            self.request.method,
            self.request.path,
            delay,
            self.attempt,
            self.config.max_retries,
            type(error).__name__,
        )
        return delay


def log_response(request: APIRequest[Any], status: int, started: float, now: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s %s -> %d in %.1f ms", request.method, request.path, status, (now - started) * 1e3
        )


@lru_cache(maxsize=256)
def _parsed_url(text: str) -> httpx.URL:
    # httpx parses a str URL on every request (~10 us); a parsed one it only copies.
    return httpx.URL(text)


_JSON_CONTENT = httpx.Headers({"Content-Type": "application/json"})


def build_httpx_request(
    http: httpx.Client | httpx.AsyncClient,
    config: ClientConfig,
    request: APIRequest[Any],
    *,
    preconfigured: bool = False,
) -> httpx.Request:
    """``preconfigured``: ``http`` already carries ``config.headers`` and ``config.timeout``."""
    url = _parsed_url(config.base_url + request.path)
    timeout = request.timeout or (httpx.USE_CLIENT_DEFAULT if preconfigured else config.timeout)
    if request.files is not None:
        return http.build_request(
            request.method,
            url,
            params=request.params,
            files=request.files,
            headers=None if preconfigured else config.headers,
            timeout=timeout,
        )
    content = request.encode()
    if preconfigured:
        return http.build_request(
            request.method,
            url,
            params=request.params,
            content=content,
            headers=_JSON_CONTENT if content is not None else None,
            timeout=timeout,
        )
    headers = config.headers
    if content is not None:
        headers = {**headers, "Content-Type": "application/json"}
    return http.build_request(
        request.method,
        url,
        params=request.params,
        content=content,
        headers=headers,
        timeout=timeout,
    )
