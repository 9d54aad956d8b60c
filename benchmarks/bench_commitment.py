"""Committing a 100,000-record declaration against raw SHA-256 over the same bytes, one core.

Ours: CommittedDeclaration.build from Python dicts to the root: RFC 8785 encoding of every
record, fresh salts, the salt order, every leaf and node hash. The reference, measured in the same
run: hashlib SHA-256 over exactly the messages the commitment hashes (every 0x00-prefixed leaf and
every 0x01-prefixed node input, rebuilt here from the public output and checked against the root),
one call per message as the tree requires, in the faster of two loops; the rate of one bulk call
over the same bytes is printed for context. Throughputs are over the leaf bytes; the ratio is the
reference's time over ours (goal ≥ 0.5). Opening every record and verifying every opening are
timed too.

    python benchmarks/bench_commitment.py [--records N] [--runs R]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from detente import commitment
from detente.codec import unb64
from detente.commitment import CommittedDeclaration, Opening, verify_full, verify_opening
from detente.envelope.canonical import canonicalize

# Sites and systems of the 2022 scenario (New START data exchange categories); per-item records
# carry a unique identifier, as the treaty requires for ICBMs, SLBMs and heavy bombers.
SITES = {
    "ICBM": ["malmstrom-afb", "minot-afb", "fe-warren-afb", "dombarovsky", "uzhur", "kozelsk",
             "tatishchevo", "yasny", "barnaul", "irkutsk", "nizhny-tagil", "novosibirsk", "teykovo",
             "yoshkar-ola", "vypolzovo"],
    "SLBM": ["kings-bay", "bangor", "gadzhiyevo", "vilyuchinsk"],
    "heavy bomber": ["barksdale-afb", "minot-afb", "whiteman-afb", "engels", "ukrainka"],
}
SYSTEMS = {
    "ICBM": [("Minuteman III", "silo", 1), ("RS-24 Yars", "mobile", 4), ("RS-20V Voevoda", "silo", 10),
             ("RS-12M Topol", "mobile", 1), ("Avangard", "silo", 1)],
    "SLBM": [("Trident II D5", "submarine", 4), ("RSM-56 Bulava", "submarine", 6),
             ("RSM-54 Sineva", "submarine", 4)],
    "heavy bomber": [("B-52H", "airfield", 1), ("B-2A", "airfield", 1), ("Tu-95MS", "airfield", 1),
                     ("Tu-160", "airfield", 1)],
}
STATUS = ["operational", "maintenance", "conversion", "test"]


def records(n: int, seed: int = 2022) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        category = rnd.choice(list(SITES))
        system, basing, warheads = rnd.choice(SYSTEMS[category])
        record: dict[str, Any] = {
            "site": rnd.choice(SITES[category]),
            "category": category,
            "count": 1,
            "attributes": {"system": system, "basing": basing, "deployed": rnd.random() < 0.8,
                           "warheads": rnd.randint(0, warheads), "status": rnd.choice(STATUS),
                           "launcher": f"{basing[:3]}-{rnd.randrange(1000):03d}"},
            "ids": [f"{category[:2].upper()}-{i:07d}"],
        }
        if i % 4 == 0:  # some records are aggregate rows without identifiers
            record["count"] = rnd.randint(2, 40)
            del record["ids"]
        out.append(record)
    return out


def hashed_messages(decl: CommittedDeclaration) -> tuple[list[bytes], int]:
    """Every message the commitment hashed, rebuilt from the holder's file, and the leaf bytes."""
    entries = decl.to_json()["records"]
    leaves = [commitment.LEAF_PREFIX + unb64(e["salt"], what="salt") + canonicalize(e["record"])
              for e in entries]
    msgs = [b"\x00" + leaf for leaf in leaves]
    level = [hashlib.sha256(m).digest() for m in msgs]
    while len(level) > 1:
        pairs = [b"\x01" + level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        msgs += pairs
        nxt = [hashlib.sha256(p).digest() for p in pairs]
        level = nxt + ([level[-1]] if len(level) & 1 else [])
    assert level[0] == decl.commitment.root, "the rebuilt messages do not give the committed root"
    return msgs, sum(map(len, leaves))


def reference_seconds(msgs: list[bytes]) -> float:
    """The faster of the two usual ways to hash many messages, one call each."""
    sha, hash_type = hashlib.sha256, type(hashlib.sha256())
    digest, copy, update = hash_type.digest, hash_type.copy, hash_type.update
    t = time.perf_counter()
    list(map(digest, map(sha, msgs)))
    mapped = time.perf_counter() - t
    empty = sha()
    t = time.perf_counter()
    out = []
    for m in msgs:
        h = copy(empty)
        update(h, m)
        out.append(digest(h))
    return min(mapped, time.perf_counter() - t)


def timed(f: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    result = f()
    return time.perf_counter() - t, result


def phases(recs: list[dict[str, Any]]) -> dict[str, float]:
    """Where the build's time goes, step by step (the private steps build() runs)."""
    out: dict[str, float] = {}
    chunks = range(0, len(recs), commitment._CHUNK)
    out["RFC 8785 encoding and scan"], _ = timed(
        lambda: [commitment._encode(recs[i : i + commitment._CHUNK], i)[1] for i in chunks])
    out["salts (os.urandom)"], salts = timed(lambda: os.urandom(commitment.SALT_SIZE * len(recs)))
    t_commit, (_, hashes) = timed(lambda: commitment._commit(recs, salts))
    out["leaf hashes"] = t_commit - out["RFC 8785 encoding and scan"]
    out["salt order"], order = timed(lambda: commitment._salt_order(salts))
    out["permute"], level0 = timed(lambda: commitment._permute(hashes, order))
    out["node hashes"], _ = timed(lambda: commitment._levels(level0))
    return out


def commit_encoded(chunks: list[list[bytes]], n: int) -> bytes:
    """The build minus RFC 8785 encoding: salts, leaf hashes, salt order, tree, over records
    already encoded (in chunks, as build() has them)."""
    salts = os.urandom(commitment.SALT_SIZE * n)
    hashes, first = [], 0
    for parts in chunks:
        span = salts[commitment.SALT_SIZE * first : commitment.SALT_SIZE * (first + len(parts))]
        hashes.append(commitment._leaf_hashes(span, parts))
        first += len(parts)
    return commitment._levels(commitment._permute(b"".join(hashes), commitment._salt_order(salts)))[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    recs = records(args.records)
    CommittedDeclaration.build(recs)  # first touch of the allocator's pages, not measured
    decl = CommittedDeclaration.build(recs)
    msgs, leaf_bytes = hashed_messages(decl)
    hashed_bytes = sum(map(len, msgs))
    mean_record = statistics.mean(len(canonicalize(r)) for r in recs[:2000])
    step = commitment._CHUNK
    chunks = [commitment._encode(recs[i : i + step], i)[1].split(b"\n") for i in range(0, len(recs), step)]

    ours, encoded, ref = [], [], []
    for _ in range(args.runs):  # interleaved: the machine is shared, only side-by-side ratios count
        ref.append(reference_seconds(msgs))
        ours.append(timed(lambda: CommittedDeclaration.build(recs))[0])
        encoded.append(timed(lambda: commit_encoded(chunks, len(recs)))[0])
    bulk_blob = b"".join(msgs)
    bulk = min(timed(lambda: hashlib.sha256(bulk_blob).digest())[0] for _ in range(3))
    split = phases(recs)

    t_open, openings = timed(lambda: [decl.open(i) for i in range(len(decl))])
    t_verify, _ = timed(lambda: [verify_opening(decl.commitment, o) for o in openings])
    wire = [o.to_json() for o in openings[:10_000]]
    t_parse, _ = timed(lambda: [Opening.from_json(w) for w in wire])
    full = decl.to_json()
    t_full, _ = timed(lambda: verify_full(decl.commitment, full))

    mb = leaf_bytes / 1e6
    print(f"declaration: {args.records:,} records, mean {mean_record:.0f} bytes of RFC 8785 JSON; "
          f"leaf bytes {mb:.1f} MB, all hashed bytes {hashed_bytes / 1e6:.1f} MB in {len(msgs):,} "
          f"messages ({args.records:,} leaves + {len(msgs) - args.records:,} nodes)")
    med_r = statistics.median(ref)
    print(f"raw hashlib SHA-256 over the same messages, one call each: {mb / med_r:,.0f} MB/s of leaf "
          f"bytes ({med_r * 1e3:.0f} ms; best {min(ref) * 1e3:.0f}); one bulk call over the same "
          f"{hashed_bytes / 1e6:.1f} MB, for context: {hashed_bytes / 1e6 / bulk:,.0f} MB/s "
          f"({bulk * 1e3:.0f} ms)")
    for name, times in (("commit (build from dicts to root)", ours),
                        ("commit without RFC 8785 encoding (records pre-encoded)", encoded)):
        pairs = [r / o for r, o in zip(ref, times, strict=True)]
        print(f"{name}, 1 core: ours {mb / statistics.median(times):,.0f} MB/s "
              f"({statistics.median(times) * 1e3:.0f} ms, {min(times) * 1e3:.0f}–{max(times) * 1e3:.0f}); "
              f"ratio to the reference {statistics.median(pairs):.2f} (median of {len(pairs)} "
              f"side-by-side runs, {min(pairs):.2f}–{max(pairs):.2f}; best vs best "
              f"{min(ref) / min(times):.2f}; goal ≥ 0.5)")
    print("where a build's time goes (ms): "
          + ", ".join(f"{k} {v * 1e3:.0f}" for k, v in split.items()))
    print(f"open all {len(openings):,}: {len(openings) / t_open:,.0f} openings/s; verify all: "
          f"{len(openings) / t_verify:,.0f} verifications/s; parse openings from JSON: "
          f"{len(wire) / t_parse:,.0f}/s")
    print(f"treaty partner's full check (parse the holder's file, rebuild, compare): {t_full * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
