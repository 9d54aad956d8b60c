"""The joint random draw: commit, reveal, seed, and a sampler anyone can recompute.

"Bases of our choosing" lets the inspector pick; a host who knows its preferences can keep what
matters elsewhere. A joint draw takes the choice from both: each party commits to a secret
32-byte value, both reveal, and the seed SHA-256(r_inspecting ‖ r_inspected) drives a fixed,
documented sampler. Neither party can bias the seed without breaking SHA-256: the first to reveal
is bound by its commitment, and the last can only withhold, which the log records as a refusal
(docs/inspections.md, "What the draw guarantees").

Everything here is pure and byte-exact, so the draw can be recomputed in any language from the
log alone. The test vectors in tests/inspection/test_draw.py pin it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from detente.agreement.weights import weight_units
from detente.errors import DetenteError

VALUE_SIZE = 32
COMMIT_DOMAIN = b"detente-draw-commit/v1\x00"
DRAW_DOMAIN = b"detente-draw/v1\x00"
_TWO64 = 1 << 64


class DrawError(DetenteError):
    """A draw cannot be made or checked: a malformed value, an empty pool."""

    code = "draw"


def commitment(inspection: str, party: str, value: bytes) -> bytes:
    """SHA-256(domain ‖ inspection ‖ 0 ‖ party ‖ 0 ‖ value).

    Binding the inspection and the party stops a party from copying the other's commitment and
    later its reveal, which would hand the copier's half of the seed to the other side's choice,
    and stops a commitment from one inspection being reused in another.
    """
    if type(value) is not bytes or len(value) != VALUE_SIZE:
        raise DrawError(f"a draw value must be exactly {VALUE_SIZE} bytes")
    for name, text in (("inspection", inspection), ("party", party)):
        if not text or "\x00" in text:
            raise DrawError(f"{name} id must be non-empty and free of NUL characters")
    h = hashlib.sha256(COMMIT_DOMAIN)
    h.update(inspection.encode() + b"\x00" + party.encode() + b"\x00" + value)
    return h.digest()


def check_reveal(inspection: str, party: str, value: bytes, committed: bytes) -> bool:
    """True if `value` opens `committed` (compared in constant time)."""
    try:
        return hmac.compare_digest(commitment(inspection, party, value), committed)
    except DrawError:
        return False


def seed(inspecting_value: bytes, inspected_value: bytes) -> bytes:
    """SHA-256(r_inspecting ‖ r_inspected): the inspecting party's value always comes first."""
    for v in (inspecting_value, inspected_value):
        if type(v) is not bytes or len(v) != VALUE_SIZE:
            raise DrawError(f"a draw value must be exactly {VALUE_SIZE} bytes")
    return hashlib.sha256(inspecting_value + inspected_value).digest()


@dataclass(frozen=True)
class Pool:
    """The sites a draw chooses from, in canonical order (sorted by id), with integer weights."""

    sites: tuple[str, ...]
    weights: tuple[int, ...]

    @classmethod
    def build(cls, site_kinds: Mapping[str, str], weights: Mapping[str, float] | None = None) -> Pool:
        """`site_kinds`: site id → site kind; `weights`: kind → weight (absent kinds weigh 1,
        as the agreement language defines). Zero-weight sites are out of the pool."""
        ids = sorted(site_kinds)
        w = [weight_units((weights or {}).get(site_kinds[s], 1)) for s in ids]
        kept = [(s, x) for s, x in zip(ids, w, strict=True) if x > 0]
        if not kept:
            raise DrawError("the draw's pool is empty: no site with a positive weight")
        return cls(tuple(s for s, _ in kept), tuple(x for _, x in kept))


def _block(seed_: bytes, counter: int) -> int:
    block = hashlib.sha256(DRAW_DOMAIN + seed_ + counter.to_bytes(4, "big")).digest()
    return int.from_bytes(block[:8], "big")


def draw(seed_: bytes, pool: Pool, count: int = 1) -> tuple[str, ...]:
    """Draw `count` distinct sites, with probability proportional to weight, without replacement.

    The sampler, exactly: keep a counter c from 0. For each pick, let W be the total weight left;
    take v = the first 8 bytes, big-endian, of SHA-256("detente-draw/v1\\0" ‖ seed ‖ c as 4
    bytes big-endian), then c += 1; if v ≥ 2^64 − (2^64 mod W) draw again (rejection keeps the
    choice exactly uniform); else x = v mod W and the pick is the first site, in pool order, whose
    cumulative weight exceeds x. Remove it and repeat.
    """
    if type(seed_) is not bytes or len(seed_) != 32:
        raise DrawError("the seed must be 32 bytes")
    if not 1 <= count <= len(pool.sites):
        raise DrawError(f"cannot draw {count} of {len(pool.sites)} sites")
    sites, weights = list(pool.sites), list(pool.weights)
    out: list[str] = []
    c = 0
    while len(out) < count:
        total = sum(weights)
        limit = _TWO64 - _TWO64 % total
        while True:
            v = _block(seed_, c)
            c += 1
            if v < limit:
                break
        x = v % total
        acc = 0
        for i, w in enumerate(weights):
            acc += w
            if acc > x:
                out.append(sites.pop(i))
                weights.pop(i)
                break
    return tuple(out)


def parse_value(text: object, what: str) -> bytes:
    """A 32-byte value or hash as 64 lower-case hex digits (the form records carry)."""
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        raise DrawError(f"{what} must be 64 lower-case hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise DrawError(f"{what} must be 64 lower-case hex digits") from exc

