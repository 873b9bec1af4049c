"""One self-hosted ``AsyncMemOSClient`` used from one ``asyncio.run()`` after another.

Over real sockets: the mode sends through its own pool, whose connections belong to the loop
that opened them; the client rebuilds it per loop as it does its own, and leaves no socket open.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from langchain_memos import AsyncMemOSClient

pytestmark = pytest.mark.loopback

FACT = {
    "id": "f1",
    "memory": "The user travels with the kids.",
    "metadata": {"memory_type": "UserMemory", "session_id": "c1", "relativity": 0.7},
}


class _Product(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: connections stay in the client's pool

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        assert self.path == "/product/search"
        data = {"text_mem": [{"cube_id": "u1", "memories": [FACT], "total_nodes": 1}]}
        body = json.dumps({"code": 200, "message": "ok", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Product)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_selfhosted_client_works_in_one_asyncio_run_after_another(base_url: str) -> None:
    client = AsyncMemOSClient(base_url=base_url, selfhosted=True, max_retries=0, timeout=5)

    async def recall() -> list[str]:
        found = await client.search_memory("travel", user_id="u1")
        return [memory.memory_value or "" for memory in found.memory_detail_list]

    for _ in range(3):
        assert asyncio.run(recall()) == ["The user travels with the kids."]
    asyncio.run(client.aclose())
    # Each loop's pool was closed with its loop: an unclosed socket would be a ResourceWarning,
    # an error in this suite.
    gc.collect()
