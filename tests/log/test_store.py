"""The store underneath the log, on each backend: bytes come back exactly as written, a write
transaction excludes other writers but never readers, a failed or killed writer leaves nothing
behind, and on PostgreSQL the settings a receipt's durability depends on."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from detente.errors import StorageError
from detente.log import sqlstore
from detente.log.bundle import verify_store
from detente.log.cosign import collect_cosignatures
from detente.log.sqlstore import SQLStore, node_id, sqlite_url
from detente.log.store import StoredEntry
from detente.workspace import Workspace
from pg import TestPostgres

from .conftest import Backend, LogEnv, make_workspace

CHILD = Path(__file__).with_name("child.py")
RECEIVED = "2022-03-01T12:00:00Z"


def _entry(index: int, leaf: bytes = b"leaf", author: str = "US", seq: int | None = None,
           kind: str = "statement") -> StoredEntry:
    return StoredEntry(index, leaf, author, index + 1 if seq is None else seq, kind, RECEIVED)


def _append(store: SQLStore, leaves: list[bytes]) -> int:
    """Append raw entries (no tree, a placeholder note) and return the new size."""
    with store.writer() as txn:
        start = txn.size()
        entries = [_entry(start + i, leaf) for i, leaf in enumerate(leaves)]
        txn.add(entries, [], (start + len(leaves), f"note {start + len(leaves)}"))
        return start + len(leaves)


@pytest.fixture
def store(env: LogEnv) -> SQLStore:
    return env.store()  # closed with env


# -- bytes in, the same bytes out ---------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=32)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    leaves=st.lists(st.binary(max_size=300), min_size=1, max_size=8),
    hashes=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=8),
    author=_text.filter(bool),
    kind=_text,
)
@example(  # COPY's own markers and escapes, every byte value, an empty leaf
    leaves=[b"\\N", b"\\.", b"\t\n\r\\", bytes(range(256)), b""],
    hashes=[b"\\N" + bytes(30), bytes(range(32))],
    author="\\N",
    kind="a\tb\nc\\.",
)
def test_bytes_and_text_round_trip_exactly(
    store: SQLStore, leaves: list[bytes], hashes: list[bytes], author: str, kind: str
) -> None:
    with store.writer() as txn:
        start = txn.size()
        entries = [StoredEntry(start + i, leaf, author, start + i + 1, kind, RECEIVED)
                   for i, leaf in enumerate(leaves)]
        keys = [(5, start * 8 + i) for i in range(len(hashes))]  # fresh keys in every example
        nodes = [(lv, i, h) for (lv, i), h in zip(keys, hashes, strict=True)]
        txn.add(entries, nodes, (start + len(leaves), f"note\n{author}\n"))
    assert store.entries(start, start + len(leaves)) == entries
    assert store.fetch_nodes(keys) == dict(zip(keys, hashes, strict=True))
    assert store.checkpoint() == f"note\n{author}\n"


def test_node_ids_span_the_whole_key_space(store: SQLStore) -> None:
    """level·2^56 + index up to level 127 and index 2^56 − 1: the largest signed 64-bit key."""
    keys = [(0, 0), (0, 2**56 - 1), (1, 0), (56, 1), (127, 2**56 - 1)]
    assert node_id(127, 2**56 - 1) == 2**63 - 1
    hashes = {k: bytes([n]) * 32 for n, k in enumerate(keys)}
    with store.writer() as txn:
        txn.add([_entry(0)], [(lv, i, h) for (lv, i), h in hashes.items()], (1, "note"))
    assert store.fetch_nodes(keys) == hashes
    assert store.fetch_nodes([(2, 0), (127, 0)]) == {}
    assert list(store.iter_leaf_hashes()) == [(0, hashes[0, 0]), (2**56 - 1, hashes[0, 2**56 - 1])]


def test_creating_a_log_where_one_already_is_refused(env: LogEnv) -> None:
    """A database on a server outlives workspaces: a new workspace must not continue, or share,
    another one's log, even an empty one."""
    with pytest.raises(StorageError, match=r"already holds a Détente log \(0 entries\)"):
        SQLStore(env.url, create=True)
    log = env.log()
    log.append(env.record("US"))
    before = env.snapshot(log)
    with pytest.raises(StorageError, match=r"already holds a Détente log \(1 entries\)"):
        SQLStore(env.url, create=True)
    assert env.snapshot(log) == before


