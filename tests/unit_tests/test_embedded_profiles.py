"""Profiles in the embedded engine: bound templates, edited and removed fields, the profile view
of search and get, and fields the engine may (or may not) update from what the user says."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_memos.embedded import EmbeddedEngine

from .test_embedded_writes import ok, wire

TEMPLATE = "tpl_traveller"


def profile(engine: EmbeddedEngine, **subject: str) -> dict[str, Any]:
    data = ok(engine, "/get/memory", {**subject, "include_memory_view": ["profile"]})
    return {
        p["profile_path"]: (p["value"], p["algorithm_updatable"])
        for p in data["profile_detail_list"]
    }


@pytest.fixture
def engine() -> EmbeddedEngine:
    engine = EmbeddedEngine()
    bind = [{"user_id": "u1", "profile_template_id": TEMPLATE}]
    ok(engine, "/bind/profile_template", {"bind_list": bind})
    metadata = {
        "Basic": {
            "City": {"value": "Porto", "algorithm_updatable": False},
            "Job": {"value": "pilot"},
        },
        "Hobbies": {"Sport": "surfing"},
    }
    ok(
        engine,
        "/edit/profile",
        {"user_id": "u1", "profile_template_id": TEMPLATE, "metadata": metadata},
    )
    return engine


def test_edited_fields_are_stored_and_returned(engine: EmbeddedEngine) -> None:
    assert profile(engine, user_id="u1") == {
        "Basic.City": ("Porto", False),
        "Basic.Job": ("pilot", True),
        "Hobbies.Sport": ("surfing", True),
    }
    found = ok(
        engine,
        "/search/memory",
        {"user_id": "u1", "query": "what sport do they do", "include_memory_view": ["profile"]},
    )
    first = found["profile_detail_list"][0]
    assert (first["memory"], first["memory_type"]) == ("Hobbies.Sport: surfing", "ProfileMemory")
    assert found["memory_detail_list"] == []


def test_remove_fields_takes_dotted_paths_and_whole_categories(engine: EmbeddedEngine) -> None:
    ok(
        engine,
        "/edit/profile",
        {
            "user_id": "u1",
            "profile_template_id": TEMPLATE,
            "remove_fields": ["Basic.Job", "Hobbies"],
        },
    )
    assert profile(engine, user_id="u1") == {"Basic.City": ("Porto", False)}


def test_only_updatable_fields_change_with_what_the_user_says(engine: EmbeddedEngine) -> None:
    said = [{"role": "user", "content": "My city is Madrid and my job is now chef."}]
    ok(engine, "/add/message", {"user_id": "u1", "conversation_id": "c", "messages": said})
    fields = profile(engine, user_id="u1")
    assert fields["Basic.City"] == ("Porto", False)  # locked by algorithm_updatable: false
    assert fields["Basic.Job"] == ("chef", True)


def test_without_the_profile_view_no_field_is_learned(engine: EmbeddedEngine) -> None:
    said = [{"role": "user", "content": "My job is chef."}]
    body = {
        "user_id": "u1",
        "conversation_id": "c",
        "messages": said,
        "allow_memory_view": ["detail_factual"],
    }
    ok(engine, "/add/message", body)
    assert profile(engine, user_id="u1")["Basic.Job"] == ("pilot", True)


def test_an_agents_profile_is_its_own(engine: EmbeddedEngine) -> None:
    bind = [{"agent_id": "u1", "profile_template_id": TEMPLATE}]
    ok(engine, "/bind/profile_template", {"bind_list": bind})
    assert profile(engine, agent_id="u1") == {}
    assert len(profile(engine, user_id="u1")) == 3


def test_deleting_a_profile_clears_its_fields_and_binding(engine: EmbeddedEngine) -> None:
    ok(engine, "/delete/profile", {"user_id": "u1", "profile_template_id": TEMPLATE})
    assert profile(engine, user_id="u1") == {}
    body = {"user_id": "u1", "profile_template_id": TEMPLATE, "metadata": {"A": {"B": "c"}}}
    status, answer = wire(engine, "/edit/profile", body)
    assert (status, answer["data"]) == (400, None)
    assert "bind it with bind/profile_template" in answer["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"metadata": {"A": {"B": {"C": {"D": "too deep"}}}}}, "at most 3 levels"),
        ({"metadata": {"A": {"value": 1, "algorithm_updatable": "no"}}}, "algorithm_updatable"),
        ({}, "metadata or remove_fields"),
        ({"metadata": {"A": "b"}, "agent_id": "a1"}, "exactly one of user_id, agent_id"),
    ],
)
def test_a_mistaken_edit_is_refused_and_changes_nothing(
    engine: EmbeddedEngine, body: dict[str, Any], named: str
) -> None:
    before = profile(engine, user_id="u1")
    status, answer = wire(
        engine, "/edit/profile", {"user_id": "u1", "profile_template_id": TEMPLATE, **body}
    )
    assert (status, answer["data"]) == (400, None)
    assert named in answer["message"]
    assert profile(engine, user_id="u1") == before
