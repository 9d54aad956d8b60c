"""Ed25519 keys: files, passphrases, key ids, and two verifiers that must agree."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.codec import key_id
from detente.envelope.keys import (
    SigningKey,
    Verifier,
    read_private_key,
    verify_with_openssl,
    write_private_key,
)
from detente.errors import BadKeyError, ConfigError, DetenteError, SignatureError

# RFC 8032 §7.1, TEST 1 and TEST 2.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


@pytest.fixture(autouse=True)
def _no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETENTE_PASSPHRASE", raising=False)


@pytest.mark.parametrize(("seed", "pub", "msg", "sig"), RFC8032)
def test_rfc8032_vectors(seed: str, pub: str, msg: str, sig: str) -> None:
    key = SigningKey.from_seed(bytes.fromhex(seed))
    assert key.public_key.hex() == pub
    assert key.sign(bytes.fromhex(msg)).hex() == sig
    Verifier(bytes.fromhex(pub)).verify(bytes.fromhex(sig), bytes.fromhex(msg))
    assert verify_with_openssl(bytes.fromhex(pub), bytes.fromhex(msg), bytes.fromhex(sig))


def test_key_id_is_hex_sha256_of_raw_public_key() -> None:
    seed, pub, _, _ = RFC8032[0]
    key = SigningKey.from_seed(bytes.fromhex(seed))
    expected = hashlib.sha256(bytes.fromhex(pub)).hexdigest()
    assert key.keyid == expected
    assert key_id(key.public_key) == expected
    assert len(expected) == 64
    assert expected == expected.lower()


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_key_id_refuses_wrong_length(length: int) -> None:
    with pytest.raises(DetenteError):
        key_id(b"\x01" * length)


def test_generated_keys_differ() -> None:
    assert SigningKey.generate().public_key != SigningKey.generate().public_key


# --- key files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("passphrase", [None, b"correct horse battery staple"])
def test_key_file_round_trip(tmp_path: Path, passphrase: bytes | None) -> None:
    key = SigningKey.generate()
    path = tmp_path / "sub" / "dir" / "key.pem"
    write_private_key(path, key, passphrase)
    pem = path.read_bytes()
    header = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" if passphrase else b"-----BEGIN PRIVATE KEY-----"
    assert pem.startswith(header)
    loaded = read_private_key(path, passphrase)
    assert loaded.public_key == key.public_key
    msg = b"round trip"
    Verifier(key.public_key).verify(loaded.sign(msg), msg)


def test_encrypted_pem_does_not_hold_raw_seed() -> None:
    key = SigningKey.generate()
    seed = key.private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = key.to_pem(b"pw")
    loaded = serialization.load_pem_private_key(pem, password=b"pw")
    assert loaded.public_key() == key.private.public_key()
    assert seed not in pem
    assert seed.hex().encode() not in pem


def test_key_file_mode_is_0600(tmp_path: Path) -> None:
    old = os.umask(0)  # even a permissive umask must not widen the file's mode
    try:
        path = tmp_path / "key.pem"
        write_private_key(path, SigningKey.generate())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    first = SigningKey.generate()
    write_private_key(path, first)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        write_private_key(path, SigningKey.generate())
    assert path.read_bytes() == before
    assert read_private_key(path).public_key == first.public_key


def test_wrong_passphrase_is_refused_with_help(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private_key(path, SigningKey.generate(), b"right")
    with pytest.raises(BadKeyError) as info:
        read_private_key(path, b"wrong")
    assert "passphrase" in info.value.message
    assert info.value.code == "key"


def test_missing_passphrase_names_the_env_var(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private_key(path, SigningKey.generate(), b"right")
    with pytest.raises(BadKeyError) as info:
        read_private_key(path)
    assert "DETENTE_PASSPHRASE" in info.value.message


def test_env_passphrase_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key.pem"
    key = SigningKey.generate()
    write_private_key(path, key, b"from-env")
    monkeypatch.setenv("DETENTE_PASSPHRASE", "from-env")
    assert read_private_key(path).public_key == key.public_key


def test_explicit_passphrase_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key.pem"
    key = SigningKey.generate()
    write_private_key(path, key, b"explicit")
    monkeypatch.setenv("DETENTE_PASSPHRASE", "stale")
    assert read_private_key(path, b"explicit").public_key == key.public_key
    with pytest.raises(BadKeyError):
        read_private_key(path)  # falls back to the (wrong) env passphrase


def test_passphrase_for_unencrypted_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_private_key(path, SigningKey.generate())
    with pytest.raises(BadKeyError):
        read_private_key(path, b"unexpected")


def test_non_ed25519_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    with pytest.raises(BadKeyError, match="Ed25519"):
        read_private_key(path)


def test_garbage_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    path.chmod(0o600)
    with pytest.raises(BadKeyError):
        read_private_key(path)


def test_missing_key_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read private key"):
        read_private_key(tmp_path / "absent.pem")


# --- verifiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 31, 33])
def test_verifier_refuses_wrong_key_length(length: int) -> None:
    with pytest.raises(BadKeyError):
        Verifier(b"\x00" * length)


@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_verifier_rejects_wrong_signature_length(length: int) -> None:
    key = SigningKey.from_seed(b"\x07" * 32)
    sig = key.sign(b"m")
    v = Verifier(key.public_key)
    v.verify(sig, b"m")
    with pytest.raises(SignatureError, match="64 bytes") as info:
        v.verify((sig * 3)[:length], b"m")
    assert info.value.code == "bad-signature"


def test_verify_takes_signature_then_data_and_raises() -> None:
    """pyca's shape: verify(signature, data) -> None, raising on failure (never a bool to ignore)."""
    key = SigningKey.from_seed(b"\x07" * 32)
    v = Verifier(key.public_key)
    sig = key.sign(b"data")
    assert v.verify(sig, b"data") is None  # type: ignore[func-returns-value]
    with pytest.raises(SignatureError) as info:
        v.verify(sig, b"other data")
    assert isinstance(info.value, DetenteError)
    assert "does not verify" in info.value.message
    with pytest.raises(SignatureError):
        v.verify(b"data", sig)  # the old (message, signature) order fails


