"""A loopback HTTP proxy that forwards every request after a fixed delay, and counts them by path.

It stands for the network between an agent and a MemOS service: the embedded engine served on
loopback answers in about a millisecond, the cloud in tens. Every request is counted on arrival
(by its path, without the ``/api/openmem/v1`` prefix), then answered ``delay`` seconds later with
what the upstream server said. ``GET /__proxy__/counts`` (never delayed, never counted) returns
the counts as JSON, so a benchmark counts the HTTP requests that really happened.

Run as a script, it prints one line, ``delay proxy: http://127.0.0.1:PORT/api/openmem/v1``, and
serves until it is terminated::

    python bench/_delay_proxy.py --upstream http://127.0.0.1:8765 --delay-ms 50
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import cast

import httpx

API_PREFIX = "/api/openmem/v1"
COUNTS_PATH = "/__proxy__/counts"
_FORWARDED_HEADERS = ("Authorization", "Content-Type", "Accept")


class DelayProxy(ThreadingHTTPServer):
    """The proxy server: one thread per connection, one pooled httpx client to the upstream."""

    daemon_threads = True

    def __init__(self, upstream: str, delay: float, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.delay = delay
        self.upstream = httpx.Client(base_url=upstream, timeout=120)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{API_PREFIX}"

    def server_close(self) -> None:
        super().server_close()
        self.upstream.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the MemOS client's pool expects
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds the
    # body until the client's delayed ACK (about 40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        if self.path == COUNTS_PATH:
            proxy = cast("DelayProxy", self.server)
            with proxy.lock:
                body = json.dumps(dict(proxy.counts)).encode()
            self._reply(200, body, "application/json")
        else:
            self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        proxy = cast("DelayProxy", self.server)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = self.path.split("?", 1)[0].removeprefix(API_PREFIX)
        with proxy.lock:
            proxy.counts[route] += 1
        time.sleep(proxy.delay)
        headers = {name: self.headers[name] for name in _FORWARDED_HEADERS if name in self.headers}
        try:
            answer = proxy.upstream.request(self.command, self.path, content=body, headers=headers)
        except httpx.HTTPError as error:
            self._reply(502, json.dumps({"proxy_error": str(error)}).encode(), "application/json")
            return
        content_type = answer.headers.get("Content-Type", "application/json")
        self._reply(answer.status_code, answer.content, content_type)

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the benchmark's output is its table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="origin of the server, http://HOST:PORT")
    parser.add_argument("--delay-ms", type=float, required=True, help="added delay per request")
    parser.add_argument("--port", type=int, default=0, help="default 0: a free one")
    args = parser.parse_args(argv)
    proxy = DelayProxy(args.upstream, args.delay_ms / 1000, args.port)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)
    thread = threading.Thread(target=proxy.serve_forever, name="delay-proxy", daemon=True)
    thread.start()
    sys.stdout.write(f"delay proxy: {proxy.base_url}\n")
    sys.stdout.flush()
    stop.wait()
    proxy.shutdown()
    proxy.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
