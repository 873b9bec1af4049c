"""The same calls through the official SDK and through this package send the same bodies.

Each call below goes to the loopback doc server twice: once made by the SDK's ``MemOSClient``
(in its own interpreter, ``sdk_python.py``) and once by ``MemOSClient`` here, under this
package's names (``test_sdk_drift.RENAMED``). The bodies must agree: every field sent here has
the SDK's value, and what the SDK sends beyond that is ``null`` or the SDK's own default for a
parameter the caller left out (the SDK sends every parameter; this package sends what was set).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from langchain_memos import MemOSClient

from .doc_server import DOCUMENTED_TASK_ID, serve_docs
from .sdk_python import SDK_PYTHON, SKIP_REASON
from .test_sdk_drift import RENAMED

M = [
    {"role": "user", "content": "Last Tuesday I reviewed the proposal with Li Si."},
    {"role": "assistant", "content": "Noted."},
]
FILTER = {"and": [{"agent_id": "a1"}, {"create_time": {"gte": "2025-01-01"}}]}
KB = "8d5ea8b6-0c9f-5bd4-9c4a-1d6c3c1c9b11"

# (SDK method, keyword arguments by the SDK's names)
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("add_message", {"messages": M, "agent_id": "a1", "allow_memory_view": ["event"]}),
    (
        "add_message",
        {
            "messages": M,
            "user_id": ["u1", "u2"],
            "conversation_id": "c1",
            "info": {"scene": "chat"},
            "source": "sdk",
            "app_id": "app",
            "async_mode": False,
            "tags": ["travel"],
            "allow_public": True,
            "allow_knowledgebase_ids": [KB],
        },
    ),
    (
        "search_memory",
        {
            "query": "q",
            "agent_id": "a1",
            "include_memory_view": ["event", "profile"],
            "memory_limit_number": 5,
            "context_format": "json",
        },
    ),
    (
        "search_memory",
        {
            "query": "q",
            "user_id": "u1",
            "conversation_id": "c1",
            "memory_limit_number": 7,
            "include_preference": False,
            "knowledgebase_ids": ["all"],
            "filter": FILTER,
            "source": "sdk",
            "include_tool_memory": True,
            "preference_limit_number": 4,
            "tool_memory_limit_number": 3,
            "relativity": 0.5,
            "include_skill": True,
            "skill_limit_number": 2,
        },
    ),
    (
        "get_memory",
        {
            "agent_id": "a1",
            "page": 2,
            "size": 5,
            "include_memory_view": ["profile"],
            "filter": FILTER,
        },
    ),
    ("get_memory", {"user_id": "u1", "include_preference": False, "include_tool_memory": False}),
    (
        "get_message",
        {
            "user_id": "u1",
            "conversation_id": "c1",
            "conversation_limit_number": 2,
            "message_limit_number": 10,
            "source": "sdk",
        },
    ),
    ("delete_memory", {"filter": FILTER, "memory_type": "UserMemory"}),
    ("delete_memory", {"agent_id": "a1"}),
    ("delete_memory", {"user_ids": ["u1"]}),
    ("delete_memory", {"memory_ids": ["m1", "m2"]}),
    ("update_memory", {"memory_id": "m1", "content": "new", "title": "t", "status": "activated"}),
    (
        "add_feedback",
        {
            "user_id": "u1",
            "conversation_id": "c1",
            "feedback_content": "I moved to Nanjing",
            "agent_id": "a1",
            "app_id": "app",
            "feedback_time": "2026-01-01 10:00:00",
            "allow_public": True,
            "allow_knowledgebase_ids": [KB],
        },
    ),
    ("get_task_status", {"task_id": DOCUMENTED_TASK_ID}),
    ("extract_memory", {"messages": M, "extraction_types": ["memory"], "model": "m"}),
    ("rerank", {"query": "q", "documents": ["a", "b"], "model": "memos-reranker-0.6b", "top_n": 1}),
    (
        "chat",
        {
            "user_id": "u1",
            "conversation_id": "c1",
            "query": "q",
            "internet_search": True,
            "force_stop": True,
            "use_mem_os_cube": True,
            "source": "sdk",
            "system_prompt": "Be brief.",
            "model_name": "qwen3-32b",
            "knowledgebase_ids": [KB],
            "filter": FILTER,
            "add_message_on_answer": False,
            "app_id": "app",
            "agent_id": "a1",
            "async_mode": False,
            "tags": ["t"],
            "info": {"scene": "chat"},
            "allow_public": True,
            "allow_knowledgebase_ids": [KB],
            "max_tokens": 100,
            "temperature": 0.2,
            "top_p": 0.5,
            "include_preference": False,
            "preference_limit_number": 2,
            "memory_limit_number": 3,
            "include_tool_memory": True,
            "tool_memory_limit_number": 4,
            "relativity": 0.3,
        },
    ),
    (
        "bind_profile_template",
        {"bind_list": [{"user_id": "u1", "profile_template_id": "tpl_user_001"}]},
    ),
    (
        "edit_profile",
        {
            "profile_template_id": "tpl_user_001",
            "user_id": "u1",
            "metadata": {"Basic Info": {"Location": {"value": "Shanghai"}}},
            "remove_fields": ["Basic Info.Occupation"],
        },
    ),
    ("delete_profile", {"profile_template_id": "tpl_user_001", "agent_id": "a1"}),
    ("create_knowledgebase", {"knowledgebase_name": "kb", "knowledgebase_description": "d"}),
    (
        "add_knowledgebase_file_json",
        {"knowledgebase_id": KB, "file": [{"name": "a.md", "content": "https://example.com/a.md"}]},
    ),
    (
        "get_knowledgebase_file",
        {"knowledgebase_id": KB, "type": "document", "page": 1, "page_size": 20},
    ),
    ("delete_knowledgebase_file", {"file_ids": ["f1"]}),
    ("delete_knowledgebase", {"knowledgebase_id": KB}),
]

_RUN_SDK = """
import inspect, json, sys
from memos.api.client import MemOSClient
client = MemOSClient(api_key="test-key-not-a-secret", base_url=sys.argv[1])
defaults = {
    name: {
        p.name: p.default
        for p in inspect.signature(member).parameters.values()
        if p.default is not inspect.Parameter.empty
    }
    for name, member in inspect.getmembers(MemOSClient, inspect.isfunction)
}
failed = []
for method, kwargs in json.loads(sys.stdin.read()):
    try:
        getattr(client, method)(**kwargs)
    except Exception as error:
        failed.append(f"{method}: {error!r}")
