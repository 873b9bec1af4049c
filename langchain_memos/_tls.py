"""The TLS context every connection pool the package makes verifies servers with, made once.

httpx builds a new context for each client it makes (and each transport), loading the whole CA
bundle into it: ~35 ms of CPU every time, for every client, an ``http://`` one included, and for
an async client again on each event loop. The package's pools share one instead. It is httpx's
own default (``httpx.create_ssl_context()``: certifi's bundle, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR`` when set), so verification is what httpx would have done; a change to those
variables gets a context of its own. A caller who needs other TLS settings passes ``http_client``.
"""

from __future__ import annotations

import functools
import os
import ssl

import httpx

__all__ = ["default_ssl_context"]


def default_ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context, shared by every pool made under the same settings."""
    return _context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # The arguments are the cache key: httpx reads the same two variables itself.
    del cert_file, cert_dir
    return httpx.create_ssl_context()
