"""The base of the response models: tolerant fields and the record every recalled item is.

Every field is optional and unknown fields are kept (``MemOSModel``); a ``null`` list reads as an
empty one (``NullableList``); a relevance or confidence that is not a number reads as ``None``
(``Score``). :mod:`langchain_memos.types` builds the models of each endpoint on these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import core_schema

from langchain_memos._service_time import Timestamp, parse_timestamp

__all__ = ["MemOSModel", "MemoryItem", "NoneAs", "NullableList", "Score", "Timestamped"]


@dataclass(frozen=True)
class NoneAs:
    """``None`` validates as ``factory()``; Python runs only for ``None``, not for every value."""

    factory: Callable[[], Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        substitute = core_schema.chain_schema(
            [
                core_schema.none_schema(),
                core_schema.no_info_plain_validator_function(lambda _: self.factory()),
            ]
        )
        return core_schema.union_schema([handler(source), substitute], mode="left_to_right")


_T = TypeVar("_T")
NullableList = Annotated[list[_T], NoneAs(list)]


class _InvalidAsNone:
    """Anything that is not a number (or a numeric string) validates as ``None``, in Rust."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_default_schema(handler(source), default=None, on_error="default")


# Relativity and confidence are documented as numbers and, in places, as strings.
Score = Annotated[float | None, _InvalidAsNone()]


class MemOSModel(BaseModel):
    """Base of every response model: unknown fields are kept, every field is optional."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)


class Timestamped(MemOSModel):
    create_time: Timestamp = None
    update_time: Timestamp = None

    @property
    def created_at(self) -> datetime | None:
        """``create_time`` as a timezone-aware ``datetime``."""
        return parse_timestamp(self.create_time)

    @property
    def updated_at(self) -> datetime | None:
        """``update_time`` as a timezone-aware ``datetime``."""
        return parse_timestamp(self.update_time)


class MemoryItem(Timestamped):
    """What every recalled item has: an id, its conversation, a status and a relevance."""

    id: str | None = None
    conversation_id: str | None = None
    status: str | None = None
    relativity: Score = None
