"""Tampering with the workspace database behind the log's back: `verify_store` (and the CLI's
`detente log verify`) must report it and name the first bad leaf. The edits go straight to the
database (sqlite3 or psycopg), as someone with access to the server or the file would make them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from detente.cli import app
from detente.errors import StorageError
from detente.log.audit import AuditReport
from detente.log.bundle import verify_store

from .conftest import LogEnv, wal_checkpoint

N = 24  # one record per batch, so every prefix has its own signed checkpoint


@pytest.fixture
def filled(env: LogEnv) -> LogEnv:
    log = env.log()
    for raw in env.records(N):
        log.append(raw)
    env.close()
    return env


def _verify(env: LogEnv, workers: int = 1) -> AuditReport:
    store = env.reopen().store()
    try:
        return verify_store(store, env.ws.registry(), workers=workers, quorum=0)
    finally:
        store.close()


def _leaf(env: LogEnv, i: int) -> bytes:
    ((leaf,),) = env.sql("SELECT leaf FROM entries WHERE idx = ?", i)
    return bytes(leaf)


def _change_byte(env: LogEnv, i: int) -> None:
    leaf = bytearray(_leaf(env, i))
    pos = leaf.index(b'"sig":"') + 20  # inside the base64 signature
    leaf[pos] = ord("B") if leaf[pos] != ord("B") else ord("C")
    env.sql("UPDATE entries SET leaf = ? WHERE idx = ?", bytes(leaf), i)


def _delete_row(env: LogEnv, i: int) -> None:
    env.sql("DELETE FROM entries WHERE idx = ?", i)


def _swap(env: LogEnv, i: int, j: int) -> None:
    a, b = _leaf(env, i), _leaf(env, j)
    env.sql("UPDATE entries SET leaf = ? WHERE idx = ?", b, i)
    env.sql("UPDATE entries SET leaf = ? WHERE idx = ?", a, j)


def test_untampered_store_verifies(filled: LogEnv) -> None:
    report = _verify(filled)
    assert report.ok, report.error
    assert report.entries == report.size == N
    assert report.checkpoints == N
    assert report.index is None


@pytest.mark.parametrize("index", [0, 9, N - 1])
def test_changed_byte_in_a_stored_envelope(filled: LogEnv, index: int) -> None:
    _change_byte(filled, index)
    report = _verify(filled)
    assert not report.ok
    assert report.index == index, report.error
    assert f"leaf {index}" in (report.error or "")


@pytest.mark.parametrize("index", [0, 11, N - 1])
def test_deleted_entry_row(filled: LogEnv, index: int) -> None:
    _delete_row(filled, index)
    assert filled.counts()["entries"] == N - 1
    report = _verify(filled)
    assert not report.ok
    assert report.index == index, report.error
    assert "missing" in (report.error or "")


@pytest.mark.parametrize(("i", "j"), [(4, 5), (3, 17), (0, N - 1)])
def test_swapped_leaves(filled: LogEnv, i: int, j: int) -> None:
    _swap(filled, i, j)
    report = _verify(filled)
    assert not report.ok
    assert report.index == i, report.error


def test_tampering_found_by_the_worker_pool_too(filled: LogEnv) -> None:
    _swap(filled, 7, 12)
    _change_byte(filled, 15)
    report = _verify(filled, workers=2)
    assert not report.ok
    assert report.index == 7, report.error


def test_first_of_several_tamperings_is_named(filled: LogEnv) -> None:
    _change_byte(filled, 20)
    _delete_row(filled, 13)
    _swap(filled, 6, 8)
    report = _verify(filled)
    assert report.index == 6, report.error


@pytest.mark.parametrize("size", [5, N])
def test_corrupted_checkpoint_row_is_reported_not_raised(filled: LogEnv, size: int) -> None:
    """`verify_store` returns a report for a bad log, whatever is bad in it: a stored checkpoint
    note that no longer parses (a damaged page, a stray edit) must come back as a failed report,
    like any other damage, not as an exception from the verifier."""
    filled.sql("UPDATE checkpoints SET note = ? WHERE size = ?", "not a signed note", size)
    report = _verify(filled)
    assert not report.ok
    assert report.error


def _truncate(env: LogEnv, keep: int) -> None:
    """Cut log.db to `keep` bytes, after folding the WAL into it (so the cut loses real data)."""
    wal_checkpoint(env.db)
    with open(env.db, "r+b") as fh:
        fh.truncate(keep)


def _outcome(env: LogEnv) -> tuple[bool, str, int | None]:
    """(ok, message, index) of verifying the store; a store too damaged to open is a failure
    with a StorageError's message and no index."""
    try:
        report = _verify(env)
    except StorageError as exc:
        return False, exc.message, None
    return report.ok, report.error or "", report.index


