"""Where a self-hosted request reads and writes (cubes), and task ids that name their owner."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_text
from langchain_memos._validation.keywords import checks_keywords

USER_PLACEHOLDER = "{user_id}"
"""Stands for the request's user in a cube id: the default cube of a user is the user id."""

AddMode = Literal["fast", "fine"]


def _cube_ids(name: str, value: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    cubes = tuple(check_text(f"{name}[{index}]", cube) for index, cube in enumerate(value))
    if not cubes:
        raise MemOSInputError(f"{name} must name at least one cube (the default is the user's own)")
    return cubes


@checks_keywords
@dataclass(frozen=True)
class SelfHostedOptions:
    """How the cloud's user-scoped calls map onto a self-hosted server's cubes.

    Cube ids may contain ``{user_id}``, replaced by the request's user: the default, one cube
    per user named after the user id, is what the server itself falls back to.

    Attributes:
        readable_cube_ids: The cubes a search, a chat and a listing read (a listing reads the
            first one only: ``get_memory`` pages through one cube).
        writable_cube_ids: The cubes an add, a feedback and a chat's answer write to.
        add_mode: ``fast`` or ``fine`` extraction for synchronous adds (the server ignores it
            for asynchronous ones); ``None`` leaves the server's default.
    """

    readable_cube_ids: tuple[str, ...] = (USER_PLACEHOLDER,)
    writable_cube_ids: tuple[str, ...] = (USER_PLACEHOLDER,)
    add_mode: AddMode | None = None

    @classmethod
    def of(
        cls,
        *,
        readable_cube_ids: Sequence[str] | str | None = None,
        writable_cube_ids: Sequence[str] | str | None = None,
        add_mode: AddMode | None = None,
    ) -> SelfHostedOptions:
        """Checked options; an unset cube list keeps the per-user default."""
        if add_mode not in (None, "fast", "fine"):
            raise MemOSInputError(f"add_mode must be 'fast', 'fine' or None; got {add_mode!r}")
        return cls(
            readable_cube_ids=cls.readable_cube_ids
            if readable_cube_ids is None
            else _cube_ids("readable_cube_ids", readable_cube_ids),
            writable_cube_ids=cls.writable_cube_ids
            if writable_cube_ids is None
            else _cube_ids("writable_cube_ids", writable_cube_ids),
            add_mode=add_mode,
        )

    def readable(self, user_id: str) -> list[str]:
        return _expand(self.readable_cube_ids, user_id)

    def writable(self, user_id: str) -> list[str]:
        return _expand(self.writable_cube_ids, user_id)


def _expand(cubes: tuple[str, ...], user_id: str) -> list[str]:
    # str.replace, not str.format: a cube id may hold other braces.
    return list(dict.fromkeys(cube.replace(USER_PLACEHOLDER, user_id) for cube in cubes))


# ---- task ids ------------------------------------------------------------------------------
# The cloud asks a task's status by its id alone; the server's scheduler wants the user too.
# So the ids this package hands the server carry their user, and any process (an outbox
# draining later, another worker) can ask about a task without having seen it start.

_TASK_SEPARATOR = "."


def issue_task_id(user_id: str) -> str:
    """A fresh task id that names ``user_id``: ``<uuid hex>.<user id, base64url>``."""
    owner = base64.urlsafe_b64encode(user_id.encode()).decode().rstrip("=")
    return f"{uuid.uuid4().hex}{_TASK_SEPARATOR}{owner}"


def task_owner(task_id: str) -> str:
    """The user a task id from :func:`issue_task_id` names.

    Raises:
        MemOSInputError: the id was not issued by this package's self-hosted mode, so the
            server cannot be asked about it (its status route needs the user).
    """
    _, separator, owner = task_id.rpartition(_TASK_SEPARATOR)
    try:
        if not separator or not owner:
            raise ValueError(task_id)
        user_id = base64.urlsafe_b64decode(owner + "=" * (-len(owner) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise MemOSInputError(
            f"task id {task_id!r} was not issued through the self-hosted mode: the self-hosted "
            "server reports a task's status only to its user, whom the ids this package issues "
            "name"
        ) from None
    if not user_id:
        raise MemOSInputError(f"task id {task_id!r} names no user")
    return user_id
