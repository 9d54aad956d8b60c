"""Receipts: what an author gets back once a record is durably in the log.

A receipt is self-contained: the signed checkpoint and the inclusion proof of the record's leaf.
With the operator's verifier key it proves, offline and forever, that the log committed to this
exact envelope at this index; if the record ever goes missing, the receipt is the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detente.codec import b64, unb64
from detente.errors import ProofError
from detente.log.merkle import leaf_hash, verify_inclusion
from detente.log.note import NoteVerifier, SignedCheckpoint, open_checkpoint


@dataclass(frozen=True)
class Receipt:
    index: int
    checkpoint: str
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "checkpoint": self.checkpoint,
            "inclusion_proof": [b64(p) for p in self.proof],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Receipt:
        try:
            return cls(
                int(data["index"]),
                str(data["checkpoint"]),
                tuple(unb64(p, what="inclusion_proof") for p in data["inclusion_proof"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofError(f"receipt is malformed: {exc}") from exc


def verify_receipt(
    receipt: Receipt, leaf: bytes, operator: NoteVerifier, origin: str
) -> SignedCheckpoint:
    """Check that `leaf` (the canonical envelope bytes) is in the checkpointed tree."""
    scp = open_checkpoint(receipt.checkpoint, operator, origin)
    cp = scp.checkpoint
    verify_inclusion(receipt.index, cp.size, leaf_hash(leaf), receipt.proof, cp.root)
    return scp
