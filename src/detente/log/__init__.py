"""The append-only, witnessed Merkle log (RFC 9162 hashing, C2SP checkpoints).

Knows nothing of what records say, of agreements or of inspections: content rules come in from
above through `RecordRule`.

- merkle.py — the tree, inclusion and consistency proofs; note.py — C2SP signed notes,
  checkpoints and cosignatures; trust.py — the verifiers a registry names;
- admission.py — the door (`admit`); transparency.py — `TransparencyLog`; receipt.py — receipts;
- store.py, sqlstore.py — the storage interface and SQLite/PostgreSQL; ingest.py — parallel ingest;
- witness.py, cosign.py — witnesses and collecting their cosignatures;
- audit.py, bundle.py — offline verification and export.
"""

from detente.log.bundle import export_bundle, verify_bundle, verify_store
from detente.log.receipt import Receipt, verify_receipt
from detente.log.store import LogStore
from detente.log.transparency import RecordRule, TransparencyLog
from detente.log.witness import Witness

__all__ = [
    "LogStore",
    "Receipt",
    "RecordRule",
    "TransparencyLog",
    "Witness",
    "export_bundle",
    "verify_bundle",
    "verify_receipt",
    "verify_store",
]
