"""Pure encodings shared by every layer: base64, key ids, and which 32 bytes are an Ed25519 key.

No I/O. The key check is here, below the party registry (model) and the verifiers (envelope), so
that every place a key is read applies the one acceptance rule (docs/log.md).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib

import nacl.bindings

from detente.errors import BadKeyError, DetenteError

PUBLIC_KEY_SIZE = 32
_FIELD_P = 2**255 - 19


@functools.lru_cache(maxsize=4096)
def _valid_point(public_key: bytes) -> bool:
    # libsodium's crypto_core_ed25519_is_valid_point refuses non-canonical encodings (y >= p, and
    # x = 0 with the sign bit set), the 8 small-order points in every encoding, points not on the
    # curve, and points outside the prime-order subgroup (mixed order: it checks L*P == identity).
    # About 45 µs, so results are cached: registries are re-read and notes re-verified often.
    return bool(nacl.bindings.crypto_core_ed25519_is_valid_point(public_key))


def check_public_key(public_key: bytes, *, what: str = "public key") -> bytes:
    """Return `public_key` if it is a usable Ed25519 key; raise BadKeyError saying why not.

    Usable: 32 bytes, the canonical encoding of a point of the prime-order subgroup other than
    the identity. Every key `SigningKey.generate` makes passes.
    """
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise BadKeyError(f"{what}: an Ed25519 public key is 32 bytes, got {len(public_key)}")
    if not _valid_point(bytes(public_key)):
        if int.from_bytes(public_key, "little") & ((1 << 255) - 1) >= _FIELD_P:
            why = "its encoding is not canonical (y >= 2^255-19)"
        else:
            why = ("it is a small-order point, a point with a small-order component, a "
                   "non-canonical encoding or not a point of the curve")
        raise BadKeyError(
            f"{what} is not a usable Ed25519 public key: {why}; such keys make verifiers disagree "
            "(libsodium refuses signatures that OpenSSL accepts). Use a key made by "
            "`detente keygen`"
        )
    return public_key

_URLSAFE = str.maketrans("-_", "+/")


def key_id(public_key: bytes) -> str:
    """The key id used everywhere in Détente: hex SHA-256 of the raw 32-byte public key."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise DetenteError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    return hashlib.sha256(public_key).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, what: str) -> bytes:
    """Decode standard or URL-safe base64 (DSSE accepts both), strictly; ValueError otherwise."""
    try:
        # strict_mode is the C equivalent of b64decode(validate=True), without its regex.
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        pass
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} is not valid base64: {exc}") from exc
    if not ("-" in text or "_" in text) or "+" in text or "/" in text:
        raise ValueError(f"{what} is not valid base64")
    # URL-safe alphabet (DSSE allows it): translate, restore padding, decode just as strictly.
    std = text.translate(_URLSAFE) + "=" * (-len(text) % 4)
    try:
        return binascii.a2b_base64(std, strict_mode=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError(f"{what} is not valid base64: {exc}") from exc
