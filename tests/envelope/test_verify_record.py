"""verify_record (who may say what) and the log's door, admit (which log, which clock, what size)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

from detente.envelope.canonical import canonicalize
from detente.envelope.dsse import MAX_ENVELOPE_BYTES, Envelope, Signature, parse_envelope, sign
from detente.envelope.keys import SigningKey
from detente.envelope.verify import KeyRing, verify_record
from detente.errors import RecordRefused
from detente.log.admission import Policy, admit
from detente.model.parties import Party, PartyKey, Registry, Role
from detente.model.records import RECORD_KINDS, payload_type


def refused(env: Envelope, keyring: KeyRing) -> str:
    with pytest.raises(RecordRefused) as info:
        verify_record(env, keyring)
    return info.value.code


def signed(payload: dict[str, Any] | bytes, key: SigningKey, *, kind: str | None = None,
           cosigners: tuple[SigningKey, ...] = ()) -> Envelope:
    """Sign a payload (a dict is canonicalized; bytes are signed as given)."""
    if isinstance(payload, dict):
        kind = kind or payload.get("kind", "declaration")
        payload = canonicalize(payload)
    return sign(payload_type(kind or "declaration"), payload, (key, *cosigners))


# --- acceptance ---------------------------------------------------------------------------------


def test_accepts_author_signed_record(keyring: KeyRing, record: Any, payload: Any) -> None:
    rec = verify_record(record(), keyring)
    assert rec.header.author == "US"
    assert rec.header.kind == "declaration"
    assert rec.header.seq == 1
    assert rec.header.signed_at == "2022-03-01T12:00:00Z"
    assert rec.payload == payload()
    assert rec.signers == ("US",)


@pytest.mark.parametrize("kind", sorted(RECORD_KINDS))
def test_every_kind_accepted_from_its_author(keyring: KeyRing, record: Any, kind: str) -> None:
    rec = verify_record(record(kind=kind, author="RU", seq=9), keyring)
    assert (rec.header.kind, rec.header.author, rec.header.seq) == (kind, "RU", 9)


def test_countersigned_record_lists_author_first(keyring: KeyRing, keys: Any, record: Any) -> None:
    rec = verify_record(record(cosigners=(keys.ru,)), keyring)
    assert rec.signers == ("US", "RU")
    # The author's signature need not come first in the envelope.
    rec = verify_record(record(key=keys.ru, cosigners=(keys.us,)), keyring)
    assert rec.signers == ("US", "RU")


@pytest.mark.parametrize("witness", ["US", "RU"])
def test_countersignature_by_witness_key_is_refused(
    keyring: KeyRing, keys: Any, record: Any, witness: str
) -> None:
    """Witness keys only cosign checkpoints (docs/log.md): an extra envelope signature by one,
    the author's own party's or the other's, is refused, not listed as a signer."""
    with pytest.raises(RecordRefused) as info:
        verify_record(record(cosigners=(keys.witness_key(witness),)), keyring)
    assert info.value.code == "wrong-role"
    assert f"{witness} key with role(s) witness" in info.value.message
    assert "remove that signature" in info.value.message


# --- refusals -----------------------------------------------------------------------------------


def test_unknown_key(keyring: KeyRing, keys: Any, record: Any) -> None:
    assert refused(record(key=keys.outsider), keyring) == "unknown-key"


def test_log_operator_key_cannot_sign_records(keyring: KeyRing, keys: Any, record: Any) -> None:
    assert refused(record(key=keys.operator), keyring) == "unknown-key"


def test_unknown_countersigner(keyring: KeyRing, keys: Any, record: Any) -> None:
    assert refused(record(cosigners=(keys.outsider,)), keyring) == "unknown-key"


def test_other_party_cannot_author(keyring: KeyRing, keys: Any, record: Any) -> None:
    assert refused(record(author="US", key=keys.ru), keyring) == "not-author"


@pytest.mark.parametrize("witness", ["US", "RU"])
def test_witness_key_cannot_author(keyring: KeyRing, keys: Any, record: Any, witness: str) -> None:
    assert refused(record(author="US", key=keys.witness_key(witness)), keyring) == "not-author"


