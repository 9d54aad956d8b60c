"""The log's side of witnessing: send each witness the latest checkpoint with a consistency proof
from the size it last cosigned, and attach the cosignature it returns."""

from __future__ import annotations

from collections.abc import Mapping

from detente.log.note import SignedCheckpoint
from detente.log.transparency import TransparencyLog
from detente.log.witness import Witness


def collect_cosignatures(log: TransparencyLog, witnesses: Mapping[str, Witness]) -> SignedCheckpoint:
    """Have every witness cosign the latest checkpoint; ForkDetected propagates, with evidence."""
    scp = log.latest()
    size = scp.checkpoint.size
    for party in sorted(witnesses):
        w = witnesses[party]
        old = w.state().size  # a witness without trusted state refuses here (WitnessStateError)
        proof = log.consistency_proof(old, size) if old <= size else []
        sig = w.add_checkpoint(old, proof, scp.encode())
        scp = log.add_cosignature(size, sig)
    return scp