def _libsodium(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        verifier = Verifier(public_key)
    except BadKeyError:
        return False
    try:
        verifier.verify(signature, message)
    except SignatureError:
        return False
    return True


SEED_KEYS = [SigningKey.from_seed(bytes([i]) * 32) for i in range(4)]


@settings(max_examples=200, deadline=None)
@given(key_index=st.integers(0, len(SEED_KEYS) - 1), message=st.binary(max_size=512))
def test_verifiers_agree_on_valid_signatures(key_index: int, message: bytes) -> None:
    key = SEED_KEYS[key_index]
    sig = key.sign(message)
    assert _libsodium(key.public_key, message, sig)
    assert verify_with_openssl(key.public_key, message, sig)


@settings(max_examples=300, deadline=None)
@given(
    key_index=st.integers(0, len(SEED_KEYS) - 1),
    message=st.binary(min_size=1, max_size=256),
    target=st.sampled_from(["message", "signature", "public_key"]),
    position=st.integers(min_value=0),
    bit=st.integers(0, 7),
)
def test_verifiers_agree_on_tampered_signatures(
    key_index: int, message: bytes, target: str, position: int, bit: int
) -> None:
    key = SEED_KEYS[key_index]
    parts = {"message": message, "signature": key.sign(message), "public_key": key.public_key}
    flipped = bytearray(parts[target])
    flipped[position % len(flipped)] ^= 1 << bit
    parts[target] = bytes(flipped)
    sodium = _libsodium(parts["public_key"], parts["message"], parts["signature"])
    openssl = verify_with_openssl(parts["public_key"], parts["message"], parts["signature"])
    assert sodium == openssl
    assert not sodium


@settings(max_examples=100, deadline=None)
@given(message=st.binary(max_size=128), other=st.binary(max_size=128))
def test_signature_does_not_transfer_between_keys_or_messages(message: bytes, other: bytes) -> None:
    a, b = SEED_KEYS[0], SEED_KEYS[1]
    sig = a.sign(message)
    assert not _libsodium(b.public_key, message, sig)
    assert not verify_with_openssl(b.public_key, message, sig)
    if other != message:
        assert not _libsodium(a.public_key, other, sig)
        assert not verify_with_openssl(a.public_key, other, sig)


def test_bad_key_error_is_the_renamed_key_error_and_keeps_its_code() -> None:
    """`KeyError_` (a near-shadow of the builtin KeyError) is now `BadKeyError`; its code stays."""
    import detente.errors as errors

    assert not hasattr(errors, "KeyError_")
    assert BadKeyError.code == "key"
    assert issubclass(BadKeyError, DetenteError)
    assert not issubclass(BadKeyError, KeyError)
    assert SignatureError.code == "bad-signature"
    assert issubclass(SignatureError, DetenteError)
