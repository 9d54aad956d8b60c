"""Shared benchmark fixtures: a registry, signed envelopes made in parallel, the raw ceilings.

Each benchmark measures the reference in the same run as our figure, because this machine is
shared and noisy: only the ratio of two numbers taken side by side means anything.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import time
from datetime import UTC, datetime
from typing import Any

import nacl.bindings

from detente.envelope.dsse import parse_envelope
from detente.envelope.keys import SigningKey
from detente.envelope.record import make_record
from detente.model.parties import Party, PartyKey, Registry, Role

ORIGIN = "bench.detente.example/log"
PARTIES = ("US", "RU", "UK", "FR")
CORES = os.cpu_count() or 1


def keys() -> dict[str, SigningKey]:
    return {p: SigningKey.from_seed(hashlib.sha256(p.encode()).digest()) for p in PARTIES}


def operator_key() -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(b"operator").digest())


def registry() -> Registry:
    op = operator_key()
    reg = Registry(ORIGIN, PartyKey(op.public_key, frozenset({Role.LOG_OPERATOR}), "log.bench"))
    for p, k in keys().items():
        reg.add_party(Party(p, p, (PartyKey(k.public_key, frozenset({Role.DECLARANT})),)))
    return reg


def _make(args: tuple[int, int, str]) -> list[bytes]:
    start, count, when = args
    ks = keys()
    signed_at = datetime.fromisoformat(when)
    out = []
    for i in range(start, start + count):
        party = PARTIES[i % len(PARTIES)]
        body: dict[str, Any] = {
            "as_of": "2022-03-01", "site": f"site-{i % 997}", "category": "ICBM",
            "count": i % 50, "attributes": {"basing": "silo", "range_km": 10000 + i % 7},
        }
        env = make_record("declaration", party, i // len(PARTIES) + 1, body, ks[party],
                          log=ORIGIN, signed_at=signed_at)
        out.append(env.canonical())
    return out


def envelopes(n: int, signed_at: datetime | None = None) -> list[bytes]:
    """n signed declarations from four parties, sequence numbers increasing, made on all cores."""
    when = (signed_at or datetime.now(UTC)).isoformat()
    step = 20_000
    with mp.get_context("fork").Pool(CORES) as pool:
        parts = pool.map(_make, [(s, min(step, n - s), when) for s in range(0, n, step)])
    return [e for part in parts for e in part]


def _verify_raw(items: list[tuple[bytes, bytes]]) -> float:
    t = time.perf_counter()
    for signed, pk in items:
        nacl.bindings.crypto_sign_open(signed, pk)
    return time.perf_counter() - t


def raw_verify_rate(raws: list[bytes], processes: int = CORES) -> float:
    """The ceiling: libsodium Ed25519 verifications per second over the same messages, using
    `processes` processes at once, with nothing else done per message."""
    reg = registry()
    pk_of = {k.keyid: k.public_key for p in reg.parties.values() for k in p.keys}
    items = []
    for raw in raws:
        env = parse_envelope(raw)
        s = env.signatures[0]
        items.append((s.sig + env.pae(), pk_of[s.keyid]))
    chunks = [items[i::processes] for i in range(processes)]
    with mp.get_context("fork").Pool(processes) as pool:
        pool.map(_verify_raw, [items[:50]] * processes)  # warm the workers
        t = time.perf_counter()
        pool.map(_verify_raw, chunks)
        return len(items) / (time.perf_counter() - t)


def report(name: str, ours: float, ref: float, unit: str, goal: str, higher_is_better: bool = True) -> None:
    ratio = ours / ref
    print(f"{name}: ours {ours:,.0f} {unit}, reference {ref:,.0f} {unit}, ratio {ratio:.2f} "
          f"({'higher' if higher_is_better else 'lower'} is better; goal {goal})")
