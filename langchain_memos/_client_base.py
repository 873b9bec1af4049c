"""What ``MemOSClient`` and ``AsyncMemOSClient`` share: settings, copies, identity, lifecycle.

Also how their endpoint methods are made: each one takes the signature and docstring of its
endpoint description in ``_endpoints``, so both clients show users the same API.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, Union

import httpx
from typing_extensions import Self

from langchain_memos._base_client import APIRequest, Flow, send_flow
from langchain_memos._config import ClientConfig, hashed_password
from langchain_memos._constants import DEFAULT_CONNECTION_LIMITS
from langchain_memos._exceptions import ClosedError, ConfigurationError
from langchain_memos._tls import default_ssl_context
from langchain_memos._validation.keywords import checks_keywords

if TYPE_CHECKING:
    from langchain_memos._selfhosted import SelfHostedOptions, SelfHostedTransport
    from langchain_memos.embedded import EmbeddedEngine, EmbeddedTransport

__all__ = ["STREAM_DOC", "BaseMemOSClient", "Embedded", "SelfHosted", "describe_method"]

T = TypeVar("T")


def describe_method(
    method: Callable[..., Any], build: Callable[..., Any], *, returns: str | None = None
) -> None:
    """Give a generated method the endpoint's name, docstring and full signature.

    The method returns what the request (or flow) ``build`` makes returns, unless ``returns``
    says otherwise.
    """
    method.__name__ = build.__name__
    method.__qualname__ = build.__name__
    method.__doc__ = build.__doc__
    signature = inspect.signature(build)
    if returns is None:
        made = str(signature.return_annotation)
        returns = made.removeprefix("APIRequest[").removeprefix("Flow[").removesuffix("]")
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()], return_annotation=returns
    )


STREAM_DOC = """Like ``chat``, with the same arguments, but yield the answer as it is generated.

