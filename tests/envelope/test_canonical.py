"""RFC 8785 canonical JSON: the encoder matches the reference, the checker refuses every variant."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from detente.envelope.canonical import canonicalize, parse_canonical
from detente.errors import CanonicalizationError, DetenteError

MAX_SAFE = 2**53 - 1

safe_ints = st.integers(min_value=-MAX_SAFE, max_value=MAX_SAFE)
# Integral doubles with 2^53 ≤ |v| < 1e21 print as bare digits in RFC 8785, indistinguishable from
# an out-of-range integer; Détente refuses them (test_ambiguous_integral_floats_are_refused).
finite_floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: not (f.is_integer() and 2**53 - 1 < abs(f) < 1e21)
)
# st.text() draws from all of Unicode except surrogates: control characters, BMP and non-BMP.
any_text = st.text(max_size=12)
bmp_text = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",)), max_size=12)
control_text = st.text(st.characters(max_codepoint=0x9F), max_size=8)

json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | finite_floats | any_text | control_text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(any_text | control_text, children, max_size=5),
    max_leaves=25,
)
# Values the orjson fast path handles itself: no floats, BMP-only strings, safe integers.
fast_values = st.recursive(
    st.none() | st.booleans() | safe_ints | bmp_text | control_text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(bmp_text | control_text, children, max_size=5),
    max_leaves=25,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- canonicalize against the reference ---------------------------------------------------------


@FAST
@given(json_values)
def test_canonicalize_equals_rfc8785(value: Any) -> None:
    assert canonicalize(value) == bytes(rfc8785.dumps(value))


@FAST
@given(fast_values)
def test_fast_path_values_equal_rfc8785(value: Any) -> None:
    assert canonicalize(value) == bytes(rfc8785.dumps(value))


# Integer-valued floats of magnitude ≥ 2^53 print as integer literals, which the checker refuses
# as unsafe integers; the round trip is claimed for the rest.
small_floats = st.floats(min_value=-(2.0**53) + 1, max_value=2.0**53 - 1, allow_nan=False)
round_trip_values = st.recursive(
    st.none() | st.booleans() | safe_ints | small_floats | any_text | control_text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(any_text | control_text, children, max_size=5),
    max_leaves=25,
)


@FAST
@given(round_trip_values)
def test_canonical_bytes_are_accepted_and_stable(value: Any) -> None:
    data = canonicalize(value)
    parsed = parse_canonical(data)
    assert canonicalize(parsed) == data


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(any_text, safe_ints, min_size=2, max_size=8))
def test_keys_sorted_by_utf16_code_units(obj: dict[str, int]) -> None:
    data = canonicalize(obj)
    keys = list(json.loads(data))
    assert keys == sorted(obj, key=lambda k: k.encode("utf-16-be"))


def test_rfc8785_sorting_example() -> None:
    """RFC 8785 §3.2.3: UTF-16 code-unit order puts U+1F600 (D83D DE00) before U+FB33."""
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert bytes(rfc8785.dumps(obj)) == expected
    assert canonicalize(obj) == expected
    assert parse_canonical(expected) == obj
    # Code-point order (U+FB33 before U+1F600) is not canonical.
    code_point_order = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\ufb33":"Hebrew Letter Dalet With Dagesh","\U0001f600":"Emoji: Grinning Face"}'
    ).encode()
    with pytest.raises(CanonicalizationError):
        parse_canonical(code_point_order)


def test_rfc8785_number_and_string_example() -> None:
    """RFC 8785 §3.2.2 worked example (numbers, escapes, literals)."""
    obj = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonicalize(obj) == expected
    assert parse_canonical(expected) == obj


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-0.0, b"0"),
        (1.0, b"1"),
        (1e21, b"1e+21"),
        (1e-7, b"1e-7"),
        (0.000001, b"0.000001"),
        (MAX_SAFE, b"9007199254740991"),
        (-MAX_SAFE, b"-9007199254740991"),
        ("\x1f\x7f\u2028", b'"\\u001f\x7f\xe2\x80\xa8"'),
        ({"b": [], "a": {}}, b'{"a":{},"b":[]}'),
    ],
)
def test_known_encodings(value: Any, expected: bytes) -> None:
    assert canonicalize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        2**53,
        -(2**53),
        2**64,
        [1.5, 2**60],  # a float sends the value down the reference path: still refused
        {"x": {"y": [2**53 + 1]}},
        math.nan,
        math.inf,
        -math.inf,
        "\ud800",  # lone surrogate
        {1: "a"},
        b"bytes",
        {1, 2},
        object(),
    ],
)
def test_canonicalize_refuses(value: Any) -> None:
    with pytest.raises(CanonicalizationError) as info:
        canonicalize(value)
    assert isinstance(info.value, DetenteError)
    assert info.value.code == "canonical"


# --- parse_canonical refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"b":1,"a":2}', id="reordered-keys"),
        pytest.param(b'{"a": 1}', id="space-after-colon"),
        pytest.param(b'{"a":1,"b":2 }', id="space-before-brace"),
        pytest.param(b' {"a":1}', id="leading-space"),
        pytest.param(b'{"a":1}\n', id="trailing-newline"),
        pytest.param(b'[1, 2]', id="space-in-array"),
        pytest.param(b'{"a":1,"a":1}', id="duplicate-key-same-value"),
        pytest.param(b'{"a":1,"a":2}', id="duplicate-key"),
        pytest.param(b'{"a":{"b":1,"b":1}}', id="nested-duplicate-key"),
        pytest.param(b"NaN", id="nan"),
        pytest.param(b"[Infinity]", id="infinity"),
        pytest.param(b'{"a":-Infinity}', id="minus-infinity"),
        pytest.param(b'"\xff"', id="invalid-utf8"),
        pytest.param(b'"\xc3"', id="truncated-utf8"),
        pytest.param(b'"\xc0\xaf"', id="overlong-utf8"),
        pytest.param(b'"\xed\xa0\x80"', id="utf8-encoded-surrogate"),
        pytest.param(b'"\\ud800"', id="lone-surrogate-escape"),
        pytest.param(b'"\\ud83d\\ude00"', id="escaped-non-bmp"),
        pytest.param(b'"\\u0041"', id="needless-escape"),
        pytest.param(b'"\\u001F"', id="upper-case-hex-escape"),
        pytest.param(b'"\\/"', id="escaped-solidus"),
        pytest.param(b"1.0", id="trailing-zero-fraction"),
        pytest.param(b"1e2", id="exponent-for-integer"),
        pytest.param(b"1E+21", id="upper-case-exponent"),
        pytest.param(b"-0", id="negative-zero"),
        pytest.param(b"01", id="leading-zero"),
        pytest.param(b"", id="empty"),
        pytest.param(b'{"a":1', id="truncated"),
        pytest.param(b"\xef\xbb\xbf{}", id="byte-order-mark"),
    ],
)
def test_parse_canonical_refuses(data: bytes) -> None:
    with pytest.raises(CanonicalizationError):
        parse_canonical(data)


@pytest.mark.parametrize(
    "n",
    [2**53, 2**53 + 1, -(2**53), 2**63, 2**64 - 1, 10**20],
)
def test_parse_canonical_refuses_unsafe_integers(n: int) -> None:
    """An integer literal outside ±(2^53−1) is refused, however its digits happen to fall."""
    with pytest.raises(CanonicalizationError):
        parse_canonical(str(n).encode())
    with pytest.raises(CanonicalizationError):
        parse_canonical(b'{"n":%d}' % n)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=MAX_SAFE + 1, max_value=10**22) | st.integers(max_value=-MAX_SAFE - 1,
                                                                           min_value=-(10**22)))
@example(10**20)
def test_parse_canonical_refuses_unsafe_integers_property(n: int) -> None:
    with pytest.raises(CanonicalizationError):
        parse_canonical(str(n).encode())


@pytest.mark.parametrize(
    "data",
    [b"{}", b"[]", b"null", b"true", b"0", b"-1", b"0.1", b"1e+21", b"5e-324", b'"\\u001f"',
     b'"\xf0\x9f\x98\x80"', b"9007199254740991", b"-9007199254740991", b'{"a":[1,{"b":null}]}'],
)
def test_parse_canonical_accepts(data: bytes) -> None:
    value = parse_canonical(data)
    assert canonicalize(value) == data


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(any_text, safe_ints, min_size=2, max_size=6))
def test_any_other_key_order_is_refused(obj: dict[str, int]) -> None:
    canonical = canonicalize(obj)
    items = reversed(list(json.loads(canonical).items()))
    reordered = "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + str(v) for k, v in items) + "}"
    with pytest.raises(CanonicalizationError):
        parse_canonical(reordered.encode())


@settings(max_examples=150, deadline=None)
@given(json_values.filter(lambda v: isinstance(v, dict | list) and len(v) > 0))
def test_inserted_whitespace_is_refused(value: Any) -> None:
    data = canonicalize(value)
    # Insert a space after the first structural character: always outside any string.
    spaced = data[:1] + b" " + data[1:]
    with pytest.raises(CanonicalizationError):
        parse_canonical(spaced)


@pytest.mark.parametrize("f", [2.0**53, -(2.0**53), 1e20, 9.999999999999999e20])
def test_ambiguous_integral_floats_are_refused(f: float) -> None:
    """RFC 8785 would print these as bare integers outside ±(2^53−1): refused both ways."""
    with pytest.raises(CanonicalizationError):
        canonicalize(f)
    with pytest.raises(CanonicalizationError):
        canonicalize({"x": [f]})
    assert canonicalize(1e21) == b"1e+21"
    assert canonicalize(2.0**53 - 1) == b"9007199254740991"
