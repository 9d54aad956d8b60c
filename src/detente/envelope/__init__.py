"""Signed records: canonical JSON, Ed25519 keys, DSSE envelopes, records made, read and verified.

- canonical.py — RFC 8785 canonical JSON; dsse.py — DSSE envelopes, PAE, signing;
- keys.py — Ed25519 signing keys, key files, `Verifier` (`verify(signature, data)`, raising);
- record.py — `make_record` (the author's side) and `read_record` (the one parser from a leaf);
- verify.py — `verify_record`: the door's one refusing function, shared with offline verifiers.
"""

from detente.envelope.canonical import canonicalize, parse_canonical, parse_json
from detente.envelope.dsse import Envelope, parse_envelope, sign
from detente.envelope.keys import SigningKey, Verifier, read_private_key, write_private_key
from detente.envelope.record import envelope_of, make_record, read_record, read_records
from detente.envelope.verify import KeyRing, VerifiedRecord, verify_record

__all__ = [
    "Envelope",
    "KeyRing",
    "SigningKey",
    "VerifiedRecord",
    "Verifier",
    "canonicalize",
    "envelope_of",
    "make_record",
    "parse_canonical",
    "parse_envelope",
    "parse_json",
    "read_private_key",
    "read_record",
    "read_records",
    "sign",
    "verify_record",
    "write_private_key",
]
