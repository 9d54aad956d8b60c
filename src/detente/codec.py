"""Pure encodings shared by every layer: base64 and key ids. No I/O, no crypto beyond SHA-256."""

from __future__ import annotations

import base64
import binascii
import hashlib

from detente.errors import DetenteError

PUBLIC_KEY_SIZE = 32
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
