"""Which note keys the log trusts, derived from the registry in exactly one place.

The operator's key verifies checkpoints as a C2SP signed-note Ed25519 key (type 0x01); each
party's witness key verifies cosignatures as a tlog-cosignature key (type 0x04). Every reader of
checkpoints (the log, witnesses, auditors, exports) takes its verifiers from here.
"""

from __future__ import annotations

from detente.log.note import SIG_COSIGNATURE_V1, SIG_ED25519, NoteVerifier
from detente.model.parties import Registry


def operator_verifier(registry: Registry) -> NoteVerifier:
    op = registry.operator
    return NoteVerifier(op.note_name or "", op.public_key, SIG_ED25519)


def witness_verifiers(registry: Registry) -> dict[str, NoteVerifier]:
    """Party id → the cosignature verifier of that party's witness key."""
    return {
        pid: NoteVerifier(k.note_name or "", k.public_key, SIG_COSIGNATURE_V1)
        for pid, k in registry.witnesses()
    }
