"""DSSE envelopes: PAE, signing, countersigning, canonical form and strict parsing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.envelope.canonical import canonicalize
from detente.envelope.dsse import (
    MAX_ENVELOPE_BYTES,
    Envelope,
    Signature,
    pae,
    parse_envelope,
    sign,
)
from detente.envelope.keys import SigningKey, Verifier
from detente.errors import EnvelopeError, SignatureError

PTYPE = "application/vnd.detente.declaration+json"
KEY_A = SigningKey.from_seed(b"\xa1" * 32)
KEY_B = SigningKey.from_seed(b"\xb2" * 32)


def test_pae_spec_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("\u00fc", b"") == b"DSSEv1 2 \xc3\xbc 0 "
    assert pae("t", b"\x00 \n") == b"DSSEv1 1 t 3 \x00 \n"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.binary(max_size=200))
def test_pae_is_injective_prefix_form(ptype: str, payload: bytes) -> None:
    t = ptype.encode()
    assert pae(ptype, payload) == b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + (
        str(len(payload)).encode() + b" " + payload
    )


def test_sign_one_key() -> None:
    env = sign(PTYPE, b'{"x":1}', [KEY_A])
    assert env.payload_type == PTYPE
    assert env.payload == b'{"x":1}'
    assert [s.keyid for s in env.signatures] == [KEY_A.keyid]
    Verifier(KEY_A.public_key).verify(env.signatures[0].sig, pae(PTYPE, b'{"x":1}'))
    assert env.pae() == pae(PTYPE, b'{"x":1}')


def test_sign_several_keys_in_order() -> None:
    env = sign(PTYPE, b"{}", [KEY_A, KEY_B])
    assert [s.keyid for s in env.signatures] == [KEY_A.keyid, KEY_B.keyid]
    for key, s in zip((KEY_A, KEY_B), env.signatures, strict=True):
        Verifier(key.public_key).verify(s.sig, env.pae())


def test_signature_binds_payload_type() -> None:
    env = sign(PTYPE, b"{}", [KEY_A])
    other = pae("application/vnd.detente.statement+json", b"{}")
    with pytest.raises(SignatureError):
        Verifier(KEY_A.public_key).verify(env.signatures[0].sig, other)


def test_countersign_adds_and_keeps_original() -> None:
    env = sign(PTYPE, b"{}", [KEY_A])
    both = env.countersign(KEY_B)
    assert len(env.signatures) == 1  # the original envelope is unchanged
    assert both.signatures[0] == env.signatures[0]
    assert both.signatures[1].keyid == KEY_B.keyid
    Verifier(KEY_B.public_key).verify(both.signatures[1].sig, env.pae())


def test_countersign_twice_with_same_key_is_refused() -> None:
    env = sign(PTYPE, b"{}", [KEY_A]).countersign(KEY_B)
    with pytest.raises(EnvelopeError, match="already signed"):
        env.countersign(KEY_B)
    with pytest.raises(EnvelopeError, match="already signed"):
        env.countersign(KEY_A)


def test_sign_refuses_repeated_key_and_no_key() -> None:
    with pytest.raises(EnvelopeError):
        sign(PTYPE, b"{}", [KEY_A, KEY_A])
    with pytest.raises(EnvelopeError, match="at least one"):
        sign(PTYPE, b"{}", [])


# --- canonical form and round trips -------------------------------------------------------------


def test_canonical_template_exact_bytes() -> None:
    env = Envelope(PTYPE, b"\xfb\xff", (Signature("ab12", b"\x00" * 3),))
    assert env.canonical() == (
        b'{"payload":"+/8=","payloadType":"application/vnd.detente.declaration+json",'
        b'"signatures":[{"keyid":"ab12","sig":"AAAA"}]}'
    )


signatures = st.lists(
    st.builds(Signature, st.text(max_size=20) | st.sampled_from([KEY_A.keyid, ""]), st.binary(max_size=70)),
    min_size=1,
    max_size=3,
)
ptypes = st.text(min_size=1, max_size=30) | st.sampled_from([PTYPE, "text/plain", 'a"b\\c', "x\ny"])


@settings(max_examples=300, deadline=None)
@given(ptypes, st.binary(max_size=100), signatures)
def test_canonical_equals_rfc8785_of_json_form(ptype: str, payload: bytes, sigs: list[Signature]) -> None:
    env = Envelope(ptype, payload, tuple(sigs))
    assert env.canonical() == bytes(rfc8785.dumps(env.to_json()))
    assert env.canonical() == canonicalize(env.to_json())


@settings(max_examples=200, deadline=None)
@given(ptypes, st.binary(max_size=100), signatures)
def test_parse_round_trip(ptype: str, payload: bytes, sigs: list[Signature]) -> None:
    env = Envelope(ptype, payload, tuple(sigs))
    data = env.canonical()
    assert parse_envelope(data) == env
    assert parse_envelope(data.decode()) == env
    assert parse_envelope(json.loads(data)) == env


def test_keyid_is_optional_on_parse() -> None:
    obj = {"payload": "e30=", "payloadType": PTYPE, "signatures": [{"sig": "AAAA"}]}
    env = parse_envelope(obj)
    assert env.signatures == (Signature("", b"\x00\x00\x00"),)


def _valid() -> dict[str, Any]:
    return sign(PTYPE, b'{"x":1}', [KEY_A]).to_json()


def _with(**changes: Any) -> dict[str, Any]:
    obj = _valid()
    for k, v in changes.items():
        if v is _DROP:
            del obj[k]
        else:
            obj[k] = v
    return obj


_DROP = object()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"{", id="not-json"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"envelope"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param([], id="list-object"),
        pytest.param(_with(extra=1), id="unknown-field"),
        pytest.param(_with(signatures=_DROP), id="missing-signatures"),
        pytest.param(_with(signatures=[]), id="empty-signatures"),
        pytest.param(_with(signatures={"keyid": "a", "sig": "AAAA"}), id="signatures-not-list"),
        pytest.param(_with(payloadType=_DROP), id="missing-payload-type"),
        pytest.param(_with(payloadType=""), id="empty-payload-type"),
        pytest.param(_with(payloadType=7), id="payload-type-not-string"),
        pytest.param(_with(payload=_DROP), id="missing-payload"),
        pytest.param(_with(payload=123), id="payload-not-string"),
        pytest.param(_with(payload="!!!!"), id="payload-bad-base64"),
        pytest.param(_with(payload="e30"), id="payload-bad-padding"),
        pytest.param(_with(signatures=[{"keyid": "a", "sig": "A"}]), id="sig-bad-base64"),
        pytest.param(_with(signatures=[{"keyid": "a"}]), id="sig-missing"),
        pytest.param(_with(signatures=[{"keyid": "a", "sig": 5}]), id="sig-not-string"),
        pytest.param(_with(signatures=["AAAA"]), id="signature-not-object"),
        pytest.param(_with(signatures=[{"keyid": 1, "sig": "AAAA"}]), id="keyid-not-string"),
        pytest.param(_with(signatures=[{"keyid": "a", "sig": "AAAA", "x": "y"}]), id="sig-extra-field"),
    ],
)
def test_parse_envelope_refuses(data: Any) -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(data)


def test_parse_envelope_refuses_oversized() -> None:
    padding = "A" * MAX_ENVELOPE_BYTES
    data = json.dumps({"payload": padding, "payloadType": PTYPE,
                       "signatures": [{"keyid": "a", "sig": "AAAA"}]}).encode()
    assert len(data) > MAX_ENVELOPE_BYTES
    with pytest.raises(EnvelopeError, match="limit"):
        parse_envelope(data)
    with pytest.raises(EnvelopeError, match="limit"):
        parse_envelope(data.decode())
    # Exactly at the limit is allowed through to the structural checks.
    at_limit = b" " * (MAX_ENVELOPE_BYTES - len(b"{}")) + b"{}"
    with pytest.raises(EnvelopeError) as info:
        parse_envelope(at_limit)
    assert "limit" not in info.value.message


def test_url_safe_base64_is_accepted() -> None:
    payload = b"\xfb\xff\xfe" * 7 + b"\xfb"  # standard base64 needs '+' and '/' for these bytes
    env = sign(PTYPE, payload, [KEY_A])
    std = env.to_json()
    assert "+" in std["payload"]
    assert "/" in std["payload"]
    urlsafe = base64.urlsafe_b64encode(payload).decode()
    for text in (urlsafe, urlsafe.rstrip("=")):
        obj = dict(std, payload=text)
        obj["signatures"] = [
            {"keyid": s.keyid, "sig": base64.urlsafe_b64encode(s.sig).decode().rstrip("=")}
            for s in env.signatures
        ]
        parsed = parse_envelope(obj)
        assert parsed == env
        Verifier(KEY_A.public_key).verify(parsed.signatures[0].sig, parsed.pae())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("-_-_$$$$", id="url-safe-with-junk"),
        pytest.param("-_-_ -_-_", id="url-safe-with-space"),
        pytest.param("-_-_\n-_-_", id="url-safe-with-newline"),
        pytest.param("-_-_!", id="url-safe-with-bang"),
    ],
)
def test_url_safe_base64_is_still_strict(text: str) -> None:
    """DSSE allows the URL-safe alphabet, not arbitrary junk mixed into it."""
    with pytest.raises(EnvelopeError, match="base64"):
        parse_envelope(_with(payload=text))