print(json.dumps({"defaults": defaults, "failed": failed}, default=repr))
"""


def _ours(method: str, kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name, renamed = RENAMED.get(method, (method, {}))
    mapped = {}
    for key, value in kwargs.items():
        target = renamed.get(key, key)
        assert target is not None
        # The SDK's user_ids is a list it allows one user in; user_id here is that one user.
        mapped[target] = value[0] if (method, key) == ("delete_memory", "user_ids") else value
    return name, mapped


@pytest.mark.loopback
@pytest.mark.skipif(SDK_PYTHON is None, reason=SKIP_REASON)
def test_the_sdk_and_this_client_send_the_same_bodies(tmp_path: Path) -> None:
    assert SDK_PYTHON is not None
    sdk_log: list[tuple[str, Any]] = []
    with serve_docs(sdk_log) as base_url:
        result = subprocess.run(  # noqa: S603 - a fixed script, with a configured interpreter
            [SDK_PYTHON, "-c", _RUN_SDK, base_url],
            input=json.dumps(CALLS),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=tmp_path,  # MemOS writes its logs under the working directory, in .memos/
        )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == []  # so each SDK call sent one request (it retries on failure)

    our_log: list[tuple[str, Any]] = []
    with (
        serve_docs(our_log) as base_url,
        MemOSClient(api_key="test-key-not-a-secret", base_url=base_url) as client,
    ):
        for method, kwargs in CALLS:
            name, mapped = _ours(method, kwargs)
            getattr(client, name)(**mapped)

    assert [endpoint for endpoint, _ in our_log] == [endpoint for endpoint, _ in sdk_log]
    for (method, kwargs), (_, theirs), (_, ours) in zip(CALLS, sdk_log, our_log, strict=True):
        sent = {key: value for key, value in theirs.items() if value is not None}
        assert {key: sent.get(key) for key in ours} == ours, method
        defaults = report["defaults"][method]
        for key in set(sent) - set(ours):
            assert key not in kwargs, f"{method} dropped {key}"
            assert sent[key] == defaults.get(key), f"{method} sent {key}={sent[key]!r}"
