"""Evidence a reader can check offline: each cited entry's inclusion proof against one named,
operator-signed checkpoint (witness cosignatures included when present).

With the checkpoint note, the operator's and witnesses' public keys, the entry's bytes and the
proof, anyone can confirm that the log committed to exactly the record the finding cites, and any
later checkpoint they hold can be proved consistent with it. The findings are then no longer our
word: they are claims about signed records anyone can fetch and check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from detente.codec import b64
from detente.compliance.findings import Evidence, Finding
from detente.log.merkle import leaf_hash, verify_inclusion
from detente.log.note import SignedCheckpoint
from detente.log.transparency import TransparencyLog


def checkpoint_json(scp: SignedCheckpoint) -> dict[str, Any]:
    cp = scp.checkpoint
    return {"origin": cp.origin, "size": cp.size, "root_hash": b64(cp.root), "note": scp.encode()}


def attach_proofs(findings: Sequence[Finding], log: TransparencyLog, scp: SignedCheckpoint) -> list[Finding]:
    """Fill each finding's evidence with inclusion proofs against `scp` (checked before use)."""
    cp = scp.checkpoint
    cache: dict[int, Evidence] = {}

    def prove(e: Evidence) -> Evidence:
        if e.index not in cache:
            receipt = log.inclusion_proof(e.index, cp.size)
            lh = leaf_hash(log.leaf(e.index))
            verify_inclusion(e.index, cp.size, lh, receipt.proof, cp.root)  # never cite a bad proof
            cache[e.index] = replace(e, proof=tuple(b64(p) for p in receipt.proof), leaf_hash=b64(lh))
        done = cache[e.index]
        return replace(e, proof=done.proof, leaf_hash=done.leaf_hash)

    named = checkpoint_json(scp)
    return [replace(f, evidence=tuple(prove(e) for e in f.evidence), checkpoint=named) for f in findings]
