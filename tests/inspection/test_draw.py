"""The joint draw, byte for byte: pinned test vectors (docs/inspections.md reproduces them), an
independent re-implementation of the sampler, and its distribution."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from detente.agreement.weights import WeightError, weight_units
from detente.inspection import draw

R_INSPECTING = bytes(range(32))
R_INSPECTED = bytes(range(32, 64))
KINDS = {"chernyakhovsk": "missile-brigade", "kamyshlov": "missile-brigade", "mozdok": "missile-brigade",
         "shuya": "missile-brigade", "kapustin-yar": "test-site"}


def test_vector() -> None:
    """Recompute these in any language from docs/inspections.md."""
    assert draw.commitment("US-2022-02", "US", R_INSPECTING).hex() == (
        "3610a800119e6e09f73ca1ba8d489128f88e1fe71b71be5ed39550ee43404f9e")
    seed = draw.seed(R_INSPECTING, R_INSPECTED)
    assert seed.hex() == "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"
    pool = draw.Pool.build(KINDS, {"test-site": 0.5})
    assert pool.sites == ("chernyakhovsk", "kamyshlov", "kapustin-yar", "mozdok", "shuya")
    assert pool.weights == (1_000_000, 1_000_000, 500_000, 1_000_000, 1_000_000)
    assert draw.draw(seed, pool) == ("chernyakhovsk",)
    assert draw.draw(seed, pool, 5) == ("chernyakhovsk", "kamyshlov", "mozdok", "shuya", "kapustin-yar")


def reference_draw(seed: bytes, sites: list[str], weights: list[int], count: int) -> list[str]:
    """The sampler as the documentation states it, written independently of the module."""
    out, c = [], 0
    sites, weights = list(sites), list(weights)
    for _ in range(count):
        total = sum(weights)
        while True:
            v = int.from_bytes(hashlib.sha256(b"detente-draw/v1\x00" + seed + c.to_bytes(4, "big"))
                               .digest()[:8], "big")
            c += 1
            if v < 2**64 - (2**64 % total):
                break
        x, acc = v % total, 0
        for i in range(len(sites)):
            acc += weights[i]
            if x < acc:
                out.append(sites.pop(i))
                weights.pop(i)
                break
    return out


@settings(max_examples=300)
@given(st.binary(min_size=32, max_size=32),
       st.lists(st.integers(1, 10**7), min_size=1, max_size=12),
       st.data())
def test_matches_the_documented_sampler(seed: bytes, weights: list[int], data: st.DataObject) -> None:
    sites = [f"s{i:02d}" for i in range(len(weights))]
    count = data.draw(st.integers(1, len(sites)))
    pool = draw.Pool(tuple(sites), tuple(weights))
    got = draw.draw(seed, pool, count)
    assert list(got) == reference_draw(seed, sites, weights, count)
    assert len(set(got)) == count  # without replacement


def test_frequencies_follow_the_weights() -> None:
    """20,000 seeds: the observed counts fit the weights (chi-square; p < 1e-6 would fail)."""
    pool = draw.Pool.build(KINDS, {"test-site": 0.5, "missile-brigade": 2})
    n = 20_000
    counts = dict.fromkeys(pool.sites, 0)
    for i in range(n):
        counts[draw.draw(hashlib.sha256(i.to_bytes(4, "big")).digest(), pool)[0]] += 1
    total = sum(pool.weights)
    expected = [n * w / total for w in pool.weights]
    p = stats.chisquare([counts[s] for s in pool.sites], expected).pvalue
    assert p > 1e-6, counts


def test_commitment_binds_inspection_and_party() -> None:
    base = draw.commitment("I-1", "US", R_INSPECTING)
    assert draw.commitment("I-2", "US", R_INSPECTING) != base
    assert draw.commitment("I-1", "RU", R_INSPECTING) != base
    assert draw.check_reveal("I-1", "US", R_INSPECTING, base)
    assert not draw.check_reveal("I-1", "RU", R_INSPECTING, base)  # a copied commitment does not open
    assert not draw.check_reveal("I-1", "US", R_INSPECTED, base)
    assert not draw.check_reveal("I-1", "US", b"short", base)
    # the separator: ("I-1", "US") and ("I-1\0U", "S") would collide without it; NUL is refused
    with pytest.raises(draw.DrawError):
        draw.commitment("I-1\x00U", "S", R_INSPECTING)


def test_seed_order_is_fixed() -> None:
    assert draw.seed(R_INSPECTING, R_INSPECTED) != draw.seed(R_INSPECTED, R_INSPECTING)


@pytest.mark.parametrize("w", [-1, "nan", "inf", 0.0000001, "x"])
def test_bad_weights(w: object) -> None:
    with pytest.raises(WeightError):
        weight_units(w)  # type: ignore[arg-type]


def test_pool_without_weight_is_refused() -> None:
    with pytest.raises(draw.DrawError, match="empty"):
        draw.Pool.build({"a": "k"}, {"k": 0})
    with pytest.raises(draw.DrawError):
        draw.draw(b"\x00" * 32, draw.Pool(("a",), (1,)), 2)
