"""Verify a DSSE envelope as a Détente record: who signed it, and may they say this?

Shared by the log's door and by offline verifiers, so both apply exactly the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from detente.envelope.canonical import parse_canonical
from detente.envelope.dsse import Envelope
from detente.envelope.keys import Verifier
from detente.errors import CanonicalizationError, RecordRefused, SignatureError
from detente.model.parties import Registry, Role
from detente.model.records import RECORD_KINDS, Header, kind_of_payload_type, payload_type


class KeyRing:
    """A registry with a cache of ready verifiers (building one costs a key decode)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._verifiers: dict[str, Verifier] = {}

    def verifier(self, keyid: str) -> Verifier | None:
        v = self._verifiers.get(keyid)
        if v is None:
            found = self.registry.lookup(keyid)
            if found is None:
                return None
            v = self._verifiers[keyid] = Verifier(found[1].public_key)
        return v


@dataclass(frozen=True)
class VerifiedRecord:
    header: Header
    payload: dict[str, Any]
    #: Parties whose keys signed the envelope, author first.
    signers: tuple[str, ...]


def verify_record(env: Envelope, keyring: KeyRing) -> VerifiedRecord:
    """Check type, canonical payload, header and every signature; refuse with a reason code."""
    kind = kind_of_payload_type(env.payload_type)
    if kind is None or kind not in RECORD_KINDS:
        raise RecordRefused(
            f"payload type {env.payload_type!r} is not a Détente record type; expected "
            f"application/vnd.detente.<kind>+json with kind one of {', '.join(RECORD_KINDS)}",
            code="payload-type",
        )
    try:
        payload = parse_canonical(env.payload)
    except CanonicalizationError as exc:
        raise RecordRefused(str(exc), code="not-canonical") from exc
    try:
        header = Header.from_payload(payload)
    except ValueError as exc:
        raise RecordRefused(f"record header: {exc}", code="malformed") from exc
    if env.payload_type != payload_type(header.kind):
        raise RecordRefused(
            f"payload type {env.payload_type!r} does not match the payload's kind "
            f"{header.kind!r}; the envelope must say {payload_type(header.kind)!r}",
            code="payload-type",
        )
    seen: set[str] = set()
    signers: list[str] = []
    author_signed = False
    allowed = RECORD_KINDS[header.kind]
    #: The first signature whose key holds none of the kind's roles (e.g. a witness key), if any.
    wrong_role: tuple[int, str, frozenset[Role]] | None = None
    message = env.pae()
    registry = keyring.registry
    for i, s in enumerate(env.signatures):
        if s.keyid in seen:
            raise RecordRefused(
                f"signatures[{i}] repeats key {s.keyid[:16]}…; each key signs an envelope once",
                code="duplicate-signature",
            )
        seen.add(s.keyid)
        found = registry.lookup(s.keyid)
        verifier = keyring.verifier(s.keyid)
        if found is None or verifier is None:
            raise RecordRefused(
                f"signatures[{i}] is by unknown key {s.keyid[:16]}…; only keys in the party "
                "registry may sign records",
                code="unknown-key",
            )
        party, key = found
        try:
            verifier.verify(s.sig, message)
        except SignatureError:
            raise RecordRefused(
                f"signatures[{i}] by {party} (key {s.keyid[:16]}…) does not verify; the record "
                "was altered after signing or signed with another key",
                code="bad-signature",
            ) from None
        if not key.roles & allowed:
            if wrong_role is None:
                wrong_role = (i, party, key.roles)
            signers.append(party)
        elif party == header.author:
            author_signed = True
            signers.insert(0, party)
        else:
            signers.append(party)
    if header.author not in registry.parties:
        raise RecordRefused(
            f"author {header.author!r} is not a registered party", code="unknown-party"
        )
    if not author_signed:
        roles = ", ".join(sorted(r.value for r in RECORD_KINDS[header.kind]))
        raise RecordRefused(
            f"no signature by a {header.author} key with role {roles}; a {header.kind} record "
            f"naming {header.author} as author must be signed by {header.author}",
            code="not-author",
        )
    if wrong_role is not None:
        # Every key on a record must hold a role that may sign its kind, not only the author's:
        # a witness key cosigns checkpoints and nothing else (docs/log.md), so a stolen witness
        # key cannot lend weight to, or pose as a party's assent on, any record.
        i, party, held = wrong_role
        roles = ", ".join(sorted(r.value for r in allowed))
        raise RecordRefused(
            f"signatures[{i}] is by a {party} key with role(s) "
            f"{', '.join(sorted(r.value for r in held))}, which may not sign a {header.kind} "
            f"record (only keys with role {roles} may); remove that signature",
            code="wrong-role",
        )
    return VerifiedRecord(header, payload, tuple(signers))
