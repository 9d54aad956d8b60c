"""The log store over SQLAlchemy Core: SQLite (embedded default, WAL) and PostgreSQL (psycopg 3).

Durability: SQLite runs in WAL mode with synchronous=FULL, so COMMIT returns only after the WAL is
fsync'd. On PostgreSQL every write transaction runs with synchronous_commit on (raised for the
transaction if the session default is off), and the store refuses to write to a server running
with fsync off: a receipt promises that its record survives a crash.

Exclusion: a write transaction is exclusive (SQLite BEGIN IMMEDIATE; PostgreSQL LOCK TABLE
checkpoints IN EXCLUSIVE MODE as its first statement, under READ COMMITTED, so every query after
the lock sees the previous writer's commit). Writers from any number of processes and hosts
serialise and the tree never forks inside the database, while readers (proofs, audits) never
wait. See docs/postgres.md for the choices and what the store needs from a PostgreSQL server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import (
    URL,
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
    make_url,
    select,
)
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError

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
_INSERT_ENTRY = "INSERT INTO entries (idx, leaf, author, seq, kind, received_at) VALUES (?, ?, ?, ?, ?, ?)"
_INSERT_NODE = "INSERT INTO nodes (id, hash) VALUES (?, ?)"
_COPY_ENTRIES = "COPY entries (idx, leaf, author, seq, kind, received_at) FROM STDIN"
_COPY_NODES = "COPY nodes (id, hash) FROM STDIN"

#: How long a writer waits for another writer's transaction before giving up (both databases).
LOCK_WAIT_SECONDS = 60
# Taken first in every PostgreSQL write transaction. EXCLUSIVE conflicts with itself and with
# every row-writing lock, so one writer holds the log at a time, but not with the ACCESS SHARE
# lock of plain SELECTs: proofs and audits go on during appends. The table is `checkpoints`
# because every write transaction writes it (an append inserts its checkpoint, a cosignature
# updates one): the UPDATE right that PostgreSQL asks of an EXCLUSIVE lock is one the writer needs
# there anyway, so `entries` and `nodes` can be granted INSERT and SELECT only.
_PG_LOCK = "LOCK TABLE checkpoints IN EXCLUSIVE MODE"
# One round trip: bound the lock wait, make this transaction's COMMIT wait for the WAL flush even
# if the session default says otherwise (a stronger setting such as remote_apply is kept), and
# report whether the server fsyncs at all.
_PG_SETTINGS = (
    "SELECT set_config('lock_timeout', %s, true), "
    "CASE WHEN current_setting('synchronous_commit') = 'off' "
    "THEN set_config('synchronous_commit', 'on', true) END, "
    "current_setting('fsync')"
)
_PG_LOCK_NOT_AVAILABLE = "55P03"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _mask(text: str) -> str:
    """`text` with any password in a URL replaced by ***, for messages."""
    return re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", text)


def _normalise_url(url: str) -> URL:
    """Parse `url`; a PostgreSQL URL without a driver (or with the `postgres` alias) means
    psycopg 3, the one driver whose COPY the store uses."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


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
        entry_rows = [(e.index, e.leaf, e.author, e.seq, e.kind, e.received_at) for e in entries]
        node_rows = [(node_id(lv, i), h) for lv, i, h in nodes]
        if self.conn.dialect.name == "postgresql":
            self._copy(entry_rows, node_rows)
        else:
            # Straight to the driver's executemany: SQLAlchemy's per-row parameter processing
            # costs more than SQLite's insert itself at ingest rates.
            if entry_rows:
                self.conn.exec_driver_sql(_INSERT_ENTRY, entry_rows)
            if node_rows:
                self.conn.exec_driver_sql(_INSERT_NODE, node_rows)
        self.conn.execute(checkpoints_t.insert(), [{"size": checkpoint[0], "note": checkpoint[1]}])

    def _copy(self, entry_rows: list[tuple[Any, ...]], node_rows: list[tuple[Any, ...]]) -> None:
        """COPY FROM STDIN through psycopg: one stream per table, two to four times the rate of
        its pipelined executemany for a 1,000-record batch (with its ~2,000 nodes)."""
        raw: Any = self.conn.connection.driver_connection
        with raw.cursor() as cur:
            for statement, rows in ((_COPY_ENTRIES, entry_rows), (_COPY_NODES, node_rows)):
                if rows:
                    with cur.copy(statement) as copy:
                        for row in rows:
                            copy.write_row(row)


