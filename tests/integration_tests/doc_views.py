"""The doc server's memory views, profiles and events, from the MemOS feature pages.

Bodies come from the examples of the "Profile" and "Event Memory" feature pages (the search
examples with ``include_memory_view``) and the "Memory Categories" page (the view names); the
profile endpoints answer ``{"success": true}``, as the SDK's tests show. What the doc server does
with them, each time to answer as those pages say:

- a search or listing that names ``include_memory_view`` answers from those views only; a search
  merges them, ranks them by ``relativity`` and keeps ``memory_limit_number`` in all (the search
  page: "the total number of results returned after all memory categories are merged and ranked
  together");
- ``profile`` recalls the documented profile fields of a subject only once a template is bound
  to it (the profile page: profiles "require creating a template and binding it to the user
  first"); ``edit/profile`` sets a field's value and ``algorithm_updatable`` there, and
  ``delete/profile`` removes the binding and every value;
- ``event`` recalls the documented event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["EVENT", "PROFILE_FIELDS", "PROFILE_ROUTES", "Profiles", "list_views", "search_views"]

# (user_id or agent_id, its value) -> {profile template id: {field path: edited field}}
Profiles = dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]]

# The profile page's search example (profile_detail_list).
PROFILE_FIELDS: list[dict[str, Any]] = [
    {
        "id": "memos97701df652bb42cf8fe276b0da1441f3_tpl_bb0948b22fe7_e6a0dbfb3d47",
        "memory": "Basic Info.Occupation: Product Manager",
        "memory_type": "ProfileMemory",
        "template_id": "tpl_bb0948b22fe7",
        "profile_category": "Basic Info",
        "profile_field": "Occupation",
        "profile_path": "Basic Info.Occupation",
        "status": "activated",
        "confidence": 0.99,
        "relativity": 0.6782,
        "algorithm_updatable": True,
    },
    {
        "id": "memos97701df652bb42cf8fe276b0da1441f3_tpl_bb0948b22fe7_2785203c3b81",
        "memory": "Basic Info.Location: Hangzhou",
        "memory_type": "ProfileMemory",
        "template_id": "tpl_bb0948b22fe7",
        "profile_category": "Basic Info",
        "profile_field": "Location",
        "profile_path": "Basic Info.Location",
        "status": "activated",
        "confidence": 0.99,
        "relativity": 0.6808,
        "algorithm_updatable": True,
    },
]

# The event memory page's search example (event_detail_list).
EVENT: dict[str, Any] = {
    "id": "d7785b39-1374-4738-b449-3e86ab1f8b2f",
    "event_key": "方案评审与交付调整",
    "event_value": (
        "用户与李四于上周二下午完成方案评审，客户对第二版方案表示满意，并希望将交付时间提前至七月底。"
    ),
    "event_type": "EventMemory",
    "create_time": 1783929751765,
    "conversation_id": "conv_event_verify_001",
    "status": "activated",
    "update_time": 1783929757755,
    "relativity": 0.6364,
    "event_time": ["上周二下午", "七月底"],
    "event_location": [],
    "event_roles": ["用户", "李四", "客户"],
}

# The list each view answers in.
_LISTS = {
    "detail_factual": "memory_detail_list",
    "preference": "preference_detail_list",
    "profile": "profile_detail_list",
    "event": "event_detail_list",
    "skill": "skill_detail_list",
    "tool_memory": "tool_memory_detail_list",
}


def _subject(body: dict[str, Any]) -> tuple[str, str]:
    if body.get("agent_id") is not None:
        return ("agent_id", str(body["agent_id"]))
    return ("user_id", str(body.get("user_id")))


def _profile_fields(profiles: Profiles, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The documented fields of a bound subject, with its edits applied."""
    bound = profiles.get(_subject(body), {})
    fields = []
    for edits in bound.values():
        for documented in PROFILE_FIELDS:
            edit = edits.get(documented["profile_path"], {})
            field = dict(documented)
            if "value" in edit:
                field["memory"] = f"{documented['profile_path']}: {edit['value']}"
            if "algorithm_updatable" in edit:
                field["algorithm_updatable"] = edit["algorithm_updatable"]
            fields.append(field)
    return fields


def _candidates(
    views: list[str], documented: dict[str, list[dict[str, Any]]], profiles: Profiles, body: Any
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in _LISTS.values()}
    for view in views:
        if view == "profile":
            found["profile_detail_list"] = _profile_fields(profiles, body)
        elif view == "event":
            found["event_detail_list"] = [EVENT]
        else:
            found[_LISTS[view]] = list(documented.get(_LISTS[view], []))
    return found


def search_views(
    body: dict[str, Any],
    documented: dict[str, list[dict[str, Any]]],
    profiles: Profiles,
    limit: int,
) -> dict[str, Any]:
    """A search naming views: theirs merged, ranked by relativity, ``limit`` kept in all."""
    found = _candidates(list(body["include_memory_view"]), documented, profiles, body)
    ranked = sorted(
        (
            (item.get("relativity") or 0.0, name, index)
            for name, items in found.items()
            for index, item in enumerate(items)
        ),
        key=lambda entry: -entry[0],
    )[:limit]
    kept = {(name, index) for _, name, index in ranked}
    return {
        name: [item for index, item in enumerate(items) if (name, index) in kept]
        for name, items in found.items()
    }


def list_views(
    body: dict[str, Any], documented: dict[str, list[dict[str, Any]]], profiles: Profiles
) -> dict[str, list[dict[str, Any]]]:
    """A listing naming views: every item of those views (the caller pages them)."""
    return _candidates(list(body["include_memory_view"]), documented, profiles, body)


def _bind(profiles: Profiles, body: dict[str, Any]) -> None:
    for binding in body["bind_list"]:
        profiles.setdefault(_subject(binding), {})[str(binding["profile_template_id"])] = {}


def _edit(profiles: Profiles, body: dict[str, Any]) -> None:
    edits = profiles.setdefault(_subject(body), {}).setdefault(str(body["profile_template_id"]), {})
    for category, fields in (body.get("metadata") or {}).items():
        for name, field in fields.items():
            edits[f"{category}.{name}"] = dict(field)
    for path in body.get("remove_fields") or []:
        edits[str(path)] = {"value": ""}


def _delete(profiles: Profiles, body: dict[str, Any]) -> None:
    profiles.get(_subject(body), {}).pop(str(body["profile_template_id"]), None)


PROFILE_ROUTES: dict[str, Callable[[Profiles, dict[str, Any]], None]] = {
    "bind/profile_template": _bind,
    "edit/profile": _edit,
    "delete/profile": _delete,
}
