"""Durable append throughput of the log on PostgreSQL, against SQLite measured in the same run.

Records already admitted (signatures checked outside the timed region) go through the log's write
path in batches: exclusive transaction, sequence check, tree, signed checkpoint, insert, durable
COMMIT, receipts. SQLite: WAL, synchronous=FULL. PostgreSQL: a local server from the `pgserver`
wheel (PostgreSQL 16, default settings, fsync on, Unix socket), the store inserting with COPY.
Rounds alternate between the two on fresh logs and the median round counts, because this machine
is shared and noisy. Inclusion proofs served from each store are reported too.

    python benchmarks/bench_storage.py [--records N] [--batch B] [--rounds R] [--proofs P]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from _common import envelopes, operator_key, registry, report
from detente.envelope.verify import KeyRing
from detente.errors import RecordRefused
from detente.log.admission import Admitted, Policy, admit
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.transparency import TransparencyLog


class Postgres:
    """A throwaway local server in a temporary directory (see tests/pg.py for the details,
    running as root included)."""

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver
        self.datadir = Path(tempfile.mkdtemp(prefix="detente-pg-bench-"))
        self.server: Any = pgserver.get_server(self.datadir, cleanup_mode="delete")
        self.socket = quote(str(self.server.get_postmaster_info().socket_dir), safe="")
        self.n = 0

    def fresh_url(self) -> str:
        """A new database per round, as each workspace would have."""
        self.n += 1
        self.server.psql(f"CREATE DATABASE bench{self.n};")
        return f"postgresql+psycopg://postgres@/bench{self.n}?host={self.socket}"

    def stop(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.datadir, ignore_errors=True)


def append_rate(url: str, items: list[Admitted], batch: int) -> tuple[float, TransparencyLog]:
    log = TransparencyLog(SQLStore(url, create=True), registry(), operator_key())
    t = time.perf_counter()
    for i in range(0, len(items), batch):
        results = log.append_admitted(items[i : i + batch])
        bad = [r for r in results if isinstance(r, RecordRefused)]
        assert not bad, bad[0]
    rate = len(items) / (time.perf_counter() - t)
    assert log.size() == len(items)
    return rate, log


def proof_rate(log: TransparencyLog, proofs: int) -> float:
    rng = random.Random(7)
    n = log.size()
    idx = [rng.randrange(n) for _ in range(proofs)]
    t = time.perf_counter()
    for i in idx:
        log.inclusion_proof(i, n)
    return proofs / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--proofs", type=int, default=2_000)
    args = ap.parse_args()
    keyring, now = KeyRing(registry()), datetime.now(UTC)
    items = [admit(raw, keyring, now=now, policy=Policy()) for raw in envelopes(args.records, now)]
    pg = Postgres()
    rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    proofs: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    try:
        with tempfile.TemporaryDirectory() as d:
            for r in range(args.rounds):
                for name in ("sqlite", "postgresql") if r % 2 == 0 else ("postgresql", "sqlite"):
                    url = sqlite_url(Path(d) / f"log{r}.db") if name == "sqlite" else pg.fresh_url()
                    rate, log = append_rate(url, items, args.batch)
                    rates[name].append(rate)
                    proofs[name].append(proof_rate(log, args.proofs))
                    log.store.close()
    finally:
        pg.stop()
    for name in rates:
        print(f"{name}: appends/s by round {[round(x) for x in rates[name]]}, "
              f"proofs/s {[round(x) for x in proofs[name]]}")
    report(f"durable append, PostgreSQL vs SQLite, batch {args.batch}",
           statistics.median(rates["postgresql"]), statistics.median(rates["sqlite"]),
           "records/s", "PostgreSQL within 2× of SQLite")
    report("inclusion proofs from the store, PostgreSQL vs SQLite",
           statistics.median(proofs["postgresql"]), statistics.median(proofs["sqlite"]),
           "proofs/s", "none set")


if __name__ == "__main__":
    main()