def test_key_without_the_kinds_role_cannot_author(keys: Any, payload: Any) -> None:
    declarant = SigningKey.from_seed(b"\xd0" * 32)
    inspector = SigningKey.from_seed(b"\x1e" * 32)
    reg = Registry(origin="detente.test/log",
                   operator=PartyKey(keys.operator.public_key, frozenset({Role.LOG_OPERATOR}), "op"))
    reg.add_party(Party("US", "US", (PartyKey(declarant.public_key, frozenset({Role.DECLARANT})),
                                     PartyKey(inspector.public_key, frozenset({Role.INSPECTOR})))))
    ring = KeyRing(reg)
    report = payload(kind="inspection-report")
    decl = payload(kind="declaration")
    assert refused(signed(report, declarant), ring) == "not-author"
    assert refused(signed(decl, inspector), ring) == "not-author"
    assert verify_record(signed(report, inspector), ring).signers == ("US",)
    assert verify_record(signed(decl, declarant), ring).signers == ("US",)
    # "statement" may come from either role.
    assert verify_record(signed(payload(kind="statement"), inspector), ring).signers == ("US",)


def test_unregistered_author(keyring: KeyRing, keys: Any, record: Any) -> None:
    assert refused(record(author="FR", key=keys.us), keyring) == "unknown-party"


def test_tampered_payload(keyring: KeyRing, record: Any, payload: Any) -> None:
    env = record()
    altered = canonicalize(payload(body={"items": 2}))
    assert altered != env.payload
    assert refused(Envelope(env.payload_type, altered, env.signatures), keyring) == "bad-signature"


def test_tampered_signature(keyring: KeyRing, record: Any) -> None:
    env = record()
    sig = env.signatures[0]
    for i in (0, 31, 63):
        bad = bytearray(sig.sig)
        bad[i] ^= 0x01
        tampered = Envelope(env.payload_type, env.payload, (Signature(sig.keyid, bytes(bad)),))
        assert refused(tampered, keyring) == "bad-signature"


def test_bad_countersignature(keyring: KeyRing, keys: Any, record: Any) -> None:
    env = record(cosigners=(keys.ru,))
    first, second = env.signatures
    bad = Envelope(env.payload_type, env.payload, (first, Signature(second.keyid, first.sig)))
    assert refused(bad, keyring) == "bad-signature"


def test_signature_under_another_keyid(keyring: KeyRing, keys: Any, record: Any) -> None:
    env = record()
    relabeled = Envelope(env.payload_type, env.payload, (Signature(keys.ru.keyid, env.signatures[0].sig),))
    assert refused(relabeled, keyring) == "bad-signature"


@pytest.mark.parametrize(
    "ptype",
    [
        "application/json",
        "application/vnd.detente.unknown-kind+json",
        "application/vnd.detente.Declaration+json",
        "application/vnd.detente.declaration+xml",
        "application/vnd.detente.declaration\n+json",
        "application/vnd.detente.+json",
        "",
    ],
)
def test_payload_type_not_a_record_type(keyring: KeyRing, keys: Any, payload: Any, ptype: str) -> None:
    env = sign(ptype, canonicalize(payload()), [keys.us])
    assert refused(env, keyring) == "payload-type"


def test_payload_type_mismatches_kind(keyring: KeyRing, keys: Any, payload: Any) -> None:
    env = signed(payload(kind="declaration"), keys.us, kind="statement")
    assert env.payload_type == payload_type("statement")
    assert refused(env, keyring) == "payload-type"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"seq":1,"author":"US","body":{},"kind":"declaration","log":"detente.test/log",'
                     b'"signed_at":"2022-03-01T12:00:00Z"}', id="unsorted-keys"),
        pytest.param(b'{"author": "US","body":{},"kind":"declaration","log":"detente.test/log","seq":1,'
                     b'"signed_at":"2022-03-01T12:00:00Z"}', id="whitespace"),
        pytest.param(b'{"author":"US","author":"US","body":{},"kind":"declaration","log":"detente.test/log",'
                     b'"seq":1,"signed_at":"2022-03-01T12:00:00Z"}', id="duplicate-key"),
        pytest.param(b'{"author":"US","body":{"x":1.0},"kind":"declaration","log":"detente.test/log",'
                     b'"seq":1,"signed_at":"2022-03-01T12:00:00Z"}', id="long-number"),
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"a":NaN}', id="nan"),
    ],
)
def test_non_canonical_payload(keyring: KeyRing, keys: Any, raw: bytes) -> None:
    assert refused(signed(raw, keys.us, kind="declaration"), keyring) == "not-canonical"


