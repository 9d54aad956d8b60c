"""Ingest of signed envelopes (verify + append + durable commit + receipts) on both cores,
against the machine's raw Ed25519 verification rate on both cores, measured in the same run.

    python benchmarks/bench_ingest.py [--entries N] [--batch B]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import CORES, envelopes, operator_key, raw_verify_rate, registry, report
from detente.errors import RecordRefused
from detente.log.ingest import ParallelIngestor
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.transparency import TransparencyLog


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=40_000)
    ap.add_argument("--batch", type=int, default=2_000)
    args = ap.parse_args()
    raws = envelopes(args.entries)
    with tempfile.TemporaryDirectory() as d:
        store = SQLStore(sqlite_url(Path(d) / "log.db"), create=True)  # WAL, synchronous=FULL
        log = TransparencyLog(store, registry(), operator_key())
        with ParallelIngestor(log, CORES) as ing:
            ing.admit_many(raws[:100])  # start the workers outside the timed region
            t = time.perf_counter()
            batches = (raws[i : i + args.batch] for i in range(0, len(raws), args.batch))
            for results in ing.append_stream(batches):
                bad = [r for r in results if isinstance(r, RecordRefused)]
                assert not bad, bad[0]
            ours = len(raws) / (time.perf_counter() - t)
        assert log.size() == len(raws)
        store.close()
    ceiling = raw_verify_rate(raws, CORES)
    report(f"ingest, {CORES} cores, durable, batch {args.batch}", ours, ceiling,
           "envelopes/s", "≥ 0.8 of the raw verify ceiling")


if __name__ == "__main__":
    main()