def test_opening_a_missing_sqlite_log_says_so_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"no log database at .*DETENTE_DB"):
        SQLStore(sqlite_url(tmp_path / "log.db"))
    assert not (tmp_path / "log.db").exists()


def test_a_bad_url_is_refused_without_its_password() -> None:
    with pytest.raises(StorageError) as ei:
        SQLStore("oracle+nodriver://alice:hunter2@db.example/log")
    assert "hunter2" not in ei.value.message
    assert "alice:***@" in ei.value.message


# -- failed writes -------------------------------------------------------------------------------


def test_exception_in_a_write_rolls_it_back_and_frees_the_log(store: SQLStore) -> None:
    _append(store, [b"kept"])

    def interrupted() -> None:
        with store.writer() as txn:
            txn.add([_entry(1)], [(0, 1, bytes(32))], (2, "note 2"))
            raise ValueError("mid-batch")

    with pytest.raises(ValueError, match="mid-batch"):
        interrupted()
    assert store.size() == 1
    assert store.checkpoints() == [(1, "note 1")]
    assert _append(store, [b"next"]) == 2  # the lock was released


def test_database_error_in_a_write_is_a_storage_error(store: SQLStore) -> None:
    _append(store, [b"first"])
    with pytest.raises(StorageError, match="nothing was appended") as ei, store.writer() as txn:
        txn.add([_entry(0, b"same index again")], [], (1, "other note"))  # primary key clash
    assert ei.value.code == "storage"
    assert store.entries(0, 5) == [_entry(0, b"first")]
    assert _append(store, [b"second"]) == 2


# -- writers exclude writers, never readers ------------------------------------------------------


def test_writers_serialise_and_readers_never_wait(env: LogEnv) -> None:
    a, b, reader = env.store(), env.store(), env.store()
    _append(a, [b"0"])
    b_size: list[int] = []
    b_started = threading.Event()

    def second_writer() -> None:
        b_started.set()
        b_size.append(_append(b, [b"from b"]))

    t = threading.Thread(target=second_writer)
    with a.writer() as txn:
        txn.add([_entry(1, b"from a")], [], (2, "note 2"))
        t.start()
        b_started.wait()
        # While `a` holds the log with a row not yet committed, a reader sees the committed log
        # and is not held up (a reader that waited would hang here: the writer is this thread).
        seen: list[object] = []
        r = threading.Thread(target=lambda: seen.extend([reader.size(), reader.entries(0, 9)]))
        r.start()
        r.join(timeout=30)
        assert not r.is_alive(), "a reader waited for the writer"
        assert seen == [1, [_entry(0, b"0")]]
    t.join(timeout=60)
    assert not t.is_alive()
    # `b` got in only after `a` committed, and built on it.
    assert b_size == [3]
    assert [e.leaf for e in reader.entries(0, 9)] == [b"0", b"from a", b"from b"]


def test_waiting_for_the_lock_is_bounded(env: LogEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlstore, "LOCK_WAIT_SECONDS", 1)
    holder, waiter = env.store(), env.store()
    with holder.writer() as txn:
        txn.add([_entry(0)], [], (1, "note 1"))
        with pytest.raises(StorageError, match="another writer has held the log") as ei:
            _append(waiter, [b"late"])
        assert ei.value.code == "storage"
    assert holder.size() == 1
    assert _append(waiter, [b"now"]) == 2


