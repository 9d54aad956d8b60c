"""C2SP signed notes, checkpoints, cosignatures and receipts."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.envelope.keys import SigningKey, Verifier
from detente.errors import NoteError, ProofError
from detente.log.merkle import MemoryTree
from detente.log.note import (
    MAX_SIGNATURES,
    SIG_COSIGNATURE_V1,
    SIG_ED25519,
    Checkpoint,
    Note,
    NoteSignature,
    NoteVerifier,
    SignedCheckpoint,
    cosign,
    cosignature_message,
    note_key_id,
    open_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
    verify_cosignature,
    verify_note_signature,
    vkey,
)
from detente.log.receipt import Receipt, verify_receipt

# golang.org/x/mod/sumdb/note test vector.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY_MATERIAL = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_SIGLINE = ("— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
              "ngotpRZb6KE6RyyBwJnAM=\n")
GO_NOTE = GO_TEXT + "\n" + GO_SIGLINE


def go_key() -> SigningKey:
    raw = base64.b64decode(GO_SKEY_MATERIAL)
    assert raw[0] == SIG_ED25519
    assert len(raw) == 33
    return SigningKey.from_seed(raw[1:])


# --- the Go vector ------------------------------------------------------------------------------


def test_go_vkey_parses() -> None:
    v = NoteVerifier.from_vkey(GO_VKEY)
    assert v.name == "PeterNeumann"
    assert v.key_id.hex() == "c74f20a3"
    assert v.sig_type == SIG_ED25519
    assert v.public_key == go_key().public_key
    assert v.vkey == GO_VKEY
    assert vkey("PeterNeumann", go_key().public_key) == GO_VKEY


def test_go_note_verifies() -> None:
    note = parse_note(GO_NOTE)
    assert note.text == GO_TEXT
    assert len(note.signatures) == 1
    assert note.signatures[0].name == "PeterNeumann"
    verify_note_signature(note, NoteVerifier.from_vkey(GO_VKEY))
    assert note.encode() == GO_NOTE
    assert parse_note(GO_NOTE.encode()) == note


def test_sign_note_reproduces_go_signature() -> None:
    sig = sign_note(GO_TEXT, "PeterNeumann", go_key())
    assert sig.line() == GO_SIGLINE
    assert Note(GO_TEXT, (sig,)).encode() == GO_NOTE


@pytest.mark.parametrize(
    "text",
    [GO_TEXT.replace("answer", "Answer"), GO_TEXT + "x\n", GO_TEXT[:-1] + " \n", "x\n"],
)
def test_go_note_with_tampered_text_fails(text: str) -> None:
    with pytest.raises(NoteError, match="does not verify"):
        verify_note_signature(parse_note(text + "\n" + GO_SIGLINE), NoteVerifier.from_vkey(GO_VKEY))


def test_tampered_signature_fails() -> None:
    sig = parse_note(GO_NOTE).signatures[0]
    bad = NoteSignature(sig.name, sig.key_id, sig.blob[:-1] + bytes([sig.blob[-1] ^ 1]))
    with pytest.raises(NoteError, match="does not verify"):
        verify_note_signature(Note(GO_TEXT, (bad,)), NoteVerifier.from_vkey(GO_VKEY))


def test_note_without_matching_signer_fails() -> None:
    note = parse_note(GO_NOTE)
    other = NoteVerifier("PeterNeumann", SigningKey.from_seed(b"\x01" * 32).public_key)
    with pytest.raises(NoteError, match="not signed by"):
        verify_note_signature(note, other)
    renamed = NoteVerifier("Someone", go_key().public_key)
    with pytest.raises(NoteError, match="not signed by"):
        verify_note_signature(note, renamed)


def test_unknown_signatures_are_carried_and_ignored() -> None:
    other_key = SigningKey.from_seed(b"\x02" * 32)
    note = Note(GO_TEXT, (sign_note(GO_TEXT, "other.example", other_key),
                          sign_note(GO_TEXT, "PeterNeumann", go_key())))
    parsed = parse_note(note.encode())
    verify_note_signature(parsed, NoteVerifier.from_vkey(GO_VKEY))
    verify_note_signature(parsed, NoteVerifier("other.example", other_key.public_key))


@pytest.mark.parametrize(
    "text",
    [
        "PeterNeumann+c74f20a3",  # two parts
        "PeterNeumann+c74f20a3+ARpc+extra",
        "PeterNeumann+zzzzzzzz+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # bad hex
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "Peter+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # hash is over the name
        "PeterNeumann+c74f20a3+!!!",
        "PeterNeumann+c74f20a3+" + base64.b64encode(b"\x02" + b"\x00" * 32).decode(),  # unknown type
        "PeterNeumann+c74f20a3+" + base64.b64encode(b"\x01" + b"\x00" * 31).decode(),  # short key
    ],
)
def test_bad_vkeys_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.from_vkey(text)


# --- parse_note refusals ------------------------------------------------------------------------

SIG_B64 = GO_SIGLINE.split(" ")[2].strip()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(GO_TEXT + GO_SIGLINE, id="no-blank-line"),
        pytest.param(GO_TEXT + "\n" + GO_SIGLINE.replace("—", "-"), id="hyphen-not-em-dash"),
        pytest.param(GO_TEXT + "\n" + GO_SIGLINE.replace("— ", "—"), id="dash-without-space"),
        pytest.param(GO_TEXT + "\n" + GO_SIGLINE.replace("— ", "– "), id="en-dash"),
        pytest.param(GO_TEXT.replace(" ", "\t", 1) + "\n" + GO_SIGLINE, id="tab-in-text"),
        pytest.param(GO_TEXT.replace(" ", "\x00", 1) + "\n" + GO_SIGLINE, id="nul-in-text"),
        pytest.param(GO_TEXT.replace("\n", "\r\n", 1) + "\n" + GO_SIGLINE, id="cr-in-text"),
        pytest.param(GO_TEXT + "\n" + GO_SIGLINE.replace(" x08", "\tx08"), id="tab-in-signature"),
        pytest.param(GO_TEXT + "\n" + GO_SIGLINE.rstrip("\n"), id="no-final-newline"),
        pytest.param(GO_TEXT + "\n" + "— PeterNeumann !!!!\n", id="bad-base64"),
        pytest.param(GO_TEXT + "\n" + "— PeterNeumann " + SIG_B64[:-2] + "\n", id="bad-padding"),
        pytest.param(GO_TEXT + "\n" + "— PeterNeumann AAAA\n", id="too-short"),
        pytest.param(GO_TEXT + "\n" + "— PeterNeumann\n", id="no-signature"),
        pytest.param(GO_TEXT + "\n" + "— PeterNeumann \n", id="empty-signature"),
        pytest.param(GO_TEXT + "\n" + "—  " + SIG_B64 + "\n", id="empty-name"),
        pytest.param(GO_TEXT + "\n" + "— Peter+Neumann " + SIG_B64 + "\n", id="plus-in-name"),
        pytest.param(GO_TEXT + "\n" + "— PeterNeumann " + SIG_B64 + " extra\n", id="extra-field"),
        pytest.param("no newline at all", id="no-structure"),
        pytest.param("a\n\nb\n\n" + GO_SIGLINE, id="blank-line-in-text"),
        pytest.param(b"caf\xe9\n\n" + GO_SIGLINE.encode(), id="not-utf8"),
    ],
)
def test_parse_note_refuses(data: str | bytes) -> None:
    with pytest.raises(NoteError):
        parse_note(data)


def _many_sigs(n: int) -> str:
    return GO_TEXT + "\n" + GO_SIGLINE * n


def test_signature_count_limit() -> None:
    assert len(parse_note(_many_sigs(MAX_SIGNATURES)).signatures) == MAX_SIGNATURES
    with pytest.raises(NoteError, match="signatures"):
        parse_note(_many_sigs(MAX_SIGNATURES + 1))


@pytest.mark.parametrize("text", ["no final newline", "a\n\nb\n", "tab\there\n"])
def test_sign_note_refuses_bad_text(text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, "n", go_key())


def test_with_signature_replaces_same_signer() -> None:
    key = go_key()
    first = sign_note(GO_TEXT, "PeterNeumann", key)
    other = sign_note(GO_TEXT, "Other", SigningKey.from_seed(b"\x03" * 32))
    note = Note(GO_TEXT, (first,)).with_signature(other).with_signature(first)
    assert note.signatures == (other, first)


# --- checkpoints --------------------------------------------------------------------------------

ROOT = bytes(range(32))
ORIGIN = "detente.test/log"


def test_checkpoint_text_exact() -> None:
    cp = Checkpoint(ORIGIN, 42, ROOT, ("ext one", "ext-two"))
    assert cp.text() == (
        "detente.test/log\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\next-two\n"
    )
    assert Checkpoint.parse_text(cp.text()) == cp


line_text = st.text(st.characters(min_codepoint=0x20, exclude_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=100, deadline=None)
@given(line_text, st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32),
       st.lists(line_text, max_size=3))
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse_text(cp.text()) == cp


def _cp_text(size: str = "5", root: str | None = None, ext: str = "") -> str:
    root = base64.b64encode(ROOT).decode() if root is None else root
    return f"{ORIGIN}\n{size}\n{root}\n{ext}"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_cp_text(size="05"), id="leading-zero"),
        pytest.param(_cp_text(size="00"), id="double-zero"),
        pytest.param(_cp_text(size="-1"), id="negative"),
        pytest.param(_cp_text(size="+5"), id="plus-sign"),
        pytest.param(_cp_text(size=" 5"), id="space"),
        pytest.param(_cp_text(size=""), id="empty-size"),
        pytest.param(_cp_text(size="5.0"), id="decimal-point"),
        pytest.param(_cp_text(size="\u0665"), id="arabic-indic-digit"),
        pytest.param(_cp_text(size="\u00b2"), id="superscript-two"),
        pytest.param(_cp_text(root=base64.b64encode(ROOT[:31]).decode()), id="root-31-bytes"),
        pytest.param(_cp_text(root=base64.b64encode(ROOT + b"\x00").decode()), id="root-33-bytes"),
        pytest.param(_cp_text(root="not base64!"), id="root-not-base64"),
        pytest.param(_cp_text(ext="\n"), id="empty-extension-line"),
        pytest.param(_cp_text(ext="a\n\nb\n"), id="empty-extension-between"),
        pytest.param(_cp_text()[:-1], id="no-final-newline"),
        pytest.param(f"{ORIGIN}\n5\n", id="no-root"),
        pytest.param(_cp_text().replace(ORIGIN, ""), id="empty-origin"),
    ],
)
def test_checkpoint_parse_refuses(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse_text(text)


@pytest.fixture(scope="module")
def operator_key() -> SigningKey:
    return SigningKey.from_seed(b"\x0a" * 32)


@pytest.fixture(scope="module")
def operator(operator_key: SigningKey) -> NoteVerifier:
    return NoteVerifier("log.detente.test", operator_key.public_key)


def test_signed_checkpoint_round_trip(operator_key: SigningKey, operator: NoteVerifier) -> None:
    cp = Checkpoint(ORIGIN, 7, ROOT)
    scp = sign_checkpoint(cp, operator.name, operator_key)
    encoded = scp.encode()
    assert encoded.startswith(cp.text() + "\n— log.detente.test ")
    opened = open_checkpoint(encoded, operator, ORIGIN)
    assert opened.checkpoint == cp
    assert SignedCheckpoint.parse(encoded.encode()) == opened
    with pytest.raises(NoteError, match="expected"):
        open_checkpoint(encoded, operator, "other.test/log")
    impostor = SigningKey.from_seed(b"\x0b" * 32)
    forged = sign_checkpoint(cp, operator.name, impostor).encode()
    with pytest.raises(NoteError):
        open_checkpoint(forged, operator, ORIGIN)


def test_vkey_round_trip_with_plus_in_key_material(operator: NoteVerifier) -> None:
    """Base64 key material may contain '+'; only the first two '+' separate the fields (as Go's
    note.NewVerifier reads them)."""
    material = operator.vkey.split("+", 2)[2]
    assert "+" in material  # this key's encoding exercises the case
    assert NoteVerifier.from_vkey(operator.vkey) == operator


def test_cosignature_vkey_round_trip() -> None:
    plain = NoteVerifier.from_vkey(GO_VKEY)
    cos = NoteVerifier(plain.name, plain.public_key, SIG_COSIGNATURE_V1)
    assert cos.vkey.split("+")[2].startswith("B")  # type byte 0x04
    assert cos.vkey != GO_VKEY
    assert cos.key_id != plain.key_id
    assert NoteVerifier.from_vkey(cos.vkey) == cos


# --- cosignatures -------------------------------------------------------------------------------

WITNESS = SigningKey.from_seed(b"\x0c" * 32)
WITNESS_NAME = "witness.ru.detente.test"
WITNESS_V = NoteVerifier(WITNESS_NAME, WITNESS.public_key, SIG_COSIGNATURE_V1)


def test_cosignature_key_id_uses_type_4() -> None:
    sig = cosign("x\n", WITNESS_NAME, WITNESS, 1)
    assert sig.key_id == note_key_id(WITNESS_NAME, 0x04, WITNESS.public_key)
    assert sig.key_id != note_key_id(WITNESS_NAME, 0x01, WITNESS.public_key)
    assert sig.key_id == WITNESS_V.key_id


def test_cosignature_message_format() -> None:
    text = Checkpoint(ORIGIN, 3, ROOT).text()
    msg = cosignature_message(text, 1234)
    assert msg.startswith(b"cosignature/v1\ntime 1234\n")
    assert msg == b"cosignature/v1\ntime 1234\n" + text.encode()
    sig = cosign(text, WITNESS_NAME, WITNESS, 1234)
    assert sig.blob[:8] == struct.pack(">Q", 1234) == (1234).to_bytes(8, "big")
    assert len(sig.blob) == 8 + 64
    Verifier(WITNESS.public_key).verify(sig.blob[8:], msg)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**63 - 1), st.integers(0, 10**9))
def test_cosignature_round_trip(timestamp: int, size: int) -> None:
    op_key = SigningKey.from_seed(b"\x0a" * 32)
    scp = sign_checkpoint(Checkpoint(ORIGIN, size, ROOT), "log.detente.test", op_key)
    note = scp.note.with_signature(cosign(scp.note.text, WITNESS_NAME, WITNESS, timestamp))
    parsed = parse_note(note.encode())
    assert verify_cosignature(parsed, WITNESS_V) == timestamp
    verify_note_signature(parsed, NoteVerifier("log.detente.test", op_key.public_key))


def _cosigned(timestamp: int = 1700000000) -> Note:
    text = Checkpoint(ORIGIN, 3, ROOT).text()
    return Note(text, (cosign(text, WITNESS_NAME, WITNESS, timestamp),))


def test_cosignature_with_tampered_timestamp_fails() -> None:
    note = _cosigned()
    s = note.signatures[0]
    bumped = struct.pack(">Q", 1700000001) + s.blob[8:]
    bad = Note(note.text, (NoteSignature(s.name, s.key_id, bumped),))
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(bad, WITNESS_V)


def test_cosignature_with_tampered_text_fails() -> None:
    note = _cosigned()
    other_text = Checkpoint(ORIGIN, 4, ROOT).text()
    with pytest.raises(NoteError, match="does not verify"):
        verify_cosignature(Note(other_text, note.signatures), WITNESS_V)


def test_cosignature_refusals() -> None:
    note = _cosigned()
    with pytest.raises(NoteError, match="0x04"):
        verify_cosignature(note, NoteVerifier(WITNESS_NAME, WITNESS.public_key))
    with pytest.raises(NoteError, match="not cosigned"):
        verify_cosignature(note, NoteVerifier("someone.else", WITNESS.public_key, SIG_COSIGNATURE_V1))
    s = note.signatures[0]
    short = Note(note.text, (NoteSignature(s.name, s.key_id, s.blob[:-1]),))
    with pytest.raises(NoteError, match="length"):
        verify_cosignature(short, WITNESS_V)
    # A cosignature is not a plain note signature by the same key.
    with pytest.raises(NoteError):
        verify_note_signature(note, NoteVerifier(WITNESS_NAME, WITNESS.public_key))


@pytest.mark.parametrize("timestamp", [-1, 2**63])
def test_cosign_timestamp_range(timestamp: int) -> None:
    with pytest.raises(NoteError):
        cosign("x\n", WITNESS_NAME, WITNESS, timestamp)


def test_plain_signature_is_not_a_cosignature() -> None:
    """An Ed25519 note signature relabelled with the cosignature key id does not verify."""
    text = Checkpoint(ORIGIN, 3, ROOT).text()
    plain = sign_note(text, WITNESS_NAME, WITNESS)
    relabelled = NoteSignature(WITNESS_NAME, WITNESS_V.key_id, b"\x00" * 8 + plain.blob)
    with pytest.raises(NoteError):
        verify_cosignature(Note(text, (relabelled,)), WITNESS_V)


# --- receipts -----------------------------------------------------------------------------------

LEAVES = [b'{"leaf":%d}' % i for i in range(13)]


@pytest.fixture(scope="module")
def receipts(operator_key: SigningKey) -> list[Receipt]:
    tree = MemoryTree()
    for leaf in LEAVES:
        tree.append_leaf(leaf)
    scp = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), "log.detente.test", operator_key)
    return [Receipt(i, scp.encode(), tuple(tree.inclusion_proof(i))) for i in range(tree.size)]


def test_receipts_verify(receipts: list[Receipt], operator: NoteVerifier) -> None:
    for i, r in enumerate(receipts):
        scp = verify_receipt(r, LEAVES[i], operator, ORIGIN)
        assert scp.checkpoint.size == len(LEAVES)
        assert verify_receipt(Receipt.from_json(r.to_json()), LEAVES[i], operator, ORIGIN) == scp


def test_receipt_for_changed_leaf_fails(receipts: list[Receipt], operator: NoteVerifier) -> None:
    for i, r in enumerate(receipts):
        with pytest.raises(ProofError):
            verify_receipt(r, LEAVES[i] + b" ", operator, ORIGIN)
        with pytest.raises(ProofError):
            verify_receipt(r, LEAVES[(i + 1) % len(LEAVES)], operator, ORIGIN)


def test_receipt_with_changed_index_fails(receipts: list[Receipt], operator: NoteVerifier) -> None:
    for i, r in enumerate(receipts):
        for j in (i - 1, i + 1, len(LEAVES), -1):
            moved = Receipt(j, r.checkpoint, r.proof)
            with pytest.raises(ProofError):
                verify_receipt(moved, LEAVES[i], operator, ORIGIN)


def test_receipt_checkpoint_checks(receipts: list[Receipt], operator: NoteVerifier) -> None:
    r = receipts[3]
    with pytest.raises(NoteError):
        verify_receipt(r, LEAVES[3], operator, "other.test/log")
    with pytest.raises(NoteError):
        verify_receipt(r, LEAVES[3], NoteVerifier(operator.name, WITNESS.public_key), ORIGIN)
    tampered = r.checkpoint.replace("\n13\n", "\n14\n", 1)
    assert tampered != r.checkpoint
    with pytest.raises(NoteError):
        verify_receipt(Receipt(3, tampered, r.proof), LEAVES[3], operator, ORIGIN)


@pytest.mark.parametrize(
    "data",
    [{}, {"index": 1, "checkpoint": "x"}, {"index": "x", "checkpoint": "c", "inclusion_proof": []},
     {"index": 1, "checkpoint": "c", "inclusion_proof": ["!!"]},
     {"index": 1, "checkpoint": "c", "inclusion_proof": None}],
)
def test_receipt_from_json_refuses_malformed(data: dict[str, Any]) -> None:
    with pytest.raises(ProofError):
        Receipt.from_json(data)