def test_duplicate_signature(keyring: KeyRing, record: Any) -> None:
    env = record()
    s = env.signatures[0]
    assert refused(Envelope(env.payload_type, env.payload, (s, s)), keyring) == "duplicate-signature"


def test_duplicate_keyid_with_different_signature(keyring: KeyRing, keys: Any, record: Any) -> None:
    env = record(cosigners=(keys.ru,))
    s1, s2 = env.signatures
    dup = Envelope(env.payload_type, env.payload, (s1, s2, Signature(s1.keyid, s2.sig)))
    assert refused(dup, keyring) == "duplicate-signature"


def _without(p: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in p.items() if k != field}


@pytest.mark.parametrize("field", ["author", "body", "kind", "log", "seq", "signed_at"])
def test_missing_header_field(keyring: KeyRing, keys: Any, payload: Any, field: str) -> None:
    env = signed(_without(payload(), field), keys.us, kind="declaration")
    assert refused(env, keyring) == "malformed"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"extra": 1}, id="unknown-top-level-field"),
        pytest.param({"seq": 0}, id="seq-zero"),
        pytest.param({"seq": -3}, id="seq-negative"),
        pytest.param({"seq": True}, id="seq-bool"),
        pytest.param({"seq": "1"}, id="seq-string"),
        pytest.param({"author": ""}, id="author-empty"),
        pytest.param({"author": 7}, id="author-not-string"),
        pytest.param({"log": None}, id="log-null"),
        pytest.param({"body": []}, id="body-list"),
        pytest.param({"body": "x"}, id="body-string"),
        pytest.param({"signed_at": "2022-03-01 12:00:00Z"}, id="time-space"),
        pytest.param({"signed_at": "2022-03-01T12:00:00+00:00"}, id="time-offset"),
        pytest.param({"signed_at": "2022-03-01T12:00:00.5Z"}, id="time-fraction"),
        pytest.param({"signed_at": 1646136000}, id="time-number"),
    ],
)
def test_malformed_header(keyring: KeyRing, keys: Any, payload: Any, changes: dict[str, Any]) -> None:
    env = signed({**payload(), **changes}, keys.us, kind="declaration")
    assert refused(env, keyring) == "malformed"


def test_payload_not_an_object(keyring: KeyRing, keys: Any) -> None:
    assert refused(signed(b"[1,2]", keys.us, kind="declaration"), keyring) == "malformed"


@pytest.mark.parametrize(
    "signed_at",
    [
        pytest.param("2022-03-01T12:00:00Z\n", id="trailing-newline"),
        pytest.param("\u0662\u0660\u0662\u0662-03-01T12:00:00Z", id="arabic-indic-digits"),
        pytest.param("2022-13-01T12:00:00Z", id="month-13"),
        pytest.param("2022-02-30T12:00:00Z", id="february-30"),
        pytest.param("2022-03-01T25:00:00Z", id="hour-25"),
    ],
)
def test_signed_at_must_be_a_real_rfc3339_time(
    keyring: KeyRing, keys: Any, payload: Any, signed_at: str
) -> None:
    """The header promises RFC 3339 UTC with ASCII digits and a real date and time."""
    env = signed(payload(signed_at=signed_at), keys.us)
    assert refused(env, keyring) == "malformed"


# --- admission ----------------------------------------------------------------------------------


DEFAULT_POLICY = Policy()


def admit_code(raw: Any, keyring: KeyRing, now: Any, policy: Policy = DEFAULT_POLICY) -> str:
    with pytest.raises(RecordRefused) as info:
        admit(raw, keyring, now=now, policy=policy)
    return info.value.code


