"""``python -m langchain_memos serve``: the embedded engine as a MemOS-compatible HTTP server."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from langchain_memos._exceptions import ConfigurationError
from langchain_memos.embedded import open_engine
from langchain_memos.embedded.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BODY_BYTES,
    TOKEN_ENV,
    serve,
)

_DESCRIPTION = """\
Serve the embedded MemOS engine over HTTP, under the MemOS cloud's path layout
(http://HOST:PORT/api/openmem/v1/...), for MemOS clients in any language: the official
SDK, MCP tools, cassette recording. On start it prints one line to stdout:

    MemOS-compatible server: http://127.0.0.1:8765/api/openmem/v1

Ctrl-C or SIGTERM stops it."""


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line's parser and each command's own (which reports its usage errors)."""
    parser = argparse.ArgumentParser(
        prog="python -m langchain_memos",
        description="Command-line tools of langchain-memos.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    server = commands.add_parser(
        "serve",
        help="serve the embedded engine over HTTP",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}); off loopback needs --allow-remote",
    )
    server.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks a free one"
    )
    server.add_argument(
        "--db",
        default=":memory:",
        metavar="PATH",
        help="SQLite database file (created if missing, in an existing directory); default: in "
        "memory, lost on exit",
    )
    server.add_argument(
        "--token",
        help="require 'Authorization: Bearer <T>' (or 'Token <T>') on every request; "
        f"prefer the {TOKEN_ENV} environment variable, which other users cannot see in ps",
    )
    server.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host off loopback (no TLS: trusted networks only, with a token)",
    )
    server.add_argument(
        "--max-body-mb",
        type=_positive,
        default=MAX_BODY_BYTES // (1024 * 1024),
        metavar="MB",
        help="refuse larger request bodies with HTTP 413 (default %(default)s MiB)",
    )
    server.add_argument(
        "--verbose",
        action="store_true",
        help="log each request (method, path, status, latency) to stderr",
    )
    return parser, {"serve": server}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _serve(args: argparse.Namespace) -> int:
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        server_logger = logging.getLogger("langchain_memos.server")
        server_logger.addHandler(handler)
        server_logger.setLevel(logging.INFO)
    try:
        engine = open_engine(args.db)
    except ConfigurationError as error:
        _say(f"error: {error}")
        return 2
    except (OSError, sqlite3.Error) as error:
        _say(f"error: cannot open the database {args.db}: {error}")
        return 1
    try:
        server = serve(
            engine,
            args.host,
            args.port,
            token,
            allow_remote=args.allow_remote,
            max_body_bytes=args.max_body_mb * 1024 * 1024,
        )
    except ConfigurationError as error:
        _say(f"error: {error}")
        return 2
    except OSError as error:
        _say(f"error: cannot listen on {args.host}:{args.port}: {error.strerror or error}")
        return 1

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # The one line on stdout, for scripts to parse; everything else goes to stderr.
        sys.stdout.write(f"MemOS-compatible server: {server.base_url}\n")
        sys.stdout.flush()
        if args.db == ":memory:":
            _say("data is kept in memory and lost when the server stops; --db PATH keeps it")
        else:
            _say(f"database: {engine.store.path}")
        if token is None:
            _say("no token: every local process can read and write these memories")
        stop.wait()
    finally:
        server.close()
        engine.close()
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)
    _say("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for usage errors)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser()
    if not arguments:
        parser.print_help()
        return 0
    try:
        args, unknown = parser.parse_known_args(arguments)
        if unknown:  # reported by the command they were given to, with its usage line
            commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exit_:  # --help (0) and usage errors (2)
        return int(exit_.code or 0)
    if args.command == "serve":
        return _serve(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
