"""A loopback stand-in for the OpenAI-compatible LLM and embedder a MemOS server calls.

NOT a model. It lets the real open-source MemOS server run here without any model service:

- ``/v1/embeddings``: a hashed bag of words (one signed dimension per word), L2-normalised, as
  floats or base64 float32 as asked. Texts sharing words are near; that is all.
- ``/v1/chat/completions``: for MemOS's fine extraction prompt (``"memory list"`` ...
  ``Conversation:``), one ``UserMemory`` per user line, ``"The user said: <line>"``, tagged
  ``stand-in``; for other prompts asking for JSON, ``{}``; otherwise the reply
  ``[stand-in LLM, not a model] you asked: <last user message>``, streamed when asked.

Run: ``python openai_standin.py PORT [DIMENSION]``; stdlib only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIMENSION = 1024
LABEL = "[stand-in LLM, not a model]"


def embed(text: str, dimension: int) -> list[float]:
    vector = [0.0] * dimension
    for word in re.findall(r"\w+", text.lower()):
        digest = int(hashlib.sha256(word.encode()).hexdigest(), 16)
        vector[digest % dimension] += 1.0 if (digest >> 20) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def reply(messages: list[dict[str, Any]]) -> str:
    prompt = str(messages[-1].get("content", "")) if messages else ""
    if '"memory list"' in prompt and "Conversation:" in prompt:
        conversation = prompt.rsplit("Conversation:", 1)[1].split("Your Output:")[0]
        said = re.findall(r"^user: \[[^\]]*\]: (.+)$", conversation, flags=re.MULTILINE)
        memories = [
            {"key": line[:40], "memory_type": "UserMemory", "value": f"The user said: {line}",
             "tags": ["stand-in"]}
            for line in said
        ]  # fmt: skip
        return json.dumps({"memory list": memories, "summary": " ".join(said)})
    if "json" in prompt.lower() and "{" in prompt:
        return "{}"
    users = [m for m in messages if m.get("role") == "user"]
    last = str(users[-1].get("content", "")) if users else ""
    return f"{LABEL} you asked: {last[-200:]}"


class Handler(BaseHTTPRequestHandler):
    dimension = DIMENSION

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": "standin", "object": "model"}]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path.endswith("/embeddings"):
            texts = request.get("input")
            texts = [texts] if isinstance(texts, str) else texts
            packed = request.get("encoding_format") == "base64"
            data = []
            for index, text in enumerate(texts):
                vector: Any = embed(text, self.dimension)
                if packed:
                    vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                data.append({"object": "embedding", "index": index, "embedding": vector})
            usage = {"prompt_tokens": 1, "total_tokens": 1}
            self._json(
                {"object": "list", "model": request.get("model"), "data": data, "usage": usage}
            )
            return
        text = reply(request.get("messages") or [])
        if request.get("stream"):
            self._stream(request.get("model"), text)
            return
        message = {"role": "assistant", "content": text}
        self._json({
            "id": "standin", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })  # fmt: skip

    def _stream(self, model: Any, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [text[i : i + 16] for i in range(0, len(text), 16)]
        for piece, finish in [*((p, None) for p in pieces), ("", "stop")]:
            delta = {"role": "assistant", "content": piece} if piece else {}
            chunk = {"id": "standin", "object": "chat.completion.chunk", "created": 0,
                     "model": model, "choices": [{"index": 0, "delta": delta,
                                                  "finish_reason": finish}]}  # fmt: skip
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def main() -> None:
    Handler.dimension = int(sys.argv[2]) if len(sys.argv) > 2 else DIMENSION
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()


if __name__ == "__main__":
    main()
