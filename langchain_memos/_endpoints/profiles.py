"""The profile endpoints: bind a template to users or agents, edit a profile's fields, delete one.

A profile template (made in the MemOS dashboard) defines fields by category, each with a
``value`` and an ``algorithm_updatable`` flag; binding it to a user or an agent makes that
subject's profile, which MemOS then fills from conversations. Profiles are recalled by
``search_memory(include_memory_view=["profile"])`` as ``ProfileDetail`` records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from langchain_memos._base_client import APIRequest, drop_none
from langchain_memos._endpoints.scopes import one_subject, post
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_json_value,
    check_memos_id,
    check_str_list,
)
from langchain_memos._validation.values import shown
from langchain_memos.types import OperationResult, ProfileBinding

MAX_TEMPLATE_DEPTH = 3
"""How deep a profile template nests its categories and fields (the profile page: "up to three
levels"); a field is the mapping that holds ``value`` or ``algorithm_updatable``."""

_BINDING_KEYS = frozenset({"profile_template_id", "user_id", "agent_id"})


def bind_profile_template(
    bind_list: Sequence[ProfileBinding], *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[OperationResult]:
    """Bind profile templates to users or agents, making each subject's profile.

    The SDK's ``bind_profile_template``. Each entry names a ``profile_template_id`` and exactly
    one of ``user_id`` or ``agent_id``. Binding does not fill fields from past conversations:
    bind as soon as the user exists.

    Example:
        >>> client.bind_profile_template(
        ...     [{"user_id": "memos_user_123", "profile_template_id": "tpl_user_001"}]
        ... )
    """
    if isinstance(bind_list, (str, bytes, Mapping)) or not isinstance(bind_list, Sequence):
        raise MemOSInputError(f"bind_list must be a list of bindings; got {shown(bind_list)}")
    if not bind_list:
        raise MemOSInputError("bind_list must not be empty")
    checked = []
    for index, binding in enumerate(bind_list):
        where = f"bind_list[{index}]"
        if not isinstance(binding, Mapping):
            raise MemOSInputError(f"{where} must be a dict; got {shown(binding)}")
        unknown = sorted(set(binding) - _BINDING_KEYS)
        if unknown:
            raise MemOSInputError(
                f"{where} holds {unknown}; a binding has profile_template_id and one of "
                "user_id or agent_id"
            )
        checked.append(
            {
                "profile_template_id": check_memos_id(
                    f"{where}.profile_template_id", binding.get("profile_template_id")
                ),
                **one_subject(where, binding.get("user_id"), binding.get("agent_id")),
            }
        )
    return post("/bind/profile_template", OperationResult, {"bind_list": checked}, timeout=timeout)


def edit_profile(
    profile_template_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    remove_fields: Sequence[str] | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[OperationResult]:
    """Set or remove fields of one user's (or agent's) profile.

    The SDK's ``edit_profile``, with the same names. ``metadata`` has the template's shape:
    categories holding fields, each ``{"value": ..., "algorithm_updatable": bool}``;
    ``"algorithm_updatable": False`` locks the field against changes from conversations.
    ``remove_fields`` names fields by path (``"Basic Info.Occupation"``). At least one of the two.

    Example:
        >>> client.edit_profile(
        ...     "tpl_user_001",
        ...     user_id="memos_user_123",
        ...     metadata={"Basic Info": {"Location": {"value": "Shanghai",
        ...                                           "algorithm_updatable": False}}},
        ... )
    """
    if metadata is None and remove_fields is None:
        raise MemOSInputError("edit_profile needs metadata, remove_fields or both")
    body = drop_none(
        **one_subject("edit_profile", user_id, agent_id),
        profile_template_id=check_memos_id("profile_template_id", profile_template_id),
        metadata=None if metadata is None else _check_metadata(metadata),
        remove_fields=check_str_list("remove_fields", remove_fields, allow_empty=False),
    )
    return post("/edit/profile", OperationResult, body, timeout=timeout)


def delete_profile(
    profile_template_id: str,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[OperationResult]:
    """Delete one user's (or agent's) profile: the binding and every field value.

    The SDK's ``delete_profile``, with the same names.
    """
    body = {
        **one_subject("delete_profile", user_id, agent_id),
        "profile_template_id": check_memos_id("profile_template_id", profile_template_id),
    }
    return post("/delete/profile", OperationResult, body, timeout=timeout)


def _check_metadata(metadata: object) -> dict[str, Any]:
    """Profile fields in the template's shape, at most three levels deep."""
    if not isinstance(metadata, Mapping) or not metadata:
        raise MemOSInputError(
            "metadata must be a non-empty dict of categories and fields, such as "
            f"{{'Basic Info': {{'Location': {{'value': 'Shanghai'}}}}}}; got {shown(metadata)}"
        )
    check_json_value("metadata", metadata)
    _check_level("metadata", metadata, 1)
    return dict(metadata)


def _check_level(where: str, level: Mapping[Any, Any], depth: int) -> None:
    for key, item in level.items():
        path = f"{where}[{key!r}]"
        if not isinstance(key, str) or not key:
            raise MemOSInputError(f"{where} keys must be non-empty strings; got {shown(key)}")
        if not isinstance(item, Mapping):
            raise MemOSInputError(
                f"{path} must be a category (a dict of fields) or a field "
                f"({{'value': ..., 'algorithm_updatable': ...}}); got {shown(item)}"
            )
        if "value" in item or "algorithm_updatable" in item:
            flag = item.get("algorithm_updatable")
            if flag is not None and not isinstance(flag, bool):
                raise MemOSInputError(
                    f"{path}['algorithm_updatable'] must be True or False; got {shown(flag)}"
                )
            continue
        if depth >= MAX_TEMPLATE_DEPTH:
            raise MemOSInputError(
                f"{path} nests deeper than a profile template's {MAX_TEMPLATE_DEPTH} levels "
                "without reaching a field ({'value': ..., 'algorithm_updatable': ...})"
            )
        _check_level(path, item, depth + 1)
