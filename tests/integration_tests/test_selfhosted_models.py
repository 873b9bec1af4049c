"""Every request the self-hosted mode builds, checked by MemoryOS's own server code.

Like ``test_sdk_compat.py``, this runs a script with an interpreter that has ``MemoryOS`` (this
one when ``memos`` is importable, else ``MEMOS_SDK_PYTHON``): the server's request models
(``memos/api/product_models.py``) validate each body and keep the fields the mode sends, its
Postgres and Neo4j backends build a query from each translated filter, and the info keys the
mode refuses are the server's own memory fields.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_memos import MemOSClient
from langchain_memos._selfhosted import SelfHostedOptions, SelfHostedTransport
from langchain_memos._selfhosted._filters import translate_filter
from langchain_memos._selfhosted._requests import RESERVED_INFO_KEYS
from langchain_memos.filters import all_of, any_of, by_source, created, info, tag, updated

from .test_sdk_compat import SDK_PYTHON

SCRIPT = Path(__file__).with_name("selfhosted") / "validate_models.py"
MESSAGES: Any = [
    {"role": "user", "content": "I like tea.", "chat_time": "2025-06-10 10:00:00"},
    {"role": "assistant", "content": "Noted."},
    {"role": "user", "content": [{"type": "text", "text": "And this picture:"},
                                 {"type": "image_url", "image_url": {"url": "https://x/a.png"}}]},
]  # fmt: skip
FILTERS: list[Any] = [
    all_of(tag("travel"), info("scene", "trip"), created(gte="2025-12-10")),
    any_of({"agent_id": "a1"}, {"app_id": "app"}, updated(lt="2026-01-01 08:30:00")),
    by_source(user=all_of(info("biz_id", "42"))),
]


def _sent(client: MemOSClient) -> None:
    """One call per route and option the mode translates."""
    client.add_message(MESSAGES, user_id="u1", conversation_id="c1", tags=["t"],
                       info={"scene": "trip", "n": 3}, agent_id="a1", app_id="app")  # fmt: skip
    client.add_message(MESSAGES[:2], user_id="u1", conversation_id="c1", async_mode=False)
    client.search_memory(
        "tea", user_id="u1", conversation_id="c1", filter=FILTERS[0], memory_limit_number=5,
        include_preference=True, preference_limit_number=3, include_tool_memory=True,
        tool_memory_limit_number=2, include_skill=True, skill_limit_number=1, relativity=0.3,
        source="langchain",
    )  # fmt: skip
    client.get_memory(user_id="u1", page=2, size=20, filter=FILTERS[1],
                      include_preference=False, include_tool_memory=True)  # fmt: skip
    client.delete_memory(memory_ids=["m1", "m2"])
    client.delete_memory(user_id="u1")
    client.delete_memory(agent_id="a1")
    client.add_feedback(user_id="u1", conversation_id="c1", feedback_content="Coffee, not tea.",
                        feedback_time="2025-06-11 10:00:00", agent_id="a1")  # fmt: skip
    client.get_status(
        client.add_message(MESSAGES[:1], user_id="u1", conversation_id="c2").task_id or ""
    )
    chat: Any = {
        "user_id": "u1", "conversation_id": "c1", "query": "tea?", "filter": FILTERS[2],
        "memory_limit_number": 4, "include_preference": True, "preference_limit_number": 2,
        "relativity": 0.2, "system_prompt": "Be brief.", "model_name": "qwen3-32b",
        "max_tokens": 100, "temperature": 0.5, "top_p": 0.9, "add_message_on_answer": False,
    }  # fmt: skip
    client.chat(**chat)
    list(client.chat_stream(**chat))


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/product/chat/stream":
        return httpx.Response(200, text='data: {"type": "end"}\n\n',
                              headers={"content-type": "text/event-stream"})  # fmt: skip
    data: Any = {"status": "success"} if "delete" in request.url.path else []
    if request.url.path.endswith("complete"):
        data = {"response": "ok"}
    return httpx.Response(200, json={"code": 200, "message": "ok", "data": data})


def test_every_translated_filter_is_a_filter_of_the_server() -> None:
    assert [translate_filter(f) for f in FILTERS][1] == {
        "or": [
            {"info.agent_id": "a1"},
            {"info.app_id": "app"},
            {"updated_at": {"lt": "2026-01-01T08:30:00+08:00"}},
        ]
    }


@pytest.mark.skipif(
    SDK_PYTHON is None,
    reason="MemoryOS is not installed (a heavy package); set MEMOS_SDK_PYTHON to an "
    "interpreter that has it",
)
def test_the_servers_own_models_accept_every_request(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _answer(request)

    mock = httpx.MockTransport(record)
    transport = SelfHostedTransport(SelfHostedOptions.of(add_mode="fine"), transport=mock)
    _sent(
        MemOSClient(base_url="http://127.0.0.1:8000", http_client=httpx.Client(transport=transport))
    )
    given = {
        "requests": [
            {"route": r.url.path, "body": json.loads(r.content) if r.content else None,
             "params": dict(r.url.params)}
            for r in sent
        ],
        "filters": [translate_filter(f) for f in FILTERS],
        "reserved_info_keys": sorted(RESERVED_INFO_KEYS),
    }  # fmt: skip
    assert len({r.url.path for r in sent}) == 8  # every route the mode serves
    assert SDK_PYTHON is not None
    result = subprocess.run(  # noqa: S603 - our own script, with a configured interpreter
        [SDK_PYTHON, str(SCRIPT)],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,  # MemOS writes its logs under the working directory
    )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-3000:]
    report = json.loads(lines[-1])
    assert report["problems"] == []
    assert report["checked"] == {"requests": len(sent), "filters": len(FILTERS)}