Yields ``ChatStreamEvent`` objects whose ``type`` is ``reasoning`` or ``text``; stops at the
service's ``end`` event. Retries apply until the stream has started, never after. The SDK's
``chat(stream=True)``.
"""


Embedded = Union[str, "os.PathLike[str]", "EmbeddedEngine", None]
SelfHosted = Union[bool, "SelfHostedOptions", None]


class BaseMemOSClient:
    """What both clients are, apart from how they send: settings, copies, identity, lifecycle."""

    _http_client_type: type[httpx.Client | httpx.AsyncClient]
    _owns_http: bool
    _preconfigured: bool  # the pool carries this client's headers and timeout already

    def __init__(self, config: ClientConfig, selfhosted: SelfHosted = None) -> None:
        self._config = config
        self._selfhosted = _selfhosted_options(selfhosted) if config.selfhosted else None
        self._place: str | None = None  # the embedded engine's database, if any (identity)

    def _transport(
        self, embedded: Embedded, http_client: object
    ) -> EmbeddedTransport | SelfHostedTransport | None:
        """The transport the client mounts: the embedded engine's, the self-hosted mode's
        (see :meth:`_selfhosted_transport`), else ``None`` (httpx's own).

        Also checks that ``http_client`` is of the kind this client drives.
        """
        expected = self._http_client_type
        if http_client is not None and not isinstance(http_client, expected):
            raise ConfigurationError(
                f"http_client must be an httpx.{expected.__name__}; "
                f"got {type(http_client).__name__}"
            )
        if self._selfhosted is not None:
            if http_client is not None:
                raise ConfigurationError(
                    "the self-hosted mode and http_client cannot be combined: mount "
                    "langchain_memos.SelfHostedTransport in your http_client instead"
                )
            return self._selfhosted_transport()
        if embedded is None and self._config.embedded_path is None:
            return None
        if http_client is not None:
            raise ConfigurationError("the embedded engine and http_client cannot be combined")
        from langchain_memos.embedded import EmbeddedEngine, EmbeddedTransport, open_engine

        engine = (
            embedded
            if isinstance(embedded, EmbeddedEngine)
            else open_engine(embedded or self._config.embedded_path or "")
        )
        self._place = engine.place
        return EmbeddedTransport(engine)

    def _pool_options(self) -> dict[str, Any]:
        """What the connection pool this client makes for itself is made with."""
        return {
            "limits": DEFAULT_CONNECTION_LIMITS,
            "headers": self._config.headers,
            "timeout": self._config.timeout,
            "verify": default_ssl_context(),
        }

    def _selfhosted_transport(self) -> SelfHostedTransport | None:
        """A new transport onto the self-hosted server, or ``None`` when not in that mode."""
        if self._selfhosted is None:
            return None
        from langchain_memos._selfhosted import SelfHostedTransport

        return SelfHostedTransport(self._selfhosted)

    @checks_keywords
    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Self:
        """A copy of this client with some settings changed, sharing its connection pool.

        Unset options keep this client's values; ``extra_headers`` are added to its headers,
        each replacing the one of the same name, whatever its case.
        The options are checked as the constructor checks them. The copy costs no new
        connections: it sends through this client's pool. Closing the copy leaves the pool
        open; closing this client closes it for both.

        Example:
            >>> quick = client.with_options(timeout=2.0, max_retries=0)
            >>> found = quick.search_memory("travel plans", user_id="memos_user_123")
        """
        config = self._config.with_options(
            timeout=timeout, max_retries=max_retries, extra_headers=extra_headers
        )
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._config = config
        clone._owns_http = False  # the pool is this client's to close
        clone._preconfigured = False  # the pool's own headers and timeout are this client's
        clone._share_pool_of(self)
        return clone

    def _flow(self, made: APIRequest[T] | Flow[T]) -> Flow[T]:
        """The flow of an endpoint method: a request is sent with this client's retry policy."""
        return send_flow(self._config, made) if isinstance(made, APIRequest) else made

    def _share_pool_of(self, original: Self) -> None:
        """Make this copy of ``original`` send through the same pool (``_http`` already is)."""

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def identity(self) -> str:
        """Which service and project this client works on, safe to log and to store.

        The base URL and a hash of the API key (16 hex digits of a SHA-256), never the key
        itself: two clients with the same identity read and write the same memories. The
        durable outbox records it with each write, so that only a client of the same service and
        project delivers it. A copy from :meth:`with_options` has the same identity.

        An embedded engine's client adds a digest of the database it keeps memories in
        (``...#<key digest>/<database digest>``): two databases behind one outbox file are two
        targets.

        Example:
            >>> MemOSClient(api_key="...").identity
            'https://memos.memtensor.cn/api/openmem/v1#af5e63225f7efe00'
        """
        if self._place is None:
            return self._config.identity
        digest = hashlib.sha256(f"langchain-memos engine:{self._place}".encode()).hexdigest()
        return f"{self._config.identity}/{digest[:16]}"

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    def _check_open(self) -> None:
        """Refuse to send through a closed pool: our error, not httpx's ``RuntimeError``."""
        if self.is_closed:
            raise ClosedError(
                f"this {type(self).__name__} is closed (its close(), the end of its with block, "
                "or its http_client closed by its owner) and sends nothing: make a new one"
            )

    @property
    def is_closed(self) -> bool:
        """Whether this client can no longer send (each client says how it knows)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={hashed_password(self._config.base_url)!r})"

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds a connection pool and cannot be pickled")


def _selfhosted_options(selfhosted: SelfHosted) -> SelfHostedOptions:
    from langchain_memos._selfhosted import SelfHostedOptions

    if isinstance(selfhosted, SelfHostedOptions):
        return selfhosted
    if selfhosted is None or selfhosted is True:
        return SelfHostedOptions()
    raise ConfigurationError(
        f"selfhosted must be True or a SelfHostedOptions; got {type(selfhosted).__name__}"
    )
