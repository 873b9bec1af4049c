"""The credential a request carried, kept out of what its answer puts in errors and logs.

A server or proxy that echoes the ``Authorization`` header in an error must not put the key into
an exception, a log line or the outbox's record of a failed write. The echo may be the header
as sent, its case changed, or JSON-escaped ("\\/" for "/", "\\u0041" for "A"): the raw text is
masked in every form it can take, and a decoded JSON body again, whose strings the decoding
unescaped.
"""

from __future__ import annotations

import json
import re

import httpx

__all__ = ["masked_body", "masked_bytes", "masked_line"]

_SHORTEST_SECRET = 6  # shorter, masking would mangle the text more than it hides
_MASK = "***"


def masked_bytes(response: httpx.Response) -> bytes:
    """The answer's body, without the credential its request carried."""
    pattern = _pattern(response)
    content = response.content
    return content if pattern is None else pattern.sub(_MASK.encode(), content)


def masked_line(line: str, response: httpx.Response) -> str:
    """One line of a streamed answer without the credential its request carried."""
    pattern = _pattern(response)
    if pattern is None:
        return line
    return pattern.sub(_MASK.encode(), line.encode("utf-8", "surrogatepass")).decode(
        "utf-8", "surrogatepass"
    )


def masked_body(body: object, response: httpx.Response) -> object:
    """A decoded JSON ``body`` without the credential in any of its strings."""
    pattern = _pattern(response)
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


def _pattern(response: httpx.Response) -> re.Pattern[bytes] | None:
    """Every form of the credential as the request sent it, longest first, so that the text
    reads the same whichever the server echoed; None without one."""
    forms: set[str] = set()
    for secret in _credentials(response):
        escaped = json.dumps(secret)[1:-1]
        forms.update((secret, escaped, escaped.replace("/", "\\/")))
    if not forms:
        return None
    encoded = (form.encode("utf-8", "surrogatepass") for form in forms)
    ordered = sorted(encoded, key=lambda form: (-len(form), form))
    return re.compile(b"|".join(map(re.escape, ordered)), re.IGNORECASE)


def _credentials(response: httpx.Response) -> list[str]:
    """The ``Authorization`` header the request carried, and its token."""
    try:
        sent = response.request.headers.get("authorization", "")
    except RuntimeError:  # a response made without a request
        return []
    return [secret for secret in (sent, *sent.split()[1:]) if len(secret) >= _SHORTEST_SECRET]
