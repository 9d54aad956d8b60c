"""DSSE interop with an independent implementation (securesystemslib).

Envelopes made by Détente verify in securesystemslib, and envelopes made and signed by
securesystemslib parse and verify in Détente, down to passing `verify_record`.
securesystemslib's default key id differs from Détente's (hex SHA-256 of the raw public key), so
its keys are built with Détente's key id where the two must agree.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.dsse import Envelope as SslibEnvelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from detente.envelope.canonical import canonicalize
from detente.envelope.dsse import Envelope, Signature, pae, parse_envelope, sign
from detente.envelope.keys import SigningKey, Verifier
from detente.envelope.verify import KeyRing, verify_record
from detente.errors import RecordRefused, SignatureError
from detente.model.records import payload_type

PTYPE = "application/vnd.detente.declaration+json"


def sslib_key(key: SigningKey) -> SSlibKey:
    """securesystemslib's view of a Détente key, under Détente's key id."""
    return SSlibKey(key.keyid, "ed25519", "ed25519", {"public": key.public_key.hex()})


def sslib_signer(key: SigningKey, keyid: str | None = None) -> CryptoSigner:
    public = SSlibKey.from_crypto(key.private.public_key(), keyid or key.keyid)
    return CryptoSigner(key.private, public)


def to_sslib(env: Envelope) -> SslibEnvelope:
    # from_dict rewrites its argument's signature entries, so give it a fresh copy.
    return SslibEnvelope.from_dict(json.loads(env.canonical()))


# --- Détente → securesystemslib -----------------------------------------------------------------


def test_detente_envelope_verifies_in_sslib(keys: Any, record: Any) -> None:
    env = record()
    accepted = to_sslib(env).verify([sslib_key(keys.us)], 1)
    assert list(accepted) == [keys.us.keyid]


def test_detente_countersigned_envelope_meets_threshold_two(keys: Any, record: Any) -> None:
    env = record(cosigners=(keys.ru,))
    accepted = to_sslib(env).verify([sslib_key(keys.us), sslib_key(keys.ru)], 2)
    assert set(accepted) == {keys.us.keyid, keys.ru.keyid}


def test_sslib_rejects_tampered_detente_envelope(keys: Any, record: Any) -> None:
    env = record()
    tampered = Envelope(env.payload_type, env.payload.replace(b'"items":1', b'"items":2'), env.signatures)
    assert tampered.payload != env.payload
    with pytest.raises(VerificationError):
        to_sslib(tampered).verify([sslib_key(keys.us)], 1)
    retyped = Envelope("application/vnd.detente.statement+json", env.payload, env.signatures)
    with pytest.raises(VerificationError):
        to_sslib(retyped).verify([sslib_key(keys.us)], 1)


def test_sslib_rejects_signature_by_other_key(keys: Any, record: Any) -> None:
    env = record(key=keys.ru, author="US")
    # RU's signature presented under US's key id does not verify with US's key.
    forged = Envelope(env.payload_type, env.payload, (Signature(keys.us.keyid, env.signatures[0].sig),))
    with pytest.raises(VerificationError):
        to_sslib(forged).verify([sslib_key(keys.us)], 1)


def test_sslib_json_form_matches_detente_canonical(keys: Any, record: Any) -> None:
    env = record(cosigners=(keys.ru,))
    assert canonicalize(to_sslib(env).to_dict()) == env.canonical()


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40), st.binary(max_size=300))
def test_pae_matches_sslib(ptype: str, payload: bytes) -> None:
    assert pae(ptype, payload) == SslibEnvelope(payload, ptype, {}).pae()


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=40), st.binary(max_size=300))
def test_arbitrary_detente_envelopes_verify_in_sslib(ptype: str, payload: bytes) -> None:
    key = SigningKey.from_seed(b"\x42" * 32)
    env = sign(ptype, payload, [key])
    assert list(to_sslib(env).verify([sslib_key(key)], 1)) == [key.keyid]


# --- securesystemslib → Détente -----------------------------------------------------------------


def sslib_sign(ptype: str, payload: bytes, *signers: CryptoSigner) -> bytes:
    env = SslibEnvelope(payload, ptype, {})
    for s in signers:
        env.sign(s)
    return json.dumps(env.to_dict()).encode()


def test_sslib_envelope_verifies_in_detente_fresh_key() -> None:
    signer = CryptoSigner.generate_ed25519()  # securesystemslib's own key id
    payload = b"any bytes \x00\xff"
    data = sslib_sign("text/plain", payload, signer)
    env = parse_envelope(data)
    assert env.payload == payload
    assert env.payload_type == "text/plain"
    assert env.signatures[0].keyid == signer.public_key.keyid
    public = bytes.fromhex(signer.public_key.keyval["public"])
    Verifier(public).verify(env.signatures[0].sig, env.pae())
    with pytest.raises(SignatureError):
        Verifier(public).verify(env.signatures[0].sig, pae("text/other", payload))


def test_sslib_signed_record_passes_verify_record(keys: Any, keyring: KeyRing, payload: Any) -> None:
    body = canonicalize(payload(author="US"))
    data = sslib_sign(payload_type("declaration"), body, sslib_signer(keys.us))
    rec = verify_record(parse_envelope(data), keyring)
    assert rec.header.author == "US"
    assert rec.header.kind == "declaration"
    assert rec.signers == ("US",)


def test_sslib_countersigned_record_passes_verify_record(
    keys: Any, keyring: KeyRing, payload: Any
) -> None:
    body = canonicalize(payload(kind="inspection-report", author="RU", seq=4))
    data = sslib_sign(payload_type("inspection-report"), body, sslib_signer(keys.us), sslib_signer(keys.ru))
    rec = verify_record(parse_envelope(data), keyring)
    assert rec.signers == ("RU", "US")


def test_sslib_default_keyid_is_unknown_to_detente(keys: Any, keyring: KeyRing, payload: Any) -> None:
    default = SSlibKey.from_crypto(keys.us.private.public_key())
    assert default.keyid != keys.us.keyid
    body = canonicalize(payload())
    data = sslib_sign(payload_type("declaration"), body, CryptoSigner(keys.us.private, default))
    with pytest.raises(RecordRefused) as info:
        verify_record(parse_envelope(data), keyring)
    assert info.value.code == "unknown-key"


def test_sslib_signature_by_unregistered_key_under_registered_keyid(
    keys: Any, keyring: KeyRing, payload: Any
) -> None:
    stranger = SigningKey(Ed25519PrivateKey.generate())
    body = canonicalize(payload())
    data = sslib_sign(payload_type("declaration"), body, sslib_signer(stranger, keyid=keys.us.keyid))
    with pytest.raises(RecordRefused) as info:
        verify_record(parse_envelope(data), keyring)
    assert info.value.code == "bad-signature"