class SQLStore(LogStore):
    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        try:
            parsed = _normalise_url(url)
            self.shown_url = parsed.render_as_string(hide_password=True)
            self.engine: Engine = create_engine(parsed)
        except ImportError as exc:
            raise StorageError(
                f"the driver for {_mask(url)} is not installed ({exc}); for PostgreSQL install "
                "detente[postgres] and use a postgresql+psycopg:// URL"
            ) from exc
        except (SQLAlchemyError, ValueError) as exc:
            raise StorageError(f"cannot use database URL {_mask(url)}: {_mask(str(exc))}") from exc
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            db = self.engine.url.database
            if not create and db and db != ":memory:" and not Path(db).exists():
                # sqlite3 would create an empty file and then call it unreadable.
                raise StorageError(
                    f"there is no log database at {db}: create a workspace with `detente init`, "
                    "or, if this workspace's log is on a PostgreSQL server, set DETENTE_DB to its URL"
                )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.dialect == "postgresql":
            if self.engine.dialect.driver != "psycopg":
                raise StorageError(
                    f"the log speaks to PostgreSQL through psycopg 3 only, not "
                    f"{self.engine.dialect.driver}: write the URL as postgresql+psycopg://..."
                )
        else:
            raise StorageError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")
        try:
            existing: int | None = None
            if create:
                metadata.create_all(self.engine)
                with self.engine.begin() as conn:
                    have = conn.execute(
                        select(meta_t.c.value).where(meta_t.c.key == "schema")
                    ).scalar()
                    if have is None:
                        conn.execute(meta_t.insert(), [{"key": "schema", "value": SCHEMA_VERSION}])
                    else:
                        existing = _size(conn)
            with self.engine.connect() as conn:
                have = conn.execute(
                    select(meta_t.c.value).where(meta_t.c.key == "schema")
                ).scalar()
        except DatabaseError as exc:
            self.engine.dispose()
            raise self._unreadable(exc) from exc
        if existing is not None:
            # A server database outlives workspaces: a second `init` (or demo) on the same URL
            # must not continue, or share, another workspace's log under a new operator key.
            self.engine.dispose()
            raise StorageError(
                f"{self.shown_url} already holds a Détente log ({existing} entries); give the "
                "new log its own database (or schema), or open the workspace that owns this one"
            )
        if have != SCHEMA_VERSION:
            self.engine.dispose()
            raise StorageError(
                f"{self.shown_url} is not a Détente log (schema {have!r}, expected "
                f"{SCHEMA_VERSION}); create a workspace with `detente init`"
            )

    def _unreadable(self, exc: DatabaseError) -> StorageError:
        if self.dialect == "postgresql" and isinstance(exc, OperationalError):
            return StorageError(
                f"cannot use the PostgreSQL log at {self.shown_url} ({exc.orig}); check that the "
                "server runs, the URL (host, database, user) and the user's rights"
            )
        return StorageError(
            f"the log database {self.shown_url} is unreadable ({exc.orig}); restore it from a "
            "backup or a bundle, then run `detente log verify`"
        )

    # -- writes --

    def writer(self) -> AbstractContextManager[WriteTxn]:
        return self._write()

    @contextmanager
    def _write(self) -> Iterator[_Txn]:
        """The exclusive transaction. Database errors inside it come out as StorageError after
        ROLLBACK; so does failing to get the lock within LOCK_WAIT_SECONDS."""
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except DatabaseError as exc:
            raise self._unreadable(exc) from exc
        with conn:
            try:
                self._begin(conn)
            except BaseException as exc:
                _rollback(conn)
                if isinstance(exc, DatabaseError):
                    raise self._begin_failed(exc) from exc
                raise
            try:
                yield _Txn(conn)
            except BaseException as exc:
                _rollback(conn)
                if isinstance(exc, SQLAlchemyError | self._dbapi_error):
                    cause = getattr(exc, "orig", None) or exc  # the driver's words, not the SQL
                    raise StorageError(f"the write failed, nothing was appended: {cause}") from exc
                raise
            try:
                conn.exec_driver_sql("COMMIT")
            except SQLAlchemyError as exc:
                if isinstance(exc, DatabaseError) and exc.connection_invalidated:
                    raise StorageError(
                        f"the connection to {self.shown_url} broke during COMMIT, so whether the "
                        f"batch was appended is unknown ({exc.orig}); no receipt was issued: read "
                        "the log (or resubmit: the sequence numbers refuse a duplicate)"
                    ) from exc
                raise StorageError(f"commit failed, nothing was appended: {exc}") from exc

    @property
    def _dbapi_error(self) -> type[Exception]:
        err: type[Exception] = self.engine.dialect.loaded_dbapi.Error
        return err

    def _begin(self, conn: Connection) -> None:
        if self.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        conn.exec_driver_sql("BEGIN ISOLATION LEVEL READ COMMITTED")
        _, _, fsync = conn.exec_driver_sql(_PG_SETTINGS, (f"{LOCK_WAIT_SECONDS}s",)).one()
        if fsync != "on":
            raise StorageError(
                f"the PostgreSQL server of {self.shown_url} runs with fsync={fsync}: a commit "
                "there may not survive a crash, so the log will not issue receipts from it; set "
                "fsync = on in postgresql.conf and reload the server"
            )
        conn.exec_driver_sql(_PG_LOCK)

    def _begin_failed(self, exc: DatabaseError) -> StorageError:
        busy = getattr(exc.orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE or (
            self.dialect == "sqlite" and "locked" in str(exc.orig)
        )
        if busy:
            return StorageError(
                f"another writer has held the log for over {LOCK_WAIT_SECONDS} s, nothing was "
                "appended; try again, and look for a stuck writer process if it persists"
            )
        if isinstance(exc, OperationalError) and self.dialect == "postgresql":
            return self._unreadable(exc)
        return StorageError(f"cannot start a write on {self.shown_url}: {exc.orig}")

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for reads. On PostgreSQL in autocommit: every read is one statement
        over append-only rows, so a transaction around it would only add a BEGIN and a ROLLBACK
        round trip (a third of a proof's cost on a local server)."""
        try:
            conn = self.engine.connect()
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            with conn:
                yield conn
        except DatabaseError as exc:
            raise self._unreadable(exc) from exc

    def amend_checkpoint(self, size: int, amend: Callable[[str], str]) -> str:
        # Under the writers' lock: two witnesses cosigning at once cannot lose either signature.
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

    def iter_nodes(self, level: int, batch: int = 100_000) -> Iterator[tuple[int, bytes]]:
        # Keyset pagination over the primary key: one short read per batch, no open cursor.
        last, end = node_id(level, 0) - 1, node_id(level + 1, 0)
        mask = (1 << _LEVEL_SHIFT) - 1
        while True:
            with self._read() as conn:
                rows = conn.execute(
                    select(nodes_t.c.id, nodes_t.c.hash)
                    .where(nodes_t.c.id > last, nodes_t.c.id < end)
                    .order_by(nodes_t.c.id).limit(batch)
                ).all()
            if not rows:
                return
            for nid, h in rows:
                yield int(nid) & mask, bytes(h)
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


def _rollback(conn: Connection) -> None:
    """End a failed write. If the connection is gone too, the server has already rolled back
    (a PostgreSQL session that ends aborts its open transaction; SQLite's journal undoes it)."""
    with suppress(SQLAlchemyError):
        conn.exec_driver_sql("ROLLBACK")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
    cur.close()
