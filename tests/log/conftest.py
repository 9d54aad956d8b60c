"""Fixtures for the log tests: a workspace with two parties (US, RU), each with a signing key and
a witness key, a fixed clock, and helpers to sign records, snapshot the database and tamper.

Every test that uses a workspace runs twice, on the embedded SQLite default and on a real
PostgreSQL server (ids `sqlite` and `postgresql`): the `backend` parameter is added to every test
that needs it, directly or through `env`. A test about SQLite's own files is marked
`@pytest.mark.sqlite_only`. The PostgreSQL server (tests/pg.py) starts once per test process, at
the first test that needs it; each workspace gets a fresh schema in it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from detente.envelope.keys import SigningKey
from detente.envelope.record import make_record
from detente.log.note import NoteVerifier
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.transparency import TransparencyLog
from detente.log.witness import Witness
from detente.model.parties import Role
from detente.workspace import DB_FILE, Workspace
from pg import TestPostgres

LOG_ORIGIN = "detente.test/log-suite"
OPERATOR_NOTE_NAME = "log.detente.test"
WITNESS_NOTE_NAMES = {"US": "witness.us.detente.test", "RU": "witness.ru.detente.test"}
#: The log's clock in these tests; records are signed at this instant unless a test says otherwise.
FIXED_NOW = datetime(2022, 3, 1, 12, 0, 0, tzinfo=UTC)
#: The witnesses' clock (seconds since the epoch), fixed so cosignatures are reproducible.
WITNESS_TIME = 1_646_136_000.0
AUTHOR_ROLES = frozenset({Role.DECLARANT, Role.INSPECTOR})
TABLES = ("entries", "nodes", "checkpoints", "meta")
BACKENDS = ("sqlite", "postgresql")


def fixed_clock() -> datetime:
    return FIXED_NOW


# -- backends ------------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test is about SQLite itself (its files); not run on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("backend", BACKENDS[:1] if only_sqlite else BACKENDS, indirect=True)


@dataclass
class Backend:
    """Where a test's workspaces keep their logs, and raw access to them that bypasses the store
    (sqlite3 or psycopg directly) for counting rows and tampering."""

    name: str
    postgres: TestPostgres | None = None

    def url_for(self, ws_path: Path) -> str:
        """A fresh, empty database for a workspace about to be created at `ws_path`."""
        if self.postgres is None:
            return sqlite_url(ws_path / DB_FILE)
        return self.postgres.url(self.postgres.new_schema())

    def sql(self, url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement (`?` placeholders) on the database directly and commit."""
        if self.postgres is None:
            con = sqlite3.connect(url.removeprefix("sqlite:///"))  # sqlite3 handles the WAL
            try:
                rows = con.execute(statement, params).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(libpq) as pcon:  # commits on a clean exit
            cur = pcon.execute(statement.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []


@pytest.fixture(scope="session")
def postgres() -> Iterator[TestPostgres]:
    server = TestPostgres()
    yield server
    server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "postgresql":
        return Backend("postgresql", request.getfixturevalue("postgres"))
    return Backend("sqlite")


@pytest.fixture(autouse=True)
def _no_ambient_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test says which database it uses; a DETENTE_DB in the caller's shell must not
    redirect it."""
    monkeypatch.delenv("DETENTE_DB", raising=False)


# -- workspaces ----------------------------------------------------------------------------------


def make_workspace(path: Path, origin: str = LOG_ORIGIN, db_url: str | None = None) -> Workspace:
    """A fresh workspace: a new operator key, parties US and RU with author and witness keys."""
    ws = Workspace.create(path, origin, operator_name=OPERATOR_NOTE_NAME, db_url=db_url)
    for pid, name in (("US", "United States"), ("RU", "Russian Federation")):
        ws.add_party(pid, name, roles=AUTHOR_ROLES, witness_name=WITNESS_NOTE_NAMES[pid])
        ws.witness(pid).initialise()  # as `detente party --witness-name` does: the empty tree
    return ws


def clone_workspace(src: Workspace, path: Path, db_url: str | None = None) -> Workspace:
    """A second workspace with the same registry and the same operator key but its own, empty
    log: what an operator needs to show two different histories under one key."""
    ws = Workspace.create(path, src.registry().origin, operator_name=OPERATOR_NOTE_NAME,
                          db_url=db_url)
    ws.keys_path.write_text(src.keys_path.read_text())
    for f in src.secrets.iterdir():
        (ws.secrets / f.name).unlink(missing_ok=True)
        (ws.secrets / f.name).write_bytes(f.read_bytes())
        (ws.secrets / f.name).chmod(0o600)  # read_private_key refuses keys others can read
    return ws


def wal_checkpoint(db: Path) -> None:
    """Fold the WAL into the main database file, leaving the WAL empty."""
    con = sqlite3.connect(db)
    try:
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "another connection still holds the database"
    finally:
        con.close()


@dataclass
class LogEnv:
    """A workspace plus the helpers most log tests need."""

    ws: Workspace
    keys: dict[str, SigningKey]
    backend: Backend
    next_seq: dict[str, int] = field(default_factory=lambda: {"US": 1, "RU": 1})
    _stores: list[SQLStore] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.ws.url

    @property
    def db(self) -> Path:
        """The SQLite file (SQLite-only tests)."""
        assert self.backend.name == "sqlite"
        return self.ws.path / DB_FILE

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement (`?` placeholders) on the log's database behind the store's back."""
        return self.backend.sql(self.url, statement, *params)

    def counts(self) -> dict[str, int]:
        """Row counts of every table, read without the store."""
        return {t: self.sql(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

    def reopen(self) -> Workspace:
        """The workspace as another process would open it."""
        return Workspace.open(self.ws.path, self.ws.db_url)

    def clone(self, path: Path) -> Workspace:
        """Same registry and operator key, its own empty log (see clone_workspace)."""
        return clone_workspace(self.ws, path, self.backend.url_for(path))

    def child_env(self) -> dict[str, str]:
        """Environment for a child process or a CLI run: DETENTE_DB names this log."""
        return {"DETENTE_DB": self.url}

    @property
    def origin(self) -> str:
        return self.ws.registry().origin

    @property
    def operator(self) -> NoteVerifier:
        reg = self.ws.registry()
        return NoteVerifier(reg.operator.note_name or "", reg.operator.public_key)

    def log(self, **kwargs: Any) -> TransparencyLog:
        kwargs.setdefault("clock", fixed_clock)
        log = self.ws.log(**kwargs)
        self._stores.append(log.store)  # type: ignore[arg-type]
        return log

    def store(self) -> SQLStore:
        s = self.ws.store()
        self._stores.append(s)
        return s

    def close(self) -> None:
        for s in self._stores:
            s.close()
        self._stores.clear()

    def record(
        self,
        party: str = "US",
        *,
        seq: int | None = None,
        body: dict[str, Any] | None = None,
        kind: str = "declaration",
        key: SigningKey | None = None,
        log: str | None = None,
        signed_at: datetime = FIXED_NOW,
    ) -> bytes:
        """The canonical bytes of a signed record; `seq` defaults to the party's next number."""
        if seq is None:
            seq = self.next_seq[party]
            self.next_seq[party] += 1
        env = make_record(
            kind, party, seq, {"n": seq} if body is None else body,
            key or self.keys[party], log=log or self.origin, signed_at=signed_at,
        )
        return env.canonical()

    def records(self, n: int, parties: tuple[str, ...] = ("US", "RU")) -> list[bytes]:
        """`n` valid records, alternating between `parties`."""
        return [self.record(parties[i % len(parties)]) for i in range(n)]

    def witness(self, party: str, *, clock: Callable[[], float] | None = None) -> Witness:
        w = self.ws.witness(party)
        if clock is not None:
            w.clock = clock
        else:
            w.clock = lambda: WITNESS_TIME
        return w

    def witnesses(self) -> dict[str, Witness]:
        return {p: self.witness(p) for p in ("US", "RU")}

    def snapshot(self, log: TransparencyLog) -> tuple[int, str | None, dict[str, int]]:
        """Everything a refusal must leave alone: size, latest checkpoint text, row counts."""
        return log.size(), log.store.checkpoint(), self.counts()


def new_env(path: Path, backend: Backend) -> LogEnv:
    ws = make_workspace(path, db_url=backend.url_for(path))
    return LogEnv(ws, {p: ws.party_key(p) for p in ("US", "RU")}, backend)


@pytest.fixture
def env(tmp_path: Path, backend: Backend) -> Iterator[LogEnv]:
    e = new_env(tmp_path / "ws", backend)
    yield e
    e.close()


@pytest.fixture
def env_factory(tmp_path: Path, backend: Backend) -> Iterator[Callable[[str], LogEnv]]:
    made: list[LogEnv] = []

    def make(name: str) -> LogEnv:
        e = new_env(tmp_path / name, backend)
        made.append(e)
        return e

    yield make
    for e in made:
        e.close()
