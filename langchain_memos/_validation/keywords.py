"""Keyword arguments nobody takes: a ``MemOSInputError`` naming each, and the closest option.

A misspelled option (``MemOSRetriever(relativty=0.3)``, ``MemOSMiddleware(timout=2)``) is a
caller mistake like any other, so it is refused as one: with the option meant, not with the
``TypeError`` Python raises (or, for a pydantic model, silence). :func:`checks_keywords` does
it for a class's constructor or a function whose parameters are its options;
:func:`check_keywords` for options gathered some other way (``**options`` read into settings,
a pydantic model's fields).
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Collection, Iterable
from typing import Any, ParamSpec, TypeVar

from langchain_memos._exceptions import MemOSInputError

__all__ = ["check_keywords", "checks_keywords"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")


def check_keywords(owner: str, given: Iterable[str], known: Collection[str]) -> None:
    """Raise :class:`MemOSInputError` if ``given`` holds a name that is not in ``known``.

    The message names each unknown option with the known one closest to it, if any is close
    ("did you mean 'relativity'?"), then every option ``owner`` takes.
    """
    unknown = [name for name in given if name not in known]
    if not unknown:
        return
    options = sorted(known)
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, options, n=1)
        named.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    what = "an unknown option" if len(named) == 1 else "unknown options"
    raise MemOSInputError(
        f"{owner} got {what} {', '.join(named)}; its options are {', '.join(options)}"
    )


def checks_keywords(target: _T) -> _T:
    """``target``, a class or a function, refusing keywords it does not take with
    :class:`MemOSInputError` instead of ``TypeError``. A class has its ``__init__`` wrapped
    (a dataclass's too: put this decorator above ``@dataclass``)."""
    if isinstance(target, type):
        cls: Any = target  # a class's __init__ is read and replaced, which mypy refuses
        cls.__init__ = _checked(cls.__init__, cls.__name__)
        return target
    if not callable(target):
        raise TypeError(f"checks_keywords takes a class or a function; got {target!r}")
    checked: Any = _checked(target, f"{getattr(target, '__name__', 'it')}()")
    return checked  # type: ignore[no-any-return]


def _checked(function: Callable[_P, _R], owner: str) -> Callable[_P, _R]:
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        raise TypeError(f"{owner} takes **keywords: check them with check_keywords")
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    known = frozenset(p.name for p in parameters if p.kind in keyword and p.name != "self")

    @functools.wraps(function)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not known.issuperset(kwargs):
            check_keywords(owner, kwargs, known)
        return function(*args, **kwargs)

    return checked
