"""The log store over SQLAlchemy Core: SQLite (embedded default, WAL) and PostgreSQL.

Durability: SQLite runs in WAL mode with synchronous=FULL, so COMMIT returns only after the WAL is
fsync'd; PostgreSQL commits are durable by default. A write transaction is exclusive (SQLite
BEGIN IMMEDIATE; PostgreSQL a table lock) so concurrent writers from several processes serialise
and the tree never forks inside the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import DatabaseError, SQLAlchemyError

from detente.errors import StorageError
from detente.log.merkle import NodeKey
from detente.log.store import LogStore, StoredEntry, WriteTxn

SCHEMA_VERSION = "1"

metadata = MetaData()
entries_t = Table(
    "entries", metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("leaf", LargeBinary, nullable=False),
    Column("author", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("received_at", String(20), nullable=False),
    UniqueConstraint("author", "seq", name="entries_author_seq"),
)
# A perfect subtree (level, index) is keyed by one integer, level·2^56 + index, so a proof's
# O(log n) nodes are fetched with one primary-key IN list on any database.
nodes_t = Table(
    "nodes", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)
_LEVEL_SHIFT = 56


def node_id(level: int, idx: int) -> int:
    return (level << _LEVEL_SHIFT) | idx
checkpoints_t = Table(
    "checkpoints", metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)
meta_t = Table(
    "meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
Index("entries_kind", entries_t.c.kind)

_FETCH_CHUNK = 400
_INSERT_ENTRY_QMARK = (
    "INSERT INTO entries (idx, leaf, author, seq, kind, received_at) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_ENTRY_FORMAT = (
    "INSERT INTO entries (idx, leaf, author, seq, kind, received_at) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
_INSERT_NODE_QMARK = "INSERT INTO nodes (id, hash) VALUES (?, ?)"
_INSERT_NODE_FORMAT = "INSERT INTO nodes (id, hash) VALUES (%s, %s)"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _fetch(conn: Connection, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    out: dict[NodeKey, bytes] = {}
    mask = (1 << _LEVEL_SHIFT) - 1
    for i in range(0, len(keys), _FETCH_CHUNK):
        ids = [node_id(lv, ix) for lv, ix in keys[i : i + _FETCH_CHUNK]]
        rows = conn.execute(select(nodes_t.c.id, nodes_t.c.hash).where(nodes_t.c.id.in_(ids)))
        for nid, h in rows:
            out[(int(nid) >> _LEVEL_SHIFT, int(nid) & mask)] = bytes(h)
    return out


def _size(conn: Connection) -> int:
    top = conn.execute(select(func.max(entries_t.c.idx))).scalar()
    return 0 if top is None else int(top) + 1


class _Txn(WriteTxn):
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            self._size = _size(self.conn)
        return self._size

    def fetch_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return _fetch(self.conn, keys)

    def last_seq(self, author: str) -> int:
        v = self.conn.execute(
            select(func.max(entries_t.c.seq)).where(entries_t.c.author == author)
        ).scalar()
        return 0 if v is None else int(v)

    def add(
        self,
        entries: Sequence[StoredEntry],
        nodes: Sequence[tuple[int, int, bytes]],
        checkpoint: tuple[int, str],
    ) -> None:
        # Straight to the driver's executemany: SQLAlchemy's per-row parameter processing
        # costs more than SQLite's insert itself at ingest rates.
        qmark = self.conn.dialect.paramstyle == "qmark"
        if entries:
            self.conn.exec_driver_sql(
                _INSERT_ENTRY_QMARK if qmark else _INSERT_ENTRY_FORMAT,
                [(e.index, e.leaf, e.author, e.seq, e.kind, e.received_at) for e in entries],
            )
        if nodes:
            self.conn.exec_driver_sql(
                _INSERT_NODE_QMARK if qmark else _INSERT_NODE_FORMAT,
                [(node_id(lv, i), h) for lv, i, h in nodes],
            )
        self.conn.execute(checkpoints_t.insert(), [{"size": checkpoint[0], "note": checkpoint[1]}])


class SQLStore(LogStore):
    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ValueError) as exc:
            raise StorageError(f"cannot use database URL {url!r}: {exc}") from exc
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.dialect != "postgresql":
            raise StorageError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")
        try:
            if create:
                metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    have = conn.execute(
                        select(meta_t.c.value).where(meta_t.c.key == "schema")
                    ).scalar()
                    if have is None:
                        conn.execute(meta_t.insert(), [{"key": "schema", "value": SCHEMA_VERSION}])
            with self.engine.connect() as conn:
                have = conn.execute(
                    select(meta_t.c.value).where(meta_t.c.key == "schema")
                ).scalar()
        except DatabaseError as exc:
            raise StorageError(
                f"the log database {url} is unreadable ({exc.orig}); restore it from a backup "
                "or a bundle, then run `detente log verify`"
            ) from exc
        if have != SCHEMA_VERSION:
            raise StorageError(
                f"{url} is not a Détente log (schema {have!r}, expected {SCHEMA_VERSION}); "
                "create a workspace with `detente init`"
            )

    # -- writes --

    def writer(self) -> AbstractContextManager[WriteTxn]:
        return self._write()

    @contextmanager
    def _write(self) -> Iterator[_Txn]:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")
                conn.exec_driver_sql("LOCK TABLE entries IN SHARE ROW EXCLUSIVE MODE")
            try:
                yield _Txn(conn)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            try:
                conn.exec_driver_sql("COMMIT")
            except SQLAlchemyError as exc:
                raise StorageError(f"commit failed, nothing was appended: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except DatabaseError as exc:
            raise StorageError(f"the log database is unreadable: {exc.orig}") from exc

    def amend_checkpoint(self, size: int, amend: Callable[[str], str]) -> str:
        with self._write() as txn:
            conn = txn.conn
            old = conn.execute(
                select(checkpoints_t.c.note).where(checkpoints_t.c.size == size)
            ).scalar()
            if old is None:
                raise StorageError(f"no checkpoint of size {size} to amend")
            new = amend(str(old))
            conn.execute(
                checkpoints_t.update().where(checkpoints_t.c.size == size).values(note=new)
            )
            return new

    # -- reads --

    def size(self) -> int:
        with self._read() as conn:
            return _size(conn)

    def fetch_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        with self._read() as conn:
            return _fetch(conn, list(keys))

    def _rows_to_entries(self, rows: Any) -> list[StoredEntry]:
        return [
            StoredEntry(int(r.idx), bytes(r.leaf), r.author, int(r.seq), r.kind, r.received_at)
            for r in rows
        ]

    def entries(self, start: int, end: int) -> list[StoredEntry]:
        with self._read() as conn:
            rows = conn.execute(
                select(entries_t)
                .where(entries_t.c.idx >= start, entries_t.c.idx < end)
                .order_by(entries_t.c.idx)
            )
            return self._rows_to_entries(rows)

    def iter_entries(self, batch: int = 10_000) -> Iterator[StoredEntry]:
        last = -1
        while True:
            with self._read() as conn:
                rows = self._rows_to_entries(conn.execute(
                    select(entries_t).where(entries_t.c.idx > last)
                    .order_by(entries_t.c.idx).limit(batch)
                ))
            if not rows:
                return
            yield from rows
            last = rows[-1].index

    def iter_leaf_hashes(self, batch: int = 100_000) -> Iterator[tuple[int, bytes]]:
        last = -1
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    select(nodes_t.c.id, nodes_t.c.hash)
                    .where(nodes_t.c.id > last, nodes_t.c.id < node_id(1, 0))
                    .order_by(nodes_t.c.id).limit(batch)
                ).all()
            if not rows:
                return
            for idx, h in rows:
                yield int(idx), bytes(h)
            last = int(rows[-1][0])

    def checkpoint(self, size: int | None = None) -> str | None:
        with self._read() as conn:
            q = select(checkpoints_t.c.note)
            q = (q.where(checkpoints_t.c.size == size) if size is not None
                 else q.order_by(checkpoints_t.c.size.desc()).limit(1))
            v = conn.execute(q).scalar()
            return None if v is None else str(v)

    def checkpoints(self) -> list[tuple[int, str]]:
        with self._read() as conn:
            rows = conn.execute(
                select(checkpoints_t.c.size, checkpoints_t.c.note).order_by(checkpoints_t.c.size)
            )
            return [(int(s), str(n)) for s, n in rows]

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=60000")
    cur.close()
