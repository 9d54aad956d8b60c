"""Ed25519 keys: generation, files, key ids, signing and verification.

Keys are made, stored and used for signing through pyca/cryptography. Verification goes through
libsodium (PyNaCl) because it is the fastest verifier on the machine (about twice OpenSSL's rate
here) and it is strict: it refuses small-order public keys and non-canonical signature encodings,
so anything it accepts OpenSSL accepts too, and every verifier agrees on which records are valid.

Public keys are checked wherever they are read (`check_public_key`): a small-order key (libsodium
refuses every signature under it, OpenSSL accepts an identity forgery), a non-canonical encoding
(y >= p, or x = 0 with the sign bit set) or a key with a small-order component (mixed order:
cofactored and cofactorless verifiers disagree on its signatures) is refused before it can be
registered, so no verifier ever has to decide what a signature under it means.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from detente.codec import PUBLIC_KEY_SIZE, b64, check_public_key, key_id, unb64
from detente.errors import BadKeyError, ConfigError, SignatureError
from detente.fsutil import mkdir_with_mode

__all__ = [
    "PUBLIC_KEY_SIZE", "SigningKey", "Verifier", "b64", "check_public_key", "key_id", "unb64",
]

SIGNATURE_SIZE = 64


class Verifier:
    """Verifies Ed25519 signatures for one public key. Cheap to keep, so registries cache them."""

    __slots__ = ("_vk", "public_key")

    def __init__(self, public_key: bytes) -> None:
        self.public_key = check_public_key(public_key)
        try:
            self._vk = nacl.signing.VerifyKey(public_key)
        except (ValueError, TypeError, nacl.exceptions.CryptoError) as exc:
            raise BadKeyError(f"not a usable Ed25519 public key: {exc}") from exc

    def verify(self, signature: bytes, data: bytes) -> None:
        """Return if `signature` is this key's Ed25519 signature over `data`; else raise
        SignatureError. Same argument order as pyca's Ed25519PublicKey.verify."""
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureError(
                f"an Ed25519 signature is {SIGNATURE_SIZE} bytes, got {len(signature)}"
            )
        try:
            self._vk.verify(data, signature)
        except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as exc:
            raise SignatureError(
                "the signature does not verify: the data was altered after signing or it was "
                "signed with another key"
            ) from exc


def verify_with_openssl(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """A second, independent verifier (OpenSSL), used by tests to cross-check libsodium."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key and the public half that identifies it."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """Deterministic keys, for test vectors and reproducible fixtures only."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def keyid(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None) -> SigningKey:
        try:
            key = serialization.load_pem_private_key(data, password=passphrase or None)
        except TypeError as exc:
            raise BadKeyError(
                "the key file is encrypted: supply its passphrase (DETENTE_PASSPHRASE or "
                "--passphrase)" if passphrase is None else f"cannot load key: {exc}"
            ) from exc
        except ValueError as exc:
            raise BadKeyError(
                f"cannot load the private key ({exc}); check the passphrase and that the file "
                "is a PKCS#8 PEM written by `detente keygen`"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise BadKeyError("the key file holds a non-Ed25519 key; Détente signs with Ed25519 only")
        return cls(key)


def write_private_key(path: Path, key: SigningKey, passphrase: bytes | None = None) -> None:
    """Write a private key readable by its owner only (0600), refusing to overwrite.

    A missing directory is made 0700 whatever the umask (`read_private_key` and `Workspace.open`
    refuse keys and key directories others can write)."""
    mkdir_with_mode(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise ConfigError(
            f"{path} already exists; refusing to overwrite a private key (move it away first)"
        ) from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.to_pem(passphrase))
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, 0o600)


def read_private_key(path: Path, passphrase: bytes | None = None) -> SigningKey:
    """Load a private key, refusing (as OpenSSH does) a file group or others may read or write."""
    try:
        with path.open("rb") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read private key {path}: {exc.strerror}") from exc
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        raise ConfigError(
            f"private key {path} is accessible by group or others (mode "
            f"{stat.S_IMODE(mode):04o}); anyone who can read it can sign as its party. Run "
            f"`chmod 600 {path}` and use it again (rotate the key if others may have copied it)",
            code="permissions",
        )
    if passphrase is None and os.environ.get("DETENTE_PASSPHRASE"):
        passphrase = os.environ["DETENTE_PASSPHRASE"].encode()
    return SigningKey.from_pem(data, passphrase)
