"""RFC 8785 (JSON Canonicalization Scheme) encoding and checking.

Every signed payload and every log leaf is canonical JSON, so two honest implementations produce
the same bytes and the same hashes. The `rfc8785` package is the reference. orjson's sorted-key
encoding is byte-identical to RFC 8785 whenever the value has no floats (RFC 8785 prints numbers
the ECMAScript way), no integers beyond ±2^53−1, and no characters outside the Basic Multilingual
Plane (where UTF-16 key order, which RFC 8785 uses, differs from code-point order). The fast path
is taken only when those conditions are proven, and a property test holds the two paths equal.
It matters: the canonical check runs on every envelope at the log's door.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

from detente.errors import CanonicalizationError

_MAX_SAFE = 2**53 - 1
_SORT = orjson.OPT_SORT_KEYS
# Raw bytes that may need the reference path: a 4-byte UTF-8 lead byte (non-BMP), a run of 16+
# digits (a possibly unsafe integer), or '.', 'e' or 'E' after a digit (a float). False alarms
# (the same bytes inside a string) cost only speed, never correctness. Mapping every byte to a
# class first lets plain substring searches find these in ~1 µs, several times faster than a regex.
_CLASSES = bytes(
    0x30 if 0x30 <= b <= 0x39 else 0x21 if 0xF0 <= b <= 0xF4 else b if b in b".eE" else 0x20
    for b in range(256)
)
_SIXTEEN_DIGITS = b"0" * 16


def _risky(data: bytes) -> bool:
    t = data.translate(_CLASSES)
    return b"0." in t or b"0e" in t or b"0E" in t or b"!" in t or _SIXTEEN_DIGITS in t


def _fast_path_ok(value: Any) -> bool:
    """True when `value` holds only types whose fast encoding equals RFC 8785's.

    Walks the whole value even once the answer is False, because it also refuses numbers that
    cannot be represented unambiguously.
    """
    fast = True
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str:
            if not v.isascii() and any(ord(c) > 0xFFFF for c in v):
                fast = False
        elif t is dict:
            for k, item in v.items():
                if type(k) is not str or (not k.isascii() and any(ord(c) > 0xFFFF for c in k)):
                    fast = False
                stack.append(item)
        elif t is list or t is tuple:
            stack.extend(v)
        elif t is int:
            if not -_MAX_SAFE <= v <= _MAX_SAFE:
                raise CanonicalizationError(
                    f"integer {v} is outside the IEEE-754 safe range (±2^53−1) that RFC 8785 "
                    "can represent exactly; send it as a string"
                )
        elif t is float:
            # RFC 8785 prints integral doubles below 1e21 as bare digits, indistinguishable
            # from an integer literal; beyond ±(2^53−1) that integer is not what was meant.
            if v.is_integer() and _MAX_SAFE < abs(v) < 1e21:
                raise CanonicalizationError(
                    f"number {v!r} would print as the integer {int(v)}, outside the safe range "
                    "±(2^53−1); send it as a string"
                )
            fast = False
        elif t is bool or v is None:
            continue
        else:
            fast = False
    return fast


def canonicalize(value: Any) -> bytes:
    """Encode `value` as RFC 8785 canonical JSON bytes (UTF-8)."""
    try:
        if _fast_path_ok(value):
            return orjson.dumps(value, option=_SORT)
        return bytes(rfc8785.dumps(value))
    except CanonicalizationError:
        raise
    except (orjson.JSONEncodeError, UnicodeEncodeError, ValueError, TypeError,
            rfc8785.CanonicalizationError) as exc:
        raise CanonicalizationError(
            f"value cannot be encoded as RFC 8785 canonical JSON: {exc}; use only strings, "
            "integers within ±2^53−1, finite numbers, booleans, null, arrays and objects"
        ) from exc


def parse_json(data: bytes | str) -> Any:
    """Parse strict JSON (no NaN/Infinity, no lone surrogates); ValueError otherwise."""
    return orjson.loads(data)


def parse_canonical(data: bytes) -> Any:
    """Parse `data` and prove it is already canonical; return the parsed value.

    Refusing non-canonical payloads closes a malleability gap: otherwise two byte strings with
    the same meaning (reordered keys, a duplicated key, extra spaces) would carry two different
    signatures and two different leaf hashes for one statement.
    """
    try:
        value = orjson.loads(data)
    except (orjson.JSONDecodeError, ValueError) as exc:
        raise CanonicalizationError(f"payload is not valid JSON: {exc}") from exc
    if _risky(data):
        encoded = canonicalize(value)
    else:
        try:
            encoded = orjson.dumps(value, option=_SORT)
        except orjson.JSONEncodeError as exc:
            raise CanonicalizationError(f"payload cannot be canonical: {exc}") from exc
    if encoded != data:
        raise CanonicalizationError(
            "payload is not RFC 8785 canonical JSON (keys must be sorted, no whitespace, "
            "no duplicate keys, shortest number forms); re-encode it with a JCS library"
        )
    return value