@pytest.mark.sqlite_only
def test_truncated_database_to_half(filled: LogEnv) -> None:
    wal_checkpoint(filled.db)
    _truncate(filled, os.path.getsize(filled.db) // 2)
    ok, message, index = _outcome(filled)
    assert not ok
    assert message
    if index is None:  # not even openable: the message must say so and what to do
        assert "unreadable" in message
        assert "backup" in message or "log verify" in message


@pytest.mark.sqlite_only
def test_truncated_database_tail(filled: LogEnv) -> None:
    """A few bytes cut off the end: whatever the last page held is gone, and verification must
    say so: a failed report (with the first leaf it could not vouch for) or a storage error."""
    wal_checkpoint(filled.db)
    _truncate(filled, os.path.getsize(filled.db) - 100)
    ok, message, index = _outcome(filled)
    assert not ok
    assert message
    assert index is None or 0 <= index <= N


@pytest.mark.parametrize("table", ["nodes", "checkpoints"])
def test_lost_table(filled: LogEnv, table: str) -> None:
    """What a damaged file is to SQLite, a dropped table is to a server: verification must fail
    and say what to do, not pass over what it cannot read."""
    filled.sql(f"DROP TABLE {table}")
    ok, message, _ = _outcome(filled)
    assert not ok
    assert "unreadable" in message


# -- the CLI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "index"),
    [
        (lambda e: _change_byte(e, 5), 5),
        (lambda e: _delete_row(e, 8), 8),
        (lambda e: _swap(e, 2, 3), 2),
    ],
    ids=["changed-byte", "deleted-row", "swapped"],
)
def test_cli_log_verify_fails_and_names_the_leaf(
    filled: LogEnv, tamper: Callable[[LogEnv], None], index: int
) -> None:
    runner = CliRunner(env=filled.child_env())
    path = str(filled.ws.path)
    ok = runner.invoke(app, ["log", "verify", path, "--workers", "1", "--quorum", "0"])
    assert ok.exit_code == 0, ok.output
    tamper(filled)
    res = runner.invoke(app, ["log", "verify", path, "--workers", "1", "--quorum", "0"])
    assert res.exit_code == 1, res.output
    assert f"at leaf {index}" in " ".join(res.stderr.split())
    assert "FAILED" in res.stderr
    res = runner.invoke(app, ["log", "verify", path, "--workers", "1", "--quorum", "0", "--json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False
    assert data["index"] == index


@pytest.mark.sqlite_only
def test_cli_log_verify_on_truncated_database(filled: LogEnv) -> None:
    wal_checkpoint(filled.db)
    _truncate(filled, os.path.getsize(filled.db) // 2)
    res = CliRunner(env=filled.child_env()).invoke(
        app, ["log", "verify", str(filled.ws.path), "--workers", "1", "--quorum", "0"])
    assert res.exit_code != 0
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    err = " ".join(res.stderr.split())
    assert "unreadable" in err or "FAILED" in err


# -- the stored tree itself: every hash `log proof` would serve ----------------------------------


def _node_id(level: int, index: int) -> int:
    return (level << 56) | index


def _zero_node(env: LogEnv, level: int, index: int) -> bytes:
    """Overwrite one row of the nodes table with zeros; returns the hash it held."""
    ((old,),) = env.sql("SELECT hash FROM nodes WHERE id = ?", _node_id(level, index))
    env.sql("UPDATE nodes SET hash = ? WHERE id = ?", bytes(32), _node_id(level, index))
    return bytes(old)


# (level, index) in a tree of N = 24 leaves: a leaf-hash row, the lowest interior level, one in
# the middle, and the highest perfect subtree (leaves 0–15).
NODES = [(0, 13), (1, 0), (1, 11), (2, 4), (3, 2), (4, 0)]


@pytest.mark.parametrize(("level", "index"), NODES)
def test_corrupted_node_row_is_named(filled: LogEnv, level: int, index: int) -> None:
    """A damaged row of the nodes table leaves every entry intact, so every signature verifies;
    but `log proof` would serve it. Verification recomputes each stored node from the entries and
    names the row, with the hash expected and the hash stored."""
    old = _zero_node(filled, level, index)
    report = _verify(filled)
    assert not report.ok
    error = report.error or ""
    assert f"nodes table, level {level}, index {index}" in error, error
    assert f"stored {bytes(32).hex()}" in error
    assert f"expected {old.hex()}" in error
    assert report.node == {"table": "nodes", "level": level, "index": index,
                           "expected": old.hex(), "stored": bytes(32).hex()}
    if level:
        assert report.index is None  # every leaf is sound: the damage is above them
    else:
        assert report.index == index


def test_missing_node_row_is_named(filled: LogEnv) -> None:
    filled.sql("DELETE FROM nodes WHERE id = ?", _node_id(2, 3))
    report = _verify(filled)
    assert not report.ok
    assert "nodes table, level 2, index 3" in (report.error or "")
    assert "missing" in (report.error or "")


def test_every_node_is_checked(filled: LogEnv) -> None:
    """Each stored node within the checkpoint, at every level, in turn: one zeroed row fails."""
    rows = filled.sql("SELECT id FROM nodes ORDER BY id")
    assert len(rows) == 24 + 12 + 6 + 3 + 1  # the perfect subtrees of N = 24 leaves
    for (nid,) in rows:
        level, index = int(nid) >> 56, int(nid) & ((1 << 56) - 1)
        old = _zero_node(filled, level, index)
        report = _verify(filled)
        assert f"nodes table, level {level}, index {index}" in (report.error or ""), report.error
        filled.sql("UPDATE nodes SET hash = ? WHERE id = ?", old, nid)
    assert _verify(filled).ok


@pytest.mark.parametrize(("level", "index"), [(1, 5), (3, 0), (0, 7)])
def test_cli_log_verify_names_a_corrupted_node(filled: LogEnv, level: int, index: int) -> None:
    runner = CliRunner(env=filled.child_env())
    path = str(filled.ws.path)
    args = ["log", "verify", path, "--workers", "1", "--quorum", "0"]
    old = _zero_node(filled, level, index)
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output
    err = " ".join(res.stderr.split())
    assert "FAILED" in err
    assert f"nodes table, level {level}, index {index}" in err
    assert old.hex() in err
    assert bytes(32).hex() in err
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["ok"] is False
    assert data["node"] == {"table": "nodes", "level": level, "index": index,
                            "expected": old.hex(), "stored": bytes(32).hex()}
