"""Ingest of signed envelopes (verify + append + durable commit + receipts) on both cores,
against the machine's raw Ed25519 verification rate on both cores, measured in the same run.

The two are measured alternately, `--runs` times each (a fresh log each run); printed are the
ratio of the medians and, the figure to quote, the median and range of the side-by-side ratios:
this machine is shared, and a burst of load from elsewhere during one measurement would otherwise
decide the result. All runs must end within the log's 10-minute clock tolerance of signing.

    python benchmarks/bench_ingest.py [--entries N] [--batch B] [--runs R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import CORES, envelopes, operator_key, raw_verify_rate, registry, report
from detente.errors import RecordRefused
from detente.log.ingest import ParallelIngestor
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.transparency import TransparencyLog


def ingest_rate(raws: list[bytes], batch: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        store = SQLStore(sqlite_url(Path(d) / "log.db"), create=True)  # WAL, synchronous=FULL
        log = TransparencyLog(store, registry(), operator_key())
        with ParallelIngestor(log, CORES) as ing:
            ing.admit_many(raws[:100])  # start the workers outside the timed region
            t = time.perf_counter()
            batches = (raws[i : i + batch] for i in range(0, len(raws), batch))
            for results in ing.append_stream(batches):
                bad = [r for r in results if isinstance(r, RecordRefused)]
                assert not bad, bad[0]
            rate = len(raws) / (time.perf_counter() - t)
        assert log.size() == len(raws)
        store.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=40_000)
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    raws = envelopes(args.entries)
    ours, ceilings = [], []
    for _ in range(args.runs):
        ours.append(ingest_rate(raws, args.batch))
        ceilings.append(raw_verify_rate(raws, CORES))
    pairs = sorted(o / c for o, c in zip(ours, ceilings, strict=True))
    report(f"ingest, {CORES} cores, durable, batch {args.batch}", statistics.median(ours),
           statistics.median(ceilings), "envelopes/s", "≥ 0.8 of the raw verify ceiling")
    print(f"  side-by-side ratios over {args.runs} runs: median {statistics.median(pairs):.2f}, "
          f"range {pairs[0]:.2f}–{pairs[-1]:.2f}")


if __name__ == "__main__":
    main()