def test_a_killed_writer_holding_the_lock_leaves_nothing(
    env: LogEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL a process in the middle of its write transaction (rows written, no COMMIT): the
    database undoes it (PostgreSQL aborts the dead session's transaction; SQLite ignores WAL
    frames without a commit) and the next writer gets the lock."""
    log = env.log()
    log.append(env.record("US"))
    before = env.snapshot(log)
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), "hold", str(env.ws.path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env.child_env()},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "holding\n", proc.communicate(timeout=30)[1]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    monkeypatch.setattr(sqlstore, "LOCK_WAIT_SECONDS", 20)  # fail, don't hang, if still held
    assert log.append(env.record("RU")).index == 1
    assert env.snapshot(log)[2]["entries"] == before[2]["entries"] + 1
    assert b"never committed" not in [e.leaf for e in log.store.entries(0, 9)]


# -- PostgreSQL only -------------------------------------------------------------------------------


def _pg_store(postgres: TestPostgres, **settings: str) -> SQLStore:
    return SQLStore(postgres.url(postgres.new_schema(), **settings), create=True)


def test_postgresql_column_types(postgres: TestPostgres) -> None:
    store = _pg_store(postgres)
    try:
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name IN ('entries', 'nodes', "
                "'checkpoints')"
            ).all()
    finally:
        store.close()
    types = {(t, c): d for t, c, d in rows}
    assert types == {
        ("entries", "idx"): "bigint", ("entries", "leaf"): "bytea",
        ("entries", "author"): "character varying", ("entries", "seq"): "bigint",
        ("entries", "kind"): "character varying", ("entries", "received_at"): "character varying",
        ("nodes", "id"): "bigint", ("nodes", "hash"): "bytea",
        ("checkpoints", "size"): "bigint", ("checkpoints", "note"): "text",
    }


def test_postgresql_writes_commit_synchronously_whatever_the_session_default(
    postgres: TestPostgres,
) -> None:
    store = _pg_store(postgres, synchronous_commit="off")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        with store.writer() as txn:
            assert isinstance(txn, sqlstore._Txn)
            assert txn.conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert txn.conn.exec_driver_sql("SHOW transaction_isolation").scalar() == "read committed"
    finally:
        store.close()


def _set_fsync(postgres: TestPostgres, value: str) -> None:
    postgres.admin(f"ALTER SYSTEM SET fsync = {value}")
    postgres.admin("SELECT pg_reload_conf()")
    for _ in range(500):  # the postmaster applies the reload asynchronously
        with psycopg.connect(postgres.libpq_url()) as c:
            if c.execute("SHOW fsync").fetchone() == (value,):
                return
        time.sleep(0.01)
    raise AssertionError(f"the server did not take fsync = {value}")


def test_postgresql_refuses_to_write_when_the_server_does_not_fsync(postgres: TestPostgres) -> None:
    store = _pg_store(postgres)
    try:
        _set_fsync(postgres, "off")
        try:
            with pytest.raises(StorageError, match="fsync=off"):
                _append(store, [b"not durable"])
            assert store.size() == 0  # reads still work
        finally:
            postgres.admin("ALTER SYSTEM RESET fsync")
            _set_fsync(postgres, "on")
        assert _append(store, [b"durable"]) == 1
    finally:
        store.close()


def test_postgresql_url_forms(postgres: TestPostgres) -> None:
    url = postgres.url(postgres.new_schema())
    SQLStore(url, create=True).close()
    for form in (url, url.replace("+psycopg", ""), url.replace("postgresql+psycopg", "postgres")):
        s = SQLStore(form)
        assert s.engine.dialect.driver == "psycopg"
        s.close()
    with pytest.raises(StorageError, match=r"postgresql\+psycopg://"):
        SQLStore(url.replace("+psycopg", "+pg8000"))


def test_postgresql_unreachable_server_says_so_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://alice:hunter2@/log?host={tmp_path}"
    with pytest.raises(StorageError) as ei:
        SQLStore(url)
    assert "hunter2" not in ei.value.message
    assert "alice:***@" in ei.value.message
    assert "check that the server runs" in ei.value.message


def test_postgresql_writer_needs_no_right_to_rewrite_entries(postgres: TestPostgres, tmp_path: Path) -> None:
    """The log runs as a role that may only add to `entries` and `nodes` (and update
    `checkpoints`, for cosignatures): appends, cosigning and verification work, rewriting fails
    at the server."""
    schema = postgres.new_schema()
    ws = make_workspace(tmp_path / "ws", db_url=postgres.url(schema))  # created by the owner
    role = f"appender_{secrets.token_hex(4)}"
    for statement in (
        f"CREATE ROLE {role} LOGIN",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT, INSERT ON {schema}.entries, {schema}.nodes TO {role}",
        f"GRANT SELECT, INSERT, UPDATE ON {schema}.checkpoints TO {role}",
        f"GRANT SELECT ON {schema}.meta TO {role}",
    ):
        postgres.admin(statement)
    as_role = postgres.url(schema).replace("//postgres@", f"//{role}@", 1)
    env = LogEnv(Workspace.open(ws.path, as_role), {p: ws.party_key(p) for p in ("US", "RU")},
                 Backend("postgresql", postgres))
    try:
        log = env.log()
        log.append_batch(env.records(5))
        collect_cosignatures(log, env.witnesses())
        assert verify_store(log.store, ws.registry(), workers=1).ok
        for statement in ("UPDATE entries SET leaf = ? WHERE idx = 0", "DELETE FROM nodes WHERE id = ?"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                env.sql(statement, b"x" if "leaf" in statement else 0)
        assert env.counts()["entries"] == 5
    finally:
        env.close()
