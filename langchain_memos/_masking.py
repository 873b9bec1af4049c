"""The credential a request carried, kept out of what its answer puts in errors and logs.

A server or proxy that echoes the ``Authorization`` header in an error must not put the key into
an exception, a log line or the outbox's record of a failed write. The echo may be the header as
sent or JSON-escaped, any character of it ("\\/" for "/", "\\u002B" for "+", "\\u0041" for "A"):
the raw text is masked in every such form, before any of it is decoded. Case is kept: a key is
a key in its own case, and a word of an answer that spells a human-chosen key in another case
("LangChain" for a token "langchain") is not touched.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import httpx

__all__ = ["masked_body", "masked_bytes", "masked_line"]

_SHORTEST_SECRET = 6  # shorter, masking would mangle the text more than it hides
_MASK = b"***"


def masked_bytes(response: httpx.Response) -> bytes:
    """The answer's body, without the credential its request carried."""
    pattern = _pattern(_sent(response))
    content = response.content
    return content if pattern is None else pattern.sub(_MASK, content)


def masked_line(line: str, response: httpx.Response) -> str:
    """One line of a streamed answer without the credential its request carried."""
    pattern = _pattern(_sent(response))
    if pattern is None:
        return line
    raw = line.encode("utf-8", "surrogatepass")
    return pattern.sub(_MASK, raw).decode("utf-8", "surrogatepass")


def masked_body(body: object, response: httpx.Response) -> object:
    """A decoded JSON ``body`` without the credential in any of its strings (what its masked
    bytes could not hide: nothing the escapes above miss, but a body may be decoded from
    elsewhere)."""
    pattern = _pattern(_sent(response))
    if pattern is None or body is None:
        return body
    try:
        text = json.dumps(body, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None
    masked = masked_line(text, response)
    if masked == text:
        return body
    try:
        return json.loads(masked)
    except ValueError:  # a mask across a string's end: nothing of it is shown
        return None


def _sent(response: httpx.Response) -> str:
    try:
        return str(response.request.headers.get("authorization", ""))
    except RuntimeError:  # a response made without a request
        return ""


@lru_cache(maxsize=16)
def _pattern(sent: str) -> re.Pattern[bytes] | None:
    """Every form of the ``Authorization`` header ``sent`` and of its token, longest first, so
    that the text reads the same whichever the server echoed; None without one."""
    secrets = {s for s in (sent, *sent.split()[1:]) if len(s) >= _SHORTEST_SECRET}
    if not secrets:
        return None
    ordered = sorted(secrets, key=lambda secret: (-len(secret), secret))
    return re.compile(b"|".join(_any_escape(secret) for secret in ordered))


def _any_escape(secret: str) -> bytes:
    """A regex matching ``secret`` with any of its characters JSON-escaped."""
    forms = []
    for char in secret:
        code = f"{ord(char):04x}"
        escapes = [re.escape(char.encode("utf-8", "surrogatepass"))]
        hex_digits = b"".join(b"[%s%s]" % (c.encode(), c.upper().encode()) for c in code)
        escapes.append(b"\\\\u" + hex_digits)
        if char in '/"\\':
            escapes.append(re.escape(b"\\" + char.encode()))
        forms.append(b"(?:" + b"|".join(escapes) + b")")
    return b"".join(forms)
