"""Client settings: resolved once from arguments, the environment and defaults, then frozen.

Precedence, for every setting: argument > environment (``MEMOS_API_KEY``, ``MEMOS_BASE_URL``,
``MEMOS_IS_GLOBAL``) > default. Every option is checked here, before any I/O.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from langchain_memos import _constants as C  # noqa: N812 - a namespace of constants
from langchain_memos._exceptions import ConfigurationError, MemOSInputError
from langchain_memos._validation import check_bool, check_flag, check_int, check_seconds

__all__ = ["ClientConfig", "check_timeout", "is_loopback", "merge_headers"]


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
    selfhosted: bool = False  # the server is an open-source MemOS server (``/product`` routes)

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
        return f"{hashed_password(self.base_url)}#{digest}"

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
        selfhosted: bool = False,
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
        if url_text[: len(C.SELFHOSTED_PREFIX)].lower() == C.SELFHOSTED_PREFIX:
            url_text, selfhosted = url_text[len(C.SELFHOSTED_PREFIX) :], True
        if selfhosted and (embedded or url_text.lower().startswith(C.EMBEDDED_SCHEME)):
            raise ConfigurationError(
                "a self-hosted MemOS server and the embedded engine are two places to keep "
                "memories: choose one"
            )
        if selfhosted and not url_text:
            raise ConfigurationError(
                "the self-hosted mode needs the server's address: base_url='http://host:8000' "
                f"(or {C.BASE_URL_ENV}={C.SELFHOSTED_PREFIX}http://host:8000)"
            )
        embedded_path = None
        if url_text[: len(C.EMBEDDED_SCHEME)].lower() == C.EMBEDDED_SCHEME:
            embedded_path = _embedded_path(url_text)
        if embedded or embedded_path is not None:
            url_text = C.EMBEDDED_BASE_URL
        if not url_text:
            url_text = C.GLOBAL_BASE_URL if is_global else C.DEFAULT_BASE_URL
        source = "base_url" if base_url else C.BASE_URL_ENV
        not_http = ConfigurationError(
            f"{source} must be an http(s) URL such as {C.DEFAULT_BASE_URL}; got "
            f"{_without_password(url_text)!r}" + _embedded_hint(url_text)
        )
        try:
            url = httpx.URL(url_text.rstrip("/"))
        except httpx.InvalidURL:  # "embeded://:memory:": a port httpx cannot read
            raise not_http from None
        local = is_loopback(url) or url_text == C.EMBEDDED_BASE_URL
        if url.scheme not in ("http", "https") or not url.host:
            raise not_http
        key = _key(api_key)
        # A self-hosted server without auth gets no key: plain http sends nothing secret.
        clear_text_key = bool(key) or not selfhosted
        if url.scheme == "http" and not local and not allow_insecure_http and clear_text_key:
            raise ConfigurationError(
                f"refusing to send the API key in clear text to {url.host}: use https, or pass "
                "allow_insecure_http=True if this network is trusted"
            )

        if not key and not local and not selfhosted:
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
        headers = merge_headers(headers, default_headers)
        return cls(
            base_url=str(url),
            api_key=key or None,
            timeout=resolved_timeout,
            max_retries=max_retries,
            retry_unsafe_writes=retry_unsafe_writes,
            headers=headers,
            embedded_path=embedded_path,
            selfhosted=selfhosted,
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
            headers=merge_headers(self.headers, extra_headers),
        )


def merge_headers(
    headers: Mapping[str, str], replacing: Mapping[str, str] | None
) -> dict[str, str]:
    """``headers`` with ``replacing``'s in place of those of the same name, whatever its case.

    HTTP header names are case-insensitive: a caller's ``authorization`` replaces the
    ``Authorization`` the API key makes instead of travelling beside it.
    """
    if not replacing:
        return dict(headers)
    replaced = {name.lower() for name in replacing}
    merged = {name: value for name, value in headers.items() if name.lower() not in replaced}
    merged.update(replacing)
    return merged


# RFC 9110: a header name is a token; a value is visible ASCII, with spaces or tabs inside only.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?")


def _check_headers(name: str, headers: object) -> None:
    if headers is None:
        return
    if not (
        isinstance(headers, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise ConfigurationError(f"{name} must map header names to string values")
    seen: set[str] = set()
    for header, value in headers.items():
        if not _HEADER_NAME.fullmatch(header):
            # Shown up to the first character it cannot hold: "Authorization: Token <key>"
            # passed as a name shows as 'Authorization', never with the key.
            start = _HEADER_NAME.match(header)
            if not header:
                what = "one is empty"
            elif start is None:
                what = "one begins with another character"
            else:
                what = f"the one beginning {header[: start.end()]!r} holds another character"
            raise ConfigurationError(
                f"{name}: header names are letters, digits and !#$%&'*+-.^_`|~ (no spaces, "
                f"colons or line breaks); {what}"
            )
        if header.lower() in seen:
            raise ConfigurationError(
                f"{name} names the header {header!r} twice; header names are case-insensitive"
            )
        seen.add(header.lower())
        if not _HEADER_VALUE.fullmatch(value):
            # Never the value itself: it may be a key.
            raise ConfigurationError(
                f"{name}: the value of {header!r} holds a line break, another control "
                "character, a non-ASCII character or whitespace around it, which cannot travel "
                "in an HTTP header"
            )


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


def _key(api_key: str | None) -> str:
    """The API key: the argument, else the environment; without a ``Token `` prefix."""
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
    return key


# A URL's user:password@ (or user@) before its host.
_USERINFO = re.compile(r"//([^/@]*)@")


def hashed_password(url: str) -> str:
    """``url`` as a log line or an outbox file may hold it: the password of a user:password@
    before its host, or a user@ alone (often a token), replaced by a digest of it (two secrets
    stay two services, none shown)."""

    def hashed(found: re.Match[str]) -> str:
        user, colon, secret = found[1].partition(":")
        if not colon:
            user, secret = "", user
        digest = hashlib.sha256(f"langchain-memos password:{secret}".encode()).hexdigest()
        return f"//{user}{colon}sha256-{digest[:16]}@"

    return _USERINFO.sub(hashed, url)


def _without_password(url: str) -> str:
    """``url`` as an error may show it: what a user:password@ before its host holds hidden.
    A URL refused as malformed may hold a password with a ``/`` in it, slashes the wrong way
    or no scheme: everything before its last ``@`` but a scheme is hidden."""
    head, at, rest = url.rpartition("@")
    if not at:
        return url
    scheme = _SCHEME.match(head)
    return (scheme.group(0) if scheme else "") + "***@" + rest


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[/\\]*")


def _embedded_hint(url: str) -> str:
    """For ``embedded:memos.db``, ``embeded://memos.db`` and the like: how to spell the embedded
    engine's URL."""
    scheme, colon, rest = url.partition(":")
    if not colon or not difflib.get_close_matches(scheme.strip().lower(), ["embedded"], 1, 0.8):
        return ""
    path = rest[2:] if rest.startswith("//") else rest  # a path beginning with / is absolute
    if not path.strip("/"):
        path = path[:1] + "memos.db"
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
