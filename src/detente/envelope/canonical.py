"""RFC 8785 (JSON Canonicalization Scheme) encoding and checking.

Every signed payload and every log leaf is canonical JSON, so two honest implementations produce
the same bytes and the same hashes. The `rfc8785` package is the reference; the standard library's
C encoder produces byte-identical output for the common case (no floats, integers within the
IEEE-754 safe range, no characters outside the Basic Multilingual Plane, where UTF-16 and code
point key order can differ) and is about ten times faster, which matters on the ingest path. The
fast path is taken only when those conditions are proven; a property test holds the two equal.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from detente.errors import CanonicalizationError

_MAX_SAFE = 2**53 - 1

_fast_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def _fast_path_ok(value: Any) -> bool:
    """True when `value` holds only types whose stdlib encoding equals RFC 8785's."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            if not v.isascii() and any(ord(c) > 0xFFFF for c in v):
                return False
        elif t is dict:
            for k, item in v.items():
                if type(k) is not str:
                    return False
                if not k.isascii() and any(ord(c) > 0xFFFF for c in k):
                    return False
                stack.append(item)
        elif t is list or t is tuple:
            stack.extend(v)
        elif t is int:
            if not -_MAX_SAFE <= v <= _MAX_SAFE:
                raise CanonicalizationError(
                    f"integer {v} is outside the IEEE-754 safe range (±2^53−1) that RFC 8785 "
                    "can represent exactly; send it as a string"
                )
        elif t is bool or v is None:
            continue
        else:
            return False
    return True


def canonicalize(value: Any) -> bytes:
    """Encode `value` as RFC 8785 canonical JSON bytes (UTF-8)."""
    try:
        if _fast_path_ok(value):
            return _fast_encoder.encode(value).encode("utf-8")
        return bytes(rfc8785.dumps(value))
    except CanonicalizationError:
        raise
    except (UnicodeEncodeError, ValueError, TypeError, rfc8785.CanonicalizationError) as exc:
        raise CanonicalizationError(
            f"value cannot be encoded as RFC 8785 canonical JSON: {exc}; use only strings, "
            "integers within ±2^53−1, finite numbers, booleans, null, arrays and objects"
        ) from exc


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes | str) -> Any:
    """Parse strict JSON (no NaN/Infinity), the form every Détente input must take."""
    return json.loads(data, parse_constant=_no_constants)


def parse_canonical(data: bytes) -> Any:
    """Parse `data` and prove it is already canonical; return the parsed value.

    Refusing non-canonical payloads closes a malleability gap: otherwise two byte strings with
    the same meaning (reordered keys, a duplicated key, extra spaces) would carry two different
    signatures and two different leaf hashes for one statement.
    """
    try:
        value = parse_json(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CanonicalizationError(f"payload is not valid JSON: {exc}") from exc
    if canonicalize(value) != data:
        raise CanonicalizationError(
            "payload is not RFC 8785 canonical JSON (keys must be sorted, no whitespace, "
            "no duplicate keys, shortest number forms); re-encode it with a JCS library"
        )
    return value
