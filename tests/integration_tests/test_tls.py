"""TLS: servers are verified as httpx verifies them, with one CA bundle load per process.

Every pool the package makes shares one verifying context (``_tls.py``): httpx would otherwise
load the whole CA bundle for each client it makes, ~35 ms of CPU each. These tests pin that the
sharing changes nothing a user relies on: an unknown certificate is still refused,
``SSL_CERT_FILE`` is still honoured (also when set after a first client), and making many
clients, sync or async, loads the bundle once.

``loopback_tls.pem`` is a self-signed certificate for 127.0.0.1 and its key, made for these tests
only (valid until 2126).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from langchain_memos import APIConnectionError, AsyncMemOSClient, MemOSClient

pytestmark = pytest.mark.loopback

CERTIFICATE = Path(__file__).with_name("loopback_tls.pem")


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"code": 0, "data": {"memory_detail_list": []}, "message": "ok"})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_url() -> Iterator[str]:
    """A MemOS stand-in over TLS on loopback, with a certificate no CA bundle trusts."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERTIFICATE)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/api/openmem/v1"
    server.shutdown()
    server.server_close()


def _search(client: MemOSClient) -> int:
    with client:
        return len(client.search_memory("tea", user_id="u").memory_detail_list)


def test_an_unknown_certificate_is_refused(https_url: str) -> None:
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        _search(MemOSClient(api_key="k", base_url=https_url, max_retries=0))


def test_ssl_cert_file_is_honoured_also_when_set_after_a_first_client(
    https_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    MemOSClient(api_key="k", base_url=https_url).close()  # a first client, before the variable
    monkeypatch.setenv("SSL_CERT_FILE", str(CERTIFICATE))
    assert _search(MemOSClient(api_key="k", base_url=https_url, max_retries=0)) == 0

    async def search_async() -> int:
        async with AsyncMemOSClient(api_key="k", base_url=https_url, max_retries=0) as client:
            return len((await client.search_memory("tea", user_id="u")).memory_detail_list)

    assert asyncio.run(search_async()) == 0
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(APIConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        _search(MemOSClient(api_key="k", base_url=https_url, max_retries=0))


def test_many_clients_load_the_ca_bundle_once(
    https_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append(args or kwargs)
        load(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    # A bundle path no client has used yet (it trusts the server), so the first client loads it.
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(CERTIFICATE.read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    async def search(client: AsyncMemOSClient) -> int:
        return len((await client.search_memory("tea", user_id="u")).memory_detail_list)

    for _ in range(5):
        assert _search(MemOSClient(api_key="k", base_url=https_url)) == 0
        client = AsyncMemOSClient(api_key="k", base_url=https_url)
        # An async client makes a pool for each event loop it is used on.
        assert asyncio.run(search(client)) == asyncio.run(search(client)) == 0
        asyncio.run(client.aclose())
    assert len(loads) == 1
