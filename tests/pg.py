"""A throwaway PostgreSQL server for the storage tests and benchmarks, with no system install.

The `pgserver` wheel ships the PostgreSQL 16 binaries. `TestPostgres` runs `initdb` in a fresh
temporary directory, starts the server listening on a Unix socket in that directory only (no TCP
port, so parallel test processes never collide), and deletes everything when stopped. Starting
takes about a second, so the tests start one server per process (per pytest-xdist worker) and give
each workspace its own schema in it: creating a schema costs a millisecond where a database costs
tens and copies megabytes.

Running as root: PostgreSQL refuses to run as root, and pgserver handles it by creating a system
user `pgserver` (useradd), running initdb and the server as that user, and widening the mode of
the data directory's parents and of its own binaries to o+rx. We place the data directory directly
under the system temporary directory, so the widening touches nothing of ours (a pytest tmp_path
would be loosened from 0700). As any other user nothing of this happens.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg


def _pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns on import when XDG_RUNTIME_DIR is unset (CI, containers); harmless.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

    return pgserver


class TestPostgres:
    """One running server and the schemas made in it; `stop` removes every trace."""

    __test__ = False  # not a test class, despite the name

    def __init__(self) -> None:
        self.datadir = Path(tempfile.mkdtemp(prefix="detente-pg-"))
        try:
            self._server = _pgserver().get_server(self.datadir, cleanup_mode="delete")
        except BaseException:
            shutil.rmtree(self.datadir, ignore_errors=True)
            raise
        self.socket_dir = str(self._server.get_postmaster_info().socket_dir)
        self._admin = psycopg.connect(self.libpq_url(), autocommit=True)

    def libpq_url(self, schema: str | None = None, **settings: str) -> str:
        """A URL libpq (psql, psycopg) understands: user postgres, database postgres, the
        socket directory as host, `schema` first on the search path, and session `settings`."""
        if schema is not None:
            settings = {"search_path": schema, **settings}
        query = f"host={quote(self.socket_dir, safe='')}"
        if settings:
            options = " ".join(f"-c{k}={v}" for k, v in settings.items())
            query += "&options=" + quote(options, safe="")
        return f"postgresql://postgres@/postgres?{query}"

    def url(self, schema: str | None = None, **settings: str) -> str:
        """The same as an SQLAlchemy URL, as `detente init --db` and DETENTE_DB take it."""
        return self.libpq_url(schema, **settings).replace("postgresql://", "postgresql+psycopg://", 1)

    def new_schema(self) -> str:
        name = f"log_{secrets.token_hex(6)}"
        self._admin.execute(f"CREATE SCHEMA {name}")
        return name

    def admin(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one statement as the superuser, outside any test's schema."""
        cur = self._admin.execute(statement)
        return cur.fetchall() if cur.description else []

    def stop(self) -> None:
        self._admin.close()
        self._server.cleanup()
        shutil.rmtree(self.datadir, ignore_errors=True)
