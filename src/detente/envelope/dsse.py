"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1).

The signature covers the pre-authentication encoding (PAE) of the payload type and payload, so a
signature made for one record type can never be re-read as another. Détente payloads are RFC 8785
canonical JSON; the envelope itself is stored and hashed in canonical form too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from detente.codec import b64, unb64
from detente.envelope.canonical import canonicalize, parse_json
from detente.envelope.keys import SigningKey
from detente.errors import EnvelopeError

# Strings made only of these characters need no escaping in JSON.
_INERT = re.compile(r"^[A-Za-z0-9.+/=_:;-]*\Z")

#: Ceiling on an envelope's encoded size; declarations carry roots and aggregates, not inventories.
MAX_ENVELOPE_BYTES = 1 << 20


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def pae(self) -> bytes:
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        return {
            "payload": b64(self.payload),
            "payloadType": self.payload_type,
            "signatures": [{"keyid": s.keyid, "sig": b64(s.sig)} for s in self.signatures],
        }

    def canonical(self) -> bytes:
        """The exact bytes the log hashes as this envelope's leaf.

        When every string is from a JSON-inert alphabet (base64, a hex key id, a plain media
        type) the RFC 8785 form is a fixed template, built directly; otherwise the encoder runs.
        """
        if _INERT.match(self.payload_type) and all(_INERT.match(s.keyid) for s in self.signatures):
            sigs = ",".join(f'{{"keyid":"{s.keyid}","sig":"{b64(s.sig)}"}}' for s in self.signatures)
            return (f'{{"payload":"{b64(self.payload)}","payloadType":"{self.payload_type}",'
                    f'"signatures":[{sigs}]}}').encode("ascii")
        return canonicalize(self.to_json())

    def countersign(self, key: SigningKey) -> Envelope:
        """Add a signature over the same PAE (e.g. the host's escort countersigning a report)."""
        if any(s.keyid == key.keyid for s in self.signatures):
            raise EnvelopeError("this key has already signed the envelope; sign once per key")
        return Envelope(
            self.payload_type, self.payload,
            (*self.signatures, Signature(key.keyid, key.sign(self.pae()))),
        )


def sign(payload_type: str, payload: bytes, keys: Sequence[SigningKey]) -> Envelope:
    if not keys:
        raise EnvelopeError("an envelope needs at least one signing key")
    env = Envelope(payload_type, payload, ())
    for k in keys:
        env = env.countersign(k)
    return env


def parse_envelope(data: bytes | str | dict[str, Any]) -> Envelope:
    """Parse a DSSE envelope from JSON (bytes, text or an already-decoded object).

    Structural problems only; signatures are checked by `verify_signatures`.
    """
    if isinstance(data, bytes | str):
        if len(data) > MAX_ENVELOPE_BYTES:
            raise EnvelopeError(
                f"envelope is {len(data)} bytes, over the {MAX_ENVELOPE_BYTES}-byte limit; "
                "put bulk data in a commitment and log its root"
            )
        try:
            obj = parse_json(data)
        except ValueError as exc:
            raise EnvelopeError(f"envelope is not valid JSON: {exc}") from exc
    else:
        obj = data
    if not isinstance(obj, dict):
        raise EnvelopeError("envelope must be a JSON object with payload, payloadType, signatures")
    extra = set(obj) - {"payload", "payloadType", "signatures"}
    if extra:
        raise EnvelopeError(f"envelope has unknown field(s): {', '.join(sorted(extra))}")
    ptype, payload, sigs = obj.get("payloadType"), obj.get("payload"), obj.get("signatures")
    if not isinstance(ptype, str) or not ptype:
        raise EnvelopeError("envelope field 'payloadType' must be a non-empty string")
    if not isinstance(payload, str):
        raise EnvelopeError("envelope field 'payload' must be a base64 string")
    if not isinstance(sigs, list) or not sigs:
        raise EnvelopeError("envelope field 'signatures' must be a non-empty list")
    try:
        raw = unb64(payload, what="payload")
        parsed: list[Signature] = []
        for i, s in enumerate(sigs):
            if not isinstance(s, dict) or not isinstance(s.get("sig"), str):
                raise EnvelopeError(f"signatures[{i}] must be an object with a base64 'sig'")
            kid = s.get("keyid", "")
            if not isinstance(kid, str) or set(s) - {"keyid", "sig"}:
                raise EnvelopeError(f"signatures[{i}] may hold only 'keyid' and 'sig' strings")
            parsed.append(Signature(kid, unb64(s["sig"], what=f"signatures[{i}].sig")))
    except ValueError as exc:
        raise EnvelopeError(str(exc)) from exc
    return Envelope(ptype, raw, tuple(parsed))
