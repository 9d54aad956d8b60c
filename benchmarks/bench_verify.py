"""Offline verification of a large bundle (default 1,000,000 entries) on both cores, against
entries ÷ the machine's raw two-core Ed25519 verification rate, measured in the same run.

    python benchmarks/bench_verify.py [--entries N]

Building the bundle (signing N envelopes, appending them durably, exporting) is not timed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import CORES, envelopes, operator_key, raw_verify_rate, registry
from detente.log.bundle import export_bundle, verify_bundle
from detente.log.ingest import ParallelIngestor
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.transparency import TransparencyLog


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        raws = envelopes(args.entries)
        store = SQLStore(sqlite_url(Path(d) / "log.db"), create=True)
        log = TransparencyLog(store, registry(), operator_key())
        with ParallelIngestor(log, CORES) as ing:
            batches = (raws[i : i + 10_000] for i in range(0, len(raws), 10_000))
            for _ in ing.append_stream(batches):
                pass
        export_bundle(store, log.registry, Path(d) / "bundle")
        store.close()
        print(f"(built a {args.entries:,}-entry bundle in {time.perf_counter() - t:.0f} s)")

        t = time.perf_counter()
        rep = verify_bundle(Path(d) / "bundle", workers=CORES, quorum=0)
        ours = time.perf_counter() - t
        assert rep.ok, rep.error
        assert rep.entries == args.entries
        sample = raws[:: max(1, len(raws) // 100_000)]
        rate = raw_verify_rate(sample, CORES)
    ideal = args.entries / rate
    print(f"offline verification of {args.entries:,} entries, {CORES} cores: ours {ours:.1f} s, "
          f"reference (entries ÷ raw {CORES}-core verify rate {rate:,.0f}/s) {ideal:.1f} s, "
          f"ratio {ours / ideal:.2f} (lower is better; goal ≤ 1.25)")


if __name__ == "__main__":
    main()
