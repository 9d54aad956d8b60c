"""Merkle append and inclusion-proof throughput against pymerkle 7 on the same leaves.

Both in memory, both RFC 9162 hashing (the roots are checked equal), one core. Our SQLite-backed
log store (durable, batched) is measured too, for the record; pymerkle has no durable mode to
compare it with at equal guarantees.

    python benchmarks/bench_merkle.py [--leaves N] [--proofs M]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from pymerkle import InmemoryTree

from detente.log.merkle import Frontier, MemoryTree, hashes_for, inclusion_ranges, leaf_hash
from detente.log.sqlstore import SQLStore, sqlite_url
from detente.log.store import StoredEntry


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leaves", type=int, default=200_000)
    ap.add_argument("--proofs", type=int, default=20_000)
    args = ap.parse_args()
    leaves = [b"leaf %d " % i + bytes(100) for i in range(args.leaves)]
    rnd = random.Random(7)
    idx = [rnd.randrange(args.leaves) for _ in range(args.proofs)]

    peer = InmemoryTree(algorithm="sha256")
    t = time.perf_counter()
    for leaf in leaves:
        peer.append_entry(leaf)
    peer_append = args.leaves / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in idx:
        peer.prove_inclusion(i + 1, args.leaves)
    peer_proof = args.proofs / (time.perf_counter() - t)

    ours = MemoryTree()
    t = time.perf_counter()
    for leaf in leaves:
        ours.append_leaf(leaf)
    our_append = args.leaves / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in idx:
        ours.inclusion_proof(i)
    our_proof = args.proofs / (time.perf_counter() - t)
    assert ours.root() == peer.get_root(), "roots differ: not the same tree"
    assert [p.hex() for p in ours.inclusion_proof(idx[0])] == \
        peer.prove_inclusion(idx[0] + 1, args.leaves).serialize()["path"][1:]

    print(f"merkle append, in memory, 1 core: ours {our_append:,.0f}/s, pymerkle "
          f"{peer_append:,.0f}/s, ratio {our_append / peer_append:.1f}× (goal ≥ 5×)")
    print(f"inclusion proof, in memory, 1 core: ours {our_proof:,.0f}/s, pymerkle "
          f"{peer_proof:,.0f}/s, ratio {our_proof / peer_proof:.1f}× (goal ≥ 5×)")

    # The durable store: batches of 1,000 leaves, each one committed (fsync) with its nodes.
    with tempfile.TemporaryDirectory() as d:
        store = SQLStore(sqlite_url(Path(d) / "log.db"), create=True)
        f = Frontier()
        t = time.perf_counter()
        for s in range(0, args.leaves, 1000):
            entries, nodes = [], []
            for i in range(s, min(s + 1000, args.leaves)):
                entries.append(StoredEntry(i, leaves[i], "US", i + 1, "declaration", "-"))
                f.append(leaf_hash(leaves[i]), nodes)
            with store.writer() as txn:
                txn.add(entries, nodes, (f.size, "checkpoint"))
        db_append = args.leaves / (time.perf_counter() - t)
        n = args.leaves
        t = time.perf_counter()
        for i in idx[:5000]:
            hashes_for(inclusion_ranges(i, n), store.fetch_nodes)
        db_proof = min(5000, args.proofs) / (time.perf_counter() - t)
        store.close()
    print(f"durable SQLite store (WAL, fsync per 1,000-leaf batch): {db_append:,.0f} appends/s, "
          f"{db_proof:,.0f} inclusion proofs/s (O(log n) node reads each); pymerkle in memory "
          f"for comparison: {peer_append:,.0f} appends/s, {peer_proof:,.0f} proofs/s")


if __name__ == "__main__":
    main()
