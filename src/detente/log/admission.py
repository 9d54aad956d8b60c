"""The log's door: the checks every envelope passes before it may be appended.

Everything here is stateless given the registry and a clock, so the work can be spread over
processes; the one stateful rule (per-party sequence numbers) is applied by the log itself inside
its write transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from detente.envelope.dsse import MAX_ENVELOPE_BYTES, parse_envelope
from detente.envelope.verify import KeyRing, verify_record
from detente.errors import EnvelopeError, RecordRefused


@dataclass(frozen=True)
class Policy:
    #: How far a record's signed_at may be from the log's clock, either way.
    clock_tolerance: timedelta = timedelta(minutes=10)
    max_envelope_bytes: int = MAX_ENVELOPE_BYTES


class Admitted(NamedTuple):
    """A record through the door. A tuple, because it crosses process boundaries by the
    thousand in parallel ingest and tuples pickle several times faster than dataclasses."""

    leaf: bytes
    leaf_hash: bytes
    author: str
    seq: int
    kind: str
    signed_at: str


def leaf_hash(leaf: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def admit(
    raw: bytes | str | dict[str, Any],
    keyring: KeyRing,
    *,
    now: datetime,
    policy: Policy = Policy(),
) -> Admitted:
    """Verify one submitted envelope; return what the log stores, or raise RecordRefused."""
    if isinstance(raw, bytes | str) and len(raw) > policy.max_envelope_bytes:
        raise RecordRefused(
            f"envelope is {len(raw)} bytes, over the {policy.max_envelope_bytes}-byte limit",
            code="oversized",
        )
    try:
        env = parse_envelope(raw)
    except EnvelopeError as exc:
        raise RecordRefused(str(exc), code="malformed") from exc
    rec = verify_record(env, keyring)
    h = rec.header
    origin = keyring.registry.origin
    if h.log != origin:
        raise RecordRefused(
            f"record was signed for log {h.log!r}, not this log ({origin!r}); re-sign it for "
            "this log",
            code="wrong-log",
        )
    skew = abs(h.signed_time - now)
    if skew > policy.clock_tolerance:
        raise RecordRefused(
            f"signed_at {h.signed_at} is {int(skew.total_seconds())} s from the log's clock, "
            f"beyond the {int(policy.clock_tolerance.total_seconds())} s tolerance; check the "
            "signer's clock and sign again",
            code="clock",
        )
    leaf = env.canonical()
    if len(leaf) > policy.max_envelope_bytes:
        raise RecordRefused("canonical envelope exceeds the size limit", code="oversized")
    return Admitted(leaf, leaf_hash(leaf), h.author, h.seq, h.kind, h.signed_at)
