"""Check requests of the self-hosted mode against MemoryOS's own server code.

Run with an interpreter that has ``MemoryOS``: reads a JSON object from stdin and prints one
JSON report line. The input holds ``requests`` (``{"route", "body", "params"}`` as the mode
sent them), ``filters`` (translated filters) and ``reserved_info_keys``. For each request the
server's request model for its route validates the body; the fields the mode relies on must
come out of the model unchanged (a model that drops or rewrites them would make the mode
unfaithful). Each filter goes through the Postgres and Neo4j backends' own query builders.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from memos.api import product_models as models  # type: ignore[import-not-found,unused-ignore]
from memos.graph_dbs.neo4j import Neo4jGraphDB  # type: ignore[import-not-found,unused-ignore]
from memos.graph_dbs.postgres import PostgresGraphDB  # type: ignore[import-not-found,unused-ignore]
from memos.memories.textual.item import (  # type: ignore[import-not-found,unused-ignore]
    list_all_fields,
)

ROUTES = {
    "/product/add": models.APIADDRequest,
    "/product/search": models.APISearchRequest,
    "/product/get_memory": models.GetMemoryRequest,
    "/product/delete_memory": models.DeleteMemoryRequest,
    "/product/feedback": models.APIFeedbackRequest,
    "/product/chat/complete": models.APIChatCompleteRequest,
    "/product/chat/stream": models.ChatRequest,
    "/product/scheduler/status": models.StatusRequest,
}


def _plain(value: Any) -> Any:
    # Enums (search mode) compare by value.
    return getattr(value, "value", value)


def check_request(route: str, body: Any, params: Any) -> list[str]:
    model = ROUTES.get(route)
    if model is None:
        return [f"{route}: no request model known for this route"]
    sent = params if body is None else body
    try:
        parsed = model.model_validate(sent)
    except Exception as error:
        return [f"{route}: {type(error).__name__}: {error}"]
    problems = []
    dumped = parsed.model_dump()
    for name, value in sent.items():
        if name not in dumped:
            problems.append(f"{route}: {name} is not a field of {model.__name__}")
        elif _plain(dumped[name]) != value:
            problems.append(f"{route}: {name} became {dumped[name]!r}, sent {value!r}")
    return problems


def check_filter(translated: dict[str, Any]) -> list[str]:
    problems = []
    postgres = object.__new__(PostgresGraphDB)
    try:
        params: list[Any] = []
        if not postgres._build_filter_where_clause(translated, params):
            problems.append(f"postgres builds no condition for {translated}")
    except Exception as error:
        problems.append(f"postgres refuses {translated}: {error}")
    neo4j = object.__new__(Neo4jGraphDB)
    try:
        conditions, _ = neo4j._build_filter_conditions_cypher(translated)
        if not conditions:
            problems.append(f"neo4j builds no condition for {translated}")
    except Exception as error:
        problems.append(f"neo4j refuses {translated}: {error}")
    return problems


def main() -> None:
    given = json.load(sys.stdin)
    problems: list[str] = []
    for request in given["requests"]:
        problems += check_request(request["route"], request["body"], request["params"])
    for translated in given["filters"]:
        problems += check_filter(translated)
    if set(given["reserved_info_keys"]) != set(list_all_fields()):
        problems.append(f"reserved info keys differ: the server has {sorted(list_all_fields())}")
    checked = {"requests": len(given["requests"]), "filters": len(given["filters"])}
    report = {"ok": not problems, "problems": problems, "checked": checked}
    print(json.dumps(report))  # noqa: T201 - the report goes to stdout


if __name__ == "__main__":
    main()
