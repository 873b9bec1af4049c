"""Every public method and parameter of the official SDK's ``MemOSClient`` has a counterpart here.

The SDK lives in another interpreter (``sdk_python.py``), so its signatures are read there, in a
subprocess, and compared with ``MemOSClient`` and ``AsyncMemOSClient``. A method or parameter
the SDK gains fails the test the day it is installed, until it is implemented here or mapped
below. Where this package names a thing differently, ``RENAMED`` says so and why; everything
else must exist under the SDK's own name.
"""

from __future__ import annotations

import inspect
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from langchain_memos import AsyncMemOSClient, MemOSClient

from .sdk_python import SDK_PYTHON, SKIP_REASON

# SDK method -> (our method, {SDK parameter: our parameter}) where a name differs. A parameter
# mapped to None has no parameter of its own here, for the reason its comment gives.
RENAMED: dict[str, tuple[str, dict[str, str | None]]] = {
    # The SDK's __init__ takes api_key, base_url and is_global: the same names here.
    "__init__": ("__init__", {}),
    # One memory by id: "memory_id", as every other memory id here is named.
    "get_memory_by_id": ("get_memory_by_id", {"memid": "memory_id"}),
    # The endpoint is get/status; wait_for_task polls it.
    "get_task_status": ("get_status", {}),
    # JSON files: a list of files, so the plural, as the endpoint's files are named.
    "add_knowledgebase_file_json": ("add_knowledgebase_files", {"file": "files"}),
    # Multipart upload: takes file contents (bytes, paths or file objects), not only paths.
    "add_knowledgebase_file_form": ("upload_knowledgebase_files", {}),
    "delete_knowledgebase_file": ("delete_knowledgebase_files", {}),
    "get_knowledgebase_file": ("get_knowledgebase_files", {}),
    # The API deletes one user's memories at a time: user_id, a string. The SDK's user_ids is a
    # list it allows one user in (and drops, unsent, next to memory_ids).
    "delete_memory": ("delete_memory", {"user_ids": "user_id"}),
    # chat(stream=True) returns another type (an iterator of events): chat_stream, a method of
    # its own with the same parameters, so that each method has one return type.
    "chat": ("chat", {"stream": None}),
}

# Parameters the SDK gives a default but refuses to send without a value (its
# _validate_required_params): required here too, so that the mistake shows before any call.
REQUIRED_HERE = {
    ("get_message", "conversation_id"),  # "conversation_id is required"
    ("add_feedback", "feedback_content"),  # "feedback_content is required"
}

STREAMED = {"chat": "chat_stream"}  # a method whose stream=True is another method here

_INTROSPECT = """
import inspect, json
from memos.api.client import MemOSClient
found = {}
for name, member in inspect.getmembers(MemOSClient, inspect.isfunction):
    if name.startswith("_") and name != "__init__":
        continue
    found[name] = {
        p.name: p.default is not inspect.Parameter.empty
        for p in inspect.signature(member).parameters.values()
        if p.name != "self"
    }
print(json.dumps(found))
"""


def _ours(client: type[Any], method: str) -> list[str]:
    return [name for name in inspect.signature(getattr(client, method)).parameters][1:]


def _missing(sdk: dict[str, dict[str, bool]], client: type[Any]) -> list[str]:
    """Every SDK method or parameter without a counterpart on ``client``, and every parameter
    the SDK lets a caller leave out that is required here."""
    missing = []
    for method, parameters in sorted(sdk.items()):
        ours, renamed = RENAMED.get(method, (method, {}))
        if not hasattr(client, ours):
            missing.append(f"{method}() (looked for {client.__name__}.{ours})")
            continue
        have = inspect.signature(getattr(client, ours)).parameters
        for parameter, optional in parameters.items():
            target = renamed.get(parameter, parameter)
            if target is None:
                continue
            if target not in have:
                missing.append(f"{method}({parameter}) (looked for {ours}({target}))")
            elif (
                optional
                and have[target].default is inspect.Parameter.empty
                and (method, parameter) not in REQUIRED_HERE
            ):
                missing.append(f"{method}({parameter}) may be left out there, not in {ours}()")
    return missing


@pytest.mark.parametrize("client", [MemOSClient, AsyncMemOSClient])
def test_the_mapping_table_names_what_exists_here(client: type[Any]) -> None:
    # Without the SDK too: a rename that points at nothing would hide a missing counterpart.
    for ours, renamed in RENAMED.values():
        assert hasattr(client, ours), ours
        have = set(_ours(client, ours))
        assert {target for target in renamed.values() if target is not None} <= have, ours
    for streamed in STREAMED.values():
        assert _ours(client, streamed) == _ours(client, "chat")


@pytest.mark.skipif(SDK_PYTHON is None, reason=SKIP_REASON)
def test_every_sdk_method_and_parameter_has_a_counterpart(tmp_path: Path) -> None:
    assert SDK_PYTHON is not None
    result = subprocess.run(  # noqa: S603 - a fixed script, with a configured interpreter
        [SDK_PYTHON, "-c", _INTROSPECT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,  # MemOS writes its logs under the working directory, in .memos/
    )
    assert result.returncode == 0, result.stderr[-2000:]
    sdk: dict[str, dict[str, bool]] = json.loads(result.stdout.strip().splitlines()[-1])
    assert "search_memory" in sdk  # the introspection saw the client, not an empty class
    stale = sorted(set(RENAMED) - set(sdk))
    assert not stale, f"RENAMED maps SDK methods the SDK no longer has: {stale}"
    for client in (MemOSClient, AsyncMemOSClient):
        missing = _missing(sdk, client)
        assert not missing, f"{client.__name__} lacks: " + "; ".join(missing)