def test_admit_returns_leaf(keyring: KeyRing, record: Any, now: Any) -> None:
    env = record(seq=3)
    for raw in (env.canonical(), env.canonical().decode(), env.to_json()):
        adm = admit(raw, keyring, now=now)
        assert adm.leaf == env.canonical()
        assert adm.leaf_hash == hashlib.sha256(b"\x00" + env.canonical()).digest()
        assert (adm.author, adm.seq, adm.kind, adm.signed_at) == ("US", 3, "declaration",
                                                                  "2022-03-01T12:00:00Z")


def test_admit_canonicalizes_the_leaf(keyring: KeyRing, record: Any, now: Any) -> None:
    env = record()
    loose = (b'{ "signatures" : ' + str(env.to_json()["signatures"]).replace("'", '"').encode()
             + b', "payloadType": "' + env.payload_type.encode() + b'", "payload": "'
             + env.to_json()["payload"].encode() + b'" }')
    assert parse_envelope(loose) == env
    assert admit(loose, keyring, now=now).leaf == env.canonical()


def test_admit_wrong_log(keyring: KeyRing, record: Any, now: Any) -> None:
    assert admit_code(record(log="rehearsal.test/log").canonical(), keyring, now) == "wrong-log"


@pytest.mark.parametrize("offset", [timedelta(minutes=10, seconds=1), -timedelta(minutes=10, seconds=1),
                                    timedelta(days=365), -timedelta(days=3650)])
def test_admit_clock_skew(keyring: KeyRing, record: Any, now: Any, offset: timedelta) -> None:
    assert admit_code(record(signed_at=now + offset).canonical(), keyring, now) == "clock"


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=10), -timedelta(minutes=10)])
def test_admit_within_tolerance(keyring: KeyRing, record: Any, now: Any, offset: timedelta) -> None:
    assert admit(record(signed_at=now + offset).canonical(), keyring, now=now).seq == 1


def test_admit_custom_tolerance(keyring: KeyRing, record: Any, now: Any) -> None:
    strict = Policy(clock_tolerance=timedelta(seconds=0))
    assert admit(record().canonical(), keyring, now=now, policy=strict).seq == 1
    env = record(signed_at=now + timedelta(seconds=1))
    assert admit_code(env.canonical(), keyring, now, strict) == "clock"


def test_admit_oversized(keyring: KeyRing, record: Any, now: Any) -> None:
    assert admit_code(b" " * (MAX_ENVELOPE_BYTES + 1), keyring, now) == "oversized"
    data = record().canonical()
    small = Policy(max_envelope_bytes=len(data) - 1)
    assert admit_code(data, keyring, now, small) == "oversized"
    assert admit(data, keyring, now=now, policy=Policy(max_envelope_bytes=len(data))).seq == 1


def test_admit_oversized_canonical_leaf_from_dict(keyring: KeyRing, record: Any, now: Any) -> None:
    env = record()
    small = Policy(max_envelope_bytes=len(env.canonical()) - 1)
    assert admit_code(env.to_json(), keyring, now, small) == "oversized"


@pytest.mark.parametrize(
    "raw",
    [b"\x00\xff garbage", b"", b"{}", b"[]", b"null", "not json", {"payload": "e30="}, b'{"payload":1}'],
)
def test_admit_malformed(keyring: KeyRing, now: Any, raw: Any) -> None:
    assert admit_code(raw, keyring, now) == "malformed"


def test_admit_passes_on_record_refusals(keyring: KeyRing, keys: Any, record: Any, now: Any) -> None:
    assert admit_code(record(key=keys.outsider).canonical(), keyring, now) == "unknown-key"
    assert admit_code(record(key=keys.ru).canonical(), keyring, now) == "not-author"


@pytest.mark.parametrize("signed_at", ["2022-13-01T12:00:00Z", "2022-02-30T12:00:00Z"])
def test_admit_impossible_time_is_refused_not_crashed(
    keyring: KeyRing, keys: Any, payload: Any, now: Any, signed_at: str
) -> None:
    """A signed record with an impossible date must be refused with a reason, not raise ValueError."""
    env = signed(payload(signed_at=signed_at), keys.us)
    with pytest.raises(RecordRefused) as info:
        admit(env.canonical(), keyring, now=now)
    assert info.value.code == "malformed"
