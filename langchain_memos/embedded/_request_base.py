"""How the engine reads a request: the ``Request`` base, the field readers every endpoint shares,
and the wire code each mistake answers with.

The checks are the client's (``_validation``) where they apply, so that a mistake reads the same
whichever side catches it. The requests themselves are in ``_requests`` (messages and memories)
and ``_knowledge`` (knowledge bases).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import Self

from langchain_memos import _codes as codes
from langchain_memos._constants import MAX_ID_LENGTH
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_int
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._fields import refuse_unimplemented
from langchain_memos.embedded._filter_sql import FilterError

# SQLite integers are 64-bit; a page this far out is empty anyway.
_MAX_OFFSET = 2**62
_TOO_LONG = {"user_id": codes.USER_ID_TOO_LONG, "conversation_id": codes.CONVERSATION_ID_TOO_LONG}


def user_id_of(value: object, name: str = "user_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise EngineError(
            codes.FIELD_REQUIRED, f"{name} is required and must be a non-empty string"
        )
    if len(value) > MAX_ID_LENGTH:
        code = _TOO_LONG.get(name, codes.BAD_REQUEST)
        raise EngineError(code, f"{name} must be at most {MAX_ID_LENGTH} characters")
    return value


def optional_id_of(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else user_id_of(value, name)


def limit_of(body: Mapping[str, Any], name: str, default: int, high: int) -> int:
    value = check_int(name, body.get(name), low=1, high=high)
    return default if value is None else value


def page_offset(page: int, size: int) -> int:
    return min((page - 1) * size, _MAX_OFFSET)


class _CodedError(Exception):
    """A field check failed whose wire code is not the generic 40000 (carried, not guessed)."""

    def __init__(self, code: int, error: MemOSInputError) -> None:
        super().__init__(str(error))
        self.code = code
        self.error = error


_T = TypeVar("_T")


def coded(code: int, check: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``check(*args, **kwargs)``, whose mistake answers with ``code`` rather than 40000."""
    try:
        return check(*args, **kwargs)
    except MemOSInputError as error:
        raise _CodedError(code, error) from None


class Request(BaseModel):
    """One endpoint's JSON body, read once: every field checked, in the order the checks run.

    Every endpoint refuses any field it does not implement: a write would otherwise do other
    than was asked, and a read would answer another question than the one asked. The official
    SDK's ``null`` for unset options and its ``source`` tag are no such field. ``reads_also``
    names the body fields a model reads into fields of other names (switches into a plan).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    route: ClassVar[str]
    writes: ClassVar[bool] = False
    reads_also: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        raise NotImplementedError


_R = TypeVar("_R", bound=Request)


def implemented(model: type[Request]) -> frozenset[str]:
    """The fields of ``model``'s body (not those it derives from them)."""
    own = (name for name, field in model.model_fields.items() if not field.exclude)
    return frozenset(own) | model.reads_also


def _prepared(model: type[Request], body: Mapping[str, Any]) -> dict[str, Any]:
    # The official SDK sends null for every unset optional field.
    present = {key: value for key, value in body.items() if value is not None}
    refuse_unimplemented(model.route, present, implemented(model))
    return present


def parse(model: type[_R], body: Mapping[str, Any]) -> _R:
    """``body`` as ``model``, for a direct call: a mistaken field raises ``MemOSInputError``."""
    try:
        return model.read(_prepared(model, body))
    except _CodedError as failure:
        raise failure.error from None
    except ValidationError as error:
        raise MemOSInputError(_first(error)) from None


def parse_wire(model: type[_R], body: Mapping[str, Any]) -> _R:
    """``body`` as ``model``, for the wire: every mistake is an ``EngineError`` with its code."""
    try:
        return model.read(_prepared(model, body))
    except _CodedError as failure:
        raise EngineError(failure.code, f"Invalid request parameters: {failure.error}") from None
    except (MemOSInputError, FilterError) as error:
        raise EngineError(codes.BAD_REQUEST, f"Invalid request parameters: {error}") from None
    except ValidationError as error:
        raise EngineError(
            codes.BAD_REQUEST, f"Invalid request parameters: {_first(error)}"
        ) from None


def _first(error: ValidationError) -> str:
    """A value no check covers, wrongly typed: what pydantic says of the first one."""
    problem = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}"
