"""Run the real MemOS server (``memos.api.server_api:app``) over a local Postgres with pgvector.

Run with the interpreter that has ``MemoryOS`` (plus ``pgserver`` and ``psycopg2-binary``):
``python run_server.py PORT DATA_DIR``. The environment (``stack.py`` sets it) configures the
server. Two things are done before the app is imported, neither of them a change to MemOS:

- Postgres with pgvector is started from the ``pgserver`` wheel (it bundles both) in
  ``DATA_DIR``, and stopped when this process exits.
- psycopg2 is taught to read pgvector's ``vector`` columns as lists of floats: MemOS's Postgres
  backend reads embeddings back without registering the type, and then fails to build its
  memory items from the string psycopg2 hands it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pgserver  # type: ignore[import-not-found,unused-ignore]
import psycopg2  # type: ignore[import-not-found,import-untyped,unused-ignore]
import psycopg2.extensions  # type: ignore[import-not-found,import-untyped,unused-ignore]
import uvicorn  # type: ignore[import-not-found,unused-ignore]


def _vector(value: str | None, cursor: Any) -> list[float] | None:
    if value is None:
        return None
    return [float(x) for x in value.strip("[]").split(",") if x]


def main() -> None:
    port, data_dir = int(sys.argv[1]), sys.argv[2]
    database = pgserver.get_server(data_dir, cleanup_mode="stop")
    database.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    os.environ["POSTGRES_HOST"] = data_dir  # a unix socket directory
    connection = psycopg2.connect(host=data_dir, user="postgres", dbname="postgres")
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_type WHERE typname = 'vector'")
        (oid,) = cursor.fetchone()
    connection.close()
    vector = psycopg2.extensions.new_type((oid,), "VECTOR", _vector)
    psycopg2.extensions.register_type(vector)
    try:
        uvicorn.run("memos.api.server_api:app", host="127.0.0.1", port=port, log_level="warning")
    finally:
        database.cleanup()  # stop Postgres, also when uvicorn ends on a signal


if __name__ == "__main__":
    main()
